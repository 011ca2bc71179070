// The mint half's parts that its files share: the mint config as the half reads it, the
// cryptography it needs, its errors, and small helpers over results and notes.
import { clientErrors } from "@conclave/core-client";
import type { Signer } from "@conclave/core-common";
import { ConclaveError } from "@conclave/core-common";
import type { TbsBackend } from "@conclave/core-common/tbs";
import type { Rng } from "@conclave/core-common/threshold";
import { denominationAmount, mintConfigOf, mintConfigSchema } from "../common.js";
import type { MintConfig } from "../common.js";
import type { OwnNote } from "./store.js";
import type { ReissueResult } from "./types.js";
import { assert } from "@conclave/core-client";

/** Most inputs the wallet puts in one transaction (a signed input is ~160 bytes; 48 KiB per tx). */
export const INPUTS_PER_TX_MAX = 128;
/** Most outputs per transaction, whatever the mint allows (an output is ~63 bytes). */
export const OUTPUTS_PER_TX_MAX = 128;

/** The cryptography the mint half needs (the wallet's WalletCrypto is one). */
export interface MintCrypto {
  /** The note nonce of a spend seed (its Ed25519 public key). */
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  ed25519Signer(seed: Uint8Array, publicKey?: Uint8Array): Signer;
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  readonly tbs: TbsBackend;
  readonly random: Rng;
}

/** The mint's refusals, with their statuses. */
export const mintError = clientErrors({
  malformed_notes: 400,
  wrong_federation: 400,
  invalid_note: 400,
  insufficient_funds: 400,
  invalid_amount: 400,
  unknown_spend: 404,
  backup_unavailable: 404,
});

/** A federation without a mint module: nothing to hold notes of. */
export function noMintError(): ConclaveError {
  return new ConclaveError("no_mint", "this federation runs no mint module: it cannot hold e-cash notes", {
    status: 400,
  });
}

/** The mint instance's config as the half reads it (bad_mint_config when it does not parse). */
export function parseMintConfig(raw: Readonly<Record<string, unknown>>): MintConfig {
  const parsed = mintConfigSchema.safeParse(raw);
  if (!parsed.success)
    throw new ConclaveError(
      "bad_mint_config",
      `the federation's mint config is invalid: ${parsed.error.message}`,
      {
        status: 502,
      },
    );
  return mintConfigOf(parsed.data);
}

/** A guardian refused for good: a 4xx that is not a rate limit (422: the transaction's own fault). */
export function isRefusal(e: unknown): e is ConclaveError {
  return (
    e instanceof ConclaveError && e.status >= 400 && e.status < 500 && e.status !== 429 && e.status !== 499
  );
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** One result for an operation that took several transactions. */
export function mergeResults(
  results: readonly ReissueResult[],
): ReissueResult & { txids?: readonly string[] } {
  if (results.length === 0) return { txid: "", amount: 0n, fee: 0n, notesIssued: 0 };
  return {
    txid: results[results.length - 1]!.txid,
    amount: results.reduce((s, r) => s + r.amount, 0n),
    fee: results.reduce((s, r) => s + r.fee, 0n),
    notesIssued: results.reduce((s, r) => s + r.notesIssued, 0),
    ...(results.length > 1 ? { txids: results.map((r) => r.txid) } : {}),
  };
}

/** Concrete notes for a list of denominations. */
export function pickNotes(notes: readonly OwnNote[], log2s: readonly number[]): OwnNote[] {
  const pool = new Map<number, OwnNote[]>();
  for (const n of notes) pool.set(n.denominationLog2, [...(pool.get(n.denominationLog2) ?? []), n]);
  return log2s.map((l) => {
    const n = pool.get(l)?.pop();
    assert(n, `no 2^${l} note left to pick`);
    return n;
  });
}

/** As many notes as fit in `amount`, largest first (the exact selection's greedy pass). */
export function greedyPartial(holdings: ReadonlyMap<number, number>, amount: bigint): number[] {
  const out: number[] = [];
  let left = amount;
  for (const log2 of [...holdings.keys()].sort((a, b) => b - a)) {
    const d = denominationAmount(log2);
    for (let i = 0; i < (holdings.get(log2) ?? 0) && left >= d; i++) {
      out.push(log2);
      left -= d;
    }
  }
  return out;
}

export function largestFirst(holdings: ReadonlyMap<number, number>, max: number): number[] {
  const out: number[] = [];
  for (const log2 of [...holdings.keys()].sort((a, b) => b - a))
    for (let i = 0; i < (holdings.get(log2) ?? 0) && out.length < max; i++) out.push(log2);
  return out;
}
