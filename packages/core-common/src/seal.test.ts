import { createPrivateKey, createPublicKey } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { base64UrlDecode, base64UrlEncode } from "./base64.js";
import { utf8 } from "./bytes.js";
import {
  SEALED_CHARS_MAX,
  SEALED_PLAINTEXT_BYTES_MAX,
  SEALED_PREFIX,
  SealError,
  decodeSealed,
  encodeSealed,
  openSealed,
  sealInfo,
  sealPublicKey,
  sealTo,
} from "./seal.js";
import type { Sealed, SealTarget } from "./seal.js";

const seedOf = (n: number) => new Uint8Array(32).fill(n);
const guardians = [1, 2, 3, 4].map((n) => ({ seed: seedOf(n), publicKey: ed25519.getPublicKey(seedOf(n)) }));
const federationId = new Uint8Array(32).fill(0xfe);
const target: SealTarget = { federationId, instanceId: 2, guardian: 1 };
const PURPOSE = "monero/claim";
const message = utf8.encode("a claim in its binary form");

const sealFor = (g: number, plaintext = message, t: SealTarget = { ...target, guardian: g }) =>
  sealTo(guardians[g]!.publicKey, t, PURPOSE, plaintext);

/** The SealError an async call rejects with (fails the test if it resolves or throws anything else). */
async function sealErrorOf(f: () => Promise<unknown>): Promise<SealError> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(SealError);
    return e as SealError;
  }
  throw new Error("expected a SealError, but it succeeded");
}

function sealErrorOfSync(f: () => unknown): SealError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SealError);
    return e as SealError;
  }
  throw new Error("expected a SealError, but it succeeded");
}

/** Re-encodes the text form after changing its decoded bytes, with a correct checksum. */
const withBytes = (s: Sealed, change: Partial<Sealed>): string => encodeSealed({ ...s, ...change });

