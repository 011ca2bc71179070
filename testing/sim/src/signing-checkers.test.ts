// The signing and bound checkers on hand-made frames: each rule reports what breaks it and stays
// quiet on what keeps it (a checker that cannot fail proves nothing).
import { describe, expect, it } from "vitest";
import { BoundCheckers, censorshipBoundHeights } from "./bound-checkers.js";
import {
  MessageType,
  NIL_ID,
  blockId,
  encodeBlock,
  encodeEnvelope,
  sha256,
  testFederation,
} from "./consensus.js";
import type { Body, EngineMemoryUse } from "./consensus.js";
import { SigningCheckers } from "./signing-checkers.js";

const fed = testFederation(4, { label: "signing-checkers" });
const config = fed.config;
const sign = (sender: number, body: Body): Uint8Array =>
  encodeEnvelope(sender, body, fed.cryptoFor(sender).signer, config.federationId, sha256);
const vote = (
  sender: number,
  type: MessageType.Prevote | MessageType.Precommit,
  height: number,
  round: number,
  id: Uint8Array,
): Uint8Array => sign(sender, { type, vote: { height, round, blockId: id } });

const blockA = encodeBlock({ height: 0, prevBlockId: new Uint8Array(32), bundles: [] });
const blockB = encodeBlock({ height: 0, prevBlockId: new Uint8Array(32).fill(1), bundles: [] });
const idA = blockId(blockA, sha256);
const idB = blockId(blockB, sha256);

function checkers(honest = [0, 1, 2]): { c: SigningCheckers; violations: string[] } {
  const violations: string[] = [];
  const c = new SigningCheckers({
    config,
    honest,
    threshold: 3,
    verifier: fed.cryptoFor(0).verifier,
    hash: sha256,
    violation: (v) => violations.push(v),
  });
  return { c, violations };
}

describe("one slot, one message", () => {
  it("reports an honest guardian that signs two different prevotes for one slot", () => {
    const { c, violations } = checkers();
    c.honestSent(1, vote(1, MessageType.Prevote, 0, 0, NIL_ID));
    c.honestSent(1, vote(1, MessageType.Prevote, 0, 0, NIL_ID)); // a rebroadcast: same bytes
    c.honestSent(1, vote(1, MessageType.Prevote, 0, 1, idA)); // another round
    expect(violations).toEqual([]);
    c.honestSent(1, vote(1, MessageType.Prevote, 0, 0, idA));
    expect(violations).toEqual(["honest guardian 1 signed two different prevotes for height 0 round 0"]);
  });

  it("reports two proposals, two bundles with one sequence number, two session hashes", () => {
    const { c, violations } = checkers();
    const proposal = (block: Uint8Array): Uint8Array =>
      sign(0, { type: MessageType.Proposal, proposal: { height: 0, round: 0, validRound: -1, block } });
    c.honestSent(0, proposal(blockA));
    c.honestSent(0, proposal(blockB));
    const bundle = (item: number): Uint8Array =>
      sign(1, { type: MessageType.Bundle, bundle: { seq: 1, items: [new Uint8Array([item])] } });
    c.honestSent(1, bundle(1));
    c.honestSent(1, bundle(2));
    const sessionSig = (fill: number): Uint8Array =>
      sign(2, {
        type: MessageType.SessionSig,
        sessionSig: { session: 0, sessionHash: new Uint8Array(32).fill(fill), signature: new Uint8Array(64) },
      });
    c.honestSent(2, sessionSig(1));
    c.honestSent(2, sessionSig(2));
    expect(violations).toEqual([
      "honest guardian 0 signed two different proposals for height 0 round 0",
      "honest guardian 1 signed two different bundles with sequence number 1",
      "honest guardian 2 signed two different session hashes for session 0",
    ]);
  });

  it("does not judge a relayed prevote as the relayer's own", () => {
    const { c, violations } = checkers();
    c.honestSent(1, vote(1, MessageType.Prevote, 0, 0, idA));
    c.honestSent(1, vote(2, MessageType.Prevote, 0, 0, idB));
    expect(violations).toEqual([]);
  });
});

