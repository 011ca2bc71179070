import { describe, expect, it } from "vitest";
import {
  AMOUNT_BASE_UNITS_MAX,
  SPLIT_COUNT_MAX,
  parseAmountArg,
  parseCountArg,
  parseDenominationArg,
} from "./amount-arg.js";
import { UsageError } from "./usage-error.js";

function usageMessage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as UsageError).message;
  }
  throw new Error("expected a UsageError");
}

describe("parseAmountArg", () => {
  it("reads XMR decimals exactly, up to 12 places, with or without an XMR unit", () => {
    expect(parseAmountArg("0.25")).toBe(250_000_000_000n);
    expect(parseAmountArg("1")).toBe(1_000_000_000_000n);
    expect(parseAmountArg("1.5")).toBe(1_500_000_000_000n);
    expect(parseAmountArg("0.000000000001")).toBe(1n);
    expect(parseAmountArg("12.345678901234")).toBe(12_345_678_901_234n);
    expect(parseAmountArg("0.25xmr")).toBe(250_000_000_000n);
    expect(parseAmountArg("0.25 XMR")).toBe(250_000_000_000n);
    expect(parseAmountArg(" 2 ")).toBe(2_000_000_000_000n);
  });

  it("reads base units with a p suffix as whole piconero", () => {
    expect(parseAmountArg("250000000000p")).toBe(250_000_000_000n);
    expect(parseAmountArg("1p")).toBe(1n);
    expect(parseAmountArg("7P")).toBe(7n);
  });

  it("never reads through a float: a value past 2^53 base units stays exact", () => {
    expect(parseAmountArg("9007199254740993p")).toBe(9_007_199_254_740_993n);
    expect(parseAmountArg("9007.199254740993")).toBe(9_007_199_254_740_993n);
  });

  const bad: [string, string][] = [
    ["", "empty"],
    ["   ", "empty"],
    ["-1", "negative"],
    ["-0.5", "negative"],
    ["0", "more than zero"],
    ["0.0", "more than zero"],
    ["0p", "more than zero"],
    ["0.0000000000001", "more than 12 decimal places"],
    ["1.5p", "base units are whole"],
    [".5", "needs a digit before the point (0.5)"],
    ["1.", "ends with a point"],
    ["1,5", "uses a comma"],
    ["1e3", "exponent notation"],
    ["1.5E-3", "exponent notation"],
    ["0x10", "hexadecimal"],
    ["1_000", "separators"],
    ["1 000", "separators"],
    ["5btc", "unknown unit"],
    ["5 sats", "unknown unit"],
    ["abc", "not a number"],
    ["NaN", "not a number"],
    ["Infinity", "not a number"],
    ["1..2", "not a number"],
    ["p", "not a number"],
    ["1p5", "not a number"],
    ["+1", "not a number"],
    [`${AMOUNT_BASE_UNITS_MAX + 1n}p`, "larger than any federation can hold"],
  ];
  it.each(bad)("rejects %j with a message that says what is wrong (%s) and shows both forms", (text, why) => {
    const message = usageMessage(() => parseAmountArg(text));
    expect(message).toContain(why);
    if (!message.includes("more than zero") && !message.includes("larger than")) {
      expect(message).toContain("0.25");
      expect(message).toContain("250000000000p");
    }
  });

  it("names the argument in its message", () => {
    expect(usageMessage(() => parseAmountArg("x", "denomination"))).toMatch(/^denomination "x"/);
  });
});

describe("parseDenominationArg", () => {
  it("takes 2^N, or an amount that is a power of two of the base unit, and returns N", () => {
    expect(parseDenominationArg("2^0")).toBe(0);
    expect(parseDenominationArg("2^30")).toBe(30);
    expect(parseDenominationArg("1073741824p")).toBe(30);
    expect(parseDenominationArg("1p")).toBe(0);
    expect(parseDenominationArg("0.000000000002")).toBe(1);
    expect(parseDenominationArg("2^63")).toBe(63);
  });

  it.each([
    ["3p", "not a power of two"],
    ["0.25", "not a power of two"],
    ["2^64", "above 2^63"],
    ["2^-1", "not a number"],
    ["0p", "more than zero"],
    ["two", "not a number"],
  ])("rejects %j (%s)", (text, why) => {
    expect(usageMessage(() => parseDenominationArg(text))).toContain(why);
  });
});

describe("parseCountArg", () => {
  it("takes a whole number of notes from 1 up to the limit", () => {
    expect(parseCountArg("1")).toBe(1);
    expect(parseCountArg("16")).toBe(16);
    expect(parseCountArg(String(SPLIT_COUNT_MAX))).toBe(SPLIT_COUNT_MAX);
  });

  it.each([
    ["0", "from 1 to"],
    [String(SPLIT_COUNT_MAX + 1), "from 1 to"],
    ["-2", "not a whole number"],
    ["1.5", "not a whole number"],
    ["", "not a whole number"],
    ["four", "not a whole number"],
    ["1e3", "not a whole number"],
  ])("rejects %j (%s)", (text, why) => {
    expect(usageMessage(() => parseCountArg(text))).toContain(why);
  });
});
