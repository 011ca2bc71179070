import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decompose,
  holdingsOf,
  planOutputs,
  representable,
  selectExact,
  sumOf,
  coverValue,
} from "./select.js";

/** Fewest notes summing exactly to amount, by trying every sub-multiset (small cases only). */
function bruteForce(holdings: Map<number, number>, amount: bigint): number | undefined {
  const entries = [...holdings.entries()];
  let best: number | undefined;
  const go = (i: number, left: bigint, used: number) => {
    if (left === 0n) {
      if (best === undefined || used < best) best = used;
      return;
    }
    if (i === entries.length || left < 0n) return;
    const [log2, count] = entries[i]!;
    for (let k = 0; k <= count; k++) go(i + 1, left - BigInt(k) * (1n << BigInt(log2)), used + k);
  };
  go(0, amount, 0);
  return best;
}

const holdingsArb = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 4 })), { maxLength: 5 })
  .map((pairs) => new Map(pairs.filter(([, c]) => c > 0)));

describe("note selection", () => {
  it("finds an exact selection whenever one exists, with the fewest notes (property, vs brute force)", () => {
    fc.assert(
      fc.property(holdingsArb, fc.integer({ min: 0, max: 200 }), (holdings, a) => {
        const amount = BigInt(a);
        const best = bruteForce(holdings, amount);
        const got = selectExact(holdings, amount);
        if (best === undefined) expect(got).toBeUndefined();
        else {
          expect(got).toBeDefined();
          expect(sumOf(got!)).toBe(amount);
          expect(got!.length).toBe(best);
          for (const [l, c] of holdingsOf(got!)) expect(c).toBeLessThanOrEqual(holdings.get(l) ?? 0);
        }
      }),
    );
  });

  it("prefers one big note over several small ones", () => {
    expect(
      selectExact(
        new Map([
          [3, 1],
          [2, 2],
          [1, 4],
        ]),
        8n,
      ),
    ).toEqual([3]);
    expect(selectExact(new Map([[3, 1]]), 4n)).toBeUndefined();
  });

  it("decomposes an amount into the fewest notes of the mint and reports dust", () => {
    expect(decompose(13n, [0, 1, 2, 3])).toEqual({ notes: [3, 2, 0], dust: 0n });
    expect(decompose(13n, [1, 2])).toEqual({ notes: [2, 2, 2], dust: 1n });
    expect(decompose(40n, [2, 3])).toEqual({ notes: [3, 3, 3, 3, 3], dust: 0n });
  });

  it("accepts only positive multiples of the smallest denomination", () => {
    expect(representable(3n << 20n, [20, 21])).toBe(true);
    expect(representable((3n << 20n) + 1n, [20, 21])).toBe(false);
    expect(representable(0n, [0])).toBe(false);
    expect(representable(-4n, [0])).toBe(false);
  });
});

describe("reissue planning", () => {
  it("issues the wanted notes first, then change, paying the fee per input and balancing exactly", () => {
    const plan = planOutputs([5], [2, 0], 1n, [0, 1, 2, 3, 4, 5], 10)!;
    expect(plan.fee).toBe(1n);
    expect(plan.outputs.slice(0, 2)).toEqual([2, 0]);
    expect(sumOf(plan.outputs) + plan.fee).toBe(32n);
  });

  it("never issues more notes than allowed per transaction, keeping the change (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 40 }),
        fc.integer({ min: 11, max: 30 }),
        (inputs, wanted, max) => {
          const plan = planOutputs(inputs, wanted, 0n, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], max);
          expect(plan).toBeDefined();
          expect(plan!.outputs.length).toBeLessThanOrEqual(max);
          expect(sumOf(plan!.outputs)).toBe(sumOf(inputs));
        },
      ),
    );
  });

  it("refuses inputs that cannot pay their fee", () => {
    expect(planOutputs([0], [], 1n, [0], 10)).toBeUndefined();
  });

  it("covers a value with the single smallest sufficient note, else the largest notes first", () => {
    const h = new Map([
      [1, 3],
      [4, 1],
      [6, 1],
    ]);
    expect(coverValue(h, 10n, 0n, 10)).toEqual([4]);
    expect(coverValue(h, 70n, 0n, 10)).toEqual([6, 4]);
    expect(coverValue(h, 81n, 0n, 10)).toEqual([6, 4, 1]);
    expect(coverValue(h, 100n, 0n, 10)).toBeUndefined();
    expect(coverValue(h, 16n, 1n, 10)).toEqual([6]);
  });
});
