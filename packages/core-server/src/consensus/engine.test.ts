import { describe, expect, it } from "vitest";
import { toHex } from "@conclave/core-common";
import { Replica } from "./replica.js";
import { MemoryConsensusStore } from "./store.js";
import { testFederation } from "./test-federation.js";
import type { Commit } from "./types.js";

/** A lossless, in-order, in-process network: the smallest harness that exercises the happy path. */
function cluster(n: number, opts: Parameters<typeof testFederation>[1] = {}) {
  const fed = testFederation(n, opts);
  const queue: { from: number; to: number; bytes: Uint8Array }[] = [];
  const commits: Commit[][] = Array.from({ length: n }, () => []);
  const stores = Array.from(
    { length: n },
    (_, i) => new MemoryConsensusStore(i, fed.config.heightsPerSession),
  );
  let now = 0;
  const make = (i: number) =>
    new Replica(
      fed.config,
      fed.cryptoFor(i),
      i,
      stores[i]!,
      {
        send: (to, bytes) => queue.push({ from: i, to, bytes }),
        broadcast: (bytes) => {
          for (let j = 0; j < n; j++) if (j !== i) queue.push({ from: i, to: j, bytes });
        },
      },
      { onCommit: (c) => commits[i]!.push(c) },
      now,
    );
  const replicas = Array.from({ length: n }, (_, i) => make(i));
  const run = (steps = 100_000, down = new Set<number>()) => {
    for (let s = 0; s < steps && queue.length > 0; s++) {
      const m = queue.shift()!;
      if (!down.has(m.to) && !down.has(m.from)) replicas[m.to]!.receive(m.from, m.bytes, now);
    }
  };
  const advance = (ms: number, down = new Set<number>()) => {
    for (let t = 0; t < ms; t += 10) {
      now += 10;
      for (let i = 0; i < n; i++) if (!down.has(i)) replicas[i]!.tick(now);
      run(100_000, down);
    }
  };
  return {
    fed,
    replicas,
    commits,
    stores,
    run,
    advance,
    restart: (i: number) => (replicas[i] = make(i)),
    now: () => now,
  };
}

const item = (s: string) => new TextEncoder().encode(s);
const items = (c: Commit[]) =>
  c.flatMap((x) => x.bundles.flatMap((b) => b.items.map((i) => new TextDecoder().decode(i))));

describe("consensus engine on a reliable network", () => {
  it("commits an item submitted to one guardian at every guardian, in one block", () => {
    const c = cluster(4);
    c.replicas[2]!.submit([item("a"), item("b")], 0);
    c.run();
    for (let i = 0; i < 4; i++) expect(items(c.commits[i]!)).toEqual(["a", "b"]);
    expect(c.commits[0]![0]!.height).toBe(0);
  });

  it("orders items from every guardian identically at every guardian", () => {
    const c = cluster(7);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 7; i++) c.replicas[i]!.submit([item(`g${i}-r${round}`)], 0);
      c.run();
    }
    const reference = items(c.commits[0]!);
    expect(reference).toHaveLength(35);
    for (let i = 1; i < 7; i++) expect(items(c.commits[i]!)).toEqual(reference);
  });

  it("stays idle without items: no heights are decided and no messages beyond status", () => {
    const c = cluster(4);
    c.advance(2_000);
    for (let i = 0; i < 4; i++) expect(c.commits[i]).toHaveLength(0);
    expect(c.replicas[0]!.engine.status.round).toBe(0);
  });

  it("makes progress with f guardians crashed, after the faulty proposer's timeout", () => {
    const c = cluster(4);
    const down = new Set([0]); // guardian 0 proposes height 0, round 0
    c.replicas[1]!.submit([item("x")], 0);
    c.advance(3_000, down);
    for (const i of [1, 2, 3]) expect(items(c.commits[i]!)).toEqual(["x"]);
  });

  it("signs each session with a quorum once its heights are decided", () => {
    const c = cluster(4, { heightsPerSession: 2 });
    const signed: number[] = [];
    for (let h = 0; h < 4; h++) {
      c.replicas[h % 4]!.submit([item(`h${h}`)], 0);
      c.run();
    }
    c.advance(100);
    for (let i = 0; i < 4; i++) expect(c.replicas[i]!.engine.status.sessionsSigned).toBe(2);
    for (let s = 0; s < 2; s++) {
      const rec = c.stores[0]!.session(s)!;
      expect(rec.signatures.length).toBeGreaterThanOrEqual(3);
      signed.push(s);
    }
    expect(signed).toEqual([0, 1]);
  });

  it("a guardian restarted from its store catches up on heights decided while it was down", () => {
    const c = cluster(4, { heightsPerSession: 2 });
    const down = new Set([3]);
    for (let h = 0; h < 9; h++) {
      c.replicas[h % 3]!.submit([item(`h${h}`)], 0);
      c.advance(50, down);
    }
    expect(c.commits[3]).toHaveLength(0);
    c.restart(3);
    c.advance(2_000);
    expect(items(c.commits[3]!)).toEqual(items(c.commits[0]!));
    expect(c.replicas[3]!.engine.status.height).toBe(c.replicas[0]!.engine.status.height);
    expect(toHex(c.replicas[3]!.engine.status.lastBlockId)).toBe(
      toHex(c.replicas[0]!.engine.status.lastBlockId),
    );
  });
});
