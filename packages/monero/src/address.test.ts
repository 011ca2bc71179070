import { ed25519 } from "@noble/curves/ed25519.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { describe, expect, it } from "vitest";
import { decodeAddress, encodeAddress, isValidAddress, parseAddress } from "./address.js";
import type { AddressKind, MoneroNetwork } from "./address.js";
import { base58Decode, base58Encode } from "./base58.js";
import { MoneroAddressError } from "./errors.js";

// Real addresses made by monero-wallet-rpc 0.18 (Debian's monero package) on this machine: mainnet
// ones by a wallet-rpc attached to a regtest monerod, testnet and stagenet ones by wallet-rpc
// --testnet / --stagenet --offline. GENERAL_FUND is the Monero project's published donation address.
const REAL: readonly { address: string; network: MoneroNetwork; kind: AddressKind; paymentId?: string }[] = [
  {
    address:
      "43JRJYA2eGXED9pFL4XwPp1fN5MxFJzS8SpLtmKfQQsdjdXYMbW94GCbnsc8YPuyBvNBSiqdkqEZFR68uFPvNSGSD5rrEBW",
    network: "mainnet",
    kind: "standard",
  },
  {
    address:
      "84MGKBT6hxiZ9x16K1z8AFczwdtzp2Ra8bEGqc9sxoUeDr5mrxKtucG5g8PNQJrYi4Unw3dqG8GzAN6mch6WtacbSAypacK",
    network: "mainnet",
    kind: "subaddress",
  },
  {
    address:
      "4K58fUWqAQrKTCPWX1BvKQYtXiUsxaoc31DycGKfvChhXRBnMoAwwKFDe9Yvz2HNAyfQKcPfgN8Yogh5P3Kvjb8HVGZBQ1758mSTyiVAw3",
    network: "mainnet",
    kind: "integrated",
    paymentId: "0123456789abcdef",
  },
  {
    address:
      "9xVvuSR4bqjeBHDSZAPBnb99oDxHqEmadGQe9C4GJtfPUv96GeEKz4edqv85vgsVLz9GpW1Cx55YUEdznHiYvthM6fHJVfp",
    network: "testnet",
    kind: "standard",
  },
  {
    address:
      "Bbwu9zQXzD6GZoi4zo6c3X8bLdjgVsAoxHSAhkF7KjR8APKjv1hR4H97rEZK76qpsEUxQjjCzGw1eij5huGYUbwr2Z6kwjK",
    network: "testnet",
    kind: "subaddress",
  },
  {
    address:
      "A8CbvFEZD7FeBHDSZAPBnb99oDxHqEmadGQe9C4GJtfPUv96GeEKz4edqv85vgsVLz9GpW1Cx55YUEdznHiYvthM9VApgmCNzkfKaCcDYr",
    network: "testnet",
    kind: "integrated",
    paymentId: "bb88d1a7af65a0a4",
  },
  {
    address:
      "5B8ACva1HGrcvpf9tMaCLnDcnq8t1kBwd2BzEZ9cj6HsgtfRbnWGvd3ikAEGTCZHVrSrAdUPecnWzAXRMrpHqQfuAG8t8ED",
    network: "stagenet",
    kind: "standard",
  },
  {
    address:
      "7BanztwDtbsb4yJPEckKMHaErPsx2tWGoV5CuTLntsoSBtxxsBWfghycFmA2okfnqxMEqn9ugK4s4EoLcgeK3FowLXWfs3H",
    network: "stagenet",
    kind: "subaddress",
  },
  {
    address:
      "5LpqDjPVtYNcvpf9tMaCLnDcnq8t1kBwd2BzEZ9cj6HsgtfRbnWGvd3ikAEGTCZHVrSrAdUPecnWzAXRMrpHqQfuEjYQSXoMndpLWi9DkX",
    network: "stagenet",
    kind: "integrated",
    paymentId: "1b69137a57292bac",
  },
];
const GENERAL_FUND =
  "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";

const hex = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : Buffer.from(b).toString("hex");

function expectAddressError(f: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(MoneroAddressError);
  expect((caught as MoneroAddressError).message).toMatch(message);
  expect((caught as MoneroAddressError).code).toBe("invalid_monero_address");
}

