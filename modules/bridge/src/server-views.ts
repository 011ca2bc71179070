// The bridge's views (server.ts holds BridgeServerModule, which calls these; the routes and watches
// serve them): a mint with this guardian's EIP-712 signature, its expiry or re-issue progress and its
// Monero refund payout (never the refund address), a burn with its votes and settlement, the agreed
// EVM chain position, and the supply beside what the federation signed.
import type { ReadTx } from "@conclave/core-server";
import { bytesToHex } from "viem";
import type { BurnKey, MintKey } from "./common.js";
import type {
  BurnPayoutView,
  BurnView,
  ChainView,
  MintExpiryView,
  MintReissueView,
  MintSignatureView,
  SupplyView,
} from "./api.js";
import {
  burnPayoutRef,
  evmAddressOfKey,
  mintRefundPayoutRef,
  outputDepositId,
  reissueDepositId,
  signMint,
} from "./eip712-mint.js";
import { agreedOf, currentIssue, firstDepositId } from "./server-common.js";
import type { BridgeCore } from "./server-common.js";
import { BridgeState } from "./state.js";
import type { MintRecord, MintRef } from "./state.js";

/** What the views need of BridgeServerModule beyond BridgeCore. */
export interface BridgeViewCore extends BridgeCore {
  /** This guardian's index (-1 before start). */
  self(): number;
  /** This guardian's EVM key for signing mints; none without one, or once the books are broken. */
  signingKey(): Uint8Array | undefined;
  /** The accountant (BridgeServerModule.checkBooks): halts the guardian if the books are broken. */
  checkBooks(db: ReadTx): unknown;
  /** The wXMR totalSupply this guardian's node reads at its depth block (none without a node). */
  supplyAtDepth(): { block: bigint; supply: bigint } | undefined;
}

/** A mint's view; `sign` false leaves this guardian's signature out (a watch's state: no signing per block). */
export function mintViewOf(
  core: BridgeViewCore,
  db: ReadTx,
  outPoint: MintKey,
  sign: boolean,
): MintSignatureView | undefined {
  const state = new BridgeState(db);
  const record = state.mint(outPoint.txid, outPoint.index);
  if (!record) return undefined;
  core.checkBooks(db);
  if (!record.refundKey) return reissuableView(core, state, outPoint, record, sign);
  const expiry = expiryView(core, db, state, outPoint, record);
  // A returned mint is never signed again (the contract would refuse it, Expired, all the same).
  const returned =
    expiry.state === "returnable" || expiry.state === "refunded" || expiry.state === "paid_out";
  const view = signed(
    core,
    record,
    (fed) => outputDepositId(fed, outPoint.txid, outPoint.index),
    sign && !returned,
  );
  return view ? { ...view, expiry } : view;
}

/**
 * A mint without refund key (0x01 output, or a re-mint with `ref.remint`): the Mint of its current
 * attempt (deadline, set index and deposit id of that issue) and this guardian's signature of it;
 * earlier attempts are never signed again.
 */
function reissuableView(
  core: BridgeViewCore,
  state: BridgeState,
  ref: MintRef,
  record: MintRecord,
  sign: boolean,
): MintSignatureView | undefined {
  const current = currentIssue(state, ref, record);
  const issue: MintRecord = { ...record, deadline: current.deadline, setIndex: current.setIndex };
  const view = signed(
    core,
    issue,
    (fed) => reissueDepositId(firstDepositId(fed, ref), current.attempt),
    sign,
  );
  const federationId = core.federationId();
  if (!view || !federationId) return view;
  const votes = current.minted ? [] : state.reissueVotes(ref);
  const reissue: MintReissueView = {
    attempt: current.attempt,
    state: current.minted ? "minted" : current.deadline < agreedOf(state, core.n).timestamp ? "due" : "open",
    firstDepositId: firstDepositId(federationId, ref),
    votesUnused: votes.filter((v) => !v.used).length,
    votesUsed: votes.filter((v) => v.used).length,
    votesRequired: core.config.threshold,
  };
  return { ...view, reissue };
}

function expiryView(
  core: BridgeViewCore,
  db: ReadTx,
  state: BridgeState,
  key: MintKey,
  record: MintRecord,
): MintExpiryView {
  const outcome = state.expiryOutcome(key);
  const votes = state.expiryVotes(key);
  const paid = state.refundPayout(key);
  // Never the refund address: only its owner knows it (the view says where the payout got).
  const progress = paid ? core.links().payouts?.progress(db, mintRefundPayoutRef(key)) : undefined;
  return {
    state: outcome ?? (record.deadline < agreedOf(state, core.n).timestamp ? "due" : "open"),
    refundKey: bytesToHex(record.refundKey!),
    ...(record.refundAddress !== undefined ? { refundInMonero: true } : {}),
    ...(paid
      ? {
          payout: {
            amount: paid.amount.toString(),
            fee: paid.fee.toString(),
            state: progress?.state ?? "queued",
            ...(progress?.moneroTxid ? { moneroTxid: progress.moneroTxid } : {}),
            ...(progress?.txKey ? { txKey: progress.txKey } : {}),
            ...(progress?.confirmations !== undefined ? { confirmations: progress.confirmations } : {}),
          },
        }
      : {}),
    votesUnused: votes.filter((v) => !v.used).length,
    votesUsed: votes.filter((v) => v.used).length,
    votesRequired: core.config.threshold,
  };
}

