// The EIP-712 Mint a guardian signs for an accepted "wXMR to <EVM address>" output (or a re-mint of
// a burn that could not be paid), and the checks a client runs on the signatures it collects.
//
// Domain {name "Conclave wXMR", version "1", chainId, verifyingContract}; struct
// Mint(address recipient,uint256 amount,bytes32 depositId,uint64 deadline,uint32 setIndex): the
// contract's fixed interface, defined once in @conclave/evm (typed-data.ts), whose hashMint gives
// the digest here. The signature comes from @noble/curves' secp256k1 (synchronous, RFC 6979 deterministic, low-s), because a
// module's outputOutcome is synchronous and viem's account signer is not: same bytes as viem's
// signTypedData (eip712-mint.test.ts checks it).
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { hashMint, wxmrDomain } from "@conclave/evm/typed-data";
import { bytesToHex, encodeAbiParameters, hexToBytes, recoverAddress } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { sortedSigners } from "./common.js";
import type { EvmAddress, Hex32 } from "./common.js";

export interface MintMessage {
  readonly recipient: EvmAddress;
  readonly amount: bigint;
  readonly depositId: Hex32;
  readonly deadline: bigint;
  readonly setIndex: number;
}

export interface MintDomain {
  readonly chainId: number;
  readonly contract: EvmAddress;
}

/** The digest the contract's _hashTypedDataV4 computes (@conclave/evm's hashMint: one definition). */
export function mintDigest(domain: MintDomain, message: MintMessage): Hex32 {
  return hashMint(wxmrDomain(domain.chainId, domain.contract), { ...message });
}

/** 65 bytes r | s | v (v = 27 or 28), as OpenZeppelin's ECDSA.recover takes it. */
export function signMint(privateKey: Uint8Array, domain: MintDomain, message: MintMessage): `0x${string}` {
  const digest = hexToBytes(mintDigest(domain, message));
  const recovered = secp256k1.sign(digest, privateKey, { prehash: false, format: "recovered" });
  const signature = new Uint8Array(65);
  signature.set(recovered.subarray(1), 0);
  signature[64] = 27 + recovered[0]!;
  return bytesToHex(signature);
}

export function evmAddressOfKey(privateKey: Uint8Array): EvmAddress {
  return privateKeyToAddress(bytesToHex(privateKey));
}

/**
 * The deposit id of a federation output: keccak256 over the abi-encoded tag, federation id,
 * transaction id and output index, so that it is never reused: not across outputs, transactions or
 * federations (the contract refuses a deposit id it has minted).
 */
export function outputDepositId(federationId: Uint8Array, txid: Uint8Array, index: number): Hex32 {
  return depositIdOf("conclave/bridge/mint/v1", federationId, txid, index);
}

/** The deposit id of the re-mint of a burn the federation could not pay out (keyed by its log). */
export function remintDepositId(federationId: Uint8Array, burnTxHash: Uint8Array, logIndex: number): Hex32 {
  return depositIdOf("conclave/bridge/remint/v1", federationId, burnTxHash, logIndex);
}

/**
 * The deposit id of re-issue `attempt` (1, 2, …) of a mint whose first deposit id is `first` (an
 * output's or a re-mint's): keccak256(abi.encode("conclave/bridge/reissue/v1", first, attempt)).
 * Its own tag and layout keep it apart from every first id (tag "mint/v1" or "remint/v1") and every
 * other attempt, short of a keccak collision; `attempt` 0 is the first id itself.
 */
export function reissueDepositId(first: Hex32, attempt: number): Hex32 {
  if (attempt === 0) return first;
  const encoded = encodeAbiParameters(
    [{ type: "string" }, { type: "bytes32" }, { type: "uint32" }],
    ["conclave/bridge/reissue/v1", first, attempt],
  );
  return bytesToHex(keccak_256(hexToBytes(encoded)));
}

function depositIdOf(tag: string, federationId: Uint8Array, id: Uint8Array, index: number): Hex32 {
  const encoded = encodeAbiParameters(
    [{ type: "string" }, { type: "bytes32" }, { type: "bytes32" }, { type: "uint32" }],
    [tag, bytesToHex(federationId), bytesToHex(id), index],
  );
  return bytesToHex(keccak_256(hexToBytes(encoded)));
}

export interface GuardianSignature {
  readonly guardian: number;
  /** As a guardian's API gave it: checked here, never trusted. */
  readonly signature: string;
}

/** `s` as a 0x-prefixed hex string (the type viem takes), or an error naming what it is not. */
export function asHex(s: string): `0x${string}` {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(s)) throw new TypeError(`not 0x-prefixed hex: ${s.slice(0, 80)}`);
  return s as `0x${string}`;
}

/**
 * What a client does with the signatures it collected from the guardians: recovers each one's
 * signer, keeps those that are the claimed guardian's address (a Byzantine guardian's bad signature
 * is skipped and reported), and returns t of them sorted by ascending signer address, as the
 * contract's mint takes them. Throws when fewer than t are good.
 */
export async function collectMintSignatures(
  domain: MintDomain,
  message: MintMessage,
  guardians: readonly EvmAddress[],
  threshold: number,
  signatures: readonly GuardianSignature[],
): Promise<{ signatures: `0x${string}`[]; signers: EvmAddress[]; bad: number[] }> {
  const digest = mintDigest(domain, message);
  const good = new Map<string, `0x${string}`>();
  const bad: number[] = [];
  for (const s of signatures) {
    const expected = guardians[s.guardian];
    let signer: EvmAddress | undefined;
    let signature: `0x${string}` | undefined;
    try {
      signature = asHex(s.signature);
      signer = await recoverAddress({ hash: digest, signature });
    } catch {
      signer = undefined;
    }
    if (!expected || !signer || !signature || signer.toLowerCase() !== expected.toLowerCase())
      bad.push(s.guardian);
    else good.set(expected, signature);
  }
  const signers = sortedSigners([...good.keys()] as EvmAddress[]).slice(0, threshold);
  if (signers.length < threshold)
    throw new Error(
      `only ${signers.length} of the ${threshold} guardian signatures needed are good (bad: guardians ${bad.join(", ") || "none"})`,
    );
  return { signatures: signers.map((a) => good.get(a)!), signers, bad };
}

/**
 * A payout ref of this module (the core's PayoutRequest ref): keccak256 over the abi-encoded tag, a
 * 32-byte id and an index. Domain-separated by the tag from every deposit id, from each other and from
 * any federation transaction id (a SHA-256), so the monero module's outpoint for it is its own.
 */
function payoutRef(tag: string, id: Uint8Array, index: number): Uint8Array {
  return keccak_256(
    hexToBytes(
      encodeAbiParameters(
        [{ type: "string" }, { type: "bytes32" }, { type: "uint256" }],
        [tag, bytesToHex(id), BigInt(index)],
      ),
    ),
  );
}

/** The Monero payout of a burn: one per (burn tx hash, log index). */
export function burnPayoutRef(key: { txHash: Uint8Array; logIndex: number }): Uint8Array {
  return payoutRef("conclave/bridge/burn-payout/v1", key.txHash, key.logIndex);
}

/**
 * The Monero payout of a 0x03 mint paid back to its refund address: one per mint output, ever (the
 * monero module refuses a second request under one ref).
 */
export function mintRefundPayoutRef(key: { txid: Uint8Array; index: number }): Uint8Array {
  return payoutRef("conclave/bridge/mint-refund-payout/v1", key.txid, key.index);
}
