// The bridge's consensus items (server.ts holds BridgeServerModule, which calls these): what this
// guardian proposes of its expiry votes, and how every guardian applies an ordered item: `scanned`
// reports, burn votes (t equal ones accept a burn and settle it: a Monero payout, claimable, or a
// re-mint), expiry votes on refundable mints (returnable, paid back in Monero, or minted) and on
// re-issuable ones (re-issued or minted). The rules are in server.ts's header and docs/bridge.md.
import { toHex } from "@conclave/core-common";
import { fail, ok } from "@conclave/core-server";
import type { ModuleResult, WriteTx } from "@conclave/core-server";
import { parseAddress } from "@conclave/monero";
import { BURN_TO_CLAIM, BURN_TO_MONERO, decodeBridgeItem, sameBurn } from "./common.js";
import type { BridgeItem, BurnSeen, ExpirySeen, MintKey } from "./common.js";
import {
  burnPayoutRef,
  mintRefundPayoutRef,
  outputDepositId,
  reissueDepositId,
  remintDepositId,
} from "./eip712-mint.js";
import { indexBurnByAddress, indexOutputDeposit, indexRemintDeposit } from "./lookup-index.js";
import {
  agreedOf,
  currentIssue,
  firstDepositId,
  isEd25519Point,
  keyOf,
  reissueWindowSeconds,
} from "./server-common.js";
import type { BridgeCore } from "./server-common.js";
import { BridgeStateWriter, QUEUE_BACKFILL_VERSION } from "./state.js";
import type { AcceptedBurn, BridgeState, MintRecord, MintRef } from "./state.js";
import { EXPIRY_CHECKS_PER_POLL_MAX } from "./watcher.js";
import type { BurnWatcher } from "./watcher.js";

/**
 * This guardian's votes on refundable mints past the agreed EVM time that it has not voted on (its
 * own queue in the state, by deadline, at most EXPIRY_CHECKS_PER_POLL_MAX): the watcher reads each
 * one's depositStatus at its depth block once that block's timestamp is past the deadline.
 */
export function expiryVoteItems(
  core: BridgeCore,
  state: BridgeState,
  self: number,
  watcher: BurnWatcher,
): BridgeItem[] {
  const federationId = core.federationId();
  if (!federationId) return [];
  const due = state.dueMints(self, agreedOf(state, core.n).timestamp, EXPIRY_CHECKS_PER_POLL_MAX);
  watcher.wantExpiries(
    due.map((m) => {
      if (m.remint !== true && state.mint(m.txid, m.index)?.refundKey)
        return { ...m, depositId: outputDepositId(federationId, m.txid, m.index) };
      const attempt = state.reissue(m)?.attempt ?? 0;
      return { ...m, attempt, depositId: reissueDepositId(firstDepositId(federationId, m), attempt) };
    }),
  );
  return watcher.expiryFindings.map(({ check, used }) => ({
    kind: "expiry",
    txid: check.txid,
    index: check.index,
    used,
    ...(check.remint === true ? { remint: true } : {}),
    ...(check.attempt === undefined ? {} : { attempt: check.attempt }),
  }));
}

export function processBridgeItem(
  core: BridgeCore,
  db: WriteTx,
  payload: Uint8Array,
  peer: number,
): ModuleResult<void> {
  if (!Number.isInteger(peer) || peer < 0 || peer >= core.n)
    return fail("unknown_guardian", `guardian ${peer} is not one of this module's ${core.n}`);
  let item: BridgeItem;
  try {
    item = decodeBridgeItem(payload);
  } catch (e) {
    return fail("malformed_item", `not a bridge consensus item: ${(e as Error).message}`, { peer });
  }
  const state = new BridgeStateWriter(db);
  // A store written before the re-issue version has expired 0x01 mints and re-mints in no queue:
  // the first ordered bridge item this version processes queues them, at the same height at every
  // guardian (a write at start would not be: guardians restart at different heights, and the state
  // is compared key by key). docs/bridge.md "Re-issue", threat model 12zk.
  if (state.queueBackfilled() < QUEUE_BACKFILL_VERSION) {
    const written = state.enqueueUnqueued(core.n);
    if (written > 0) core.log()?.("expiry_queue_backfilled", { entries: written });
  }
  if (item.kind === "scanned") {
    const previous = state.scanned(peer);
    // A lower report changes nothing (a resubmission, or a liar pulling the agreed block down).
    if (previous && (item.block <= previous.block || item.timestamp < previous.timestamp))
      return ok(undefined);
    state.setScanned(peer, item.block, item.timestamp);
    return ok(undefined);
  }
  if (item.kind === "supply_check") {
    // Changes no state: only its proposer judges its own node's reading against this state.
    core.supplyChecked?.(item, state, peer);
    return ok(undefined);
  }
  if (item.kind === "expiry") return onExpiryVote(core, state, peer, item);
  return onBurnVote(core, state, peer, item);
}