describe("sealed messages (HPKE X25519 to one guardian's identity key)", () => {
  it("round-trips through the text form and opens only at its guardian, for its purpose", async () => {
    const sealed = await sealFor(1);
    const text = encodeSealed(sealed);
    expect(text.startsWith(SEALED_PREFIX)).toBe(true);
    const back = decodeSealed(text);
    expect(back).toEqual(sealed);
    expect(await openSealed(guardians[1]!.seed, back, PURPOSE)).toEqual(message);
    // Line breaks and spaces inserted by a mail program are ignored.
    const wrapped = text.replace(/(.{60})/g, "$1\n  ");
    expect(await openSealed(guardians[1]!.seed, decodeSealed(wrapped), PURPOSE)).toEqual(message);
  });

  it("seals to the X25519 key of the Ed25519 identity key, matching the guardian's secret side", () => {
    for (const g of guardians) {
      // The guardian's secret side: the clamped SHA-512 of its seed, as libsodium's
      // crypto_sign_ed25519_sk_to_curve25519; node:crypto's X25519 (another implementation) derives
      // its public key, which must be the birational map of the Ed25519 public key.
      const d = ed25519.utils.toMontgomerySecret(g.seed);
      const jwk = createPublicKey(
        createPrivateKey({ key: { kty: "OKP", crv: "X25519", d: base64UrlEncode(d), x: "" }, format: "jwk" }),
      ).export({ format: "jwk" });
      expect(base64UrlEncode(sealPublicKey(g.publicKey))).toBe(jwk.x);
    }
  });

  it("two seals of the same message differ (fresh ephemeral key each time)", async () => {
    const a = await sealFor(1);
    const b = await sealFor(1);
    expect(a.enc).not.toEqual(b.enc);
    expect(encodeSealed(a)).not.toEqual(encodeSealed(b));
  });

  it("another guardian's key cannot open it", async () => {
    const sealed = await sealFor(1);
    for (const g of [0, 2, 3]) {
      const e = await sealErrorOf(() => openSealed(guardians[g]!.seed, sealed, PURPOSE));
      expect(e.code).toBe("unsealable");
    }
    // Even when the header is rewritten to name the other guardian (the info then differs too).
    const e = await sealErrorOf(() => openSealed(guardians[2]!.seed, { ...sealed, guardian: 2 }, PURPOSE));
    expect(e.code).toBe("unsealable");
  });

  it("refuses a message whose federation, module instance, guardian or purpose was changed", async () => {
    const sealed = await sealFor(1);
    const seed = guardians[1]!.seed;
    const variants: Sealed[] = [
      { ...sealed, federationId: new Uint8Array(32).fill(0xaa) },
      { ...sealed, instanceId: 3 },
      { ...sealed, guardian: 2 },
    ];
    for (const v of variants) {
      // The text form carries the change faithfully (a relay could do it), the HPKE info refuses it.
      const e = await sealErrorOf(() => openSealed(seed, decodeSealed(encodeSealed(v)), PURPOSE));
      expect(e.code).toBe("unsealable");
    }
    expect((await sealErrorOf(() => openSealed(seed, sealed, "mint/other"))).code).toBe("unsealable");
  });

  it("refuses a tampered ciphertext or enc with a clear error", async () => {
    const sealed = await sealFor(1);
    const seed = guardians[1]!.seed;
    for (let i = 0; i < sealed.ciphertext.length; i += 7) {
      const ciphertext = Uint8Array.from(sealed.ciphertext);
      ciphertext[i]! ^= 0x01;
      const e = await sealErrorOf(() =>
        openSealed(seed, decodeSealed(withBytes(sealed, { ciphertext })), PURPOSE),
      );
      expect(e.code).toBe("unsealable");
      expect(e.message).toContain("changed on the way");
      expect(e.status).toBe(400);
    }
    for (const enc of [
      Uint8Array.from(sealed.enc, (b, i) => (i === 5 ? b ^ 0x40 : b)),
      new Uint8Array(32), // the all-zero (low-order) point
      new Uint8Array(32).fill(0xff),
    ]) {
      const e = await sealErrorOf(() => openSealed(seed, decodeSealed(withBytes(sealed, { enc })), PURPOSE));
      expect(e.code).toBe("unsealable");
    }
    // A ciphertext cut short (but still a tag long) or extended.
    for (const ciphertext of [sealed.ciphertext.subarray(0, 16), Uint8Array.of(...sealed.ciphertext, 0)]) {
      const e = await sealErrorOf(() =>
        openSealed(seed, decodeSealed(withBytes(sealed, { ciphertext })), PURPOSE),
      );
      expect(e.code).toBe("unsealable");
    }
  });

  it("refuses a text that was changed, cut or is not one at all (malformed_sealed, with the problem)", async () => {
    const text = encodeSealed(await sealFor(1));
    const cases: [string, string][] = [
      ["", "prefix"],
      ["   \n", "prefix"],
      ["cnotes1AAAA", "prefix"],
      ["csealed2" + text.slice(8), "prefix"],
      [text.slice(0, 40), "length"],
      [text.slice(0, -4), "checksum"],
      [text.slice(0, 60) + (text[60] === "A" ? "B" : "A") + text.slice(61), "checksum"],
      [text.slice(0, 30) + "*" + text.slice(31), "encoding"],
      [SEALED_PREFIX + "A".repeat(SEALED_CHARS_MAX), "length"],
      ["x".repeat(SEALED_CHARS_MAX * 3), "length"],
    ];
    for (const [input, problem] of cases) {
      const e = sealErrorOfSync(() => decodeSealed(input));
      expect(e.code).toBe("malformed_sealed");
      expect(e.details["problem"]).toBe(problem);
      expect(e.message).toMatch(/^not a valid sealed message: /);
    }
    // Another version with a valid checksum: refused by version.
    const decoded = base64UrlDecode(text.slice(SEALED_PREFIX.length));
    if (!decoded.ok) throw new Error("unreachable");
    const bytes = Uint8Array.from(decoded.bytes);
    bytes[0] = 2;
    const { sha256 } = await import("@noble/hashes/sha2.js");
    const body = bytes.subarray(0, bytes.length - 4);
    bytes.set(
      sha256.create().update(utf8.encode("conclave/sealed")).update(body).digest().subarray(0, 4),
      body.length,
    );
    const e = sealErrorOfSync(() => decodeSealed(SEALED_PREFIX + base64UrlEncode(bytes)));
    expect(e.details["problem"]).toBe("version");
  });

  it("never throws anything but a SealError on arbitrary input (property)", async () => {
    const seed = guardians[1]!.seed;
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        fc.boolean(),
        async (bytes, prefixed) => {
          const text = prefixed ? SEALED_PREFIX + base64UrlEncode(bytes) : base64UrlEncode(bytes);
          try {
            const s = decodeSealed(text);
            await openSealed(seed, s, PURPOSE);
            return false; // random bytes must never open
          } catch (e) {
            return e instanceof SealError;
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("carries plaintexts up to the limit and no further; the info is bounded and unambiguous", async () => {
    const big = new Uint8Array(SEALED_PLAINTEXT_BYTES_MAX).fill(7);
    const sealed = await sealFor(3, big);
    const text = encodeSealed(sealed);
    expect(text.length).toBeLessThanOrEqual(SEALED_CHARS_MAX);
    expect(await openSealed(guardians[3]!.seed, decodeSealed(text), PURPOSE)).toEqual(big);
    await expect(sealFor(3, new Uint8Array(SEALED_PLAINTEXT_BYTES_MAX + 1))).rejects.toThrow(RangeError);
    expect(() => sealInfo(target, "x".repeat(49))).toThrow(RangeError);
    expect(sealInfo(target, "x".repeat(48)).length).toBeLessThanOrEqual(128);
    expect(sealInfo(target, "ab")).not.toEqual(sealInfo({ ...target, guardian: 2 }, "ab"));
    expect(sealInfo(target, "ab")).not.toEqual(sealInfo({ ...target, instanceId: 3 }, "ab"));
  });

  it("refuses to seal to a key that is not an Ed25519 point", async () => {
    // y = 2 is not on the curve.
    const bad = new Uint8Array(32);
    bad[0] = 2;
    const e = await sealErrorOf(() => sealTo(bad, target, PURPOSE, message));
    expect(e.code).toBe("invalid_recipient");
  });
});
