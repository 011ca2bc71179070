import { describe, expect, it } from "vitest";
import { Rng } from "./rng.js";

const take = (rng: Rng, count: number): number[] => Array.from({ length: count }, () => rng.u32());

describe("seeded generator (xoshiro128** seeded by splitmix64)", () => {
  it("matches the reference xoshiro128** outputs for the state {1, 2, 3, 4}", () => {
    expect(take(Rng.fromState([1, 2, 3, 4]), 10)).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804,
    ]);
  });

  it("gives the same sequence for the same seed and stream, and another for another seed or stream", () => {
    const a = take(new Rng(42, "network"), 100);
    expect(take(new Rng(42, "network"), 100)).toEqual(a);
    expect(take(new Rng(43, "network"), 100)).not.toEqual(a);
    expect(take(new Rng(42, "faults"), 100)).not.toEqual(a);
    expect(take(new Rng(0), 4)).not.toEqual([0, 0, 0, 0]);
  });

  it("draws integers uniformly inside their bounds, every value reachable", () => {
    const rng = new Rng(7);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[rng.int(6)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(9_000);
    for (let i = 0; i < 1_000; i++) {
      const v = rng.range(-3, 3);
      expect(v).toBeGreaterThanOrEqual(-3);
      expect(v).toBeLessThanOrEqual(3);
      const f = rng.float();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
    }
    expect(() => rng.int(0)).toThrow(RangeError);
    expect(() => new Rng(-1)).toThrow(RangeError);
  });

  it("shuffles into a permutation, and forks children that replay with their parent", () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = new Rng(3).shuffle([...items]);
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((x, y) => x - y)).toEqual(items);
    const child = (seed: number) => take(new Rng(seed).fork(), 20);
    expect(child(9)).toEqual(child(9));
    expect(child(9)).not.toEqual(take(new Rng(9), 20));
    expect(new Rng(5).bytes(13)).toEqual(new Rng(5).bytes(13));
  });
});
