// What the bridge half's files share: its errors, API paths, records and the claim keys of
// burnToClaim (derived from the half's secret, so that a wallet restored from its mnemonic finds
// them again):
//   claimSeed(j) = HKDF-Expand(secret, "conclave/bridge/v1/burn-claim" | u64be(j), 32)
//   refundSeed(j) = HKDF-Expand(secret, "conclave/bridge/v1/mint-refund" | u64be(j), 32)
// where `secret` is the half's own (core-client secrets.ts: HKDF of the federation root with the
// module's instance and kind). The Ed25519 public key of claimSeed(j) is the claim key of burn j;
// that of refundSeed(j) the refund key of the wallet's j-th mint output (0x02 form), which takes the
// mint's value back as e-cash if it expires unminted.
import { expand } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { clientErrors, labelled } from "@conclave/core-client";
import { utf8 } from "@conclave/core-common";
import type { Signer } from "@conclave/core-common";
import type { Rng } from "@conclave/core-common/threshold";

export const BRIDGE_CLIENT_KIND = "bridge";

export const mintPath = (txid: string, index: number) => `/v1/modules/bridge/mints/${txid}/${index}`;
export const burnPath = (txHash: string, logIndex: number) =>
  `/v1/modules/bridge/burns/${txHash}/${logIndex}`;
export const CHAIN_PATH = "/v1/modules/bridge/chain";

/**
 * Claim keys a wallet looks through for a burn it has no record of (a restored wallet): those below
 * its counter and this many past it.
 */
export const CLAIM_KEY_GAP = 64;
/** How long `redeem` waits for t guardians to accept a burn unless told otherwise. */
export const BURN_WAIT_MS_DEFAULT = 30 * 60 * 1000;
/** How long the mint waits for t good signatures after acceptance (guardians a block behind). */
export const SIGNATURES_WAIT_MS_DEFAULT = 30_000;
/**
 * The gas limit a wallet sends a transaction with, in percent of the node's estimate (+50 %). viem
 * sends a local account's transaction with exactly the estimate, taken against the state of the
 * block the node had then; the state the transaction meets when mined may cost more, and a
 * transaction that runs out of gas still pays for all of it. The largest such change measured
 * (docs/benchmarks.md, wXMR gas): the recipient's balance emptied by a transfer between the estimate
 * and the block, so the mint fills a fresh slot again: 83,336 -> 117,512 at 2-of-3 (+41 %),
 * 90,721 -> 124,885 at 3-of-4 (+38 %); +20 % would run out of gas there. Unused gas is not charged:
 * the margin only needs the account to hold it at the gas price.
 */
export const GAS_MARGIN_PERCENT = 150n;

/** The bridge half's refusals, with their statuses. */
export const bridgeError = clientErrors({
  no_bridge_module: 400,
  no_monero_module: 400,
  invalid_evm_address: 400,
  invalid_amount: 400,
  invalid_monero_address: 400,
  invalid_evm_key: 400,
  insufficient_funds: 400,
  wrong_chain: 400,
  evm_time_unknown: 503,
  signatures_missing: 503,
  unknown_mint: 404,
  unknown_burn: 404,
  not_claimable: 409,
  burn_timeout: 504,
  evm_failed: 502,
  claim_key_unknown: 404,
  not_returnable: 409,
  refund_timeout: 504,
  guardians_disagree: 503,
});

/** The cryptography the bridge half needs (the wallet's WalletCrypto is one). */
export interface BridgeCrypto {
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  ed25519Signer(seed: Uint8Array, publicKey?: Uint8Array): Signer;
  readonly random: Rng;
}

const LABEL_CLAIM = utf8.encode("conclave/bridge/v1/burn-claim");

export function claimSeed(secret: Uint8Array, index: number): Uint8Array {
  return expand(sha256, secret, labelled(LABEL_CLAIM, index), 32);
}

const LABEL_REFUND = utf8.encode("conclave/bridge/v1/mint-refund");

export function refundSeed(secret: Uint8Array, index: number): Uint8Array {
  return expand(sha256, secret, labelled(LABEL_REFUND, index), 32);
}

/** How long `bridge-refund` waits for t guardians to decide an expired mint returned unless told otherwise. */
export const REFUND_WAIT_MS_DEFAULT = 10 * 60 * 1000;

/** Test hooks of the bridge half (a crash at a chosen step). */
export interface BridgeHooks {
  /** Runs once a burn is signed and written down, before it is first sent. */
  readonly beforeBurnSend?: (txHash: string) => void | Promise<void>;
}

/** An EVM key and node to sign and send with (the key is never written to the wallet). */
export interface EvmSender {
  /** 0x and 64 hex digits. */
  readonly privateKey: `0x${string}`;
  readonly rpcUrl: string;
}

