import { readFileSync } from "node:fs";
import { fromHex, toHex, utf8 } from "@conclave/core-common";
import { Fr, commitPolynomial, encodeG1, encodeG2 } from "@conclave/core-common/threshold";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as noble from "@conclave/core-common/tbs";
import type { BlindShare, Note, TbsResult } from "@conclave/core-common/tbs";
import { seededRng, type TbsVectors } from "../../core-common/src/tbs/vectors.js";
import * as fast from "./index.js";

function unwrap<T>(result: TbsResult<T>): T {
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

const vectors = JSON.parse(
  readFileSync(new URL("../../core-common/src/tbs/vectors.json", import.meta.url), "utf8"),
) as TbsVectors;
const secretShares = vectors.secretShares.map((hex) => BigInt(`0x${hex}`));
const publicKeyShares = vectors.publicKeyShares.map(fromHex);
const aggregatePublicKey = fromHex(vectors.aggregatePublicKey);
const blindedMessage = fromHex(vectors.blindedMessage);
const blindingKey = BigInt(`0x${vectors.blindingKey}`);
const nonce = fromHex(vectors.nonce);

describe("test vectors: blst and noble agree on every value", () => {
  it("uses the same domain tag", () => {
    expect(vectors.dst).toBe(noble.TBS_DST);
  });

  it("hashes the nonce", () => {
    expect(toHex(fast.hashNoteBytes(nonce))).toBe(vectors.hashedNonce);
    expect(toHex(encodeG1(fast.hashNote(nonce)))).toBe(vectors.hashedNonce);
    expect(fast.hashNote(nonce).equals(noble.hashNote(nonce))).toBe(true);
  });

  it("makes each guardian's blind share, and each verifies with both", () => {
    secretShares.forEach((secret, i) => {
      const share = unwrap(fast.signBlindShare(secret, blindedMessage));
      expect(toHex(share)).toBe(vectors.blindShares[i]);
      expect(toHex(share)).toBe(toHex(unwrap(noble.signBlindShare(secret, blindedMessage))));
      expect(fast.verifyBlindShare(publicKeyShares[i]!, blindedMessage, share)).toBe(true);
      expect(noble.verifyBlindShare(publicKeyShares[i]!, blindedMessage, share)).toBe(true);
      const other = publicKeyShares[(i + 1) % publicKeyShares.length]!;
      expect(fast.verifyBlindShare(other, blindedMessage, share)).toBe(false);
    });
  });

  it("combines, unblinds and verifies the note signature", () => {
    const shares: BlindShare[] = vectors.signers.map((guardian) => ({
      guardian,
      share: fromHex(vectors.blindShares[guardian]!),
    }));
    const combined = unwrap(fast.combineBlindShares(vectors.t, shares));
    expect(toHex(combined)).toBe(vectors.blindSignature);
    const signature = unwrap(fast.unblind(combined, blindingKey));
    expect(toHex(signature)).toBe(vectors.signature);
    expect(fast.verifyNote(aggregatePublicKey, nonce, signature)).toBe(true);
    expect(noble.verifyNote(aggregatePublicKey, nonce, signature)).toBe(true);
    expect(fast.verifyNote(aggregatePublicKey, utf8.encode("other"), signature)).toBe(false);
    // Unblinding first, then combining, gives the same signature.
    const unblinded = shares.map(({ guardian, share }) => ({
      guardian,
      share: unwrap(fast.unblind(share, blindingKey)),
    }));
    expect(toHex(unwrap(fast.combineBlindShares(vectors.t, [...unblinded].reverse())))).toBe(
      vectors.signature,
    );
  });
});

describe("random inputs: blst and noble agree", () => {
  const scalar = fc.bigInt({ min: 1n, max: Fr.ORDER - 1n });

  it("on hashes, blind shares, unblinding and share verification", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), scalar, scalar, (msg, secret, r) => {
        const hashed = fast.hashNoteBytes(msg);
        expect(toHex(hashed)).toBe(toHex(encodeG1(noble.hashNote(msg))));
        const blinded = encodeG1(noble.hashNote(msg).multiply(r));
        const shareFast = unwrap(fast.signBlindShare(secret, blinded));
        const shareNoble = unwrap(noble.signBlindShare(secret, blinded));
        expect(toHex(shareFast)).toBe(toHex(shareNoble));
        expect(toHex(unwrap(fast.unblind(shareFast, r)))).toBe(toHex(unwrap(noble.unblind(shareNoble, r))));
        // A share made by one implementation verifies with the other.
        const publicKey = encodeG2(commitPolynomial([secret])[0]!);
        expect(noble.verifyBlindShare(publicKey, blinded, shareFast)).toBe(true);
        expect(fast.verifyBlindShare(publicKey, blinded, shareNoble)).toBe(true);
        expect(fast.verifyBlindShare(publicKey, blinded, hashed)).toBe(
          noble.verifyBlindShare(publicKey, blinded, hashed),
        );
      }),
      { numRuns: 4, seed: 7 },
    );
  });
});

