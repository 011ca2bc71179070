// Monero address validation without a node: Monero base58, the network/kind prefix (a varint), the
// 4-byte Keccak-256 checksum, and both public keys decoding to curve points (as monerod's
// get_account_address_from_str checks). Regtest ("fakechain") uses the mainnet prefixes.
import { ed25519 } from "@noble/curves/ed25519.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { base58Decode, base58Encode } from "./base58.js";
import { MoneroAddressError } from "./errors.js";

export type MoneroNetwork = "mainnet" | "testnet" | "stagenet";
/** What a guardian is configured with: regtest is a mainnet-prefixed private chain. */
export type MoneroNetworkOrRegtest = MoneroNetwork | "regtest";
export type AddressKind = "standard" | "integrated" | "subaddress";

/** src/cryptonote_config.h: CRYPTONOTE_PUBLIC_(INTEGRATED_|SUB)ADDRESS_BASE58_PREFIX per network. */
export const ADDRESS_PREFIXES: Readonly<Record<MoneroNetwork, Readonly<Record<AddressKind, number>>>> = {
  mainnet: { standard: 18, integrated: 19, subaddress: 42 },
  testnet: { standard: 53, integrated: 54, subaddress: 63 },
  stagenet: { standard: 24, integrated: 25, subaddress: 36 },
};

const PREFIX_TO_TYPE = new Map<number, { network: MoneroNetwork; kind: AddressKind }>(
  Object.entries(ADDRESS_PREFIXES).flatMap(([network, kinds]) =>
    Object.entries(kinds).map(([kind, prefix]) => [
      prefix,
      { network: network as MoneroNetwork, kind: kind as AddressKind },
    ]),
  ),
);

const KEY_BYTES = 32;
const PAYMENT_ID_BYTES = 8;
const CHECKSUM_BYTES = 4;
/** Standard and subaddress: 95 characters; integrated: 106. Longer input is refused before decoding. */
export const ADDRESS_CHARS_MAX = 106;
const ADDRESS_CHARS = new Set([95, 106]);

export interface MoneroAddress {
  readonly address: string;
  readonly network: MoneroNetwork;
  readonly kind: AddressKind;
  readonly publicSpendKey: Uint8Array;
  readonly publicViewKey: Uint8Array;
  /** Integrated addresses only: the 8-byte payment id. */
  readonly paymentId?: Uint8Array;
}

function readVarint(bytes: Uint8Array): { value: number; length: number } {
  let value = 0;
  for (let i = 0; i < Math.min(bytes.length, 4); i++) {
    const b = bytes[i] ?? 0;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return { value, length: i + 1 };
  }
  return { value: -1, length: 0 };
}

function writeVarint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

function checksum(body: Uint8Array): Uint8Array {
  return keccak_256(body).subarray(0, CHECKSUM_BYTES);
}

function isCurvePoint(key: Uint8Array): boolean {
  try {
    ed25519.Point.fromBytes(key, false);
    return true;
  } catch {
    return false;
  }
}

/**
 * Decodes and checks an address of any network. Throws MoneroAddressError saying what is wrong:
 * length, character set, checksum (a typo), unknown prefix (another coin), or keys off the curve.
 */
