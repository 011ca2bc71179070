// Small pure helpers: amounts (bigint piconero, never floats), invite codes, short ids.
// SHA-256 from viem (its @noble/hashes), which the page bundles for the wXMR contract anyway: the
// page's own @noble/hashes copy would be a second one (7.5 KB).
import { sha256 } from "viem";

const PICONERO_PER_XMR = 1_000_000_000_000n;

/** "1500000000000" -> "1.5 XMR"; keeps every digit (money is bigint). */
export function formatXmr(piconero: string | bigint): string {
  const v = typeof piconero === "bigint" ? piconero : BigInt(piconero);
  const sign = v < 0n ? "−" : "";
  const abs = v < 0n ? -v : v;
  const whole = abs / PICONERO_PER_XMR;
  const frac = (abs % PICONERO_PER_XMR).toString().padStart(12, "0").replace(/0+$/, "");
  return `${sign}${whole.toString()}${frac === "" ? "" : "." + frac} XMR`;
}

export function shortHex(hex: string, chars = 12): string {
  return hex.length <= chars ? hex : `${hex.slice(0, chars)}…`;
}

export function sha256Hex(bytes: Uint8Array): string {
  return sha256(bytes).slice(2);
}

export interface InviteGuardian {
  readonly name: string;
  readonly api: string;
}
export interface Invite {
  readonly federationId: string;
  readonly name: string;
  readonly guardians: readonly InviteGuardian[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Decodes an invite code (`conclave1:<base64url JSON>:<checksum>`, core-common/setup/codes.ts).
 * Written here rather than imported so that the page does not bundle zod and the core library:
 * the format is three fields and a checksum, and a test decodes core-common's own encoding.
 */
export function decodeInvite(text: string): Invite {
  const parts = text.trim().split(":");
  if (parts.length !== 3 || parts[0] !== "conclave1")
    throw new Error('not an invite code: it starts with "conclave1:"');
  const [prefix, body, check] = parts as [string, string, string];
  const expected = sha256Hex(new TextEncoder().encode(`${prefix}:${body}`)).slice(0, 8);
  if (expected !== check) throw new Error("the invite code is damaged (checksum mismatch): copy it again");
  let parsed: unknown;
  try {
    const b64 = body.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    parsed = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  } catch {
    throw new Error("the invite code does not decode");
  }
  if (!isRecord(parsed) || typeof parsed["federationId"] !== "string" || typeof parsed["name"] !== "string")
    throw new Error("the invite code has no federation id");
  const guardians = parsed["guardians"];
  if (!Array.isArray(guardians) || guardians.length === 0)
    throw new Error("the invite code names no guardian");
  return {
    federationId: parsed["federationId"],
    name: parsed["name"],
    guardians: guardians.map((g, i) => {
      if (!isRecord(g) || typeof g["api"] !== "string")
        throw new Error(`the invite code's guardian ${i} has no API URL`);
      return { name: typeof g["name"] === "string" ? g["name"] : `guardian ${i}`, api: g["api"] };
    }),
  };
}

/** t = n − ⌊(n − 1)/3⌋: how many guardians must agree (core-common's quorumThreshold; the page does not bundle core-common). */
export function thresholdOf(n: number): number {
  return n - Math.floor((n - 1) / 3);
}
