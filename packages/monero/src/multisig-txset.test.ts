// readMultisigTxSetKeyImages on sets made here the way wallet2 makes them (save_multisig_tx: magic,
// iv, chacha20 under cn_slow_hash of the view key, the view key's signature), and on crafted and
// mutated ones: anything but a well-formed single-transaction set under the right view key gives a
// MoneroMultisigError, quickly, never another exception. The real sets (monero-wallet-rpc's own) are
// read in testing/monero/src/multisig-txset-regtest.test.ts.
import { chacha20orig } from "@noble/ciphers/chacha.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MoneroMultisigError } from "./errors.js";
import {
  MULTISIG_TXSET_MAGIC,
  multisigTxSetChachaKey,
  openMultisigTxSet,
  readMultisigTxSetArchiveKeyImages,
  readMultisigTxSetKeyImages,
  sealMultisigTxSet,
} from "./multisig-txset.js";
import { ED25519_ORDER, hashToScalar } from "./tx-proof.js";

const le = (v: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
};
const big = (b: Uint8Array): bigint => b.reduceRight((v, x) => (v << 8n) | BigInt(x), 0n);
const mod = (v: bigint): bigint => ((v % ED25519_ORDER) + ED25519_ORDER) % ED25519_ORDER;

/** Two real sets of monero-wallet-rpc 0.18.0.0 (see the file's "comment"): 17 KB of hex each. */
const REAL = JSON.parse(
  readFileSync(new URL("./fixtures/multisig-txset-3of4.json", import.meta.url), "utf8"),
) as {
  viewKey: string;
  otherViewKey: string;
  keyImages: string[];
  txset: string;
  signedTxset: string;
};

const VIEW = le(123456789012345678901234567890n);
const VIEW_HEX = bytesToHex(VIEW);
const VIEW_BYTES_REAL = Uint8Array.from(Buffer.from(REAL.viewKey, "hex"));
const OTHER_VIEW_HEX = bytesToHex(le(987654321n));

function varint(v: bigint | number): number[] {
  let x = BigInt(v);
  const out: number[] = [];
  do {
    const b = Number(x & 0x7fn);
    x >>= 7n;
    out.push(x > 0n ? b | 0x80 : b);
  } while (x > 0n);
  return out;
}

/** crypto::generate_signature(hash, pub, sec): k·G, c = Hs(hash || pub || k·G), r = k − c·sec. */
function sign(hash: Uint8Array, sec: Uint8Array): Uint8Array {
  const s = big(sec);
  const pub = ed25519.Point.BASE.multiply(s).toBytes();
  const k = mod(big(ed25519.utils.randomSecretKey())) || 1n;
  const comm = ed25519.Point.BASE.multiply(k).toBytes();
  const buf = new Uint8Array(96);
  buf.set(hash, 0);
  buf.set(pub, 32);
  buf.set(comm, 64);
  const c = hashToScalar(buf);
  const out = new Uint8Array(64);
  out.set(le(c), 0);
  out.set(le(mod(k - c * s)), 32);
  return out;
}

/** wallet2::save_multisig_tx's envelope around a plaintext archive, as hex. */
function seal(plaintext: Uint8Array, view: Uint8Array = VIEW): string {
  const iv = ed25519.utils.randomSecretKey().subarray(0, 8);
  const body = chacha20orig(multisigTxSetChachaKey(view), iv, plaintext);
  const signed = new Uint8Array(8 + body.length);
  signed.set(iv, 0);
  signed.set(body, 8);
  const magic = new TextEncoder().encode(MULTISIG_TXSET_MAGIC);
  return bytesToHex(new Uint8Array([...magic, ...signed, ...sign(keccak_256(signed), view)]));
}

const KI = [0x11, 0x22, 0x33].map((b) => new Uint8Array(32).fill(b));

/** A plaintext multisig_tx_set up to the inputs (and some bytes after them, as a real one has). */
function archive(args: {
  ptx?: number | bigint;
  ptxVersion?: number;
  txVersion?: number;
  inputs?: number[][];
  keyImages?: Uint8Array[];
}): Uint8Array {
  const keyImages = args.keyImages ?? KI.slice(0, 2);
  const vin: number[] = [];
  keyImages.forEach((ki, i) => {
    vin.push(
      ...(args.inputs?.[i] ?? [
        0x02,
        ...varint(0),
        ...varint(3),
        ...varint(1000),
        ...varint(7),
        ...varint(2),
      ]),
    );
    vin.push(...ki);
  });
  return new Uint8Array([
    ...varint(args.ptx ?? 1),
    ...varint(args.ptxVersion ?? 1),
    ...varint(args.txVersion ?? 2),
    ...varint(0), // unlock_time
    ...varint(keyImages.length),
    ...vin,
    ...varint(2), // vout count, and some of what follows
    ...new Uint8Array(80).fill(0x5a),
  ]);
}

