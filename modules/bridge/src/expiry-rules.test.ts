// The return of an expired, unsubmitted mint: the consensus rules, with four guardians' processors
// in memory and the votes written by the test (what each guardian's watcher would read from its EVM
// node; expiry.test.ts runs the same module against anvil). Every guardian processes the same blocks
// and must decide the same (federation-fixture.ts checks it).
import { describe, expect, it } from "vitest";
import { buildTransaction, fromHex } from "@conclave/core-common";
import { NodeSigner, sha256 } from "@conclave/core-server";
import { coinOutput, faucetInput } from "@conclave/module-dummy";
import { encodeBridgeItem, encodeMintOutput, encodeRefundInput } from "./common.js";
import { FEDERATION_ID, BRIDGE, DUMMY, federation, testConfig } from "./federation-fixture.js";
import { asHex, outputDepositId, reissueDepositId } from "./eip712-mint.js";
import { REISSUE_DEADLINE_SECONDS_MAX, reissueWindowSeconds } from "./server.js";
import { BridgeState } from "./state.js";

const N = 4;
const RECIPIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const AMOUNT = 2n ** 41n;
const T0 = 1_000_000n;
/** testConfig's mintDeadlineSeconds. */
const DEADLINE = T0 + 3600n;

const scanned = (from: number, block: bigint, timestamp: bigint) => ({
  from,
  payload: encodeBridgeItem({ kind: "scanned", block, timestamp }),
});
const expiry = (from: number, key: { txid: Uint8Array; index: number }, used: boolean, attempt?: number) => ({
  from,
  payload: encodeBridgeItem({ kind: "expiry", ...key, used, ...(attempt === undefined ? {} : { attempt }) }),
});

/** A federation at agreed EVM time T0 with one refundable mint and one 0x01 mint, both funded by the faucet. */
function withMints() {
  const fed = federation(testConfig(N));
  fed.block([0, 1, 2, 3].map((g) => scanned(g, 20n, T0)));
  const owner = new NodeSigner(new Uint8Array(32).fill(0x41));
  const tx = buildTransaction(
    [faucetInput(DUMMY, 3n * AMOUNT)],
    [
      { module: BRIDGE, amount: AMOUNT, payload: encodeMintOutput(RECIPIENT, owner.publicKey) },
      { module: BRIDGE, amount: AMOUNT, payload: encodeMintOutput(RECIPIENT, owner.publicKey) },
      { module: BRIDGE, amount: AMOUNT, payload: encodeMintOutput(RECIPIENT) },
    ],
    [],
    sha256,
  );
  const out = fed.block([], [tx]);
  expect(out.events[0]!.status.state).toBe("accepted");
  const txid = fromHex(out.events[0]!.txid);
  const pastDeadline = () => fed.block([0, 1, 2, 3].map((g) => scanned(g, 400n, DEADLINE + 12n)));
  const view = (index: number, g = 0) => fed.guardians[g]!.bridge.outputOutcome(fed.mdb(g), { txid, index })!;
  const state = (g = 0) => new BridgeState(fed.mdb(g));
  return {
    fed,
    owner,
    txid,
    pastDeadline,
    view,
    state,
    a: { txid, index: 0 },
    b: { txid, index: 1 },
    plain: { txid, index: 2 },
  };
}

const refundTx = (key: { txid: Uint8Array; index: number }, signer: NodeSigner, to = signer.publicKey) =>
  buildTransaction(
    [{ module: BRIDGE, amount: AMOUNT, payload: encodeRefundInput(key) }],
    [coinOutput(DUMMY, AMOUNT, to)],
    [signer],
    sha256,
  );
const codes = (out: { events: readonly { status: { state: string; error?: { code: string } } }[] }) =>
  out.events.map((e) => (e.status.state === "rejected" ? e.status.error!.code : e.status.state));

