// Reading a Monero transaction's key images from its serialized prefix (tx-inputs.ts). The layout is
// checked against a real regtest transaction in own-transaction-regtest.test.ts (the payout's key
// images are those of the federation wallet's outputs); here, hand-built prefixes and hostile bytes.
import { describe, expect, it } from "vitest";
import { TxParseError, txKeyImages } from "./tx-inputs.js";

const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
const image = (b: number) => new Array<number>(32).fill(b);
const toKey = (offsets: number[], k: number) => [
  0x02,
  ...varint(0),
  ...varint(offsets.length),
  ...offsets.flatMap(varint),
  ...image(k),
];
const hex = (bytes: number[]) => Buffer.from(bytes).toString("hex");

describe("txKeyImages", () => {
  it("reads every input's key image, in order, past multi-byte ring offsets and whatever follows the inputs", () => {
    const tx = [
      ...varint(2), // version
      ...varint(0), // unlock time
      ...varint(2),
      ...toKey([5, 300, 1, 70_000], 0xaa),
      ...toKey([16_384, 2], 0xbb),
      ...varint(1), // outputs (not read)
      0xde,
      0xad,
    ];
    expect(txKeyImages(hex(tx))).toEqual(["aa".repeat(32), "bb".repeat(32)]);
  });

  it("a coinbase spends nothing", () => {
    expect(txKeyImages(hex([...varint(2), ...varint(60), ...varint(1), 0xff, ...varint(123_456)]))).toEqual(
      [],
    );
  });

  it("refuses what no Monero transaction is: cut short, unknown input kinds, absurd counts, not hex", () => {
    const good = [...varint(2), ...varint(0), ...varint(1), ...toKey([1, 2], 0xcc)];
    for (const bad of [
      hex(good.slice(0, -1)), // cut inside the key image
      hex([...varint(2), ...varint(0), ...varint(1), 0x01]), // txin_to_scripthash: never used
      hex([...varint(2), ...varint(0), ...varint(1_000_000)]), // too many inputs
      hex([...varint(2), ...varint(0), ...varint(1), 0x02, 0, ...varint(1_000_000)]), // ring too large
      hex([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80]), // endless varint
      "0g",
      "abc",
    ])
      expect(() => txKeyImages(bad), bad.slice(0, 40)).toThrow(TxParseError);
  });
});
