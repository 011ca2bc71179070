// Reading an invite code in the browser too. core-common's `decodeInvite` decodes base64url with
// Node's Buffer, which browsers lack; this is the same format (`conclave1:<base64url JSON>:<checksum>`,
// see core-common `setup/codes.ts`) decoded with atob and @noble, validated by the same schema.
// invite.test.ts checks that both read the same codes the same way.
import { sha256 } from "@noble/hashes/sha2.js";
import { ConfigError, inviteSchema, toHex, utf8 } from "@conclave/core-common";
import type { Invite } from "@conclave/core-common";

const INVITE_PREFIX = "conclave1";

function checksum(text: string): string {
  return toHex(sha256(utf8.encode(text))).slice(0, 8);
}

function base64UrlDecode(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new TypeError("not base64url");
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  const binary = atob(base64);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Parses an invite code (untrusted text) with a message a user can act on; throws ConfigError. */
export function decodeInviteCode(text: string, charsMax: number): Invite {
  if (text.length > charsMax) throw new ConfigError(`the invite code is longer than ${charsMax} characters`);
  const parts = text.trim().split(":");
  if (parts.length !== 3 || parts[0] !== INVITE_PREFIX)
    throw new ConfigError(`not an invite code: it must start with "${INVITE_PREFIX}:"`);
  const [prefix, body, sum] = parts as [string, string, string];
  if (checksum(`${prefix}:${body}`) !== sum)
    throw new ConfigError("the invite code is damaged (checksum mismatch): copy it again");
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(base64UrlDecode(body)));
  } catch {
    throw new ConfigError("the invite code does not decode");
  }
  const parsed = inviteSchema.safeParse(json);
  if (!parsed.success)
    throw new ConfigError(`invalid invite code: ${parsed.error.issues[0]?.message ?? "unknown"}`);
  return parsed.data;
}
