// The strings operators and users pass around out of band: a guardian's setup code (shared with
// the other operators before the key ceremony) and the federation's invite code (shared with users).
// Both are versioned, checksummed text; both parse untrusted input with a clear error.
import { z } from "zod";
import { sha256 } from "@noble/hashes/sha2.js";
import { ConfigError } from "../federation-config.js";
import { toHex } from "../bytes.js";
import { base64UrlDecode, base64UrlEncode } from "../base64.js";

const SETUP_PREFIX = "conclave-setup1";
const INVITE_PREFIX = "conclave1";

// No Buffer: the wallet page builds invite codes in the browser.
function b64url(bytes: Uint8Array): string {
  return base64UrlEncode(bytes);
}

function checksum(text: string): string {
  return toHex(sha256(new TextEncoder().encode(text))).slice(0, 8);
}

function pack(prefix: string, json: unknown): string {
  const body = b64url(new TextEncoder().encode(JSON.stringify(json)));
  return `${prefix}:${body}:${checksum(`${prefix}:${body}`)}`;
}

function unpack(prefix: string, code: string, what: string): unknown {
  const parts = code.trim().split(":");
  if (parts.length !== 3 || parts[0] !== prefix)
    throw new ConfigError(
      `not ${/^[aeiou]/.test(what) ? "an" : "a"} ${what}: it must start with "${prefix}:"`,
    );
  if (checksum(`${parts[0]}:${parts[1]}`) !== parts[2]) {
    throw new ConfigError(`the ${what} is damaged (checksum mismatch): copy it again`);
  }
  try {
    const decoded = base64UrlDecode(parts[1]!);
    if (!decoded.ok) throw new Error(decoded.reason);
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(decoded.bytes));
  } catch {
    throw new ConfigError(`the ${what} does not decode`);
  }
}

export const setupCodeSchema = z.strictObject({
  name: z.string().min(1).max(64),
  publicKey: z.string().regex(/^[0-9a-f]{64}$/),
  p2p: z.strictObject({ host: z.string().min(1).max(253), port: z.number().int().min(1).max(65535) }),
  api: z.url(),
  software: z.string().min(1).max(32),
});
export type SetupCode = z.infer<typeof setupCodeSchema>;

export function encodeSetupCode(code: SetupCode): string {
  return pack(SETUP_PREFIX, code);
}

export function decodeSetupCode(text: string): SetupCode {
  const parsed = setupCodeSchema.safeParse(unpack(SETUP_PREFIX, text, "setup code"));
  if (!parsed.success)
    throw new ConfigError(`invalid setup code: ${parsed.error.issues[0]?.message ?? "unknown"}`);
  return parsed.data;
}

export const inviteSchema = z.strictObject({
  federationId: z.string().regex(/^[0-9a-f]{64}$/),
  name: z.string().min(1).max(128),
  guardians: z
    .array(z.strictObject({ name: z.string(), api: z.url() }))
    .min(1)
    .max(64),
});
export type Invite = z.infer<typeof inviteSchema>;

export function encodeInvite(invite: Invite): string {
  return pack(INVITE_PREFIX, invite);
}

export function decodeInvite(text: string): Invite {
  const parsed = inviteSchema.safeParse(unpack(INVITE_PREFIX, text, "invite code"));
  if (!parsed.success)
    throw new ConfigError(`invalid invite code: ${parsed.error.issues[0]?.message ?? "unknown"}`);
  return parsed.data;
}
