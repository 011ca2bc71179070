// Bad input from a peer: every malformed, forged, stale or oversized message is dropped, counted,
// and changes nothing; equivocation is reported with both signed messages as evidence.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NodeSigner } from "../node-crypto.js";
import { ConsensusEngine } from "./engine.js";
import { MessageType, NIL_ID, decodeEnvelope, encodeBlock, encodeEnvelope } from "./messages.js";
import type { Body } from "./messages.js";
import { testFederation } from "./test-federation.js";
import { genesisState } from "./types.js";
import { sha256 } from "../node-crypto.js";

const fed = testFederation(4);
const signers = fed.seeds.map((s) => new NodeSigner(s));
const signed = (sender: number, body: Body) =>
  encodeEnvelope(sender, body, signers[sender]!, fed.config.federationId, sha256);
const engine = () => new ConsensusEngine(fed.config, fed.cryptoFor(0), 0, genesisState(4), 0);

function fingerprint(e: ConsensusEngine): string {
  const s = e.status;
  return JSON.stringify({ h: s.height, r: s.round, st: s.step, q: s.ownQueued, f: s.ownInFlight });
}

describe("consensus engine input validation", () => {
  it("drops arbitrary bytes from a peer without throwing and counts them as malformed", () => {
    const e = engine();
    const before = fingerprint(e);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.uint8Array({ maxLength: 600 }), (from, bytes) => {
        e.receive(from, bytes, 1);
      }),
      { numRuns: 2000 },
    );
    expect(e.counters.malformed + e.counters.badSignature + e.counters.unexpected).toBe(2000);
    expect(fingerprint(e)).toBe(before);
    expect(e.drainOutput().commits).toHaveLength(0);
  });

  it("drops every single-bit corruption of a valid prevote (bad signature or malformed), never counts it", () => {
    const e = engine();
    const valid = signed(1, { type: MessageType.Prevote, vote: { height: 0, round: 0, blockId: NIL_ID } });
    for (let bit = 0; bit < valid.length * 8; bit++) {
      const copy = valid.slice();
      copy[bit >> 3]! ^= 1 << (bit & 7);
      e.receive(1, copy, 1);
    }
    const c = e.counters;
    // A flipped bit in the height that lands beyond futureHeightsMax is dropped as "future" before
    // its signature is checked; every other flip fails decoding, the link check or the signature.
    expect(c.malformed + c.badSignature + c.unexpected + c.future).toBe(valid.length * 8);
    expect(e.futureBuffered(1).messages).toBe(0);
    expect(e.drainOutput().evidence).toHaveLength(0);
  });

  it("refuses a message signed by one guardian but sent on another guardian's link", () => {
    const e = engine();
    e.receive(
      2,
      signed(1, { type: MessageType.Precommit, vote: { height: 0, round: 0, blockId: NIL_ID } }),
      1,
    );
    e.receive(2, signed(1, { type: MessageType.Prevote, vote: { height: 1, round: 0, blockId: NIL_ID } }), 1);
    expect(e.counters.unexpected).toBe(2);
  });

  it("accepts a prevote at its height relayed by another guardian (a relayed proof of lock)", () => {
    const e = engine();
    e.receive(2, signed(1, { type: MessageType.Prevote, vote: { height: 0, round: 0, blockId: NIL_ID } }), 1);
    e.receive(1, signed(1, { type: MessageType.Prevote, vote: { height: 0, round: 0, blockId: NIL_ID } }), 1);
    expect(e.counters.unexpected).toBe(0);
    expect(e.counters.duplicate).toBe(1);
  });

  it("refuses a message signed with a key outside the federation", () => {
    const e = engine();
    const outsider = new NodeSigner(new Uint8Array(32).fill(9));
    const bytes = encodeEnvelope(
      1,
      { type: MessageType.Prevote, vote: { height: 0, round: 0, blockId: NIL_ID } },
      outsider,
      fed.config.federationId,
      sha256,
    );
    e.receive(1, bytes, 1);
    expect(e.counters.badSignature).toBe(1);
  });

  it("refuses a message signed for another federation (replay across federations)", () => {
    const e = engine();
    const other = testFederation(4, { label: "other" });
    const bytes = encodeEnvelope(
      1,
      { type: MessageType.Prevote, vote: { height: 0, round: 0, blockId: NIL_ID } },
      signers[1]!,
      other.config.federationId,
      sha256,
    );
    e.receive(1, bytes, 1);
    expect(e.counters.badSignature).toBe(1);
  });

  it("drops a message larger than messageBytesMax before decoding it", () => {
    const small = testFederation(4, { limits: { messageBytesMax: 8 * 1024 * 1024 } });
    const e = new ConsensusEngine(small.config, small.cryptoFor(0), 0, genesisState(4), 0);
    e.receive(1, new Uint8Array(8 * 1024 * 1024 + 1), 1);
    expect(e.counters.malformed).toBe(1);
  });

  it("reports two different prevotes from one guardian for one round as evidence, counting only the first", () => {
    const e = engine();
    const a = signed(1, { type: MessageType.Prevote, vote: { height: 0, round: 0, blockId: NIL_ID } });
    const b = signed(1, {
      type: MessageType.Prevote,
      vote: { height: 0, round: 0, blockId: new Uint8Array(32).fill(7) },
    });
    e.receive(1, a, 1);
    e.receive(1, b, 1);
    e.receive(1, a, 1);
    const out = e.drainOutput();
    expect(out.evidence).toHaveLength(1);
    const ev = out.evidence[0]!;
    expect(ev).toMatchObject({ kind: "equivocation", sender: 1, what: "prevote", height: 0, round: 0 });
    // The evidence is self-contained: both envelopes decode and name the same slot.
    const first = decodeEnvelope(ev.first, fed.config.limits, 4);
    const second = decodeEnvelope(ev.second, fed.config.limits, 4);
    expect(first.sender).toBe(1);
    expect(second.sender).toBe(1);
    expect(e.counters.duplicate).toBe(1);
  });

  it("ignores a proposal from a guardian that is not the round's proposer", () => {
    const e = engine();
    // Height 0 round 0 belongs to guardian 0; guardian 2 proposes anyway.
    const block = encodeBlock({ height: 0, prevBlockId: new Uint8Array(32), bundles: [] });
    e.receive(
      2,
      signed(2, { type: MessageType.Proposal, proposal: { height: 0, round: 0, validRound: -1, block } }),
      1,
    );
    expect(e.counters.wrongProposer).toBe(1);
  });

  it("prevotes nil for a proposal whose block does not extend the chain", () => {
    const e = new ConsensusEngine(fed.config, fed.cryptoFor(0), 0, genesisState(4), 0);
    // Height 0 round 1 belongs to guardian 1. Move guardian 0 to round 1 by f+1 round-1 messages.
    const bad = encodeBlock({ height: 0, prevBlockId: new Uint8Array(32).fill(1), bundles: [] });
    e.receive(1, signed(1, { type: MessageType.Prevote, vote: { height: 0, round: 1, blockId: NIL_ID } }), 1);
    e.receive(2, signed(2, { type: MessageType.Prevote, vote: { height: 0, round: 1, blockId: NIL_ID } }), 1);
    expect(e.status.round).toBe(1);
    e.receive(
      1,
      signed(1, {
        type: MessageType.Proposal,
        proposal: { height: 0, round: 1, validRound: -1, block: bad },
      }),
      1,
    );
    const votes = e
      .drainOutput()
      .send.map((m) => decodeEnvelope(m.bytes, fed.config.limits, 4))
      .filter((env) => env.body.type === MessageType.Prevote && env.body.vote.round === 1);
    expect(votes).toHaveLength(1);
    const v = votes[0]!.body;
    expect(v.type === MessageType.Prevote && v.vote.blockId.every((x) => x === 0)).toBe(true);
    expect(e.counters.invalidBlock).toBe(1);
  });

  it("buffers a bounded number of future-height messages per peer and counts the rest", () => {
    const small = testFederation(4, { limits: { futureMessagesPerPeerMax: 10 } });
    const e = new ConsensusEngine(small.config, small.cryptoFor(0), 0, genesisState(4), 0);
    const sign1 = (round: number) =>
      encodeEnvelope(
        1,
        { type: MessageType.Prevote, vote: { height: 1, round, blockId: NIL_ID } },
        signers[1]!,
        small.config.federationId,
        sha256,
      );
    for (let r = 0; r < 25; r++) e.receive(1, sign1(r), 1);
    expect(e.counters.futureBufferFull).toBe(15);
  });

  it("refuses items larger than itemBytesMax and beyond the queue bound (back-pressure)", () => {
    const small = testFederation(4, {
      limits: { itemsQueuedMax: 3, bundlesInFlightMax: 1, itemsPerBundleMax: 1 },
    });
    const e = new ConsensusEngine(small.config, small.cryptoFor(0), 0, genesisState(4), 0);
    expect(e.submit([new Uint8Array(small.config.limits.itemBytesMax + 1)], 1)).toBe(0);
    // Three queued; the first of them is cut into the one bundle allowed in flight at once.
    expect(
      e.submit(
        Array.from({ length: 10 }, () => new Uint8Array(8)),
        1,
      ),
    ).toBe(3);
    expect(e.status.ownInFlight).toBe(1);
    expect(
      e.submit(
        Array.from({ length: 10 }, () => new Uint8Array(8)),
        1,
      ),
    ).toBe(1);
    expect(e.status.ownQueued).toBe(3);
  });
});
