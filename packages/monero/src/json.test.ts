import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatXmr, parseXmr, PICONERO_MAX } from "./amount.js";
import { MoneroAmountError } from "./errors.js";
import { parseJsonExact, quoteUnsafeIntegers, stringifyJson, u64 } from "./json.js";

describe("exact JSON for Monero amounts", () => {
  it("keeps amounts above 2^53 exact, where JSON.parse rounds them", () => {
    const text = '{"balance":18446744073709551615,"unlocked_balance":9007199254740993,"fee":1200000}';
    expect((JSON.parse(text) as { unlocked_balance: number }).unlocked_balance).toBe(9007199254740992);
    const parsed = parseJsonExact(text) as Record<string, unknown>;
    expect(parsed).toEqual({
      balance: "18446744073709551615",
      unlocked_balance: "9007199254740993",
      fee: 1200000,
    });
    expect(u64.parse(parsed.balance)).toBe(PICONERO_MAX);
    expect(u64.parse(parsed.unlocked_balance)).toBe(9007199254740993n);
    expect(u64.parse(parsed.fee)).toBe(1200000n);
  });

  it("leaves strings (with escapes and digits inside), fractions, exponents and small integers alone", () => {
    const text =
      '{"a":"x\\"12345678901234567890\\\\","b":[1.5e300,-2,0,12345678901234567890.5],"c":{"d":-99999999999999999999}}';
    expect(quoteUnsafeIntegers(text)).toBe(
      '{"a":"x\\"12345678901234567890\\\\","b":[1.5e300,-2,0,12345678901234567890.5],"c":{"d":"-99999999999999999999"}}',
    );
    expect(quoteUnsafeIntegers('{"ok":true,"n":null}')).toBe('{"ok":true,"n":null}');
  });

  it("leaves malformed JSON malformed", () => {
    expect(() => parseJsonExact('{"a": 123456789012345678901')).toThrow(SyntaxError);
  });

  it("u64 refuses negatives, fractions, non-numbers and values above 2^64 - 1", () => {
    for (const bad of [-1, 1.5, "-1", "1e3", "abc", "18446744073709551616", true, null]) {
      expect(u64.safeParse(bad).success).toBe(false);
    }
  });

  it("writes bigints as bare integers and skips undefined members", () => {
    expect(stringifyJson({ amount: 18446744073709551615n, a: undefined, list: [1n, "x", null, true] })).toBe(
      '{"amount":18446744073709551615,"list":[1,"x",null,true]}',
    );
    expect(() => stringifyJson({ x: Number.NaN })).toThrow();
  });

  it("round-trips any uint64 amount exactly through stringify and parse (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: PICONERO_MAX }), fc.string(), (amount, note) => {
        const back = parseJsonExact(stringifyJson({ amount, note, nested: [{ amount }] })) as {
          amount: unknown;
          note: string;
          nested: { amount: unknown }[];
        };
        expect(u64.parse(back.amount)).toBe(amount);
        expect(u64.parse(back.nested[0]?.amount)).toBe(amount);
        expect(back.note).toBe(note);
      }),
    );
  });
});

describe("XMR amounts", () => {
  it("parses and prints decimal XMR as bigint piconero", () => {
    expect(parseXmr("1.5")).toBe(1_500_000_000_000n);
    expect(parseXmr("0.000000000001")).toBe(1n);
    expect(parseXmr("18446744.073709551615")).toBe(PICONERO_MAX);
    expect(formatXmr(1_500_000_000_000n)).toBe("1.5");
    expect(formatXmr(0n)).toBe("0");
    expect(formatXmr(1n)).toBe("0.000000000001");
    expect(formatXmr(PICONERO_MAX)).toBe("18446744.073709551615");
  });

  it("refuses more than 12 decimals, signs, exponents and amounts above 2^64 - 1", () => {
    for (const bad of ["", "1.", ".5", "-1", "1e3", "0.0000000000001", "18446744.073709551616", "1,5"]) {
      expect(() => parseXmr(bad)).toThrow(MoneroAmountError);
    }
    expect(() => formatXmr(-1n)).toThrow(MoneroAmountError);
  });
});
