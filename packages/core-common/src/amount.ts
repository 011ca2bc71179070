// Money is never a `number`: amounts are bigints in the custody chain's base unit (piconero for
// XMR, 1 XMR = 10^12), parsed and printed here and nowhere else.

export const PICONERO_PER_XMR = 1_000_000_000_000n;
const DECIMALS = 12;

export function formatXmr(amount: bigint): string {
  const sign = amount < 0n ? "-" : "";
  const abs = amount < 0n ? -amount : amount;
  const whole = abs / PICONERO_PER_XMR;
  const frac = (abs % PICONERO_PER_XMR).toString().padStart(DECIMALS, "0").replace(/0+$/, "");
  return `${sign}${whole}${frac ? "." + frac : ""} XMR`;
}

/** Parses "1.5", "1.5 XMR" or "0.000000000001": exact decimal, no floating point. */
export function parseXmr(text: string): bigint {
  const m = /^\s*(\d+)(?:\.(\d{1,12}))?\s*(?:XMR)?\s*$/i.exec(text);
  if (!m) throw new RangeError(`not an XMR amount with at most 12 decimals: "${text}"`);
  const whole = BigInt(m[1]!);
  const frac = BigInt((m[2] ?? "").padEnd(DECIMALS, "0") || "0");
  return whole * PICONERO_PER_XMR + frac;
}
