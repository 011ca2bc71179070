// The wallet page's check of a Monero address, without the DOM (address.test.ts runs it in Node):
// @conclave/monero's parseAddress, the code a guardian checks a payout address with
// (modules/monero/src/payouts.ts checkAddress: the federation's network, standard or subaddress),
// turned into the sentence the address field shows.
import { decodeAddress, parseAddress } from "@conclave/monero/address";
import type { AddressKind, MoneroNetworkOrRegtest } from "@conclave/monero/address";

/**
 * The kinds a payout pays to: an integrated address carries a payment id that the guardians'
 * pre-signing check cannot compare, so payouts refuse it (payouts.ts); the page refuses it first.
 */
export const PAYOUT_ADDRESS_KINDS: readonly AddressKind[] = ["standard", "subaddress"];

/**
 * What is wrong with `text` as a payout address of `network` (of any network when undefined); ""
 * when it is one.
 */
export function moneroAddressProblem(text: string, network: MoneroNetworkOrRegtest | undefined): string {
  const address = text.trim();
  if (address === "") return "Enter a Monero address.";
  try {
    const decoded = network === undefined ? decodeAddress(address) : parseAddress(address, network);
    if (!PAYOUT_ADDRESS_KINDS.includes(decoded.kind))
      return "An integrated address (with a payment id) is not paid to: enter the wallet's standard address or a subaddress.";
    return "";
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return message.charAt(0).toUpperCase() + message.slice(1) + ".";
  }
}

/** The address in a scanned QR code: a bare address or a `monero:ADDRESS?tx_amount=…` URI. */
export function addressOfScan(text: string): string {
  const t = text.trim();
  const bare = /^monero:/i.test(t) ? t.slice("monero:".length) : t;
  return bare.split(/[?#]/, 1)[0] ?? "";
}
