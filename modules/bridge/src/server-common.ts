// What the split-out parts of the bridge's server half share (server.ts holds BridgeServerModule):
// the module's view of itself they read when called (BridgeCore), the agreed EVM block and time,
// a re-issuable mint's current issue and first deposit id, and the Ed25519 key check.
import type { ModuleContext, ModuleLinks } from "@conclave/core-server";
import { ed25519 } from "@noble/curves/ed25519.js";
import { agreedReport } from "./common.js";
import type { BridgeConfig, BurnKey, Hex32, SupplyCheck } from "./common.js";
import { outputDepositId, remintDepositId } from "./eip712-mint.js";
import type { BridgeState } from "./state.js";
import type { MintRecord, MintRef, Reissue } from "./state.js";

/** Items in one proposal. */
export const ITEMS_PER_PROPOSAL_MAX = 128;

/** A re-issue's window (deadline − agreed time) doubles per attempt up to this (30 days), or mintDeadlineSeconds if longer. */
export const REISSUE_DEADLINE_SECONDS_MAX = 30 * 86_400;

/** How long attempt `attempt` of a re-issuable mint stays valid: mintDeadlineSeconds × 2^attempt, bounded. */
export function reissueWindowSeconds(mintDeadlineSeconds: number, attempt: number): bigint {
  const cap = BigInt(Math.max(REISSUE_DEADLINE_SECONDS_MAX, mintDeadlineSeconds));
  const window = BigInt(mintDeadlineSeconds) << BigInt(Math.min(attempt, 40));
  return window < cap ? window : cap;
}

/**
 * What the consensus, transaction and view parts need of BridgeServerModule, read when they are
 * called: the federation id, this guardian's index and log are set at start, the links at link().
 */
export interface BridgeCore {
  readonly config: BridgeConfig;
  /** Guardians in the federation. */
  readonly n: number;
  links(): ModuleLinks;
  federationId(): Uint8Array | undefined;
  log(): ModuleContext["log"] | undefined;
  /** A supply_check item in consensus order (the accountant: BridgeServerModule.checkBooks). */
  supplyChecked?(check: SupplyCheck, state: BridgeState, peer: number): void;
}

export const keyOf = (b: { txHash: Uint8Array; logIndex: number }): BurnKey => ({
  txHash: b.txHash,
  logIndex: b.logIndex,
});

/** The agreed EVM block and time: position 2f of every guardian's scanned report. */
export function agreedOf(state: BridgeState, n: number): { block: bigint; timestamp: bigint } {
  const reports = Array.from({ length: n }, (_, g) => state.scanned(g));
  return {
    block: agreedReport(
      reports.map((r) => r?.block ?? 0n),
      n,
    ),
    timestamp: agreedReport(
      reports.map((r) => r?.timestamp ?? 0n),
      n,
    ),
  };
}

/** Attempt 0's deposit id of a re-issuable mint (a 0x01 output's, or a re-mint's). */
export function firstDepositId(federationId: Uint8Array, ref: MintRef): Hex32 {
  return ref.remint === true
    ? remintDepositId(federationId, ref.txid, ref.index)
    : outputDepositId(federationId, ref.txid, ref.index);
}

/** The issue of a re-issuable mint signed now: attempt 0 (the record's) until t guardians decide it. */
export function currentIssue(state: BridgeState, ref: MintRef, record: MintRecord): Reissue {
  return (
    state.reissue(ref) ?? {
      attempt: 0,
      deadline: record.deadline,
      setIndex: record.setIndex,
      minted: false,
    }
  );
}

/**
 * A key that only its owner can sign for: a canonical Ed25519 point of the prime-order subgroup, not
 * of small order. A small-order key (the identity 01 00…00, the all-zero bytes, five more) lets
 * anyone sign: k·A is a small-order point for every k, and for the identity s·B = R + k·A holds
 * with R = B, s = 1 whatever the message (node:crypto's cofactorless verification accepts it), so
 * a refund or claim to it is anyone's. A key with a torsion part (a·B + T) fails its owner's
 * signatures 7 times in 8: the value would be stuck. Both are refused.
 */
export function isEd25519Point(bytes: Uint8Array): boolean {
  try {
    const point = ed25519.Point.fromBytes(bytes);
    return !point.isSmallOrder() && point.isTorsionFree();
  } catch {
    return false;
  }
}
