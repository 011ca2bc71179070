// Amounts typed by a user ("0.5", "1", "0.000000000001") to bigint piconero, and errors to text.
// Money is bigint: the decimal string is split, never parsed as a float.
const DECIMALS = 12;

/** "1.5" -> 1500000000000n; throws with a message a user can act on. */
export function parseXmr(text: string): bigint {
  const t = text.trim();
  const m = /^(\d{0,20})(?:\.(\d*))?$/.exec(t);
  if (t === "" || t === "." || !m) throw new Error("type an amount in XMR, like 0.25");
  const [, whole = "", frac = ""] = m;
  if (frac.length > DECIMALS) throw new Error(`XMR has ${DECIMALS} decimals at most`);
  const v = BigInt(whole === "" ? "0" : whole) * 10n ** BigInt(DECIMALS) + BigInt(frac.padEnd(DECIMALS, "0"));
  if (v <= 0n) throw new Error("the amount must be more than 0");
  return v;
}

/** A wallet or guardian error as one line: its message, and its code where it has one. */
export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = "code" in e && typeof e.code === "string" ? e.code : undefined;
    return code ? `${e.message} (${code})` : e.message;
  }
  return String(e);
}

/** The stable code of a wallet error, if any. */
export function errorCode(e: unknown): string | undefined {
  return e instanceof Error && "code" in e && typeof e.code === "string" ? e.code : undefined;
}
