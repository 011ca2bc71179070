// Which directory holds the wallet: --data, else $CONCLAVE_WALLET_DIR, else ~/.conclave/wallet.
// One wallet per directory (the wallet's embedded database lives in it).
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

export const DEFAULT_WALLET_DIR = join(".conclave", "wallet");

export function resolveDataDir(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  homeDir: string,
): string {
  const chosen = flag ?? (env["CONCLAVE_WALLET_DIR"] || undefined);
  if (chosen === undefined) return join(homeDir, DEFAULT_WALLET_DIR);
  // The shell expands "~" in `--data ~/w` but not in `--data=~/w` or in the variable.
  const expanded = chosen === "~" || chosen.startsWith("~/") ? join(homeDir, chosen.slice(1)) : chosen;
  return resolve(expanded);
}

/**
 * Nothing in the directory yet (or no directory): certainly no wallet, so don't open one. `besides`:
 * file names that may be there (a recovery's pending federation request).
 */
export function isEmptyDir(dir: string, besides: readonly string[] = []): boolean {
  if (!existsSync(dir)) return true;
  return statSync(dir).isDirectory() && readdirSync(dir).every((f) => besides.includes(f));
}
