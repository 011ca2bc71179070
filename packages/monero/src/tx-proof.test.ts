// The OutProofV2 port on its own (no wallet): a proof verifies for its message and no other, the text
// form round-trips, and malformed parts are recognised. testing/monero's tx-proof-regtest.test.ts
// checks the same proofs against a real monero-wallet-rpc, in both directions.
import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import {
  ED25519_ORDER,
  OUT_PROOF_V2_HEADER,
  TX_PROOF_PART_BYTES,
  TX_PROOF_PARTS_MAX,
  checkTxProofPart,
  hashToScalar,
  isWellFormedOutProof,
  makeOutProof,
  outProofText,
  parseOutProofText,
  txProofPrefixHash,
} from "./tx-proof.js";

const le = (v: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
};
const scalar = (seed: number): Uint8Array => le(hashToScalar(Uint8Array.of(seed)));
const big = (bytes: Uint8Array): bigint => {
  let v = 0n;
  for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
};
const pub = (secret: Uint8Array): Uint8Array => ed25519.Point.BASE.multiply(big(secret)).toBytes();

const txid = new Uint8Array(32).fill(7);
const viewKey = pub(scalar(1));
const r = scalar(2);
const R = pub(r);

describe("OutProofV2 (crypto.cpp generate_tx_proof, version 2, standard address)", () => {
  it("verifies for its message and its tx public key, and for no other message, key or txid", () => {
    const proof = makeOutProof({ txid, txKey: r, viewKey, message: "conclave-claim-v1:aa" });
    expect(proof.length).toBe(TX_PROOF_PART_BYTES);
    const prefix = txProofPrefixHash(txid, "conclave-claim-v1:aa");
    expect(checkTxProofPart(prefix, R, viewKey, proof)).toBe(true);
    expect(checkTxProofPart(txProofPrefixHash(txid, "conclave-claim-v1:bb"), R, viewKey, proof)).toBe(false);
    expect(checkTxProofPart(prefix, pub(scalar(3)), viewKey, proof)).toBe(false);
    expect(checkTxProofPart(prefix, R, pub(scalar(4)), proof)).toBe(false);
    const otherTx = txProofPrefixHash(new Uint8Array(32).fill(8), "conclave-claim-v1:aa");
    expect(checkTxProofPart(otherTx, R, viewKey, proof)).toBe(false);
    // D is the shared secret r·A: what check_tx_key would derive from the key itself.
    const D = ed25519.Point.fromBytes(viewKey).multiply(big(r)).toBytes();
    expect(proof.subarray(0, 32)).toEqual(D);
  });

  it("is deterministic: the same claim gives the same bytes; another message other bytes", () => {
    const a = makeOutProof({ txid, txKey: r, viewKey, message: "m" });
    expect(makeOutProof({ txid, txKey: r, viewKey, message: "m" })).toEqual(a);
    expect(makeOutProof({ txid, txKey: r, viewKey, message: "n" })).not.toEqual(a);
  });

  it("makes one part per tx key part (main key, then additional keys), each verifying with its own R", () => {
    const keys = [2, 5, 6].map(scalar);
    const joined = new Uint8Array(96);
    keys.forEach((k, i) => joined.set(k, i * 32));
    const proof = makeOutProof({ txid, txKey: joined, viewKey, message: "m" });
    expect(proof.length).toBe(3 * TX_PROOF_PART_BYTES);
    const prefix = txProofPrefixHash(txid, "m");
    keys.forEach((k, i) => {
      const part = proof.subarray(i * TX_PROOF_PART_BYTES, (i + 1) * TX_PROOF_PART_BYTES);
      expect(checkTxProofPart(prefix, pub(k), viewKey, part)).toBe(true);
    });
  });

  it("writes and reads wallet2's text: OutProofV2 + base58(D) + base58(c || s) per part", () => {
    const proof = makeOutProof({ txid, txKey: new Uint8Array([...r, ...scalar(9)]), viewKey, message: "m" });
    const text = outProofText(proof);
    expect(text.startsWith(OUT_PROOF_V2_HEADER)).toBe(true);
    expect(text.length).toBe(10 + 2 * (44 + 88));
    expect(parseOutProofText(text)).toEqual(proof);
    expect(() => parseOutProofText(`InProofV2${text.slice(10)}`)).toThrow(/header/);
    expect(() => parseOutProofText(text.slice(0, -1))).toThrow(/length/);
    expect(() => parseOutProofText(`${text.slice(0, -1)}0`)).toThrow(/base58/);
  });

  it("refuses malformed parts: D off the curve or the identity, c or s not below the group order, wrong sizes", () => {
    const good = makeOutProof({ txid, txKey: r, viewKey, message: "m" });
    expect(isWellFormedOutProof(good)).toBe(true);
    const edit = (at: number, bytes: Uint8Array): Uint8Array => {
      const p = good.slice();
      p.set(bytes, at);
      return p;
    };
    const offCurve = new Uint8Array(32).fill(0xff);
    offCurve[31] = 0x7f; // y = 2^255 - 1 > p: not canonical
    expect(isWellFormedOutProof(edit(0, offCurve))).toBe(false);
    expect(isWellFormedOutProof(edit(0, le(1n)))).toBe(false); // the identity (0, 1)
    expect(isWellFormedOutProof(edit(0, le(0n)))).toBe(false); // (√−1, 0): order 4
    expect(isWellFormedOutProof(edit(0, le(3n)))).toBe(false); // a point with a torsion component
    expect(isWellFormedOutProof(edit(32, le(ED25519_ORDER)))).toBe(false);
    expect(isWellFormedOutProof(edit(64, le(ED25519_ORDER + 5n)))).toBe(false);
    expect(isWellFormedOutProof(edit(64, new Uint8Array(32).fill(0xff)))).toBe(false);
    expect(isWellFormedOutProof(good.subarray(0, 95))).toBe(false);
    expect(isWellFormedOutProof(new Uint8Array())).toBe(false);
    const many = new Uint8Array((TX_PROOF_PARTS_MAX + 1) * TX_PROOF_PART_BYTES);
    for (let i = 0; i <= TX_PROOF_PARTS_MAX; i++) many.set(good, i * TX_PROOF_PART_BYTES);
    expect(isWellFormedOutProof(many.subarray(0, TX_PROOF_PARTS_MAX * TX_PROOF_PART_BYTES))).toBe(true);
    expect(isWellFormedOutProof(many)).toBe(false);
  });

  it("refuses to sign with a tx key that is not a canonical non-zero scalar", () => {
    expect(() => makeOutProof({ txid, txKey: new Uint8Array(32), viewKey, message: "m" })).toThrow();
    expect(() => makeOutProof({ txid, txKey: le(ED25519_ORDER), viewKey, message: "m" })).toThrow();
    expect(() => makeOutProof({ txid, txKey: new Uint8Array(33), viewKey, message: "m" })).toThrow();
  });
});
