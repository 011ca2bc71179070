// Client half of the mint: prepares notes, turns guardians' blind shares into spendable notes,
// and builds inputs, outputs and signed transactions.
import { randomBytes } from "node:crypto";
import { fromHex } from "@conclave/core-common";
import type { Signer, TxInput, TxOutput } from "@conclave/core-common";
import type { Rng } from "@conclave/core-common/threshold";
import { NodeSigner } from "@conclave/core-server";
import { denominationAmount, encodeMintInput, encodeMintOutput } from "./common.js";
import type { DenominationKey } from "./common.js";
import { blind, combineBlindShares, unblind, verifyBlindShare, verifyNote } from "./tbs.js";
import type { TbsResult } from "./tbs.js";

const defaultRng: Rng = (n) => new Uint8Array(randomBytes(n));

/** A note being issued: its secrets stay with the client. */
export interface PendingNote {
  readonly denominationLog2: number;
  /** Ed25519 seed of the spend key. */
  readonly spendSeed: Uint8Array;
  /** The note nonce: the spend public key. */
  readonly spendKey: Uint8Array;
  readonly blindingKey: bigint;
  readonly blindedMessage: Uint8Array;
}

export interface SpendableNote {
  readonly denominationLog2: number;
  readonly spendSeed: Uint8Array;
  readonly spendKey: Uint8Array;
  readonly signature: Uint8Array;
}

export function prepareNote(denominationLog2: number, rng: Rng = defaultRng): PendingNote {
  const spendSeed = rng(32);
  const spendKey = new NodeSigner(spendSeed).publicKey;
  const { blindingKey, blindedMessage } = blind(spendKey, rng);
  return { denominationLog2, spendSeed, spendKey, blindingKey, blindedMessage };
}

export function noteOutput(
  module: number,
  note: Pick<PendingNote, "denominationLog2" | "blindedMessage">,
): TxOutput {
  return {
    module,
    amount: denominationAmount(note.denominationLog2),
    payload: encodeMintOutput(note),
  };
}

export function noteInput(module: number, note: SpendableNote): TxInput {
  return {
    module,
    amount: denominationAmount(note.denominationLog2),
    payload: encodeMintInput(note),
  };
}

export function noteSigner(note: SpendableNote): Signer {
  return new NodeSigner(note.spendSeed);
}

/** Powers of two making up `amount`, smallest first, among the mint's denominations (greedy). */
export function splitAmount(amount: bigint, denominationsLog2: readonly number[]): number[] | undefined {
  const out: number[] = [];
  let left = amount;
  for (const log2 of [...denominationsLog2].sort((a, b) => b - a)) {
    const d = denominationAmount(log2);
    while (left >= d) {
      out.push(log2);
      left -= d;
    }
  }
  return left === 0n ? out.reverse() : undefined;
}

export type FinishError =
  | { readonly code: "bad-shares"; readonly message: string; readonly guardians: readonly number[] }
  | { readonly code: "tbs"; readonly message: string }
  | { readonly code: "invalid-note"; readonly message: string };

/**
 * Checks each guardian's blind share (hex, from its output outcome) against its public key share,
 * combines `threshold` good ones, unblinds and verifies the note. Bad shares are named, and
 * ignored as long as enough good ones remain.
 */
export function finishNote(
  note: PendingNote,
  key: DenominationKey,
  threshold: number,
  shares: readonly { guardian: number; blindShare: string }[],
): { ok: true; value: SpendableNote } | { ok: false; error: FinishError } {
  const good: { guardian: number; share: Uint8Array }[] = [];
  const bad: number[] = [];
  for (const s of shares) {
    const pk = key.publicKeyShares[s.guardian];
    let share: Uint8Array | undefined;
    try {
      share = fromHex(s.blindShare);
    } catch {
      share = undefined;
    }
    if (pk && share && verifyBlindShare(pk, note.blindedMessage, share))
      good.push({ guardian: s.guardian, share });
    else bad.push(s.guardian);
  }
  if (good.length < threshold)
    return {
      ok: false,
      error: {
        code: "bad-shares",
        message: `${good.length} good shares, ${threshold} needed`,
        guardians: bad,
      },
    };
  const combined = combineBlindShares(threshold, good);
  const signature = andThen(combined, (c) => unblind(c, note.blindingKey));
  if (!signature.ok) return { ok: false, error: { code: "tbs", message: signature.error.message } };
  if (!verifyNote(key.publicKey, note.spendKey, signature.value))
    return { ok: false, error: { code: "invalid-note", message: "the combined signature does not verify" } };
  return {
    ok: true,
    value: {
      denominationLog2: note.denominationLog2,
      spendSeed: note.spendSeed,
      spendKey: note.spendKey,
      signature: signature.value,
    },
  };
}

function andThen<A, B>(r: TbsResult<A>, f: (a: A) => TbsResult<B>): TbsResult<B> {
  return r.ok ? f(r.value) : r;
}

/** The transaction model's own builder, re-exported so module clients offer one entry point. */
export { buildTransaction } from "@conclave/core-common";