export function decodeAddress(address: string): MoneroAddress {
  const short = address.length > 16 ? `${address.slice(0, 8)}...${address.slice(-4)}` : address;
  if (!ADDRESS_CHARS.has(address.length)) {
    throw new MoneroAddressError(
      `not a Monero address: ${address.length} characters (a Monero address has 95, or 106 if integrated)`,
      { length: address.length },
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = base58Decode(address);
  } catch (e) {
    throw new MoneroAddressError(
      `not a Monero address (${short}): ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const body = bytes.subarray(0, bytes.length - CHECKSUM_BYTES);
  const expected = checksum(body);
  const actual = bytes.subarray(bytes.length - CHECKSUM_BYTES);
  if (!expected.every((b, i) => b === actual[i])) {
    throw new MoneroAddressError(`Monero address ${short} has a wrong checksum: check it for a typo`);
  }
  const prefix = readVarint(body);
  const type = PREFIX_TO_TYPE.get(prefix.value);
  if (type === undefined) {
    throw new MoneroAddressError(
      `address ${short} has prefix ${prefix.value}, which is not a Monero network's: is it another coin's?`,
      { prefix: prefix.value },
    );
  }
  const payload = body.subarray(prefix.length);
  const payloadBytes = 2 * KEY_BYTES + (type.kind === "integrated" ? PAYMENT_ID_BYTES : 0);
  if (payload.length !== payloadBytes) {
    throw new MoneroAddressError(
      `address ${short} is a ${type.network} ${type.kind} address by its prefix but has the wrong length`,
    );
  }
  const publicSpendKey = payload.slice(0, KEY_BYTES);
  const publicViewKey = payload.slice(KEY_BYTES, 2 * KEY_BYTES);
  if (!isCurvePoint(publicSpendKey) || !isCurvePoint(publicViewKey)) {
    throw new MoneroAddressError(`address ${short} carries a public key that is not a curve point`);
  }
  return {
    address,
    network: type.network,
    kind: type.kind,
    publicSpendKey,
    publicViewKey,
    ...(type.kind === "integrated" ? { paymentId: payload.slice(2 * KEY_BYTES) } : {}),
  };
}

/**
 * Checks that `address` is a valid address for `network` (regtest: mainnet prefixes) and, when
 * `kinds` is given, of one of those kinds. Returns the decoded address; throws MoneroAddressError.
 */
export function parseAddress(
  address: string,
  network: MoneroNetworkOrRegtest,
  kinds?: readonly AddressKind[],
): MoneroAddress {
  if (address.length > ADDRESS_CHARS_MAX) {
    throw new MoneroAddressError(`not a Monero address: longer than ${ADDRESS_CHARS_MAX} characters`);
  }
  const decoded = decodeAddress(address);
  const expected: MoneroNetwork = network === "regtest" ? "mainnet" : network;
  if (decoded.network !== expected) {
    throw new MoneroAddressError(
      `this is a ${decoded.network} address; this federation uses ${network}` +
        (network === "regtest" ? " (regtest uses mainnet addresses)" : ""),
      { network: decoded.network, expected: network },
    );
  }
  if (kinds !== undefined && !kinds.includes(decoded.kind)) {
    throw new MoneroAddressError(
      `a ${decoded.kind} address is not accepted here (accepted: ${kinds.join(", ")})`,
      { kind: decoded.kind },
    );
  }
  return decoded;
}

/** True when `address` is valid for `network`; parseAddress says why not. */
export function isValidAddress(address: string, network: MoneroNetworkOrRegtest): boolean {
  try {
    parseAddress(address, network);
    return true;
  } catch (e) {
    if (e instanceof MoneroAddressError) return false;
    throw e;
  }
}

/** Builds an address from its parts (used by tests; a guardian only reads addresses). */
export function encodeAddress(parts: {
  network: MoneroNetwork;
  kind: AddressKind;
  publicSpendKey: Uint8Array;
  publicViewKey: Uint8Array;
  paymentId?: Uint8Array;
}): string {
  const integrated = parts.kind === "integrated";
  if (parts.publicSpendKey.length !== KEY_BYTES || parts.publicViewKey.length !== KEY_BYTES) {
    throw new MoneroAddressError("public keys are 32 bytes");
  }
  if (
    integrated !== (parts.paymentId !== undefined) ||
    (integrated && parts.paymentId?.length !== PAYMENT_ID_BYTES)
  ) {
    throw new MoneroAddressError("an integrated address (and only it) carries an 8-byte payment id");
  }
  const prefix = writeVarint(ADDRESS_PREFIXES[parts.network][parts.kind]);
  const body = new Uint8Array([
    ...prefix,
    ...parts.publicSpendKey,
    ...parts.publicViewKey,
    ...(parts.paymentId ?? []),
  ]);
  return base58Encode(new Uint8Array([...body, ...checksum(body)]));
}
