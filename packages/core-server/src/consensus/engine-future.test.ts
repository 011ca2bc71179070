// Messages for heights above ours: what one peer can make a guardian keep, and at what cost.
// Every buffered byte is charged to the sender's own budget (futureBytesPerPeerMax,
// futureMessagesPerPeerMax), and a proposal is admitted only from the proposer of its slot, before
// its signature is verified.
import { describe, expect, it } from "vitest";
import { toHex } from "@conclave/core-common";
import { NodeSigner, NodeVerifier, sha256 } from "../node-crypto.js";
import { PROPOSAL_OVERHEAD_BYTES, blockBytesMax } from "./config.js";
import { ConsensusEngine } from "./engine.js";
import { MessageType, NIL_ID, blockId, decodeEnvelope, encodeBlock, encodeEnvelope } from "./messages.js";
import type { Body } from "./messages.js";
import { testFederation } from "./test-federation.js";
import type { TestFederation } from "./test-federation.js";
import { genesisState } from "./types.js";

const MiB = 1024 * 1024;

class CountingVerifier extends NodeVerifier {
  calls = 0;
  override verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    this.calls++;
    return super.verify(publicKey, message, signature);
  }
}

function setup(fed: TestFederation = testFederation(4)) {
  const signers = fed.seeds.map((s) => new NodeSigner(s));
  const verifier = new CountingVerifier();
  const engine = new ConsensusEngine(fed.config, fed.cryptoFor(0, verifier), 0, genesisState(4), 0);
  const signed = (sender: number, body: Body) =>
    encodeEnvelope(sender, body, signers[sender]!, fed.config.federationId, sha256);
  const proposal = (sender: number, height: number, round: number, block: Uint8Array) =>
    signed(sender, { type: MessageType.Proposal, proposal: { height, round, validRound: -1, block } });
  return { fed, engine, verifier, signed, proposal };
}

/** Proposer of (height, round) in a federation of 4, as the engine computes it. */
const proposerOf = (height: number, round: number) => (height + round) % 4;