describe("Monero addresses", () => {
  it("decodes real addresses of every network and kind, with the integrated payment id", () => {
    for (const r of REAL) {
      const a = decodeAddress(r.address);
      expect({ network: a.network, kind: a.kind, paymentId: hex(a.paymentId) }).toEqual({
        network: r.network,
        kind: r.kind,
        paymentId: r.paymentId,
      });
      expect(parseAddress(r.address, r.network).address).toBe(r.address);
    }
    expect(decodeAddress(GENERAL_FUND)).toMatchObject({ network: "mainnet", kind: "standard" });
  });

  it("re-encodes every real address from its parts (base58 and checksum agree with Monero's)", () => {
    for (const r of REAL) {
      const a = decodeAddress(r.address);
      expect(encodeAddress(a)).toBe(r.address);
      expect(base58Encode(base58Decode(r.address))).toBe(r.address);
    }
  });

  it("an integrated address carries its standard address's keys", () => {
    const { paymentId, ...keys } = decodeAddress(REAL[2]!.address);
    expect(hex(paymentId)).toBe("0123456789abcdef");
    const standard = encodeAddress({ ...keys, kind: "standard" });
    expect(standard).toBe(
      "49NTefhLZ9LKTCPWX1BvKQYtXiUsxaoc31DycGKfvChhXRBnMoAwwKFDe9Yvz2HNAyfQKcPfgN8Yogh5P3Kvjb8HLAjUM3y",
    );
  });

  it("regtest accepts mainnet addresses and refuses testnet and stagenet ones, saying which network they are for", () => {
    expect(isValidAddress(REAL[0]!.address, "regtest")).toBe(true);
    expectAddressError(
      () => parseAddress(REAL[3]!.address, "regtest"),
      /testnet address.*regtest uses mainnet/,
    );
    expectAddressError(
      () => parseAddress(REAL[6]!.address, "mainnet"),
      /stagenet address; this federation uses mainnet/,
    );
    expect(isValidAddress(REAL[0]!.address, "stagenet")).toBe(false);
  });

  it("refuses a kind that is not accepted where it is used", () => {
    expect(parseAddress(REAL[1]!.address, "mainnet", ["subaddress"]).kind).toBe("subaddress");
    expectAddressError(
      () => parseAddress(REAL[2]!.address, "mainnet", ["standard", "subaddress"]),
      /integrated address is not accepted here/,
    );
  });

  it("catches a one-character typo by the checksum", () => {
    const a = REAL[0]!.address;
    for (const i of [0, 1, 40, 94]) {
      const typo = a.slice(0, i) + (a[i] === "2" ? "3" : "2") + a.slice(i + 1);
      expect(isValidAddress(typo, "mainnet")).toBe(false);
    }
    const mid = a.slice(0, 40) + (a[40] === "2" ? "3" : "2") + a.slice(41);
    expectAddressError(() => parseAddress(mid, "mainnet"), /wrong checksum/);
  });

  it("says why other strings are not addresses: length, alphabet, prefix of another coin, keys off the curve", () => {
    expectAddressError(() => parseAddress("", "mainnet"), /0 characters/);
    expectAddressError(() => parseAddress(REAL[0]!.address.slice(0, 94), "mainnet"), /94 characters/);
    expectAddressError(
      () => parseAddress("0" + REAL[0]!.address.slice(1), "mainnet"),
      /invalid base58 character "0"/,
    );
    expectAddressError(() => parseAddress("x".repeat(10_000), "mainnet"), /longer than 106/);

    // A well-formed address with a prefix no Monero network uses (Aeon's 0xb2 = 178 needs 2 bytes: use 17).
    const keys = decodeAddress(REAL[0]!.address);
    const body = new Uint8Array([17, ...keys.publicSpendKey, ...keys.publicViewKey]);
    const foreign = base58Encode(new Uint8Array([...body, ...checksumOf(body)]));
    expectAddressError(() => parseAddress(foreign, "mainnet"), /prefix 17.*another coin/);

    // A 32-byte string that is not an Ed25519 point (y = 2 has no x on the curve).
    const notPoint = new Uint8Array(32);
    notPoint[0] = 2;
    expect(() => ed25519.Point.fromBytes(notPoint)).toThrow();
    const bad = encodeAddress({
      network: "mainnet",
      kind: "standard",
      publicSpendKey: notPoint,
      publicViewKey: keys.publicViewKey,
    });
    expectAddressError(() => parseAddress(bad, "mainnet"), /not a curve point/);
  });

  it("refuses base58 text whose last block cannot be decoded or overflows its size", () => {
    expect(() => base58Decode("1")).toThrow(/cannot be decoded/);
    expect(() => base58Decode("zz")).toThrow(/overflow/); // 57*58+57 = 3363 > 255
    expect(base58Decode("")).toEqual(new Uint8Array());
    expect(base58Encode(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 255]))).toBe("11111111111" + "5Q");
  });
});

function checksumOf(body: Uint8Array): Uint8Array {
  return keccak_256(body).subarray(0, 4);
}
