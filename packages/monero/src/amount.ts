// Monero amounts are bigint piconero (1 XMR = 10^12 piconero) everywhere in our API. These two
// functions are the only place that converts to and from the decimal XMR text that people read.
import { MoneroAmountError } from "./errors.js";

export const PICONERO_PER_XMR = 1_000_000_000_000n;
/** Amounts in a Monero output are uint64. */
export const PICONERO_MAX = (1n << 64n) - 1n;

/** "1.5" -> 1_500_000_000_000n. At most 12 decimals; no sign, no exponent, no grouping. */
export function parseXmr(text: string): bigint {
  const m = /^(\d{1,8})(?:\.(\d{1,12}))?$/.exec(text);
  if (m === null) {
    throw new MoneroAmountError(
      `not an XMR amount: ${JSON.stringify(text)} (write it like 1.5, at most 12 decimals)`,
    );
  }
  const whole = BigInt(m[1] ?? "0");
  const fraction = BigInt((m[2] ?? "").padEnd(12, "0"));
  return checkPiconero(whole * PICONERO_PER_XMR + fraction);
}

/** 1_500_000_000_000n -> "1.5"; 0n -> "0"; 1n -> "0.000000000001". */
export function formatXmr(piconero: bigint): string {
  checkPiconero(piconero);
  const whole = piconero / PICONERO_PER_XMR;
  const fraction = (piconero % PICONERO_PER_XMR).toString().padStart(12, "0").replace(/0+$/, "");
  return fraction === "" ? whole.toString() : `${whole}.${fraction}`;
}

/** Throws unless 0 <= piconero <= 2^64 - 1; returns it. */
export function checkPiconero(piconero: bigint): bigint {
  if (piconero < 0n || piconero > PICONERO_MAX) {
    throw new MoneroAmountError(`amount out of range: ${piconero} piconero (0 .. 2^64 - 1)`);
  }
  return piconero;
}