describe("evidence", () => {
  it("reports evidence against an honest guardian, not against a Byzantine one", () => {
    const { c, violations } = checkers([0, 1, 2]);
    const e = {
      kind: "equivocation",
      what: "prevote",
      height: 3,
      round: 1,
      first: blockA,
      second: blockB,
    } as const;
    c.evidence(0, { ...e, sender: 3 });
    expect(violations).toEqual([]);
    c.evidence(0, { ...e, sender: 2 });
    expect(violations).toEqual([
      "honest guardian 0 reported equivocation evidence (prevote, height 3, round 1) against honest guardian 2",
    ]);
  });
});

describe("locks", () => {
  it("reports a precommit without q prevotes for its block, accepts one with them", () => {
    const { c, violations } = checkers();
    c.honestSent(0, vote(0, MessageType.Prevote, 0, 0, idA));
    c.byzantineSent(vote(3, MessageType.Prevote, 0, 0, idA));
    c.honestSent(0, vote(0, MessageType.Precommit, 0, 0, idA));
    expect(violations).toEqual([
      `honest guardian 0 precommitted block ${Buffer.from(idA).toString("hex").slice(0, 12)} at height 0 round 0 without q = 3 prevotes for it in that round`,
    ]);
    const second = checkers();
    second.c.honestSent(0, vote(0, MessageType.Prevote, 0, 0, idA));
    second.c.byzantineSent(vote(3, MessageType.Prevote, 0, 0, idA));
    second.c.honestSent(1, vote(1, MessageType.Prevote, 0, 0, idA));
    second.c.honestSent(0, vote(0, MessageType.Precommit, 0, 0, idA));
    expect(second.violations).toEqual([]);
  });

  it("does not count a prevote whose signature is broken", () => {
    const { c, violations } = checkers();
    c.honestSent(0, vote(0, MessageType.Prevote, 0, 0, idA));
    c.honestSent(1, vote(1, MessageType.Prevote, 0, 0, idA));
    const forged = vote(3, MessageType.Prevote, 0, 0, idA);
    forged[forged.length - 1] = forged[forged.length - 1]! ^ 1;
    c.byzantineSent(forged);
    c.honestSent(0, vote(0, MessageType.Precommit, 0, 0, idA));
    expect(violations).toHaveLength(1);
  });

  it("reports a locked guardian prevoting another block without a later proof of lock", () => {
    const setup = (): ReturnType<typeof checkers> => {
      const k = checkers();
      for (const g of [0, 1, 2]) k.c.honestSent(g, vote(g, MessageType.Prevote, 0, 0, idA));
      k.c.honestSent(0, vote(0, MessageType.Precommit, 0, 0, idA)); // guardian 0 locks on A in round 0
      return k;
    };
    const proposalB = (round: number, validRound: number): Uint8Array =>
      sign(round % 4, {
        type: MessageType.Proposal,
        proposal: { height: 0, round, validRound, block: blockB },
      });

    // Round 1's proposer (guardian 1) proposes B as new: guardian 0 must not prevote it.
    const bad = setup();
    bad.c.honestSent(1, proposalB(1, -1));
    bad.c.honestSent(0, vote(0, MessageType.Prevote, 0, 1, idB));
    expect(bad.violations).toHaveLength(1);
    expect(bad.violations[0]).toMatch(
      /^honest guardian 0, locked on block \w+ since round 0 of height 0, prevoted block \w+ in round 1/,
    );

    // A fake validRound (no q prevotes for B in that round) justifies nothing.
    const fake = setup();
    fake.c.byzantineSent(proposalB(3, 1)); // guardian 3 leads round 3 at height 0
    fake.c.honestSent(0, vote(0, MessageType.Prevote, 0, 3, idB));
    expect(fake.violations).toHaveLength(1);

    // With q prevotes for B in round 1 and a proposal of B naming round 1, it may.
    const good = setup();
    for (const g of [1, 2, 3]) good.c.honestSent(g, vote(g, MessageType.Prevote, 0, 1, idB));
    good.c.honestSent(2, proposalB(2, 1));
    good.c.honestSent(0, vote(0, MessageType.Prevote, 0, 2, idB));
    good.c.honestSent(0, vote(0, MessageType.Prevote, 0, 2, idB));
    expect(good.violations).toEqual([]);
  });
});