/**
 * A guardian's vote on a refundable mint past the agreed EVM time. Costs the state one lookup of
 * the mint, at most n of its votes, and one write; a vote no rule allows is refused with its
 * reason (an error of that guardian, counted, nothing stored). t equal votes decide, once.
 */
function onExpiryVote(
  core: BridgeCore,
  state: BridgeStateWriter,
  peer: number,
  vote: ExpirySeen,
): ModuleResult<void> {
  const key: MintKey = { txid: vote.txid, index: vote.index };
  const name = `${vote.remint === true ? "re-mint " : ""}${toHex(vote.txid)}:${vote.index}`;
  const record =
    vote.remint === true
      ? state.remint({ txHash: vote.txid, logIndex: vote.index })
      : state.mint(vote.txid, vote.index);
  if (!record)
    return fail("unknown_mint", `guardian ${peer} voted on mint ${name}, which does not exist`, { peer });
  if (!record.refundKey) return onReissueVote(core, state, peer, vote, record, name);
  if ((vote.attempt ?? 0) !== 0)
    return fail(
      "unknown_attempt",
      `guardian ${peer} voted on attempt ${vote.attempt} of refundable mint ${name}`,
      {
        peer,
      },
    );
  const outcome = state.expiryOutcome(key);
  if (outcome !== undefined)
    return (outcome === "minted") === vote.used
      ? ok(undefined) // a late vote that agrees with the decision
      : fail("expiry_vote_differs", `guardian ${peer} voted mint ${name} unlike the decision (${outcome})`, {
          peer,
        });
  const agreed = agreedOf(state, core.n).timestamp;
  if (record.deadline >= agreed)
    return fail(
      "expiry_not_due",
      `guardian ${peer} voted on mint ${name} before its deadline ${record.deadline} is below the agreed EVM time ${agreed}`,
      { peer },
    );
  const votes = state.expiryVotes(key);
  const previous = votes.find((v) => v.guardian === peer);
  if (previous)
    return previous.used === vote.used
      ? ok(undefined) // the same vote again counts once
      : fail("already_voted", `guardian ${peer} already voted on mint ${name} differently`, { peer });
  state.putExpiryVote(key, peer, vote.used);
  state.deleteDue(peer, record.deadline, key);
  votes.push({ guardian: peer, used: vote.used });
  if (votes.filter((v) => v.used === vote.used).length < core.config.threshold) return ok(undefined);
  // Decided: the votes and every guardian's queue entry go.
  for (const v of votes) state.deleteExpiryVote(key, v.guardian);
  for (let g = 0; g < core.n; g++) state.deleteDue(g, record.deadline, key);
  if (vote.used) {
    state.setExpiryOutcome(key, "minted");
    return ok(undefined);
  }
  // It can never be on chain: it leaves Σ signed (which also tightens checkBooks' bound) and is
  // owed instead: paid back in Monero to a 0x03 output's refund address, in this state transition
  // (the liability moves to the monero module's payouts, as a burn's does), or, for a 0x02 output
  // or a payout the monero module refuses, to the refund key as input 0x02.
  const totals = state.totals();
  const payout = refundInMonero(core, state, key, record);
  if (payout) {
    state.setPaidOut(key, payout);
    state.setTotals({
      ...totals,
      signed: totals.signed - record.amount,
      returnedEver: totals.returnedEver + record.amount,
    });
    return ok(undefined);
  }
  state.setExpiryOutcome(key, "returnable");
  state.setTotals({
    ...totals,
    signed: totals.signed - record.amount,
    returnable: totals.returnable + record.amount,
    returnedEver: totals.returnedEver + record.amount,
  });
  return ok(undefined);
}

/**
 * A vote on attempt `vote.attempt` of a mint without refund key (a 0x01 output or a re-mint). Only
 * the current attempt is voted on: a vote on an earlier one is a late vote (ignored if "unused",
 * the decision that re-issued it; else `expiry_vote_differs`), a later one is `unknown_attempt`.
 * t equal votes decide: "used" -> minted for good; "unused" -> re-issued: attempt + 1, deadline =
 * agreed EVM time + its window, this config's set index, back in every guardian's queue. Σ signed
 * is unchanged (the same value, owed once, signed under another deposit id).
 */
