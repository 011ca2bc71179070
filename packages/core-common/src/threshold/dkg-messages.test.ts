import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../bytes.js";
import { CodecError } from "../codec.js";
import {
  DKG_WIRE_VERSION,
  decodeDkgMessage,
  dkgLimits,
  encodeDkgMessage,
  encodePublicPart,
  type DkgMessage,
} from "./dkg-messages.js";
import { Fr } from "./poly.js";

const scalar = fc.bigInt({ min: 0n, max: Fr.ORDER - 1n });
const digest = fc.uint8Array({ minLength: 32, maxLength: 32 });
const echo = fc.array(digest, { minLength: 1, maxLength: 7 });
const indices = fc
  .uniqueArray(fc.integer({ min: 0, max: dkgLimits.guardiansMax - 1 }), { maxLength: 6 })
  .map((a) => a.sort((x, y) => x - y));

const deal = fc
  .record({ keys: fc.integer({ min: 1, max: 3 }), coefficients: fc.integer({ min: 1, max: 3 }) })
  .chain(({ keys, coefficients }) =>
    fc.record({
      kind: fc.constant("deal" as const),
      commitments: fc.array(
        fc.array(fc.uint8Array({ minLength: 96, maxLength: 96 }), {
          minLength: coefficients,
          maxLength: coefficients,
        }),
        { minLength: keys, maxLength: keys },
      ),
      shares: fc.array(scalar, { minLength: keys, maxLength: keys }),
    }),
  );

const answers = fc.tuple(indices, fc.integer({ min: 1, max: 3 })).chain(([complainers, keys]) =>
  fc.tuple(
    ...complainers.map((complainer) =>
      fc.record({
        complainer: fc.constant(complainer),
        shares: fc.array(scalar, { minLength: keys, maxLength: keys }),
      }),
    ),
  ),
);

const message: fc.Arbitrary<DkgMessage> = fc.oneof(
  fc.record({ kind: fc.constant("commit" as const), digest }),
  deal,
  fc.record({ kind: fc.constant("complain" as const), echo, accused: indices }),
  fc.record({ kind: fc.constant("answer" as const), echo, answers }),
  fc.record({ kind: fc.constant("confirm" as const), echo }),
  fc.record({
    kind: fc.constant("abort" as const),
    reason: fc.string({ maxLength: 80 }).map((s) => s.replace(/[^\x20-\x7e]/g, ".")),
  }),
);

function expectCodecError(bytes: Uint8Array): void {
  expect(() => decodeDkgMessage(bytes)).toThrow(CodecError);
}

describe("DKG message codec", () => {
  it("round-trips every message, with one encoding per message", () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encodeDkgMessage(m);
        const decoded = decodeDkgMessage(bytes);
        expect(decoded).toEqual(m);
        expect(toHex(encodeDkgMessage(decoded))).toBe(toHex(bytes));
      }),
    );
  });

  it("refuses every truncation and any trailing byte with a CodecError", () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encodeDkgMessage(m);
        for (let length = 0; length < bytes.length; length++) expectCodecError(bytes.subarray(0, length));
        expectCodecError(new Uint8Array([...bytes, 0]));
      }),
      { numRuns: 30 },
    );
  });

  it("decodes arbitrary bytes only to a message that re-encodes to the same bytes, or a CodecError", () => {
    const prefixed = fc
      .tuple(fc.integer({ min: 1, max: 6 }), fc.uint8Array({ maxLength: 200 }))
      .map(([kind, body]) => new Uint8Array([DKG_WIRE_VERSION, kind, ...body]));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), prefixed), (bytes) => {
        let decoded: DkgMessage;
        try {
          decoded = decodeDkgMessage(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(CodecError);
          return;
        }
        expect(toHex(encodeDkgMessage(decoded))).toBe(toHex(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses non-canonical values: scalars not below r, unsorted indices, unknown kinds, control text", () => {
    const deal = encodeDkgMessage({
      kind: "deal",
      commitments: [[new Uint8Array(96)]],
      shares: [Fr.ORDER - 1n],
    });
    const bigShare = deal.slice();
    bigShare.set(
      Uint8Array.from(Fr.ORDER.toString(16).padStart(64, "0").match(/../g)!, (h) => parseInt(h, 16)),
      bigShare.length - 32,
    );
    expect(() => decodeDkgMessage(bigShare)).toThrow(/group order/);

    const complain = encodeDkgMessage({ kind: "complain", echo: [new Uint8Array(32)], accused: [1, 2] });
    const unsorted = complain.slice();
    unsorted[unsorted.length - 3] = 2;
    unsorted[unsorted.length - 1] = 1;
    expect(() => decodeDkgMessage(unsorted)).toThrow(/strictly increasing/);

    expect(() => decodeDkgMessage(new Uint8Array([DKG_WIRE_VERSION, 9]))).toThrow(/unknown DKG message kind/);
    expect(() => decodeDkgMessage(new Uint8Array([2, 1]))).toThrow(/version/);

    const abort = encodeDkgMessage({ kind: "abort", reason: "ab" });
    abort[abort.length - 1] = 0x0a;
    expect(() => decodeDkgMessage(abort)).toThrow(/printable/);
    expect(() => encodeDkgMessage({ kind: "abort", reason: "line\nbreak" })).toThrow(CodecError);
  });

  it("refuses counts above the limits before reading them", () => {
    const header = [DKG_WIRE_VERSION, 2];
    const keys = [0, 0, 0xff, 0xff];
    expect(() => decodeDkgMessage(new Uint8Array([...header, ...keys, 0, 0, 0, 1]))).toThrow(/exceeds limit/);
  });

  it("bounds the largest message by messageBytesMax", () => {
    const { keysMax, guardiansMax, messageBytesMax } = dkgLimits;
    const largest = encodeDkgMessage({
      kind: "deal",
      commitments: Array.from({ length: keysMax }, () =>
        Array.from({ length: guardiansMax }, () => new Uint8Array(96)),
      ),
      shares: Array.from({ length: keysMax }, () => 0n),
    });
    expect(largest.length).toBe(messageBytesMax);
    expect(decodeDkgMessage(largest).kind).toBe("deal");
    expect(() => decodeDkgMessage(new Uint8Array(messageBytesMax + 1))).toThrow(/exceeds/);
  });

  it("leaves a deal's private shares out of its public part", () => {
    const commitments = [[new Uint8Array(96).fill(1)]];
    const a = encodePublicPart({ kind: "deal", commitments, shares: [1n] });
    const b = encodePublicPart({ kind: "deal", commitments, shares: [2n] });
    expect(toHex(a)).toBe(toHex(b));
    expect(a.length).toBe(encodeDkgMessage({ kind: "deal", commitments, shares: [1n] }).length - 4 - 32);
  });
});
