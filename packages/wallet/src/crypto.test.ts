import { describe, expect, it } from "vitest";
import { txSignatureMessage } from "@conclave/core-common";
import { nobleCrypto } from "./crypto.js";
import { nodeCrypto } from "./node-crypto.js";

const seed = new Uint8Array(32).fill(42);
const message = txSignatureMessage(new Uint8Array(32).fill(1));

describe("crypto backends", () => {
  it("derive the same Ed25519 public key and signatures (Ed25519 is deterministic) with noble and node:crypto", () => {
    const a = nobleCrypto.ed25519Signer(seed);
    const b = nodeCrypto.ed25519Signer(seed);
    expect(a.publicKey).toEqual(b.publicKey);
    expect(nodeCrypto.ed25519PublicKey(seed)).toEqual(a.publicKey);
    expect(a.sign(message)).toEqual(b.sign(message));
  });

  it("verify each other's signatures and refuse a changed message or a malformed key", () => {
    const sig = nodeCrypto.ed25519Signer(seed).sign(message);
    const pk = nobleCrypto.ed25519PublicKey(seed);
    for (const c of [nobleCrypto, nodeCrypto]) {
      expect(c.ed25519Verify(pk, message, sig)).toBe(true);
      const changed = message.slice();
      changed[0] = changed[0]! ^ 1;
      expect(c.ed25519Verify(pk, changed, sig)).toBe(false);
      expect(c.ed25519Verify(pk.subarray(0, 31), message, sig)).toBe(false);
      expect(c.ed25519Verify(pk, message, sig.subarray(0, 63))).toBe(false);
    }
  });

  it("use the blind signature backend of their runtime: noble in the browser entry, blst in Node", () => {
    expect(nobleCrypto.tbs.name).toBe("noble");
    expect(nodeCrypto.tbs.name).toBe("blst");
  });
});
