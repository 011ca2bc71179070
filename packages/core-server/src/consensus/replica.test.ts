// Catch-up serving (Replica.serveCatchUp): what a peer that claims to be behind gets out of a
// guardian. The engine asks at most once per peer per catchUpMs; each reply is bounded in sessions,
// decisions and bytes; and a message signed once is served from the cache afterwards.
import { describe, expect, it } from "vitest";
import type { Signer } from "@conclave/core-common";
import { NodeSigner, sha256 } from "../node-crypto.js";
import { Replica } from "./replica.js";
import { MessageType, decodeEnvelope, encodeEnvelope } from "./messages.js";
import { MemoryConsensusStore } from "./store.js";
import { testFederation } from "./test-federation.js";
import type { ConsensusLimits } from "./config.js";

const N = 4;
const K = 4; // heights per session
const HEIGHTS = 14; // sessions 0..2 signed, heights 12 and 13 decided with certificates

class CountingSigner implements Signer {
  calls = 0;
  constructor(private readonly inner: Signer) {}
  get publicKey(): Uint8Array {
    return this.inner.publicKey;
  }
  sign(message: Uint8Array): Uint8Array {
    this.calls++;
    return this.inner.sign(message);
  }
}

/**
 * Four guardians decide HEIGHTS heights on a lossless network; then guardian 0 is cut off from the
 * others, and every frame it sends is recorded. Store reads and signatures of guardian 0 are counted.
 */
function history(limits: Partial<ConsensusLimits> = {}) {
  const fed = testFederation(N, { heightsPerSession: K, limits });
  const stores = Array.from({ length: N }, (_, i) => new MemoryConsensusStore(i, K));
  const signer0 = new CountingSigner(new NodeSigner(fed.seeds[0]!));
  const queue: { from: number; to: number; bytes: Uint8Array }[] = [];
  let connected = true;
  const sentBy0: { to: number; bytes: Uint8Array }[] = [];
  const replicas = stores.map(
    (s, i) =>
      new Replica(
        fed.config,
        i === 0 ? { ...fed.cryptoFor(0), signer: signer0 } : fed.cryptoFor(i),
        i,
        s,
        {
          send: (to, bytes) => {
            if (i === 0 && !connected) sentBy0.push({ to, bytes });
            else queue.push({ from: i, to, bytes });
          },
          broadcast: (bytes) => {
            for (let j = 0; j < N; j++) {
              if (j === i) continue;
              if (i === 0 && !connected) sentBy0.push({ to: j, bytes });
              else queue.push({ from: i, to: j, bytes });
            }
          },
        },
        {},
        0,
      ),
  );
  for (let h = 0; h < HEIGHTS; h++) {
    replicas[h % N]!.submit([new TextEncoder().encode(`x${h}`)], 0);
    while (queue.length > 0) {
      const m = queue.shift()!;
      replicas[m.to]!.receive(m.from, m.bytes, 0);
    }
  }
  connected = false;
  const store = stores[0]!;
  const reads = { count: 0 };
  const decided = store.decided.bind(store);
  const session = store.session.bind(store);
  store.decided = (h) => (reads.count++, decided(h));
  store.session = (s) => (reads.count++, session(s));
  const signer1 = new NodeSigner(fed.seeds[1]!);
  const statusFrom1 = (height: number, sessionsSigned: number) =>
    encodeEnvelope(
      1,
      { type: MessageType.Status, status: { height, round: 0, sessionsSigned } },
      signer1,
      fed.config.federationId,
      sha256,
    );
  return { fed, replica: replicas[0]!, signer0, reads, sentBy0, statusFrom1 };
}

/** Runs guardian 0 for `ms`, ticking every 10 ms; before `statuses` ticks, peer 1 claims height 0. */
function flood(h: ReturnType<typeof history>, ms: number, statuses: number) {
  const signsBefore = h.signer0.calls;
  const readsBefore = h.reads.count;
  h.sentBy0.length = 0;
  const status = h.statusFrom1(0, 0);
  for (let t = 10, i = 0; t <= ms; t += 10, i++) {
    if (i < statuses) h.replica.receive(1, status, t);
    h.replica.tick(t);
  }
  const sent = h.sentBy0.filter((m) => {
    const t = decodeEnvelope(m.bytes, h.fed.config.limits, N).body.type;
    return m.to === 1 && (t === MessageType.SignedSession || t === MessageType.Decision);
  });
  return {
    signs: h.signer0.calls - signsBefore,
    reads: h.reads.count - readsBefore,
    catchUp: sent.map((m) => decodeEnvelope(m.bytes, h.fed.config.limits, N).body.type),
    catchUpBytes: sent.reduce((sum, m) => sum + m.bytes.length, 0),
    largest: Math.max(0, ...sent.map((m) => m.bytes.length)),
  };
}