describe("bridge: return of an expired, unsubmitted mint (consensus rules)", () => {
  it("refuses a 0x02 output whose refund key is not an Ed25519 point, and queues a good one for every guardian's vote", () => {
    const { fed, view, state, a } = withMints();
    const bad = buildTransaction(
      [faucetInput(DUMMY, AMOUNT)],
      [{ module: BRIDGE, amount: AMOUNT, payload: encodeMintOutput(RECIPIENT, new Uint8Array(32)) }],
      [],
      sha256,
    );
    expect(codes(fed.block([], [bad]))).toEqual(["malformed_output"]);
    expect(view(0).expiry).toMatchObject({ state: "open", votesUnused: 0, votesUsed: 0, votesRequired: 3 });
    expect(view(2).expiry).toBeUndefined();
    expect(view(2).reissue).toMatchObject({ attempt: 0, state: "open" });
    // Not due before the agreed time passes the deadline; then every guardian has all three in its
    // queue (the 0x01 one is re-issued when t vote it unused, not returned).
    expect(state().dueMints(1, DEADLINE, 64)).toEqual([]);
    expect(
      state()
        .dueMints(1, DEADLINE + 1n, 64)
        .map((m) => m.index),
    ).toEqual([0, 1, 2]);
    expect(state().isDue(3, DEADLINE, a)).toBe(true);
  });

  it("t equal 'unused' votes return it: Σ signed -> Σ returnable, liabilities unchanged; only the refund key spends it, once, worth the whole amount", () => {
    const { fed, owner, pastDeadline, view, state, a } = withMints();
    const before = fed.audit();
    // Before the guardians decide, the refund input is refused: nothing to return yet.
    expect(codes(fed.block([], [refundTx(a, owner)]))).toEqual(["not_returnable"]);
    pastDeadline();
    expect(view(0).expiry!.state).toBe("due");
    fed.block([0, 1].map((g) => expiry(g, a, false)));
    expect(view(0).expiry).toMatchObject({ state: "due", votesUnused: 2 });
    expect(view(0).signature).toBeDefined();
    fed.block([expiry(2, a, false)]);
    expect(view(0).expiry).toMatchObject({ state: "returnable", votesUnused: 0 });
    // A returned mint is signed no more; its queue entries and votes are gone at every guardian.
    expect(view(0).signature).toBeUndefined();
    expect(state(3).isDue(3, DEADLINE, a)).toBe(false);
    expect(state().expiryVotes(a)).toEqual([]);
    expect(state().totals()).toMatchObject({ signed: 2n * AMOUNT, returnable: AMOUNT });
    expect(fed.audit()).toEqual(before);
    // Guardian 3's late vote agrees: counts for nothing, no error.
    expect(fed.block([expiry(3, a, false)]).moduleItemErrors).toBe(0);

    const stranger = new NodeSigner(new Uint8Array(32).fill(0x42));
    const out = fed.block(
      [],
      [refundTx(a, stranger), refundTx(a, owner), refundTx(a, owner, stranger.publicKey)],
    );
    expect(codes(out)).toEqual(["bad_signature", "accepted", "spent_input"]);
    expect(view(0).expiry!.state).toBe("refunded");
    expect(state().totals()).toMatchObject({ signed: 2n * AMOUNT, returnable: 0n });
    // The federation's liabilities: the returned amount left the bridge and is the coin's (dummy) now.
    const after = fed.audit();
    expect(after.liabilities).toBe(before.liabilities);
    expect(fed.guardians[0]!.bridge.audit(fed.mdb())).toEqual({ assets: 0n, liabilities: 2n * AMOUNT });
  });

  it("f = 1 Byzantine vote decides nothing: a minted mint is never returned, an unminted one is returned anyway", () => {
    const { fed, owner, pastDeadline, view, a, b } = withMints();
    pastDeadline();
    // a was minted on chain: guardian 3 lies "unused" first; the honest three say "used".
    fed.block([expiry(3, a, false), ...[0, 1].map((g) => expiry(g, a, true))]);
    expect(view(0).expiry).toMatchObject({ state: "due", votesUnused: 1, votesUsed: 2 });
    fed.block([expiry(2, a, true)]);
    expect(view(0).expiry!.state).toBe("minted");
    expect(view(0).signature).toBeDefined();
    // b was never minted: guardian 3 lies "used"; the honest three return it.
    fed.block([expiry(3, b, true), ...[0, 1, 2].map((g) => expiry(g, b, false))]);
    expect(view(1).expiry!.state).toBe("returnable");
    const out = fed.block([], [refundTx(a, owner), refundTx(b, owner)]);
    expect(codes(out)).toEqual(["not_returnable", "accepted"]);
    // The liar's vote against a decision is its error; nothing changes.
    const late = fed.block([expiry(3, a, false)]);
    expect(late.moduleItemErrors).toBe(1);
    expect(view(0).expiry!.state).toBe("minted");
  });

  it("refuses, as the sending guardian's error with nothing stored: an early vote, an unknown mint, an attempt that does not exist, a changed vote; a repeat counts once", () => {
    const { fed, pastDeadline, view, txid, a, plain } = withMints();
    const errors = (items: { from: number; payload: Uint8Array }[]) => fed.block(items).moduleItemErrors;
    expect(errors([expiry(3, a, false)])).toBe(1); // expiry_not_due: the agreed time is not past the deadline
    expect(view(0).expiry).toMatchObject({ votesUnused: 0 });
    pastDeadline();
    expect(errors([expiry(3, { txid, index: 7 }, false)])).toBe(1); // unknown_mint
    expect(errors([expiry(3, { txid: new Uint8Array(32).fill(1), index: 0 }, false)])).toBe(1);
    expect(errors([expiry(3, plain, false, 1)])).toBe(1); // unknown_attempt: the 0x01 mint is at attempt 0
    expect(errors([expiry(3, a, false, 1)])).toBe(1); // unknown_attempt: a refundable mint has only attempt 0
    expect(view(2).reissue).toMatchObject({ state: "due", votesUnused: 0 });
    expect(errors([expiry(3, a, false), expiry(3, a, false)])).toBe(0);
    expect(errors([expiry(3, a, true)])).toBe(1); // already_voted, differently
    expect(view(0).expiry).toMatchObject({ state: "due", votesUnused: 1, votesUsed: 0 });
    const g = fed.guardians[0]!;
    const db = g.p.moduleDb(g.db, BRIDGE);
    expect(
      g.bridge.processConsensusItem(db, encodeBridgeItem({ kind: "expiry", ...a, used: true }), 3),
    ).toMatchObject({ ok: false, error: { code: "already_voted" } });
    expect(
      g.bridge.processConsensusItem(
        db,
        encodeBridgeItem({ kind: "expiry", ...plain, used: false, attempt: 3 }),
        2,
      ),
    ).toMatchObject({ ok: false, error: { code: "unknown_attempt" } });
    // A "used" byte other than 0 or 1 does not decode.
    const garbled = encodeBridgeItem({ kind: "expiry", ...a, used: true });
    garbled[garbled.length - 1] = 2;
    expect(g.bridge.processConsensusItem(db, garbled, 2)).toMatchObject({
      ok: false,
      error: { code: "malformed_item" },
    });
  });

  it("re-issues a 0x01 mint attempt after attempt while t vote it unused: each a fresh deposit id (never an earlier one), a window doubling up to REISSUE_DEADLINE_SECONDS_MAX, Σ signed and the audit unchanged; the decided attempt's signature is never given again; t 'used' end it", () => {
    const { fed, view, state, plain } = withMints();
    const before = fed.audit();
    const totals = state().totals();
    const ids = [view(2).depositId];
    expect(ids[0]).toBe(outputDepositId(FEDERATION_ID, plain.txid, plain.index));
    let deadline = DEADLINE;
    let time = DEADLINE;
    for (let attempt = 0; attempt < 4; attempt++) {
      time = deadline + 12n;
      fed.block([0, 1, 2, 3].map((g) => scanned(g, 400n + BigInt(attempt) * 10n, time)));
      expect(view(2).reissue).toMatchObject({ attempt, state: "due" });
      fed.block([0, 1, 2].map((g) => expiry(g, plain, false, attempt)));
      const next = view(2);
      expect(next.reissue).toMatchObject({ attempt: attempt + 1, state: "open", votesUnused: 0 });
      expect(BigInt(next.deadline)).toBe(time + reissueWindowSeconds(3600, attempt + 1));
      expect(next.depositId).toBe(reissueDepositId(asHex(ids[0]!), attempt + 1));
      expect(ids).not.toContain(next.depositId);
      ids.push(next.depositId);
      // Every guardian's signature is of the new issue; the old one's message is gone.
      for (const g of [0, 1, 2, 3]) expect(view(2, g)).toMatchObject({ depositId: next.depositId });
      // Guardian 3's late vote on the decided attempt: "unused" agrees, "used" is its error.
      expect(fed.block([expiry(3, plain, false, attempt)]).moduleItemErrors).toBe(0);
      expect(fed.block([expiry(3, plain, true, attempt)]).moduleItemErrors).toBe(1);
      deadline = BigInt(next.deadline);
    }
    expect(state().totals()).toEqual(totals);
    expect(fed.audit()).toEqual(before);
    // The window: 2, 4, 8, 16 × 3,600 s, then capped.
    expect([1, 2, 3, 4].map((k) => reissueWindowSeconds(3600, k))).toEqual([
      7_200n,
      14_400n,
      28_800n,
      57_600n,
    ]);
    expect(reissueWindowSeconds(3600, 10)).toBe(BigInt(REISSUE_DEADLINE_SECONDS_MAX));
    expect(reissueWindowSeconds(3600, 1_000_000)).toBe(BigInt(REISSUE_DEADLINE_SECONDS_MAX));
    // Attempt 4 minted on chain: t "used" votes end it; no attempt 5, out of every queue.
    fed.block([0, 1, 2, 3].map((g) => scanned(g, 500n, deadline + 12n)));
    fed.block([0, 1, 2].map((g) => expiry(g, plain, true, 4)));
    expect(view(2).reissue).toMatchObject({ attempt: 4, state: "minted" });
    for (const g of [0, 1, 2, 3])
      expect(
        state(g)
          .dueMints(g, 2n ** 63n, 64)
          .map((m) => m.index),
      ).not.toContain(2);
    expect(state().totals()).toEqual(totals);
  });
});