/** A note signed by the vector federation: guardians 0, 1 and 3 sign H(nonce) unblinded. */
function signNote(message: Uint8Array): Note {
  const hashed = fast.hashNoteBytes(message);
  const shares = vectors.signers.map((guardian) => ({
    guardian,
    share: unwrap(fast.signBlindShare(secretShares[guardian]!, hashed)),
  }));
  return { nonce: message, signature: unwrap(fast.combineBlindShares(vectors.t, shares)) };
}

describe("batch verification", () => {
  const notes = Array.from({ length: 8 }, (_, i) => signNote(utf8.encode(`note ${i}`)));

  it("accepts 8 good notes, like noble", () => {
    expect(fast.verifyNotesBatch(aggregatePublicKey, notes, seededRng("batch/1"))).toBe(true);
    expect(noble.verifyNotesBatch(aggregatePublicKey, notes, seededRng("batch/1"))).toBe(true);
    expect(fast.findBadNotes(aggregatePublicKey, notes, seededRng("batch/2"))).toEqual([]);
  });

  it("rejects a batch with one bad note, and findBadNotes names it", () => {
    const bad = [...notes];
    bad[5] = { nonce: notes[5]!.nonce, signature: notes[6]!.signature };
    expect(fast.verifyNotesBatch(aggregatePublicKey, bad, seededRng("batch/3"))).toBe(false);
    expect(noble.verifyNotesBatch(aggregatePublicKey, bad, seededRng("batch/3"))).toBe(false);
    expect(fast.findBadNotes(aggregatePublicKey, bad, seededRng("batch/4"))).toEqual([5]);
    expect(noble.findBadNotes(aggregatePublicKey, bad, seededRng("batch/4"))).toEqual([5]);
  });

  it("rejects swapped signatures that sum correctly only without coefficients", () => {
    const swapped = [...notes];
    swapped[0] = { nonce: notes[0]!.nonce, signature: notes[1]!.signature };
    swapped[1] = { nonce: notes[1]!.nonce, signature: notes[0]!.signature };
    expect(fast.verifyNotesBatch(aggregatePublicKey, swapped, seededRng("batch/5"))).toBe(false);
    expect(fast.findBadNotes(aggregatePublicKey, swapped, seededRng("batch/5"))).toEqual([0, 1]);
  });

  it("handles the empty batch, a single note, malformed signatures and keys without throwing", () => {
    expect(fast.verifyNotesBatch(aggregatePublicKey, [], seededRng("batch/6"))).toBe(true);
    expect(fast.verifyNotesBatch(aggregatePublicKey, [notes[0]!], seededRng("batch/6"))).toBe(true);
    const malformed = [notes[0]!, { nonce: notes[1]!.nonce, signature: new Uint8Array(47) }];
    expect(fast.verifyNotesBatch(aggregatePublicKey, malformed, seededRng("batch/7"))).toBe(false);
    expect(fast.findBadNotes(aggregatePublicKey, malformed, seededRng("batch/7"))).toEqual([1]);
    expect(fast.verifyNotesBatch(new Uint8Array(96), notes, seededRng("batch/8"))).toBe(false);
  });

  it("throws, like noble, when the rng returns the wrong number of bytes", () => {
    const shortRng = (): Uint8Array => new Uint8Array(4);
    expect(() => fast.verifyNotesBatch(aggregatePublicKey, notes, shortRng)).toThrow(/rng returned/);
  });
});

