// The EIP-712 messages WrappedMonero.sol verifies, for viem's hashTypedData / signTypedData (and any
// wallet's eth_signTypedData_v4). The type strings must equal the contract's *_TYPEHASH constants:
// typed-data.test.ts compares the hashes with the deployed contract's.
import { hashTypedData } from "viem";
import type { Address, Hex, LocalAccount, TypedDataDomain } from "viem";

export const WXMR_DOMAIN_NAME = "Conclave wXMR";
export const WXMR_DOMAIN_VERSION = "1";

/** The domain every wXMR signature is bound to: one chain, one contract. */
export function wxmrDomain(chainId: number, verifyingContract: Address) {
  return {
    name: WXMR_DOMAIN_NAME,
    version: WXMR_DOMAIN_VERSION,
    chainId,
    verifyingContract,
  } as const satisfies TypedDataDomain;
}
export type WxmrDomain = ReturnType<typeof wxmrDomain>;

export const mintTypes = {
  Mint: [
    { name: "recipient", type: "address" },
    { name: "amount", type: "uint256" },
    { name: "depositId", type: "bytes32" },
    { name: "deadline", type: "uint64" },
    { name: "setIndex", type: "uint32" },
  ],
} as const;

export const rotateTypes = {
  Rotate: [
    { name: "guardians", type: "address[]" },
    { name: "threshold", type: "uint8" },
    { name: "setIndex", type: "uint32" },
  ],
} as const;

export const pauseTypes = { Pause: [{ name: "nonce", type: "uint64" }] } as const;
export const unpauseTypes = { Unpause: [{ name: "nonce", type: "uint64" }] } as const;
export const cancelTypes = { Cancel: [{ name: "depositId", type: "bytes32" }] } as const;

export const setLimitsTypes = {
  SetLimits: [
    { name: "rateCapacity", type: "uint96" },
    { name: "ratePerSecond", type: "uint96" },
    { name: "singleMintCap", type: "uint96" },
    { name: "mintDelay", type: "uint64" },
    { name: "minBurn", type: "uint96" },
    { name: "nonce", type: "uint64" },
  ],
} as const;

/** One mint as signed and as passed to `mint(m, signatures)` (amount in piconero, deadline in unix seconds). */
export interface MintMessage {
  recipient: Address;
  amount: bigint;
  depositId: Hex;
  deadline: bigint;
  setIndex: number;
}

/** The contract's limits (piconero; mintDelay in seconds), as in its `Limits` struct. */
export interface WxmrLimits {
  rateCapacity: bigint;
  ratePerSecond: bigint;
  singleMintCap: bigint;
  mintDelay: bigint;
  minBurn: bigint;
}

export function mintTypedData(domain: WxmrDomain, message: MintMessage) {
  return { domain, types: mintTypes, primaryType: "Mint", message } as const;
}

/** `guardians` must be in ascending address order, as the contract requires (see sortAddresses). */
export function rotateTypedData(
  domain: WxmrDomain,
  message: { guardians: readonly Address[]; threshold: number; setIndex: number },
) {
  return { domain, types: rotateTypes, primaryType: "Rotate", message } as const;
}

export function pauseTypedData(domain: WxmrDomain, nonce: bigint) {
  return { domain, types: pauseTypes, primaryType: "Pause", message: { nonce } } as const;
}

export function unpauseTypedData(domain: WxmrDomain, nonce: bigint) {
  return { domain, types: unpauseTypes, primaryType: "Unpause", message: { nonce } } as const;
}

export function cancelTypedData(domain: WxmrDomain, depositId: Hex) {
  return { domain, types: cancelTypes, primaryType: "Cancel", message: { depositId } } as const;
}

export function setLimitsTypedData(domain: WxmrDomain, limits: WxmrLimits, nonce: bigint) {
  return {
    domain,
    types: setLimitsTypes,
    primaryType: "SetLimits",
    message: { ...limits, nonce },
  } as const;
}

/** The digest guardians sign for a mint (what the contract's `_hashTypedDataV4` computes). */
export function hashMint(domain: WxmrDomain, message: MintMessage): Hex {
  return hashTypedData(mintTypedData(domain, message));
}

/** Compares addresses as the contract does (as 160-bit numbers), for ascending order. */
export function compareAddresses(a: Address, b: Address): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function sortAddresses(addresses: readonly Address[]): Address[] {
  return [...addresses].sort(compareAddresses);
}

/** A guardian's signature with the address that made it. */
export interface SignerSignature {
  signer: Address;
  signature: Hex;
}

/** The signatures in the order the contract accepts: strictly ascending signer address. */
export function orderSignatures(signatures: readonly SignerSignature[]): Hex[] {
  return [...signatures].sort((a, b) => compareAddresses(a.signer, b.signer)).map((s) => s.signature);
}

/** Signs a mint with each account and returns the signatures in the contract's order. */
export async function signMint(
  accounts: readonly LocalAccount[],
  domain: WxmrDomain,
  message: MintMessage,
): Promise<Hex[]> {
  const typed = mintTypedData(domain, message);
  const signed = await Promise.all(
    accounts.map(async (a) => ({ signer: a.address, signature: await a.signTypedData(typed) })),
  );
  return orderSignatures(signed);
}