/** The Mint of `record` and this guardian's signature of it (none before start or without a key). */
function signed(
  core: BridgeViewCore,
  record: MintRecord,
  depositIdOf: (federationId: Uint8Array) => `0x${string}`,
  sign = true,
): MintSignatureView | undefined {
  const federationId = core.federationId();
  if (!federationId) return undefined;
  const message = {
    recipient: record.recipient,
    amount: record.amount,
    depositId: depositIdOf(federationId),
    deadline: record.deadline,
    setIndex: record.setIndex,
  };
  const domain = { chainId: core.config.chainId, contract: core.config.contract };
  // No signature once the books are broken: signingKey() is none then (checkBooks halts the guardian;
  // this covers the meantime).
  const key = sign ? core.signingKey() : undefined;
  return {
    chainId: core.config.chainId,
    contract: core.config.contract,
    recipient: record.recipient,
    amount: record.amount.toString(),
    depositId: message.depositId,
    deadline: record.deadline.toString(),
    setIndex: record.setIndex,
    guardian: core.self(),
    ...(key ? { signer: evmAddressOfKey(key), signature: signMint(key, domain, message) } : {}),
  };
}

/** A burn's view; `sign` false leaves out this guardian's signature of a re-mint (a watch's state). */
export function burnViewOf(core: BridgeViewCore, db: ReadTx, key: BurnKey, sign = true): BurnView {
  const state = new BridgeState(db);
  const base = {
    txHash: bytesToHex(key.txHash),
    logIndex: key.logIndex,
    votesRequired: core.config.threshold,
  };
  const accepted = state.burn(key);
  if (!accepted) {
    const votes = state.votes(key).length;
    return { ...base, state: votes === 0 ? "unknown" : "voting", votes };
  }
  const b = accepted.burn;
  const remint = state.remint(key);
  if (remint) core.checkBooks(db);
  const signed =
    remint &&
    reissuableView(core, state, { txid: key.txHash, index: key.logIndex, remint: true }, remint, sign);
  return {
    ...base,
    state: "accepted",
    votes: core.config.threshold,
    burnId: b.burnId.toString(),
    from: b.from,
    amount: b.amount.toString(),
    kind: b.burnKind,
    settlement: accepted.settlement,
    ...(accepted.reason === undefined ? {} : { reason: accepted.reason }),
    ...(signed ? { remint: signed } : {}),
    ...(accepted.payout ? { payout: payoutView(core, db, key, accepted.payout) } : {}),
  };
}

/** A burn's Monero payout: what it pays, the fee deducted, and how far the monero module got. */
function payoutView(
  core: BridgeViewCore,
  db: ReadTx,
  key: BurnKey,
  payout: { amount: bigint; fee: bigint },
): BurnPayoutView {
  const progress = core.links().payouts?.progress(db, burnPayoutRef(key));
  return {
    amount: payout.amount.toString(),
    fee: payout.fee.toString(),
    state: progress?.state ?? "queued",
    ...(progress?.moneroTxid === undefined ? {} : { moneroTxid: progress.moneroTxid }),
    ...(progress?.txKey === undefined ? {} : { txKey: progress.txKey }),
    ...(progress?.confirmations === undefined ? {} : { confirmations: progress.confirmations }),
  };
}

export function chainViewOf(core: BridgeViewCore, db: ReadTx): ChainView {
  const state = new BridgeState(db);
  const agreed = agreedOf(state, core.n);
  return {
    chainId: core.config.chainId,
    contract: core.config.contract,
    confirmations: core.config.confirmations,
    agreedBlock: agreed.block.toString(),
    agreedTimestamp: agreed.timestamp.toString(),
    scanned: Array.from({ length: core.n }, (_, g) => {
      const s = state.scanned(g);
      return s ? { block: s.block.toString(), timestamp: s.timestamp.toString() } : null;
    }),
  };
}

export function supplyViewOf(core: BridgeViewCore, db: ReadTx): SupplyView {
  const state = new BridgeState(db);
  const t = state.totals();
  const outstanding = t.signed - t.burned;
  const deep = core.supplyAtDepth();
  return {
    guardian: core.self(),
    chainId: core.config.chainId,
    contract: core.config.contract,
    signed: t.signed.toString(),
    burned: t.burned.toString(),
    unsettled: t.unsettled.toString(),
    returnable: t.returnable.toString(),
    outstanding: outstanding.toString(),
    agreedBlock: agreedOf(state, core.n).block.toString(),
    ...(deep
      ? {
          chain: { block: deep.block.toString(), totalSupply: deep.supply.toString() },
          unsubmitted: (outstanding - deep.supply).toString(),
        }
      : {}),
  };
}