function refusal(txset: string, view = VIEW_HEX): string {
  try {
    readMultisigTxSetKeyImages(txset, view);
  } catch (e) {
    if (e instanceof MoneroMultisigError) return e.message;
    throw e;
  }
  throw new Error("the set was read");
}

/** The plaintext archive of a real set (decrypted here as wallet2::decrypt does, minus the signature). */
function realPlaintext(txset: string): Uint8Array {
  const b = Uint8Array.from(Buffer.from(txset, "hex"));
  const ct = b.subarray(MULTISIG_TXSET_MAGIC.length);
  const key = multisigTxSetChachaKey(Uint8Array.from(Buffer.from(REAL.viewKey, "hex")));
  return chacha20orig(key, ct.subarray(0, 8), ct.subarray(8, ct.length - 64));
}

describe("readMultisigTxSetKeyImages on real sets", () => {
  it("reads transfer's spent_key_images from the creator's set and from the set after sign_multisig", () => {
    expect(readMultisigTxSetKeyImages(REAL.txset, REAL.viewKey)).toEqual([REAL.keyImages]);
    expect(readMultisigTxSetKeyImages(REAL.signedTxset, REAL.viewKey)).toEqual([REAL.keyImages]);
    expect(readMultisigTxSetKeyImages(REAL.txset.toUpperCase(), REAL.viewKey.toUpperCase())).toEqual([
      REAL.keyImages,
    ]);
  });

  it("openMultisigTxSet gives their archive; sealMultisigTxSet seals it again as wallet2 does", () => {
    const plain = openMultisigTxSet(REAL.txset, REAL.viewKey);
    expect(plain).toEqual(realPlaintext(REAL.txset));
    const again = sealMultisigTxSet(plain, REAL.viewKey);
    expect(again).not.toBe(REAL.txset); // a fresh iv and signature nonce
    expect(again.length).toBe(REAL.txset.length);
    expect(openMultisigTxSet(again, REAL.viewKey)).toEqual(plain);
    expect(readMultisigTxSetKeyImages(again, REAL.viewKey)).toEqual([REAL.keyImages]);
    expect(() => openMultisigTxSet(again, REAL.otherViewKey)).toThrow(MoneroMultisigError);
    // The test's own sealing (its own signature code) and the library's open each other's sets.
    expect(openMultisigTxSet(seal(plain, VIEW_BYTES_REAL), REAL.viewKey)).toEqual(plain);
  });

  it("refuses them under another wallet's view key", () => {
    expect(refusal(REAL.txset, REAL.otherViewKey)).toMatch(/not encrypted with this wallet's view key/);
    expect(refusal(REAL.signedTxset, REAL.otherViewKey)).toMatch(/not encrypted with this wallet's view key/);
  });

  it("a real set's archive is what the reader expects: one pending_tx of version 1, a version-2 transaction", () => {
    const plain = realPlaintext(REAL.txset);
    expect([...plain.subarray(0, 5)]).toEqual([1, 1, 2, 0, REAL.keyImages.length]);
    // Re-sealed under the test's key it reads the same: the parser sees the real bytes.
    expect(readMultisigTxSetKeyImages(seal(plain), VIEW_HEX)).toEqual([REAL.keyImages]);
  });
});

describe("readMultisigTxSetKeyImages", () => {
  it("reads the construction data's sources (what wallet2 signs) and refuses a tx.vin that differs from them", () => {
    const plain = realPlaintext(REAL.txset);
    const ki0 = Buffer.from(REAL.keyImages[0]!, "hex");
    const ki1 = Buffer.from(REAL.keyImages[1]!, "hex");
    const inVin = Buffer.from(plain).indexOf(ki0); // tx.vin comes first
    const inSources = Buffer.from(plain).lastIndexOf(ki0); // the source's multisig_kLRki.ki
    expect(inVin).toBeGreaterThan(0);
    expect(inSources).toBeGreaterThan(inVin);
    const edit = (at: readonly number[], bytes: Uint8Array): Uint8Array => {
      const out = Uint8Array.from(plain);
      for (const i of at) out.set(bytes, i);
      return out;
    };
    const fake = new Uint8Array(32).fill(0xff); // sorts first, as ki0 does
    // A Byzantine sender edits tx.vin alone: what wallet2 would sign differs from what the set shows.
    expect(() => readMultisigTxSetArchiveKeyImages(edit([inVin], fake))).toThrow(
      /construction data's sources/,
    );
    // ... or the sources alone.
    expect(() => readMultisigTxSetArchiveKeyImages(edit([inSources], fake))).toThrow(
      /construction data's sources/,
    );
    // ... or swaps tx.vin's order (wallet2 signs the sources sorted by key image, descending).
    const inVin1 = Buffer.from(plain).indexOf(ki1);
    expect(inVin1).toBeGreaterThan(inVin);
    const vinSwapped = edit([inVin], ki1);
    vinSwapped.set(ki0, inVin1);
    expect(() => readMultisigTxSetArchiveKeyImages(vinSwapped)).toThrow(/construction data's sources/);
    // Both edited alike: a consistent set of other inputs, read as such (the signer compares with the names).
    expect(readMultisigTxSetArchiveKeyImages(edit([inVin, inSources], fake))).toEqual([
      [bytesToHex(fake), REAL.keyImages[1]],
    ]);
    // The same through the envelope, sealed by the test's own code.
    expect(refusal(seal(edit([inVin], fake), VIEW_BYTES_REAL), REAL.viewKey)).toMatch(
      /construction data's sources/,
    );
  });

  it("refuses a transaction of another version than RingCT's (2)", () => {
    const plain = realPlaintext(REAL.txset);
    const v1 = Uint8Array.from(plain);
    v1[2] = 1; // the transaction's version (after the count and the pending_tx's version)
    expect(() => readMultisigTxSetArchiveKeyImages(v1)).toThrow(/transaction version 1, not 2/);
  });

  it("refuses a RingCT type other than Bulletproof+ (6)", () => {
    const plain = realPlaintext(REAL.txset);
    // One byte of value 6 in the archive is the RingCT type: as 5 (CLSAG, before the v15 fork) it is refused.
    const hits: string[] = [];
    for (let p = 0; p < plain.length; p++) {
      if (plain[p] !== 6) continue;
      const t = Uint8Array.from(plain);
      t[p] = 5;
      try {
        readMultisigTxSetArchiveKeyImages(t);
      } catch (e) {
        expect(e).toBeInstanceOf(MoneroMultisigError);
        if (/RingCT type 5, not Bulletproof\+/.test((e as Error).message)) hits.push(String(p));
      }
    }
    expect(hits).toHaveLength(1);
  });

  it("refuses a set under another view key: the signature fails, nothing is parsed", () => {
    expect(refusal(seal(archive({})), OTHER_VIEW_HEX)).toMatch(/not encrypted with this wallet's view key/);
    // Encrypted and signed with another key, read with ours.
    expect(refusal(seal(archive({}), le(987654321n)))).toMatch(/not encrypted with this wallet's view key/);
    // A good signature over a changed ciphertext does not hold.
    const good = seal(archive({}));
    const flipped = good.slice(0, 100) + (good[100] === "0" ? "1" : "0") + good.slice(101);
    expect(refusal(flipped)).toMatch(/not encrypted with this wallet's view key/);
  });

  it("refuses what is not a set: bad hex, wrong magic, too short, bad view key", () => {
    const good = seal(archive({}));
    expect(refusal("zz")).toMatch(/not hex/);
    expect(refusal(good.slice(1))).toMatch(/not hex/);
    expect(refusal("")).toMatch(/magic/);
    expect(
      refusal(bytesToHex(new TextEncoder().encode("Monero unsigned tx set\u0004")) + good.slice(64)),
    ).toMatch(/magic/);
    expect(refusal(good.slice(0, 64 + 2 * 71))).toMatch(/fewer than iv and signature/);
    expect(refusal(good, "00".repeat(32))).toMatch(/view key/);
    expect(refusal(good, "ff".repeat(32))).toMatch(/view key/);
    expect(refusal(good, VIEW_HEX.slice(2))).toMatch(/view key/);
    expect(refusal(good, JSON.parse("5") as string)).toMatch(/view key/);
  });

  it("refuses sets of no or several transactions (only single-transaction sets are read)", () => {
    expect(refusal(seal(archive({ ptx: 0 })))).toMatch(/no transaction/);
    expect(refusal(seal(archive({ ptx: 2 })))).toMatch(/holds 2 transactions/);
  });

  it("refuses crafted archives: absurd counts, bad varints, other input types, other versions", () => {
    expect(refusal(seal(archive({ ptx: 2n ** 62n })))).toMatch(/elements of at least/);
    expect(refusal(seal(archive({ txVersion: 3 })))).toMatch(/transaction version 3/);
    expect(refusal(seal(archive({ txVersion: 0 })))).toMatch(/transaction version 0/);
    expect(refusal(seal(archive({ keyImages: [] })))).toMatch(/no input/);
    expect(refusal(seal(new Uint8Array([1, 1, 2, 0, ...varint(2n ** 40n)])))).toMatch(/inputs.*elements/);
    expect(refusal(seal(archive({ inputs: [[0xff, 0]] })))).toMatch(/type 0xff, not txin_to_key/);
    expect(refusal(seal(archive({ inputs: [[0x02, 0, ...varint(2n ** 50n)]] })))).toMatch(
      /key offsets.*elements/,
    );
    // A varint of more than 64 bits, and one with a trailing zero group.
    const tooBig = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
    expect(refusal(seal(new Uint8Array([1, 1, 2, ...tooBig, 1])))).toMatch(/overflows 64 bits/);
    expect(refusal(seal(new Uint8Array([1, 0x80, 0x00, 2])))).toMatch(/trailing zero group/);
    expect(refusal(seal(new Uint8Array([1, 0xff, 0xff, 0xff, 0xff, 0x1f, 2])))).toMatch(/overflows 32 bits/);
    expect(refusal(seal(new Uint8Array([])))).toMatch(/truncated/);
  });

  it("refuses a real archive cut at any byte before the end of its sources, and reads it from there on", () => {
    const plain = realPlaintext(REAL.signedTxset);
    let firstRead = -1;
    for (let n = 0; n <= plain.length; n++) {
      let read = false;
      try {
        expect(readMultisigTxSetArchiveKeyImages(plain.subarray(0, n))).toEqual([REAL.keyImages]);
        read = true;
      } catch (e) {
        expect(e).toBeInstanceOf(MoneroMultisigError);
        expect((e as Error).message).toMatch(/truncated|elements of at least|CLSAG/);
      }
      if (read && firstRead < 0) firstRead = n;
      if (firstRead >= 0) expect(read).toBe(true); // once the sources are whole, every longer cut reads
    }
    // The sources end before the multisig signatures and nonces that follow them.
    expect(firstRead).toBeGreaterThan(plain.length / 2);
    expect(firstRead).toBeLessThan(plain.length);
  });

  it("never throws anything but MoneroMultisigError on random mutations of a real set, and always returns", () => {
    const plain = realPlaintext(REAL.signedTxset);
    const sealed = REAL.signedTxset;
    const view = REAL.viewKey;
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const mutate = (b: Uint8Array): Uint8Array => {
      const out = Uint8Array.from(b);
      switch (rand(4)) {
        case 0: // flip bytes
          for (let k = 0; k <= rand(4); k++) if (out.length > 0) out[rand(out.length)] = rand(256);
          return out;
        case 1: // cut
          return out.subarray(0, rand(out.length + 1));
        case 2: // insert huge varint bytes
          return new Uint8Array([
            ...out.subarray(0, rand(out.length + 1)),
            0xff,
            0xff,
            0xff,
            0x7f,
            ...out.subarray(rand(out.length + 1)),
          ]);
        default: // duplicate a slice
          return new Uint8Array([...out, ...out.subarray(rand(out.length + 1))]);
      }
    };
    const outcomes = { read: 0, refused: 0 };
    const tally = (txset: string): void => {
      try {
        const r = readMultisigTxSetKeyImages(txset, view);
        expect(r).toHaveLength(1);
        for (const ki of r[0]!) expect(ki).toMatch(/^[0-9a-f]{64}$/);
        outcomes.read++;
      } catch (e) {
        expect(e).toBeInstanceOf(MoneroMultisigError);
        outcomes.refused++;
      }
    };
    // Mutated plaintexts, parsed directly (fast, many) and sealed properly (through the envelope).
    for (let i = 0; i < 3000; i++) {
      try {
        const r = readMultisigTxSetArchiveKeyImages(mutate(plain));
        expect(r).toHaveLength(1);
        outcomes.read++;
      } catch (e) {
        expect(e).toBeInstanceOf(MoneroMultisigError);
        outcomes.refused++;
      }
    }
    for (let i = 0; i < 300; i++) tally(seal(mutate(plain), VIEW_BYTES_REAL));
    // Mutated envelopes: the magic, the iv, the ciphertext, the signature.
    const sealedBytes = Uint8Array.from(Buffer.from(sealed, "hex"));
    for (let i = 0; i < 300; i++) tally(bytesToHex(mutate(sealedBytes)));
    expect(outcomes.read + outcomes.refused).toBe(3600);
    expect(outcomes.refused).toBeGreaterThan(300); // most changes of the envelope break its signature
  });
});
