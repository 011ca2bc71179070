// Test helper (not shipped): the push service's side of Web Push, written here independently of
// web-push: the VAPID check (RFC 8292) and RFC 8291 decryption with a user agent's keys. Used by the
// push-service stand-ins of relay-push.test.ts (guardian processes) and relay-push-cover.test.ts.
import { createECDH, createHmac, createDecipheriv, createPublicKey, randomBytes, verify } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { expect } from "vitest";

export function b64u(b: Uint8Array): string {
  return Buffer.from(b).toString("base64url");
}

function hmac(key: Uint8Array, data: Uint8Array): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

/** RFC 8292: `vapid t=<JWT>, k=<key>`; the JWT signed (ES256) by k, for this origin, expiring within 24 h. */
export function checkVapid(
  headers: IncomingMessage["headers"],
  expectedKey: string,
  origin: string,
  subject: string,
): Record<string, unknown> {
  const m = /^vapid t=([^,]+), k=(.+)$/.exec(String(headers.authorization));
  if (!m) throw new Error(`no VAPID authorization: ${headers.authorization}`);
  const [h, p, s] = m[1]!.split(".");
  const k = Buffer.from(m[2]!, "base64url");
  expect(m[2]).toBe(expectedKey);
  const key = createPublicKey({
    key: { kty: "EC", crv: "P-256", x: b64u(k.subarray(1, 33)), y: b64u(k.subarray(33, 65)) },
    format: "jwk",
  });
  const ok = verify(
    "sha256",
    Buffer.from(`${h}.${p}`),
    { key, dsaEncoding: "ieee-p1363" },
    Buffer.from(s!, "base64url"),
  );
  if (!ok) throw new Error("the VAPID JWT's signature does not verify");
  expect(JSON.parse(Buffer.from(h!, "base64url").toString())).toMatchObject({ alg: "ES256" });
  const claims = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>;
  const now = Date.now() / 1000;
  expect(claims["aud"]).toBe(origin);
  expect(claims["exp"]).toBeGreaterThan(now);
  expect(claims["exp"]).toBeLessThanOrEqual(now + 24 * 3600);
  expect(claims["sub"]).toBe(subject);
  return claims;
}

/** RFC 8291 section 3 and RFC 8188: one aes128gcm record, decrypted with the user agent's keys. */
export function decrypt(body: Buffer, ua: { ecdh: ReturnType<typeof createECDH>; auth: Buffer }): Buffer {
  const salt = body.subarray(0, 16);
  const idlen = body[20]!;
  const asPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  const secret = ua.ecdh.computeSecret(asPublic);
  const info = Buffer.concat([Buffer.from("WebPush: info\0"), ua.ecdh.getPublicKey(), asPublic]);
  const ikm = hmac(hmac(ua.auth, secret), Buffer.concat([info, Buffer.from([1])]));
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from("Content-Encoding: aes128gcm\0\x01")).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from("Content-Encoding: nonce\0\x01")).subarray(0, 12);
  const d = createDecipheriv("aes-128-gcm", cek, nonce);
  d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([d.update(ciphertext.subarray(0, ciphertext.length - 16)), d.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  expect(padded[end]).toBe(2); // the last record's delimiter
  return padded.subarray(0, end);
}

export function userAgent(origin: string, path: string) {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return {
    ecdh,
    auth,
    subscription: {
      endpoint: `${origin}${path}`,
      keys: { p256dh: b64u(ecdh.getPublicKey()), auth: b64u(auth) },
    },
  };
}