describe("serving catch-up to a peer that claims to be behind", () => {
  it("reads and signs a peer's catch-up once however often it claims height 0, and still answers each window", () => {
    const once = flood(history(), 2_000, 1);
    const flooded = flood(history(), 2_000, 200);
    // One reply: sessions 0..2 as signed sessions, heights 12 and 13 as decisions.
    expect(once.catchUp).toHaveLength(5);
    // At most one reply per catchUpMs (50 ms) over 2 s, each from the cache after the first.
    expect(flooded.catchUp.length).toBe(40 * 5);
    // Signatures: exactly those of the first reply. Store reads: those of the first reply, plus one
    // lookup per reply for a session signed since (session 3 is not, yet).
    expect(flooded.signs).toBe(once.signs);
    expect(flooded.reads).toBeLessThanOrEqual(once.reads + 40);
  });

  it("stops a reply at bytesPerCatchUpMax, though always with one message, checked before signing", () => {
    const h = history({ bytesPerCatchUpMax: 1 });
    const r = flood(h, 10, 1);
    expect(r.catchUp).toEqual([MessageType.SignedSession]);
    expect(h.replica.counters.catchUpMessagesSigned).toBe(1);
  });

  it("sends a peer that keeps claiming height 0 no more catch-up bytes than its allowance per second", () => {
    const ratePerSec = 2_000;
    const burst = 3_000;
    const h = history({ catchUpBytesPerSecondPerPeerMax: ratePerSec, bytesPerCatchUpMax: burst });
    const r = flood(h, 4_000, 400);
    // The bucket starts full, refills for 4 s, and the last reply may overdraw it by one message.
    expect(r.catchUpBytes).toBeGreaterThan(0);
    expect(r.catchUpBytes).toBeLessThanOrEqual(burst + 4 * ratePerSec + r.largest);
    // Without the allowance it would have been 80 replies of the whole history.
    expect(h.replica.counters.catchUpRepliesDeferred).toBeGreaterThan(40);
  });

  it("lets a restarted guardian catch up when every reply carries a single message", () => {
    const fed = testFederation(N, { heightsPerSession: 2, limits: { bytesPerCatchUpMax: 1 } });
    const stores = Array.from({ length: N }, (_, i) => new MemoryConsensusStore(i, 2));
    const queue: { from: number; to: number; bytes: Uint8Array }[] = [];
    const down = new Set([3]);
    const make = (i: number, now: number) =>
      new Replica(
        fed.config,
        fed.cryptoFor(i),
        i,
        stores[i]!,
        {
          send: (to, bytes) => queue.push({ from: i, to, bytes }),
          broadcast: (bytes) => {
            for (let j = 0; j < N; j++) if (j !== i) queue.push({ from: i, to: j, bytes });
          },
        },
        {},
        now,
      );
    const replicas = Array.from({ length: N }, (_, i) => make(i, 0));
    let now = 0;
    const advance = (ms: number) => {
      for (let t = 0; t < ms; t += 10) {
        now += 10;
        for (let i = 0; i < N; i++) if (!down.has(i)) replicas[i]!.tick(now);
        while (queue.length > 0) {
          const m = queue.shift()!;
          if (!down.has(m.to) && !down.has(m.from)) replicas[m.to]!.receive(m.from, m.bytes, now);
        }
      }
    };
    for (let h = 0; h < 9; h++) {
      replicas[h % 3]!.submit([new TextEncoder().encode(`h${h}`)], now);
      // Heights whose round-0 proposer is the guardian that is down need a propose timeout.
      while (replicas[0]!.engine.status.height <= h) advance(50);
    }
    const target = replicas[0]!.engine.status.height;
    expect(target).toBe(9);
    expect(replicas[3]!.engine.status.height).toBe(0);
    down.clear();
    replicas[3] = make(3, now);
    advance(2_000);
    expect(replicas[3].engine.status.height).toBe(target);
    expect(replicas[3].engine.status.sessionsSigned).toBe(replicas[0]!.engine.status.sessionsSigned);
  });
});