describe("malformed input is rejected the same way as noble", () => {
  const base = fromHex(vectors.hashedNonce);
  const g2 = aggregatePublicKey;

  function withFirstByte(bytes: Uint8Array, first: number): Uint8Array {
    const out = Uint8Array.from(bytes);
    out[0] = first;
    return out;
  }

  function small(length: number, first: number, last: number): Uint8Array {
    const out = new Uint8Array(length);
    out[0] = first;
    out[length - 1] = last;
    return out;
  }

  const g1Cases: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["short", base.subarray(0, 47)],
    ["long", new Uint8Array([...base, 0])],
    ["uncompressed length", new Uint8Array(96)],
    ["all zero", new Uint8Array(48)],
    ["infinity", small(48, 0xc0, 0)],
    ["infinity with sort flag", small(48, 0xe0, 0)],
    ["infinity with a non-zero x", small(48, 0xc0, 1)],
    ["no compression flag", withFirstByte(base, base[0]! & 0x7f)],
    ["infinity flag on a point", withFirstByte(base, base[0]! | 0x40)],
    ["sort flag flipped", withFirstByte(base, base[0]! ^ 0x20)],
    ["x >= p", withFirstByte(new Uint8Array(48).fill(0xff), 0x9f)],
    ["all ones", new Uint8Array(48).fill(0xff)],
  ];
  for (let x = 1; x < 12; x++) g1Cases.push([`x = ${x}`, small(48, 0x80, x)]);
  for (let x = 1; x < 6; x++) g1Cases.push([`x = ${x}, sorted`, small(48, 0xa0, x)]);

  it("has off-curve and out-of-subgroup cases among them", () => {
    const codes = new Set(
      g1Cases.map(([, bytes]) => {
        const result = noble.signBlindShare(5n, bytes);
        return result.ok ? "ok" : result.error.code;
      }),
    );
    expect([...codes].sort()).toEqual(
      expect.arrayContaining([
        "point-at-infinity",
        "point-encoding",
        "point-length",
        "point-not-in-subgroup",
        "point-not-on-curve",
      ]),
    );
  });

  function code<T>(result: TbsResult<T>): string {
    return result.ok ? "ok" : `${result.error.code}/${result.error.guardian ?? "-"}`;
  }

  for (const [name, bytes] of g1Cases) {
    it(`G1 ${name}`, () => {
      expect(code(fast.signBlindShare(secretShares[0]!, bytes))).toBe(
        code(noble.signBlindShare(secretShares[0]!, bytes)),
      );
      expect(code(fast.unblind(bytes, 5n))).toBe(code(noble.unblind(bytes, 5n)));
      const shares = [{ guardian: 2, share: bytes }];
      expect(code(fast.combineBlindShares(1, shares))).toBe(code(noble.combineBlindShares(1, shares)));
      const verdicts = [
        fast.verifyBlindShare(publicKeyShares[0]!, bytes, base),
        fast.verifyBlindShare(publicKeyShares[0]!, base, bytes),
        fast.verifyNote(aggregatePublicKey, nonce, bytes),
        fast.verifyNotesBatch(aggregatePublicKey, [{ nonce, signature: bytes }], seededRng("m")),
      ];
      expect(verdicts).toEqual([
        noble.verifyBlindShare(publicKeyShares[0]!, bytes, base),
        noble.verifyBlindShare(publicKeyShares[0]!, base, bytes),
        noble.verifyNote(aggregatePublicKey, nonce, bytes),
        noble.verifyNotesBatch(aggregatePublicKey, [{ nonce, signature: bytes }], seededRng("m")),
      ]);
    });
  }

  const g2Cases: [string, Uint8Array][] = [
    ["short", g2.subarray(1)],
    ["G1-sized", base],
    ["all zero", new Uint8Array(96)],
    ["infinity", small(96, 0xc0, 0)],
    ["infinity with a non-zero x", small(96, 0xc0, 1)],
    ["no compression flag", withFirstByte(g2, g2[0]! & 0x7f)],
    ["sort flag flipped", withFirstByte(g2, g2[0]! ^ 0x20)],
    ["x >= p", withFirstByte(new Uint8Array(96).fill(0xff), 0x9f)],
  ];
  for (let x = 1; x < 6; x++) g2Cases.push([`x = ${x}`, small(96, 0x80, x)]);

  for (const [name, bytes] of g2Cases) {
    it(`G2 ${name} as a key`, () => {
      const signature = fromHex(vectors.signature);
      const share = fromHex(vectors.blindShares[0]!);
      expect([
        fast.verifyNote(bytes, nonce, signature),
        fast.verifyBlindShare(bytes, blindedMessage, share),
        fast.verifyNotesBatch(bytes, [{ nonce, signature }], seededRng("k")),
      ]).toEqual([
        noble.verifyNote(bytes, nonce, signature),
        noble.verifyBlindShare(bytes, blindedMessage, share),
        noble.verifyNotesBatch(bytes, [{ nonce, signature }], seededRng("k")),
      ]);
    });
  }

  it("random 48-byte strings get the same code from both", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 48, maxLength: 48 }),
        fc.integer({ min: 0, max: 7 }),
        (raw, flags) => {
          const bytes = withFirstByte(raw, (flags << 5) | (raw[0]! & 0x1f));
          expect(code(fast.unblind(bytes, 3n))).toBe(code(noble.unblind(bytes, 3n)));
        },
      ),
      { numRuns: 40, seed: 11 },
    );
  });

  it("rejects bad scalars, thresholds and guardian indices with the same codes", () => {
    for (const s of [0n, -1n, Fr.ORDER, Fr.ORDER + 1n]) {
      expect(code(fast.signBlindShare(s, base))).toBe(code(noble.signBlindShare(s, base)));
      expect(code(fast.unblind(base, s))).toBe(code(noble.unblind(base, s)));
    }
    const share = fromHex(vectors.blindShares[0]!);
    const inputs: [number, BlindShare[]][] = [
      [0, [{ guardian: 0, share }]],
      [1.5, [{ guardian: 0, share }]],
      [1, [{ guardian: -1, share }]],
      [1, [{ guardian: 0x10000, share }]],
      [1, [{ guardian: 0.5, share }]],
      [
        2,
        [
          { guardian: 3, share },
          { guardian: 3, share },
        ],
      ],
      [2, [{ guardian: 3, share }]],
      [1, []],
      [
        2,
        [
          { guardian: 0, share },
          { guardian: 1, share },
        ],
      ],
      // λ = (2, -1) at guardians 0 and 1: shares P and 2P combine to the point at infinity.
      [
        2,
        [
          { guardian: 0, share },
          { guardian: 1, share: unwrap(noble.signBlindShare(2n, share)) },
        ],
      ],
    ];
    const infinity = noble.combineBlindShares(2, inputs[inputs.length - 1]![1]);
    expect(code(infinity)).toBe("point-at-infinity/-");
    for (const [threshold, shares] of inputs) {
      expect(code(fast.combineBlindShares(threshold, shares))).toBe(
        code(noble.combineBlindShares(threshold, shares)),
      );
    }
  });
});

