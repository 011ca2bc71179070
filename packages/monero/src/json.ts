// Exact JSON for Monero RPC. monerod and monero-wallet-rpc write amounts (piconero, up to 2^64 - 1)
// as bare JSON numbers; JSON.parse turns those above 2^53 into the nearest double, silently. So the
// raw response text goes through a small scanner first that quotes every integer literal which is
// not a safe integer; the schemas then read amounts from either form into a bigint. Requests carry
// bigints back out as bare numbers, which is what the RPC servers expect.
import { z } from "zod";

const U64_MAX = (1n << 64n) - 1n;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Rewrites `text` so that each integer literal outside a string that `JSON.parse` could not hold
 * exactly becomes a JSON string with the same digits. Everything else (strings, escapes, fractions,
 * exponents, whitespace) is copied as is; malformed JSON stays malformed for JSON.parse to reject.
 */
export function quoteUnsafeIntegers(text: string): string {
  let out = "";
  let copiedUpTo = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip the whole string literal, honouring backslash escapes.
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) {
          i++;
          break;
        } else i++;
      }
      continue;
    }
    if (c === 0x2d /* - */ || isDigit(c)) {
      const start = i;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (isDigit(d) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) i++;
        else break;
      }
      const token = text.slice(start, i);
      if (/^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token))) {
        out += `${text.slice(copiedUpTo, start)}"${token}"`;
        copiedUpTo = i;
      }
      continue;
    }
    i++;
  }
  return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
}

/** JSON.parse that keeps every integer exact (unsafe ones arrive as decimal strings). */
export function parseJsonExact(text: string): unknown {
  return JSON.parse(quoteUnsafeIntegers(text));
}

/** A JSON value that may contain bigints (written as bare integer literals). */
export type JsonIn =
  | string
  | number
  | boolean
  | null
  | bigint
  | undefined
  | readonly JsonIn[]
  | { readonly [key: string]: JsonIn };

/**
 * JSON.stringify for request bodies with bigint amounts: a bigint becomes a bare integer literal (the
 * RPC servers read uint64 fields as numbers, not strings); object members that are undefined are
 * left out, as JSON.stringify does.
 */
export function stringifyJson(value: JsonIn): string {
  if (typeof value === "bigint") return value.toString();
  if (value === undefined) return "null";
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value))
      throw new Error(`cannot encode ${value} in JSON`);
    return JSON.stringify(value);
  }
  if (isJsonArray(value)) return `[${value.map(stringifyJson).join(",")}]`;
  const members: string[] = [];
  for (const [key, member] of Object.entries(value)) {
    if (member === undefined) continue;
    members.push(`${JSON.stringify(key)}:${stringifyJson(member)}`);
  }
  return `{${members.join(",")}}`;
}

function isJsonArray(value: object): value is readonly JsonIn[] {
  return Array.isArray(value);
}

/**
 * An unsigned 64-bit integer from the RPC (an amount in piconero, a difficulty): a safe JSON number or,
 * after {@link parseJsonExact}, a decimal string. Always a bigint in our API.
 */
export const u64 = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/, "expected a decimal integer")])
  .transform((v) => BigInt(v))
  .refine((v) => v <= U64_MAX, "exceeds 2^64 - 1");

/** Heights, counts, indices: small non-negative integers that a JSON number holds exactly. */
export const uint = z.number().int().nonnegative();

/** 32-byte hashes and keys as 64 lowercase hex characters. */
export const hex32 = z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex characters");

/**
 * A tx key as get_tx_key returns it: one 32-byte key, or the main key and one additional key per
 * subaddress output joined (at most 17 parts: 16 outputs + 1). check_tx_key(txid, txKey, address)
 * proves a payment with it.
 */
export const txKeyHex = z
  .string()
  .regex(/^([0-9a-f]{64}){1,17}$/, "a tx key: 64 lowercase hex characters (or up to 17 such keys joined)");
