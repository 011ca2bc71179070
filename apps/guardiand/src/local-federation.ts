// Files for a local federation on 127.0.0.1: one federation config and one secret per guardian.
// Dev and test only: here one process makes every key (a trusted dealer). Real federations run the
// key ceremony, where each guardian makes its own key and shares only the public half.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toHex, quorumThreshold } from "@conclave/core-common";
import type { FederationConfig } from "@conclave/core-common";
import {
  commitPolynomial,
  encodeG2,
  evaluatePolynomial,
  publicKeyShare,
  randomPolynomial,
} from "@conclave/core-common/threshold";
import { ed25519PublicKeyOf, freePort, generateEd25519Seed } from "@conclave/core-server";
import { MODULE_SETUPS } from "./modules.js";

/** Where the dev federation and the tests get their ports (core-server's: see ports.ts). */
export { freePort };

/** A dev federation runs the test-only dummy module so transactions can be made without real money. */
export const DEV_MODULES: FederationConfig["modules"] = [
  { instanceId: 0, kind: "dummy", config: { faucetAmountMax: "1000000000000000", feePerInput: "0" } },
];

/**
 * The mint's parameters for Monero (base unit: the piconero, 10^-12 XMR): denominations 2^0 to
 * 2^45 piconero (up to about 35 XMR per note), so that every amount in piconero can be paid in
 * notes (at most one note per set bit of the amount); no fee per spent note; at most 200 notes per
 * transaction (about 29 KiB of inputs, inside the core's 48 KiB transaction limit).
 */
export const MINT_PARAMS_XMR = {
  denominationsLog2: Array.from({ length: 46 }, (_, i) => i),
  feePerInput: "0",
  notesPerTxMax: 200,
};

/** A dev federation with money: the dummy faucet (instance 0) funds the mint (instance 1). */
export const DEV_MODULES_WITH_MINT: FederationConfig["modules"] = [
  ...DEV_MODULES,
  { instanceId: 1, kind: "mint", config: MINT_PARAMS_XMR },
];

/**
 * Dealer keys for the modules that need threshold keys (the mint: one per denomination): the
 * modules' setup steps fill in the public keys, each guardian's secret file gets its shares.
 * What the key ceremony's DKG does without a dealer; here for tests and dev only.
 */
function dealModuleKeys(
  modules: FederationConfig["modules"],
  n: number,
): { modules: FederationConfig["modules"]; shares: Record<string, string[]>[] } {
  const threshold = quorumThreshold(n);
  const rng = (bytes: number) => new Uint8Array(randomBytes(bytes));
  const shares: Record<string, string[]>[] = Array.from({ length: n }, () => ({}));
  const dealt = modules.map((m) => {
    const setup = MODULE_SETUPS[m.kind];
    const count = setup?.keyCount(m.config) ?? 0;
    if (!setup || count === 0) return m;
    const keys = [];
    for (let k = 0; k < count; k++) {
      const poly = randomPolynomial(threshold, rng);
      const commitments = commitPolynomial(poly);
      keys.push({
        publicKey: toHex(encodeG2(commitments[0]!)),
        publicKeyShares: Array.from({ length: n }, (_, i) => toHex(encodeG2(publicKeyShare(commitments, i)))),
      });
      for (let i = 0; i < n; i++) {
        const list = (shares[i]![String(m.instanceId)] ??= []);
        list.push(evaluatePolynomial(poly, i).toString(16).padStart(64, "0"));
      }
    }
    return { ...m, config: setup.finish(m.config, keys) };
  });
  return { modules: dealt, shares };
}

export interface LocalFederationFiles {
  readonly dir: string;
  readonly configPath: string;
  readonly secretPaths: readonly string[];
  readonly dataDirs: readonly string[];
  readonly config: FederationConfig;
}

export async function writeLocalFederation(
  dir: string,
  n: number,
  consensus: FederationConfig["consensus"] = { heightsPerSession: 16 },
  modules: FederationConfig["modules"] = DEV_MODULES,
): Promise<LocalFederationFiles> {
  mkdirSync(dir, { recursive: true });
  const seeds = Array.from({ length: n }, () => generateEd25519Seed());
  const guardians = [];
  for (let i = 0; i < n; i++) {
    guardians.push({
      name: `guardian-${i}`,
      publicKey: toHex(ed25519PublicKeyOf(seeds[i]!)),
      p2p: { host: "127.0.0.1", port: await freePort() },
      api: { url: `http://127.0.0.1:${await freePort()}` },
    });
  }
  const dealt = dealModuleKeys(modules, n);
  const config: FederationConfig = {
    version: 1,
    name: "local",
    environment: "dev",
    guardians,
    consensus,
    modules: dealt.modules,
  };
  const configPath = join(dir, "federation.json");
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const secretPaths = seeds.map((seed, i) => {
    const p = join(dir, `guardian-${i}.secret.json`);
    const moduleShares = dealt.shares[i]!;
    const secret =
      Object.keys(moduleShares).length > 0
        ? { secretSeed: toHex(seed), moduleShares }
        : { secretSeed: toHex(seed) };
    writeFileSync(p, JSON.stringify(secret), { mode: 0o600 });
    return p;
  });
  const dataDirs = seeds.map((_, i) => join(dir, `guardian-${i}-data`));
  return { dir, configPath, secretPaths, dataDirs, config };
}