describe("future-height messages from one peer", () => {
  it("keeps nothing of 64 future proposals of 4 MiB from one peer, proposer of their slot or not", () => {
    // The attack of issue 10 item 8: before, all 64 were buffered (256 MiB from one peer).
    const { engine, proposal } = setup();
    const block = new Uint8Array(4 * MiB).fill(0xab);
    let fromProposer = 0;
    for (let height = 1; height <= 4; height++) {
      for (let round = 0; round < 16; round++) {
        if (proposerOf(height, round) === 1) fromProposer++;
        engine.receive(1, proposal(1, height, round, block), 1);
      }
    }
    expect(engine.futureBuffered(1)).toEqual({ messages: 0, bytes: 0 });
    expect(engine.counters.wrongProposer).toBe(64 - fromProposer);
    // A 4 MiB block is larger than any block decodeBlock accepts at N = 4 with these limits.
    expect(4 * MiB).toBeGreaterThan(blockBytesMax(4, setup().fed.config.limits));
    expect(engine.counters.invalidBlock).toBe(fromProposer);
  });

  it("drops a future proposal from a guardian that is not that slot's proposer before verifying its signature", () => {
    const { engine, verifier, proposal } = setup();
    const block = new Uint8Array(100_000);
    for (let height = 1; height <= 4; height++) {
      for (let round = 0; round < 8; round++) {
        if (proposerOf(height, round) !== 2) engine.receive(2, proposal(2, height, round, block), 1);
      }
    }
    expect(engine.counters.wrongProposer).toBe(24);
    expect(verifier.calls).toBe(0);
    expect(engine.futureBuffered(2)).toEqual({ messages: 0, bytes: 0 });
  });

  it("keeps what the slot's own proposer sends within futureBytesPerPeerMax, refusing the rest unverified", () => {
    const fed = testFederation(4, { limits: { futureBytesPerPeerMax: MiB } });
    const { engine, verifier, proposal } = setup(fed);
    const block = new Uint8Array(400 * 1024).fill(1);
    let sent = 0;
    for (let height = 1; height <= 4; height++) {
      for (let round = 0; round <= fed.config.limits.roundsAheadMax; round++) {
        if (proposerOf(height, round) !== 1) continue;
        engine.receive(1, proposal(1, height, round, block), 1);
        sent++;
      }
    }
    expect(sent).toBeGreaterThan(10);
    const buffered = engine.futureBuffered(1);
    expect(buffered.messages).toBe(2);
    expect(buffered.bytes).toBeLessThanOrEqual(MiB);
    expect(engine.counters.futureBytesFull).toBe(sent - 2);
    // Only the two proposals that fit were worth a signature verification.
    expect(verifier.calls).toBe(2);
    // Another peer's budget is its own: guardian 2 is still heard.
    engine.receive(2, proposal(2, 2, 0, block), 1);
    expect(engine.futureBuffered(2).messages).toBe(1);
  });

  it("refuses a future proposal for a round beyond roundsAheadMax, which it would never store", () => {
    const { fed, engine, proposal } = setup();
    const round = fed.config.limits.roundsAheadMax + 4; // (1 + 20) % 4 = 1: guardian 1 proposes
    expect(proposerOf(1, round)).toBe(1);
    engine.receive(1, proposal(1, 1, round, new Uint8Array(1000)), 1);
    expect(engine.counters.future).toBe(1);
    expect(engine.futureBuffered(1).messages).toBe(0);
  });

  it("buffers one proposal per (peer, height, round): a copy is a duplicate, another block is reported once", () => {
    const { engine, verifier, proposal } = setup();
    const a = proposal(1, 1, 0, new Uint8Array(1000).fill(1));
    const b = proposal(1, 1, 0, new Uint8Array(1000).fill(2));
    const c = proposal(1, 1, 0, new Uint8Array(1000).fill(3));
    engine.receive(1, a, 1);
    engine.receive(1, a, 1);
    engine.receive(1, b, 1);
    engine.receive(1, c, 1);
    engine.receive(1, b, 1);
    expect(engine.futureBuffered(1)).toEqual({ messages: 1, bytes: a.length });
    expect(engine.counters.duplicate).toBe(3);
    const evidence = engine.drainOutput().evidence;
    expect(evidence).toHaveLength(1);
    expect(evidence[0]).toMatchObject({ sender: 1, what: "proposal", height: 1, round: 0 });
    expect(toHex(evidence[0]!.first)).toBe(toHex(a));
    expect(toHex(evidence[0]!.second)).toBe(toHex(b));
    // a, and b once (to prove the equivocation); every other copy was refused unverified.
    expect(verifier.calls).toBe(2);
  });

  it("keeps one copy of a future vote however often it is rebroadcast", () => {
    const { engine, signed } = setup();
    const vote = signed(3, { type: MessageType.Prevote, vote: { height: 2, round: 0, blockId: NIL_ID } });
    for (let i = 0; i < 50; i++) engine.receive(3, vote, 1 + i);
    expect(engine.futureBuffered(3)).toEqual({ messages: 1, bytes: vote.length });
    expect(engine.counters.duplicate).toBe(49);
  });

  it("still hears an honest proposer one height ahead with the largest valid block at the tightest budget", () => {
    // The smallest budget validateConsensusConfig allows: one proposal of the largest block.
    const base = testFederation(4);
    const tight = blockBytesMax(4, base.config.limits) + PROPOSAL_OVERHEAD_BYTES;
    const fed = testFederation(4, { limits: { futureBytesPerPeerMax: tight } });
    expect(
      () =>
        new ConsensusEngine(
          testFederation(4, { limits: { futureBytesPerPeerMax: tight - 1 } }).config,
          fed.cryptoFor(0),
          0,
          genesisState(4),
          0,
        ),
    ).toThrow(/futureBytesPerPeerMax/);
    const { engine, signed, proposal } = setup(fed);
    const limits = fed.config.limits;

    // Height 0: an empty block, decided by a certificate of three precommits.
    const block0 = encodeBlock({ height: 0, prevBlockId: new Uint8Array(32), bundles: [] });
    const id0 = blockId(block0, sha256);
    // Height 1, proposed by guardian 1 while we are still at height 0: from every origin, as many
    // bundles as a block may carry, each of exactly bundleBytesMax (the largest valid block).
    const large = new Uint8Array(limits.itemBytesMax).fill(7);
    const rest = new Uint8Array(limits.bundleBytesMax - limits.itemBytesMax - 88).fill(8);
    const bundles: Uint8Array[] = [];
    for (const origin of [0, 1, 2, 3]) {
      for (let seq = 1; seq <= limits.bundlesPerOriginPerBlockMax; seq++) {
        bundles.push(signed(origin, { type: MessageType.Bundle, bundle: { seq, items: [large, rest] } }));
      }
    }
    expect(bundles.every((b) => b.length === limits.bundleBytesMax)).toBe(true);
    const block1 = encodeBlock({ height: 1, prevBlockId: id0, bundles });
    const ahead = proposal(1, 1, 0, block1);
    expect(ahead.length).toBe(tight);
    engine.receive(1, ahead, 1);
    expect(engine.futureBuffered(1)).toEqual({ messages: 1, bytes: ahead.length });

    const precommits = [1, 2, 3].map((g) =>
      signed(g, { type: MessageType.Precommit, vote: { height: 0, round: 0, blockId: id0 } }),
    );
    engine.drainOutput();
    engine.receive(
      2,
      signed(2, { type: MessageType.Decision, decision: { height: 0, round: 0, block: block0, precommits } }),
      2,
    );
    expect(engine.status.height).toBe(1);
    expect(engine.futureBuffered(1)).toEqual({ messages: 0, bytes: 0 });
    // The replayed proposal is valid and gets our prevote.
    const prevotes = engine
      .drainOutput()
      .send.map((m) => decodeEnvelope(m.bytes, limits, 4).body)
      .filter((b) => b.type === MessageType.Prevote);
    expect(prevotes).toHaveLength(1);
    const v = prevotes[0]!;
    expect(v.type === MessageType.Prevote && toHex(v.vote.blockId)).toBe(toHex(blockId(block1, sha256)));
  });
});