describe("bounds", () => {
  const memoryUse: EngineMemoryUse = {
    futurePeers: 0,
    futureMessagesPerPeer: 0,
    futureBytesPerPeer: 0,
    verifiedCacheEntries: 0,
    validityCacheEntries: 0,
    proposalRounds: 0,
    voteRounds: 0,
    round: 0,
    pendingBundlesPerOrigin: 0,
    sessionsTracked: 0,
    ownQueued: 0,
    ownInFlight: 0,
    peersTimed: 0,
  };

  it("reports an engine above a memory bound, once per bound", () => {
    const violations: string[] = [];
    const b = new BoundCheckers(config, (v) => violations.push(v));
    b.memory(1, { ...memoryUse, futureBytesPerPeer: config.limits.futureBytesPerPeerMax }, 0);
    expect(violations).toEqual([]);
    b.memory(1, { ...memoryUse, futureBytesPerPeer: config.limits.futureBytesPerPeerMax + 1 }, 0);
    b.memory(2, { ...memoryUse, futureBytesPerPeer: config.limits.futureBytesPerPeerMax + 1 }, 0);
    b.memory(1, memoryUse, config.limits.catchUpCacheBytesMax + 1);
    expect(violations).toEqual([
      `memory: honest guardian 1 holds ${config.limits.futureBytesPerPeerMax + 1} future bytes of one peer, above its bound ${config.limits.futureBytesPerPeerMax}`,
      `memory: honest guardian 1 holds ${config.limits.catchUpCacheBytesMax + 1} catch-up cache bytes, above its bound ${config.limits.catchUpCacheBytesMax}`,
    ]);
  });

  it("reports an item left out of more heights than the censorship bound after the heal", () => {
    const bound = censorshipBoundHeights(4);
    expect(bound).toBe(5);
    const run = (emptyHeights: number): { violations: string[]; worst: number } => {
      const violations: string[] = [];
      const b = new BoundCheckers(config, (v) => violations.push(v));
      const item = new TextEncoder().encode("item-1");
      const late = new TextEncoder().encode("item-2");
      b.bundled([item, late], () => true, 100);
      b.heal(1_000);
      const available = 1_000 + config.timeouts.rebroadcastMs + 26;
      let height = 0;
      const commit = (at: number, items: Uint8Array[]): void => {
        b.commit(
          { height, blockId: new Uint8Array(32), bundles: [{ origin: 1, seq: height + 1, items }] },
          at,
        );
        height++;
      };
      commit(available - 1, []); // before the item counts as available: not a wait
      for (let i = 0; i < emptyHeights; i++) commit(available + 1 + 10 * i, []);
      commit(available + 1 + 10 * emptyHeights, [item]);
      b.finish(); // "item-2" is never committed
      return { violations, worst: b.stats.worstWaitHeights };
    };
    const ok = run(bound - 2);
    expect(ok.violations).toEqual([]);
    expect(ok.worst).toBe(bound - 1);
    const censored = run(bound);
    expect(censored.worst).toBe(bound + 1);
    expect(censored.violations).toHaveLength(2);
    expect(censored.violations[0]).toMatch(
      /^censorship: item "item-1" was committed at height 6, 6 heights after/,
    );
    expect(censored.violations[1]).toMatch(
      /^censorship: item "item-2" is still not committed at height 7, 6 heights/,
    );
  });
});
