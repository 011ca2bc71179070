// Mailbox items: sealed to one inbox, padded to a size class, signed by the sender inside.
import { describe, expect, it } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  ITEM_BUCKETS_BYTES,
  LETTER_BODY_BYTES_MAX,
  MailboxFormatError,
  openItem,
  sealItem,
} from "./mailbox.js";
import type { Letter } from "./mailbox.js";

const seed = (b: number) => new Uint8Array(32).fill(b);
const alice = seed(1);
const bob = seed(2);
const letter = (body: Uint8Array): Letter => ({
  sender: ed25519.getPublicKey(alice),
  messageId: new Uint8Array(16).fill(3),
  sentAtMs: 1_700_000_000_000,
  kind: "text",
  writtenTo: [0, 2, 3],
  body,
});

describe("mailbox items", () => {
  it("opens for the recipient only, with the sender, time and guardians it was written to", async () => {
    const item = await sealItem(ed25519.getPublicKey(bob), alice, letter(new Uint8Array([1, 2, 3])));
    const opened = await openItem(bob, item);
    expect(opened).toEqual(letter(new Uint8Array([1, 2, 3])));
    await expect(openItem(seed(9), item)).rejects.toBeInstanceOf(MailboxFormatError);
  });

  it("pads every item to a size class: the body's length shows only as one of five sizes", async () => {
    const sizes = [];
    for (const n of [0, 300, 301, 900, 2000, 4000, LETTER_BODY_BYTES_MAX])
      sizes.push((await sealItem(ed25519.getPublicKey(bob), alice, letter(new Uint8Array(n)))).length);
    expect(sizes.every((s) => (ITEM_BUCKETS_BYTES as readonly number[]).includes(s))).toBe(true);
    expect(sizes[sizes.length - 1]).toBe(8192);
    await expect(
      sealItem(ed25519.getPublicKey(bob), alice, letter(new Uint8Array(LETTER_BODY_BYTES_MAX + 1))),
    ).rejects.toThrow(RangeError);
  });

  it("refuses a changed byte, a cut item and a letter whose sender signature is another key's", async () => {
    const item = await sealItem(ed25519.getPublicKey(bob), alice, letter(new Uint8Array(5)));
    const flipped = item.slice();
    flipped[100]! ^= 1;
    await expect(openItem(bob, flipped)).rejects.toThrow(/does not open/);
    await expect(openItem(bob, item.subarray(0, 500))).rejects.toThrow(/one of/);
    // Mallory signs a letter that claims Alice as its sender.
    const forged = await sealItem(ed25519.getPublicKey(bob), seed(7), letter(new Uint8Array(5)));
    await expect(openItem(bob, forged)).rejects.toThrow(/signature does not verify/);
  });
});
