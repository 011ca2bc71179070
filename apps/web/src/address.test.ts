// The wallet page's Monero address check (page/wallet/address.ts), in Node: the sentence the address
// field shows for each way an address can be wrong, against addresses made by @conclave/monero's
// encodeAddress; and the address taken from a scanned `monero:` QR code.
import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { encodeAddress } from "@conclave/monero";
import type { AddressKind, MoneroNetwork } from "@conclave/monero";
import { addressOfScan, moneroAddressProblem } from "../page/wallet/address.js";

const key = (b: number) => ed25519.getPublicKey(new Uint8Array(32).fill(b));
const address = (network: MoneroNetwork, kind: AddressKind = "standard") =>
  encodeAddress({
    network,
    kind,
    publicSpendKey: key(7),
    publicViewKey: key(8),
    ...(kind === "integrated" ? { paymentId: new Uint8Array(8).fill(1) } : {}),
  });

describe("the wallet page's Monero address check", () => {
  it("accepts a standard address and a subaddress of the federation's network (regtest: mainnet's)", () => {
    expect(moneroAddressProblem(address("mainnet"), "mainnet")).toBe("");
    expect(moneroAddressProblem(` ${address("mainnet", "subaddress")}\n`, "mainnet")).toBe("");
    expect(moneroAddressProblem(address("mainnet"), "regtest")).toBe("");
    expect(moneroAddressProblem(address("stagenet"), "stagenet")).toBe("");
    expect(moneroAddressProblem(address("testnet"), undefined)).toBe("");
  });

  it("says what is wrong: another network, a typo (checksum), the length, another alphabet, an integrated address, nothing", () => {
    expect(moneroAddressProblem(address("testnet"), "mainnet")).toBe(
      "This is a testnet address; this federation uses mainnet.",
    );
    expect(moneroAddressProblem(address("mainnet"), "stagenet")).toBe(
      "This is a mainnet address; this federation uses stagenet.",
    );
    const good = address("mainnet");
    const typo = good.slice(0, 50) + (good[50] === "a" ? "b" : "a") + good.slice(51);
    expect(moneroAddressProblem(typo, "mainnet")).toMatch(/wrong checksum: check it for a typo\.$/);
    expect(moneroAddressProblem("4".repeat(94), "mainnet")).toBe(
      "Not a Monero address: 94 characters (a Monero address has 95, or 106 if integrated).",
    );
    expect(moneroAddressProblem(`0${good.slice(1)}`, "mainnet")).toMatch(/^Not a Monero address/);
    expect(moneroAddressProblem(address("mainnet", "integrated"), "mainnet")).toMatch(
      /^An integrated address \(with a payment id\) is not paid to/,
    );
    expect(moneroAddressProblem("  ", "mainnet")).toBe("Enter a Monero address.");
  });

  it("takes the address out of a scanned QR code: bare, or a monero: URI with parameters", () => {
    const a = address("mainnet");
    expect(addressOfScan(a)).toBe(a);
    expect(addressOfScan(`monero:${a}?tx_amount=1.5&tx_description=rent`)).toBe(a);
    expect(addressOfScan(`MONERO:${a}\n`)).toBe(a);
  });
});
