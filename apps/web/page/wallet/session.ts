// The wallet kept in this browser: one wallet per origin, in the SDK's IndexedDB store (database
// DB_NAME), opened with the SDK's browser entry (noble cryptography, FederationClient asking every
// guardian and trusting what t agree on). Nothing here talks to a guardian itself except
// `suggestedInvite`, which only fills in the form.
import { encodeInvite } from "@conclave/core-common";
import { browserWallets } from "@conclave/wallet-standard";
import type { RestoreResult, Wallet } from "@conclave/wallet-standard";
import { errorCode } from "./amount.js";

/** The IndexedDB database that holds this origin's wallet. */
export const DB_NAME = "conclave-wallet";

const wallets = browserWallets();

/** The wallet already in this browser, or undefined when there is none. */
export async function openStoredWallet(): Promise<Wallet | undefined> {
  try {
    return await wallets.openWallet(DB_NAME);
  } catch (e) {
    if (errorCode(e) === "not_joined") return undefined;
    throw e;
  }
}

export function createWallet(invite: string): Promise<{ wallet: Wallet; mnemonic: string }> {
  return wallets.joinWallet(DB_NAME, invite.trim());
}

export function restoreWallet(
  invite: string,
  mnemonic: string,
): Promise<{ wallet: Wallet; result: RestoreResult }> {
  return wallets.restoreWallet(DB_NAME, invite.trim(), mnemonic);
}

/** Deletes the wallet's database from this browser (after `wallet.close()`). */
export function forgetWallet(): Promise<void> {
  return new Promise((ok, fail) => {
    const r = indexedDB.deleteDatabase(DB_NAME);
    r.onsuccess = () => ok();
    r.onerror = () => fail(new Error("the browser did not delete the wallet's database"));
    r.onblocked = () => fail(new Error("another tab still has this wallet open: close it first"));
  });
}

/**
 * The invite code of the federation whose guardian served this page, built from its public config
 * (GET /v1/federation): a suggestion only. Joining checks it with every guardian it names and keeps
 * the config that t of them serve under the invite's federation id.
 */
export async function suggestedInvite(): Promise<string | undefined> {
  const params = new URLSearchParams(location.search);
  const given = params.get("invite");
  if (given) return given;
  if (location.protocol !== "http:" && location.protocol !== "https:") return undefined;
  try {
    const r = await fetch(new URL("/v1/federation", location.origin), {
      signal: AbortSignal.timeout(4_000),
      cache: "no-store",
    });
    if (!r.ok) return undefined;
    const view: unknown = await r.json();
    return inviteFromView(view);
  } catch {
    return undefined;
  }
}

function inviteFromView(view: unknown): string | undefined {
  if (typeof view !== "object" || view === null) return undefined;
  const { federationId, config } = view as { federationId?: unknown; config?: unknown };
  if (typeof federationId !== "string" || typeof config !== "object" || config === null) return undefined;
  const { name, guardians } = config as { name?: unknown; guardians?: unknown };
  if (typeof name !== "string" || !Array.isArray(guardians)) return undefined;
  const list: { name: string; api: string }[] = [];
  for (const g of guardians as unknown[]) {
    const api = (g as { api?: { url?: unknown } } | null)?.api?.url;
    const gname = (g as { name?: unknown } | null)?.name;
    if (typeof api !== "string") return undefined;
    list.push({ name: typeof gname === "string" ? gname : api, api });
  }
  return encodeInvite({ federationId, name, guardians: list });
}
