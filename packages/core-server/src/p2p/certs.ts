// A guardian's TLS certificate: self-signed, its subject key IS the guardian's Ed25519 identity
// key, so pinning the certificate's key pins the guardian. Nobody validates it against a CA;
// its only jobs are to carry the key and to let TLS 1.3 prove possession (CertificateVerify).
//
// Written by hand in DER rather than with @peculiar/x509: version 2.2.0 of that library imports
// tsyringe, which throws at load time unless a global `reflect-metadata` polyfill is installed,
// and that polyfill is not a dependency of this repository. The certificate below is a few
// fixed fields; signing uses node:crypto, whose Ed25519 signatures are deterministic, so the
// same seed always yields the same certificate and it can be regenerated at every start.
import { createHash, sign, type X509Certificate } from "node:crypto";
import { concatBytes, toHex } from "@conclave/core-common";
import { ed25519PrivateKeyObject, ed25519PublicKeyOf } from "../node-crypto.js";

export interface GuardianCertificate {
  /** The Ed25519 public key the certificate carries (32 bytes). */
  publicKey: Uint8Array;
  certDer: Uint8Array;
  /** For the `cert` option of tls.createServer / tls.connect. */
  certPem: string;
  /** PKCS#8 PEM, for the `key` option of tls.createServer / tls.connect. */
  keyPem: string;
}

const ED25519_PUBLIC_KEY_BYTES = 32;
// RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 on.
const NOT_BEFORE_UTC_TIME = "200101000000Z"; // 2020-01-01
const NOT_AFTER_GENERALIZED_TIME = "21000101000000Z"; // 2100-01-01

const TAG_INTEGER = 0x02;
const TAG_BIT_STRING = 0x03;
const TAG_OID = 0x06;
const TAG_UTF8_STRING = 0x0c;
const TAG_SEQUENCE = 0x30;
const TAG_SET = 0x31;
const TAG_UTC_TIME = 0x17;
const TAG_GENERALIZED_TIME = 0x18;
const TAG_EXPLICIT_0 = 0xa0;

const OID_ED25519 = Uint8Array.from([0x2b, 0x65, 0x70]); // 1.3.101.112 (RFC 8410)
const OID_COMMON_NAME = Uint8Array.from([0x55, 0x04, 0x03]); // 2.5.4.3

function derLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Uint8Array.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  const body = concatBytes(...contents);
  return concatBytes(Uint8Array.of(tag), derLength(body.length), body);
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

function name(commonName: string): Uint8Array {
  const attribute = tlv(TAG_SEQUENCE, tlv(TAG_OID, OID_COMMON_NAME), tlv(TAG_UTF8_STRING, ascii(commonName)));
  return tlv(TAG_SEQUENCE, tlv(TAG_SET, attribute));
}

/** A positive 16-byte serial fixed by the key: regenerating the certificate changes nothing. */
function serialNumber(publicKey: Uint8Array): Uint8Array {
  const digest = createHash("sha256")
    .update("conclave guardian certificate serial")
    .update(publicKey)
    .digest();
  const serial = new Uint8Array(digest.subarray(0, 16));
  // Top bit clear (a DER INTEGER is signed) and the next one set (no leading zero byte to strip).
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return serial;
}

export function guardianCertificate(secretSeed: Uint8Array): GuardianCertificate {
  const privateKey = ed25519PrivateKeyObject(secretSeed);
  const publicKey = ed25519PublicKeyOf(secretSeed);
  const algorithm = tlv(TAG_SEQUENCE, tlv(TAG_OID, OID_ED25519));
  const subject = name(`conclave guardian ${toHex(publicKey.subarray(0, 8))}`);
  const tbs = tlv(
    TAG_SEQUENCE,
    tlv(TAG_EXPLICIT_0, tlv(TAG_INTEGER, Uint8Array.of(2))), // X.509 v3
    tlv(TAG_INTEGER, serialNumber(publicKey)),
    algorithm,
    subject, // issuer: self-signed
    tlv(
      TAG_SEQUENCE,
      tlv(TAG_UTC_TIME, ascii(NOT_BEFORE_UTC_TIME)),
      tlv(TAG_GENERALIZED_TIME, ascii(NOT_AFTER_GENERALIZED_TIME)),
    ),
    subject,
    tlv(TAG_SEQUENCE, algorithm, tlv(TAG_BIT_STRING, Uint8Array.of(0), publicKey)),
  );
  const signature = new Uint8Array(sign(null, tbs, privateKey));
  const certDer = tlv(TAG_SEQUENCE, tbs, algorithm, tlv(TAG_BIT_STRING, Uint8Array.of(0), signature));
  return {
    publicKey,
    certDer,
    certPem: pem("CERTIFICATE", certDer),
    keyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
  };
}

function pem(label: string, der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString("base64")
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** The Ed25519 key a peer's certificate carries, or undefined if it carries some other kind of key. */
export function ed25519KeyOfCertificate(certificate: X509Certificate | undefined): Uint8Array | undefined {
  if (certificate === undefined) return undefined;
  const key = certificate.publicKey;
  if (key.asymmetricKeyType !== "ed25519") return undefined;
  const { x } = key.export({ format: "jwk" });
  if (typeof x !== "string") return undefined;
  const raw = new Uint8Array(Buffer.from(x, "base64url"));
  return raw.length === ED25519_PUBLIC_KEY_BYTES ? raw : undefined;
}
