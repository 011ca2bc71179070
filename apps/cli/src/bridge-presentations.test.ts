// `bridge-refund --find`'s lines for a refund key others flooded with decoy mints (threat model 12zf).
import { describe, expect, it } from "vitest";
import { foundMintsLines } from "./bridge-presentations.js";

const mint = (txid: string, known: boolean) => ({
  txid: txid.repeat(64),
  output: 0,
  recipient: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as const,
  amount: 125_000_000_000n,
  refundIndex: 0,
  known,
});

describe("bridge-refund --find lines", () => {
  it("says how many mints a flooded refund key has, and whether it is full; an unflooded key gets no such line", () => {
    const flooded = foundMintsLines(
      {
        mints: [mint("a", false), mint("b", false), mint("c", false)],
        flooded: [{ refundIndex: 0, entries: 3, full: false }],
        keysScanned: 21,
      },
      "",
    );
    expect(flooded.filter((l) => l.startsWith("Refund key 0 is named by 3 mints: "))).toHaveLength(1);
    expect(flooded.join("\n")).toContain(`${"a".repeat(64)}:0`);
    const full = foundMintsLines(
      {
        mints: [mint("a", false)],
        flooded: [{ refundIndex: 4, entries: 16_384, full: true }],
        keysScanned: 25,
      },
      "",
    );
    expect(full.join("\n")).toContain(
      "Refund key 4 is named by 16384 mints (the most one key lists: further ones are refused)",
    );
    const plain = foundMintsLines({ mints: [mint("a", true)], flooded: [], keysScanned: 21 }, "");
    expect(plain.some((l) => l.startsWith("Refund key"))).toBe(false);
  });
});