describe("blind and checkG1Point: blst agrees with noble", () => {
  it("blinds a nonce to the same blinding key and blinded message from the same random bytes", () => {
    for (let i = 0; i < 5; i++) {
      const nonce = utf8.encode(`blind-agreement-${i}`);
      const a = fast.blind(nonce, seededRng(`blind-${i}`));
      const b = noble.blind(nonce, seededRng(`blind-${i}`));
      expect(a.blindingKey).toBe(b.blindingKey);
      expect(toHex(a.blindedMessage)).toBe(toHex(b.blindedMessage));
    }
  });

  it("accepts a blinded message and refuses the same bad encodings with the same codes", () => {
    const good = noble.blind(utf8.encode("check"), seededRng("check")).blindedMessage;
    expect(fast.checkG1Point("m", good)).toEqual({ ok: true, value: undefined });
    const flipped = good.slice();
    flipped[47] = flipped[47]! ^ 1;
    for (const bad of [good.subarray(0, 47), new Uint8Array(48), flipped]) {
      const a = fast.checkG1Point("m", bad);
      const b = noble.checkG1Point("m", bad);
      expect(a.ok).toBe(false);
      expect(b.ok).toBe(false);
      if (!a.ok && !b.ok) expect(a.error.code).toBe(b.error.code);
    }
  });

  it("offers both backends behind one interface with the same answers", () => {
    expect(fast.blstTbs.name).toBe("blst");
    expect(noble.nobleTbs.name).toBe("noble");
    const nonce = utf8.encode("iface");
    const b1 = fast.blstTbs.blind(nonce, seededRng("iface"));
    const b2 = noble.nobleTbs.blind(nonce, seededRng("iface"));
    const s1 = fast.blstTbs.signBlindShare(7n, b1.blindedMessage);
    const s2 = noble.nobleTbs.signBlindShare(7n, b2.blindedMessage);
    expect(s1.ok && s2.ok && toHex(s1.value) === toHex(s2.value)).toBe(true);
  });
});

