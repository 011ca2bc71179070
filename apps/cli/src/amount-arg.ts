// Amounts, denominations and counts as typed on the command line. Two amount forms only, so that a
// number is never silently read in the wrong unit: XMR with up to 12 decimals ("0.25", "0.25xmr")
// or base units (piconero) with a "p" suffix ("250000000000p"). Decimal amounts are parsed by
// core-common's parseXmr, the one place that turns XMR text into base units.
import { parseXmr } from "@conclave/core-common";
import { UsageError } from "./usage-error.js";

/** Above any federation's holdings (the mint's largest denomination is far below): a typo guard. */
export const AMOUNT_BASE_UNITS_MAX = 2n ** 64n - 1n;
/** The most notes one `split` may ask for (a client-side guard; the mint has its own per-tx limit). */
export const SPLIT_COUNT_MAX = 10_000;
/** Denominations are powers of two of the base unit: 2^0 .. 2^63. */
export const DENOMINATION_LOG2_MAX = 63;

const FORMS =
  'write XMR with up to 12 decimals (e.g. 0.25) or base units with a "p" suffix (e.g. 250000000000p)';

/** Parses a positive amount in one of the two forms; anything else is a UsageError naming the fix. */
export function parseAmountArg(text: string, what = "amount"): bigint {
  const amount = parseNonNegative(text.trim(), what);
  if (amount === 0n) throw new UsageError(`${what} must be more than zero (got "${text}")`);
  if (amount > AMOUNT_BASE_UNITS_MAX) {
    throw new UsageError(
      `${what} "${text}" is larger than any federation can hold (${AMOUNT_BASE_UNITS_MAX}p)`,
    );
  }
  return amount;
}

function parseNonNegative(t: string, what: string): bigint {
  const bad = (why: string) => new UsageError(`${what} "${t}" ${why}; ${FORMS}`);
  if (t === "") throw new UsageError(`${what} is empty; ${FORMS}`);
  if (t.startsWith("-")) throw bad("is negative");
  const base = /^(\d+)p$/i.exec(t);
  if (base) return BigInt(base[1]!);
  if (/^\d*\.\d*p$/i.test(t)) throw bad("has decimals, but base units are whole numbers");
  const xmr = /^(\d+)(?:\.(\d+))?(?:\s*xmr)?$/i.exec(t);
  if (xmr) {
    if ((xmr[2] ?? "").length > 12)
      throw bad("has more than 12 decimal places (1 piconero is 0.000000000001)");
    return parseXmr(t.replace(/\s*xmr$/i, ""));
  }
  if (/^\.\d+$/.test(t)) throw bad(`needs a digit before the point (0${t})`);
  if (/^\d+\.$/.test(t)) throw bad("ends with a point");
  if (/^\d+,\d+$/.test(t)) throw bad("uses a comma; use a point for decimals");
  if (/[eE]/.test(t) && /^[\d.]+[eE][+-]?\d+$/.test(t)) throw bad("is in exponent notation");
  if (/^0x/i.test(t)) throw bad("is hexadecimal");
  if (/\d\s*[a-z]+$/i.test(t)) throw bad("has an unknown unit (only XMR or p)");
  if (/[_,' ]/.test(t)) throw bad("contains separators; write the digits alone");
  throw bad("is not a number");
}

/**
 * A denomination: `2^N` or an amount that is a power of two of the base unit (as `conclave info`
 * lists them). Returns log2 of the base-unit amount, which is what the wallet takes.
 */
export function parseDenominationArg(text: string): number {
  const t = text.trim();
  const pow = /^2\^(\d{1,3})$/.exec(t);
  if (pow) {
    const log2 = Number(pow[1]);
    if (log2 > DENOMINATION_LOG2_MAX) {
      throw new UsageError(`denomination "${t}" is above 2^${DENOMINATION_LOG2_MAX}`);
    }
    return log2;
  }
  const amount = parseAmountArg(t, "denomination");
  if ((amount & (amount - 1n)) !== 0n) {
    throw new UsageError(
      `denomination "${t}" (${amount}p) is not a power of two of the base unit; ` +
        "pick one that `conclave info` lists, e.g. 2^20 or 1048576p",
    );
  }
  return amount.toString(2).length - 1;
}

/** A whole number of notes, 1..SPLIT_COUNT_MAX. */
export function parseCountArg(text: string): number {
  const t = text.trim();
  if (!/^\d{1,9}$/.test(t)) throw new UsageError(`count "${text}" is not a whole number of notes`);
  const n = Number(t);
  if (n < 1 || n > SPLIT_COUNT_MAX) {
    throw new UsageError(`count must be from 1 to ${SPLIT_COUNT_MAX} notes (got ${t})`);
  }
  return n;
}