function onReissueVote(
  core: BridgeCore,
  state: BridgeStateWriter,
  peer: number,
  vote: ExpirySeen,
  record: MintRecord,
  name: string,
): ModuleResult<void> {
  const ref: MintRef = {
    txid: vote.txid,
    index: vote.index,
    ...(vote.remint === true ? { remint: true } : {}),
  };
  const current = currentIssue(state, ref, record);
  const attempt = vote.attempt ?? 0;
  if (attempt > current.attempt)
    return fail(
      "unknown_attempt",
      `guardian ${peer} voted on attempt ${attempt} of mint ${name}, whose current attempt is ${current.attempt}`,
      { peer },
    );
  if (current.minted || attempt < current.attempt) {
    // Decided already: attempt < current was decided unused (re-issued), the current one minted.
    const agrees = attempt < current.attempt ? !vote.used : vote.used;
    return agrees
      ? ok(undefined)
      : fail(
          "expiry_vote_differs",
          `guardian ${peer} voted attempt ${attempt} of mint ${name} unlike the decision`,
          {
            peer,
          },
        );
  }
  const agreed = agreedOf(state, core.n).timestamp;
  if (current.deadline >= agreed)
    return fail(
      "expiry_not_due",
      `guardian ${peer} voted on attempt ${attempt} of mint ${name} before its deadline ${current.deadline} is below the agreed EVM time ${agreed}`,
      { peer },
    );
  const votes = state.reissueVotes(ref);
  const previous = votes.find((v) => v.guardian === peer);
  if (previous)
    return previous.used === vote.used
      ? ok(undefined)
      : fail(
          "already_voted",
          `guardian ${peer} already voted on attempt ${attempt} of mint ${name} differently`,
          {
            peer,
          },
        );
  state.putReissueVote(ref, peer, vote.used);
  state.deleteDue(peer, current.deadline, ref);
  votes.push({ guardian: peer, used: vote.used });
  if (votes.filter((v) => v.used === vote.used).length < core.config.threshold) return ok(undefined);
  for (const v of votes) state.deleteReissueVote(ref, v.guardian);
  for (let g = 0; g < core.n; g++) state.deleteDue(g, current.deadline, ref);
  if (vote.used) {
    state.putReissue(ref, { ...current, minted: true });
    return ok(undefined);
  }
  // Never minted, and it never can be (its deadline is past at t guardians' depth blocks, its
  // deposit id unused or cancelled there): the next attempt is signed instead.
  const next = current.attempt + 1;
  const deadline = agreed + reissueWindowSeconds(core.config.mintDeadlineSeconds, next);
  state.putReissue(ref, { attempt: next, deadline, setIndex: core.config.setIndex, minted: false });
  state.putDue(core.n, deadline, ref);
  // GET lookup/deposit/:depositId finds the mint by the new id too.
  const federationId = core.federationId();
  if (federationId) {
    const depositId = reissueDepositId(firstDepositId(federationId, ref), next);
    if (ref.remint === true)
      indexRemintDeposit(state.tx, depositId, { txHash: ref.txid, logIndex: ref.index });
    else indexOutputDeposit(state.tx, depositId, ref);
  }
  return ok(undefined);
}

function onBurnVote(
  core: BridgeCore,
  state: BridgeStateWriter,
  peer: number,
  burn: BurnSeen,
): ModuleResult<void> {
  const key = keyOf(burn);
  const accepted = state.burn(key);
  if (accepted)
    return sameBurn(accepted.burn, burn)
      ? ok(undefined)
      : fail(
          "burn_vote_differs",
          `guardian ${peer} voted burn ${toHex(burn.txHash)}:${burn.logIndex} unlike the accepted one`,
          { peer },
        );
  const moved = state.movedFrom(burn);
  if (moved)
    return fail(
      "burn_moved",
      `guardian ${peer} voted burn ${toHex(burn.txHash)}:${burn.logIndex}, the burn accepted at log ${moved.burn.logIndex} of its transaction, moved by a reorg deeper than the confirmations`,
      { peer },
    );
  const previous = state.vote(key, peer);
  if (previous)
    return sameBurn(previous, burn)
      ? ok(undefined) // the same vote again counts once
      : fail(
          "already_voted",
          `guardian ${peer} already voted burn ${toHex(burn.txHash)}:${burn.logIndex} differently`,
          { peer },
        );
  const open = state.openVotes(peer);
  if (open >= core.config.openVotesPerGuardianMax)
    return fail("too_many_open_votes", `guardian ${peer} has ${open} burn votes no one else confirmed`, {
      peer,
    });
  state.putVote(key, peer, burn);
  state.setOpenVotes(peer, open + 1);
  const votes = state.votes(key);
  const agreeing = votes.filter((v) => sameBurn(v.burn, burn)).length;
  if (agreeing >= core.config.threshold)
    accept(
      core,
      state,
      burn,
      votes.map((v) => v.guardian),
    );
  return ok(undefined);
}

