import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ed25519PublicKeyOf, generateEd25519Seed } from "../node-crypto.js";
import { ed25519KeyOfCertificate, guardianCertificate } from "./certs.js";

describe("guardian certificate", () => {
  it("carries the guardian's Ed25519 key and is signed by it", () => {
    const seed = generateEd25519Seed();
    const { certPem, publicKey } = guardianCertificate(seed);
    const certificate = new X509Certificate(certPem);
    expect(publicKey).toEqual(ed25519PublicKeyOf(seed));
    expect(ed25519KeyOfCertificate(certificate)).toEqual(publicKey);
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(certificate.subject).toBe(certificate.issuer);
    expect(new Date(certificate.validFrom).getUTCFullYear()).toBe(2020);
    expect(new Date(certificate.validTo).getUTCFullYear()).toBe(2100);
  });

  it("is the same certificate every time it is regenerated from the same seed", () => {
    const seed = generateEd25519Seed();
    expect(guardianCertificate(seed)).toEqual(guardianCertificate(seed));
    expect(guardianCertificate(generateEd25519Seed()).certPem).not.toBe(guardianCertificate(seed).certPem);
  });
});
