import { describe, expect, it } from "vitest";
import { toHex } from "@conclave/core-common";
import { nobleTbs } from "@conclave/core-common/tbs";
import { blstTbs } from "@conclave/tbs-native";
import { WalletError, checkMnemonic, federationRoot, newMnemonic } from "@conclave/wallet";
import { WalletKeys } from "./keys.js";

const MNEMONIC = "legal winner thank year wave sausage worth useful legal winner thank yellow";
const FED_A = new Uint8Array(32).fill(0xaa);
const FED_B = new Uint8Array(32).fill(0xbb);

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof WalletError ? e.code : "other";
  }
  return undefined;
}

describe("mnemonic", () => {
  it("generates 12 words by default and 24 on request, both valid", () => {
    const twelve = newMnemonic();
    expect(twelve.split(" ")).toHaveLength(12);
    expect(checkMnemonic(twelve)).toBe(twelve);
    const long = newMnemonic(24);
    expect(long.split(" ")).toHaveLength(24);
    expect(checkMnemonic(long)).toBe(long);
  });

  it("reads a mnemonic typed with capitals and extra spaces", () => {
    expect(checkMnemonic(`  ${MNEMONIC.toUpperCase().replace(/ /g, "   ")}\n`)).toBe(MNEMONIC);
  });

  it("refuses a wrong word count, an unknown word and a bad checksum with invalid_mnemonic", () => {
    const words = MNEMONIC.split(" ");
    expect(codeOf(() => checkMnemonic(words.slice(0, 11).join(" ")))).toBe("invalid_mnemonic");
    expect(codeOf(() => checkMnemonic(""))).toBe("invalid_mnemonic");
    expect(() => checkMnemonic([...words.slice(0, 11), "bitcoinz"].join(" "))).toThrow(
      /word 12 \("bitcoinz"\)/,
    );
    // Swapping two words keeps every word valid but breaks the checksum.
    const swapped = [words[1]!, words[0]!, ...words.slice(2)].join(" ");
    expect(() => checkMnemonic(swapped)).toThrow(/checksum/);
    expect(codeOf(() => checkMnemonic(swapped))).toBe("invalid_mnemonic");
  });
});

describe("derivation", () => {
  it("is deterministic: the same mnemonic and federation give the same root and note secrets (pinned vector)", async () => {
    const a = await federationRoot(MNEMONIC, FED_A);
    const b = await federationRoot(MNEMONIC, FED_A);
    expect(toHex(a)).toBe(toHex(b));
    const keys = new WalletKeys(a);
    expect(toHex(keys.spendSeed(7))).toBe(toHex(new WalletKeys(b).spendSeed(7)));
    // Pinned: a change of any label or rule breaks every existing wallet's restore.
    expect(toHex(a)).toMatchInlineSnapshot(
      `"702134d5675ead327e6eb2157fdbfa96dd2ba9cbfd4c5cf63d045620fc88db70"`,
    );
    expect(toHex(keys.spendSeed(0))).toMatchInlineSnapshot(
      `"3e28bc48e3b095028f17037373ecd6822bff734e048ba46d17f82d68aba438f3"`,
    );
    expect(toHex(keys.backupKey)).toMatchInlineSnapshot(
      `"f374cc150b31e85c61689eabe3f5eb82d854e2780f7c8a1fff9e83c4eb4addb6"`,
    );
  });

  it("separates federations: one mnemonic gives unrelated roots and keys per federation", async () => {
    const a = new WalletKeys(await federationRoot(MNEMONIC, FED_A));
    const b = new WalletKeys(await federationRoot(MNEMONIC, FED_B));
    expect(toHex(a.spendSeed(0))).not.toBe(toHex(b.spendSeed(0)));
    expect(toHex(a.backupKey)).not.toBe(toHex(b.backupKey));
    expect(toHex(a.backupIdSeed)).not.toBe(toHex(b.backupIdSeed));
  });

  it("gives every note index its own spend seed and blinding key, and separates key purposes", async () => {
    const keys = new WalletKeys(await federationRoot(MNEMONIC, FED_A));
    const seeds = new Set(Array.from({ length: 50 }, (_, i) => toHex(keys.spendSeed(i))));
    expect(seeds.size).toBe(50);
    const blinds = new Set(Array.from({ length: 50 }, (_, i) => toHex(keys.blindingRng(i)(48))));
    expect(blinds.size).toBe(50);
    expect(seeds.has(toHex(keys.backupKey))).toBe(false);
    expect(toHex(keys.backupKey)).not.toBe(toHex(keys.backupIdSeed));
  });

  it("gives every deposit claim index its own claim seed, apart from the note seeds", async () => {
    const keys = new WalletKeys(await federationRoot(MNEMONIC, FED_A));
    const claims = new Set(Array.from({ length: 50 }, (_, i) => toHex(keys.claimSeed(i))));
    expect(claims.size).toBe(50);
    const notes = new Set(Array.from({ length: 50 }, (_, i) => toHex(keys.spendSeed(i))));
    for (const c of claims) expect(notes.has(c)).toBe(false);
    // Deterministic: the same mnemonic re-derives the key a deposit is bound to.
    const again = new WalletKeys(await federationRoot(MNEMONIC, FED_A));
    expect(toHex(again.claimSeed(7))).toBe(toHex(keys.claimSeed(7)));
  });

  it("blinds note i to the same blinding key and blinded message with noble and blst", async () => {
    const keys = new WalletKeys(await federationRoot(MNEMONIC, FED_A));
    for (const i of [0, 1, 99]) {
      const nonce = keys.spendSeed(i); // any 32 bytes will do as a nonce here
      const a = nobleTbs.blind(nonce, keys.blindingRng(i));
      const b = blstTbs.blind(nonce, keys.blindingRng(i));
      expect(a.blindingKey).toBe(b.blindingKey);
      expect(a.blindingKey).toBeGreaterThan(0n);
      expect(toHex(a.blindedMessage)).toBe(toHex(b.blindedMessage));
    }
  });

  it("refuses note indexes outside 0..2^32-1", async () => {
    const keys = new WalletKeys(await federationRoot(MNEMONIC, FED_A));
    expect(() => keys.spendSeed(-1)).toThrow(RangeError);
    expect(() => keys.spendSeed(2 ** 32)).toThrow(RangeError);
  });
});