/** The contract call that mints: everything `mint(Mint m, bytes[] signatures)` takes. */
export interface MintCall {
  readonly chainId: number;
  readonly contract: `0x${string}`;
  readonly recipient: `0x${string}`;
  readonly amount: bigint;
  readonly depositId: `0x${string}`;
  readonly deadline: bigint;
  readonly setIndex: number;
  /** t signatures, in ascending order of their signers (as the contract takes them). */
  readonly signatures: readonly `0x${string}`[];
  readonly signers: readonly `0x${string}`[];
  /** Guardians whose answers were skipped: a signature not by their config address, or a different mint. */
  readonly badGuardians: readonly number[];
  /**
   * Set when the guardians sign a re-issue of an expired mint without refund key (docs/bridge.md
   * "Re-issue"): which one (1, 2, …; absent: the first issue) and the first issue's deposit id,
   * from which `depositId` = reissueDepositId(firstDepositId, attempt) was computed here. The
   * earlier attempts' signatures can never mint (Expired).
   */
  readonly attempt?: number;
  readonly firstDepositId?: `0x${string}`;
}

/** A re-issued mint's attempt, as results and statuses show it (docs/bridge.md "Re-issue"). */
export interface ReissueInfo {
  readonly attempt: number;
  readonly deadline: string;
  /** This attempt's deposit id (computed here) and the first issue's. */
  readonly depositId: `0x${string}`;
  readonly firstDepositId: `0x${string}`;
  /** "re-issued: attempt k, deadline D (ISO time)". */
  readonly text: string;
}

/** `{ reissue }` for a re-issued call, else nothing (spread into a result). */
export function reissueOf(c: MintCall): { reissue?: ReissueInfo } {
  const text = reissuedText(c);
  if (text === undefined || !c.firstDepositId) return {};
  return {
    reissue: {
      attempt: c.attempt!,
      deadline: c.deadline.toString(),
      depositId: c.depositId,
      firstDepositId: c.firstDepositId,
      text,
    },
  };
}

/** "re-issued: attempt k, deadline D (ISO time)" for a re-issued call, else undefined. */
export function reissuedText(c: {
  readonly attempt?: number;
  readonly deadline: bigint;
}): string | undefined {
  if (c.attempt === undefined || c.attempt === 0) return undefined;
  return `re-issued: attempt ${c.attempt}, deadline ${c.deadline} (${new Date(Number(c.deadline) * 1000).toISOString()})`;
}

/** A wXMR mint of this wallet, by the federation transaction that funds it (`m/<i>/mint/<txid>`). */
export interface MintRecord {
  readonly operationId: string;
  readonly txid: string;
  readonly output: number;
  readonly recipient: `0x${string}`;
  readonly amount: string;
  readonly createdAtMs: number;
  /** The Monero deposit that funded it (a mint straight from a deposit), hex. */
  readonly depositTxid?: string;
  /** The signed call, once t good signatures are in hand (amounts as decimal strings). */
  readonly call?: MintCallJson;
  /** The EVM transaction this wallet sent it with. */
  readonly evmTx?: `0x${string}`;
  /** The index of the output's refund key (refundSeed): absent on mints made before the 0x02 form. */
  readonly refundIndex?: number;
  /** The federation transaction that spends the returned mint into notes, and its log entry. */
  readonly refundTxid?: string;
  readonly refundOperationId?: string;
}

export type MintCallJson = Omit<MintCall, "amount" | "deadline"> & {
  readonly amount: string;
  readonly deadline: string;
};

export const callToJson = (c: MintCall): MintCallJson => ({
  ...c,
  amount: c.amount.toString(),
  deadline: c.deadline.toString(),
});
export const callFromJson = (c: MintCallJson): MintCall => ({
  ...c,
  amount: BigInt(c.amount),
  deadline: BigInt(c.deadline),
});

/** A burn this wallet made or redeems (`m/<i>/burn/<txHash>`). */
export interface BurnRecord {
  readonly operationId: string;
  readonly kind: "monero" | "claim";
  readonly amount: string;
  readonly createdAtMs: number;
  /** The signed EVM transaction, written before it is sent (sending it again is harmless). */
  readonly rawTx?: `0x${string}`;
  readonly txHash: `0x${string}`;
  readonly logIndex?: number;
  /** kind "claim": the index of its claim key. */
  readonly claimIndex?: number;
  readonly claimKey?: string;
  /** The EVM node it was sent through (to send it again after a crash). */
  readonly rpcUrl?: string;
  /** The federation transaction that redeemed it into notes. */
  readonly redeemTxid?: string;
}

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