describe("verifyBlindSharesBatch: one guardian's shares in one check, in both backends", () => {
  const secret = 123456789n;
  const pkShare = encodeG2(commitPolynomial([secret])[0]!);
  const items = [0, 1, 2, 3, 4].map((i) => {
    const blindedMessage = noble.blind(utf8.encode(`share-batch-${i}`), seededRng(`sb-${i}`)).blindedMessage;
    const share = noble.signBlindShare(secret, blindedMessage);
    if (!share.ok) throw new Error(share.error.message);
    return { blindedMessage, blindShare: share.value };
  });
  const backends = [noble.nobleTbs, fast.blstTbs];

  it("accepts a guardian's honest shares, one or many, and an empty set", () => {
    for (const b of backends) {
      expect(b.verifyBlindSharesBatch(pkShare, items, seededRng("c"))).toBe(true);
      expect(b.verifyBlindSharesBatch(pkShare, items.slice(0, 1), seededRng("c"))).toBe(true);
      expect(b.verifyBlindSharesBatch(pkShare, [], seededRng("c"))).toBe(true);
    }
  });

  it("refuses a set with one share for the wrong message, a share by another key, or a malformed point", () => {
    const swapped = [...items];
    swapped[3] = { ...items[3]!, blindShare: items[2]!.blindShare };
    const otherKey = encodeG2(commitPolynomial([secret + 1n])[0]!);
    const broken = [...items];
    broken[1] = { ...items[1]!, blindShare: new Uint8Array(48) };
    for (const b of backends) {
      expect(b.verifyBlindSharesBatch(pkShare, swapped, seededRng("c"))).toBe(false);
      expect(b.verifyBlindSharesBatch(otherKey, items, seededRng("c"))).toBe(false);
      expect(b.verifyBlindSharesBatch(pkShare, broken, seededRng("c"))).toBe(false);
      // The one-by-one check then finds exactly the bad share.
      expect(swapped.map((x) => b.verifyBlindShare(pkShare, x.blindedMessage, x.blindShare))).toEqual([
        true,
        true,
        true,
        false,
        true,
      ]);
    }
  });
});

describe("verifyKeyedNotesBatch: notes of several denominations in one multi-pairing, both backends", () => {
  const secrets = [11n, 22n, 33n];
  const keys = secrets.map((s) => encodeG2(commitPolynomial([s])[0]!));
  const notes = [0, 1, 2, 3, 4, 5].map((i) => {
    const k = i % 3;
    const nonce = utf8.encode(`keyed-${i}`);
    const b = noble.blind(nonce, seededRng(`keyed-${i}`));
    const share = noble.signBlindShare(secrets[k]!, b.blindedMessage);
    if (!share.ok) throw new Error(share.error.message);
    const sig = noble.unblind(share.value, b.blindingKey);
    if (!sig.ok) throw new Error(sig.error.message);
    return { publicKey: keys[k]!, nonce, signature: sig.value };
  });
  const backends = [noble.nobleTbs, fast.blstTbs];

  it("accepts valid notes under three keys, a single note, and an empty set", () => {
    for (const b of backends) {
      expect(b.verifyKeyedNotesBatch(notes, seededRng("k"))).toBe(true);
      expect(b.verifyKeyedNotesBatch(notes.slice(2, 3), seededRng("k"))).toBe(true);
      expect(b.verifyKeyedNotesBatch([], seededRng("k"))).toBe(true);
      expect(b.findBadKeyedNotes(notes, seededRng("k"))).toEqual([]);
    }
  });

  it("refuses a note presented under another denomination's key and names it; malformed input is false", () => {
    const relabelled = notes.map((n, i) => (i === 4 ? { ...n, publicKey: keys[0]! } : n));
    const broken = notes.map((n, i) => (i === 1 ? { ...n, signature: new Uint8Array(48) } : n));
    const badKey = notes.map((n, i) => (i === 0 ? { ...n, publicKey: new Uint8Array(96) } : n));
    for (const b of backends) {
      expect(b.verifyKeyedNotesBatch(relabelled, seededRng("k"))).toBe(false);
      expect(b.findBadKeyedNotes(relabelled, seededRng("k"))).toEqual([4]);
      expect(b.verifyKeyedNotesBatch(broken, seededRng("k"))).toBe(false);
      expect(b.findBadKeyedNotes(broken, seededRng("k"))).toEqual([1]);
      expect(b.verifyKeyedNotesBatch(badKey, seededRng("k"))).toBe(false);
    }
  });
});