/** t equal votes: the burn is final; the votes go (their guardians' open counts with them). */
function accept(core: BridgeCore, state: BridgeStateWriter, burn: BurnSeen, voters: readonly number[]): void {
  const key = keyOf(burn);
  for (const g of voters) {
    state.deleteVote(key, g);
    state.setOpenVotes(g, Math.max(0, state.openVotes(g) - 1));
  }
  const accepted = handOver(core, state, settlementOf(core, burn));
  state.putBurn(key, accepted);
  indexBurnByAddress(state.tx, burn.from, key);
  const totals = state.totals();
  if (accepted.settlement === "payout") {
    // The liability leaves this module here and enters the monero module's paid-out sum in the
    // same state transition (its assets fall by the same amount): counted once, never zero times.
    state.setTotals({ ...totals, burned: totals.burned + burn.amount });
  } else if (accepted.settlement === "reminted") {
    const agreed = agreedOf(state, core.n);
    const deadline = agreed.timestamp + BigInt(core.config.mintDeadlineSeconds);
    state.putRemint(key, {
      recipient: burn.from,
      amount: burn.amount,
      deadline,
      setIndex: core.config.setIndex,
    });
    const federationId = core.federationId();
    if (federationId)
      indexRemintDeposit(state.tx, remintDepositId(federationId, key.txHash, key.logIndex), key);
    // Unsubmitted past its deadline, it is re-issued (onReissueVote).
    state.putDue(core.n, deadline, { txid: key.txHash, index: key.logIndex, remint: true });
    state.setTotals({
      ...totals,
      signed: totals.signed + burn.amount,
      burned: totals.burned + burn.amount,
    });
  } else {
    state.setTotals({
      ...totals,
      burned: totals.burned + burn.amount,
      unsettled: totals.unsettled + burn.amount,
    });
  }
}

/**
 * A 0x03 mint decided unminted is paid back to its refund address by the monero module, in this
 * state transition: the whole amount, the Monero fee deducted there (so only what the federation
 * received for the output, less the fees, goes back). Undefined for a 0x02 mint, with no module
 * that pays Monero, or when the monero module refuses (e.g. below its minimum once the fee is
 * deducted): the mint is then returnable to its refund key, so the value is never stuck.
 */
function refundInMonero(
  core: BridgeCore,
  state: BridgeStateWriter,
  key: MintKey,
  record: MintRecord,
): { amount: bigint; fee: bigint } | undefined {
  const payouts = core.links().payouts;
  if (record.refundAddress === undefined || !payouts) return undefined;
  const r = payouts.request(state.tx, {
    ref: mintRefundPayoutRef(key),
    address: record.refundAddress,
    value: record.amount,
  });
  return r.ok ? { amount: r.value.amount, fee: r.value.fee } : undefined;
}

/**
 * A burn to a Monero address becomes a payout of the monero module, in this state transition: its
 * value leaves this module's liabilities whole, the fee is deducted from it there. A refusal (or
 * no module that pays Monero) re-mints it, as a refused withdrawal leaves the notes.
 */
function handOver(core: BridgeCore, state: BridgeStateWriter, accepted: AcceptedBurn): AcceptedBurn {
  if (accepted.settlement !== "payout_pending") return accepted;
  const { burn } = accepted;
  const payouts = core.links().payouts;
  if (!payouts)
    return { burn, settlement: "reminted", reason: "this federation runs no module that pays Monero" };
  const address = new TextDecoder().decode(burn.destination);
  const r = payouts.request(state.tx, { ref: burnPayoutRef(keyOf(burn)), address, value: burn.amount });
  if (!r.ok)
    return { burn, settlement: "reminted", reason: `the Monero payout was refused: ${r.error.message}` };
  return { burn, settlement: "payout", payout: { amount: r.value.amount, fee: r.value.fee } };
}

function settlementOf(core: BridgeCore, burn: BurnSeen): AcceptedBurn {
  if (burn.burnKind === BURN_TO_CLAIM) {
    if (burn.destination.length === 32 && isEd25519Point(burn.destination))
      return { burn, settlement: "claimable" };
    return {
      burn,
      settlement: "reminted",
      reason:
        "the claim key is not an Ed25519 public key of prime order (of small order anyone could sign for it)",
    };
  }
  if (burn.burnKind === BURN_TO_MONERO) {
    const text = new TextDecoder("utf-8", { fatal: false }).decode(burn.destination);
    try {
      parseAddress(text, core.config.moneroNetwork);
      return { burn, settlement: "payout_pending" };
    } catch (e) {
      return { burn, settlement: "reminted", reason: `not a Monero address: ${(e as Error).message}` };
    }
  }
  return { burn, settlement: "reminted", reason: `unknown burn kind ${burn.burnKind}` };
}
