// The EVM bridge module's shared definitions: its federation config, the encodings of its output
// (wXMR to an EVM address), its input (e-cash from a burn to a claim key) and its consensus items
// (a guardian's scanned EVM block, a guardian's vote for a burn it saw at depth).
//
// Output payload:  0x01 | recipient (20)                         wXMR to an EVM address (amount in piconero), re-issued when it expires unminted
//                  0x02 | recipient (20) | refundKey (32)        the same, returned as input 0x02 to refundKey when it expires unminted
//                  0x03 | recipient (20) | refundKey (32) | u8 len | refund address (ASCII)
//                                                                the same, paid back in Monero to the refund address when it expires
//                                                                unminted (input 0x02 to refundKey if the payout is refused)
// Input payload:   0x01 | burn tx hash (32) | log index u32       the value of an accepted burnToClaim, signed by its claim key
//                  0x02 | txid (32) | output index u32           the value of a returned (expired, never minted) mint, signed by its refund key
// Items:           0x01 | block u64 | timestamp u64              "I have scanned and voted every burn up to this block"
//                  0x02 | burn                                    "I saw this Burned log at my confirmation depth"
//                  0x03 | txid (32) | index u32 | used u8         "at my depth block, past the mint's deadline, its deposit id is (not) used"
//                  0x04 | source u8 | id (32) | index u32 | attempt u32 | used u8   the same for attempt `attempt` of a
//                         re-issuable mint (source 0: a 0x01 output, id = txid; 1: a re-mint, id = burn tx hash, index = log index)
import {
  CodecError,
  Reader,
  Writer,
  bytesEqual,
  faultTolerance,
  quorumThreshold,
} from "@conclave/core-common";
import { getAddress, isAddress } from "viem";
import { z } from "zod";

export const BRIDGE_KIND = "bridge";

const OUTPUT_MINT = 0x01;
const OUTPUT_MINT_REFUNDABLE = 0x02;
const OUTPUT_MINT_REFUND_MONERO = 0x03;
/** Longest refund address an output may name (a Monero address is 95, an integrated one 106 chars). */
export const REFUND_ADDRESS_CHARS_MAX = 106;
const INPUT_BURN_CLAIM = 0x01;
const INPUT_REFUND = 0x02;
const ITEM_SCANNED = 0x01;
const ITEM_BURN = 0x02;
const ITEM_EXPIRY = 0x03;
const ITEM_EXPIRY_ATTEMPT = 0x04;
const ITEM_SUPPLY_CHECK = 0x05;

/** Burn kinds of the contract's Burned event. */
export const BURN_TO_MONERO = 0;
export const BURN_TO_CLAIM = 1;

/** Longest destination a burn may carry that the federation keeps (a Monero address is 95 or 106 chars). */
export const BURN_DESTINATION_BYTES_MAX = 128;

export type EvmAddress = `0x${string}`;
export type Hex32 = `0x${string}`;

export interface BridgeConfig {
  readonly chainId: number;
  /** The WrappedMonero contract (checksummed). */
  readonly contract: EvmAddress;
  /** Each guardian's signing address, by guardian index (the federation's order, not sorted). */
  readonly guardians: readonly EvmAddress[];
  /** Signatures a mint needs on chain; the federation's t = n − f. */
  readonly threshold: number;
  /** The contract's guardian-set index these guardians are (the contract's first set is 1). */
  readonly setIndex: number;
  /** A burn counts once its block has this many confirmations (1 = the head block itself). */
  readonly confirmations: number;
  /** A signed mint is valid on chain until the agreed EVM time at acceptance plus this. */
  readonly mintDeadlineSeconds: number;
  /** Smallest mint output, in piconero. */
  readonly mintMinPiconero: bigint;
  /**
   * Smallest refundable (0x02) mint output, in piconero. Each one costs every guardian a record kept
   * for good, a queue entry, an eth_call and an expiry vote through consensus (threat-model 12w).
   */
  readonly refundableMintMinPiconero: bigint;
  /**
   * What each refundable (0x02) mint output pays the federation, in piconero, on top of its amount
   * (the transaction's inputs cover both; the fee is no one's liability: the federation's surplus).
   */
  readonly refundableMintFeePiconero: bigint;
  /** Burns voted by a guardian that are not yet accepted (bounds what a Byzantine guardian can store). */
  readonly openVotesPerGuardianMax: number;
  /** The Monero network a burn's destination address must belong to. */
  readonly moneroNetwork: "mainnet" | "testnet" | "stagenet" | "regtest";
}

/** 0.001 XMR: a refundable mint below it is refused (`below_minimum`). */
export const REFUNDABLE_MINT_MIN_PICONERO_DEFAULT = 1_000_000_000n;
/** 0.0001 XMR per refundable mint output, paid to the federation (about a Monero payout's fee). */
export const REFUNDABLE_MINT_FEE_PICONERO_DEFAULT = 100_000_000n;

const evmAddress = z
  .string()
  .refine((s) => isAddress(s, { strict: false }), "an EVM address (0x and 40 hex digits)")
  .transform((s) => getAddress(s));
const amount = z.string().regex(/^\d{1,20}$/, "an amount in piconero, as a decimal string");

export const bridgeConfigSchema = z.strictObject({
  chainId: z
    .number()
    .int()
    .min(1)
    .max(2 ** 53 - 1),
  contract: evmAddress,
  guardians: z.array(evmAddress).min(1).max(64),
  threshold: z.number().int().min(1),
  setIndex: z.number().int().min(1).max(0xffff_ffff).default(1),
  confirmations: z.number().int().min(1).max(10_000),
  mintDeadlineSeconds: z
    .number()
    .int()
    .min(60)
    .max(365 * 86_400),
  mintMinPiconero: amount.default("1"),
  refundableMintMinPiconero: amount.default(REFUNDABLE_MINT_MIN_PICONERO_DEFAULT.toString()),
  refundableMintFeePiconero: amount.default(REFUNDABLE_MINT_FEE_PICONERO_DEFAULT.toString()),
  openVotesPerGuardianMax: z.number().int().min(1).max(1_000_000).default(1024),
  moneroNetwork: z.enum(["mainnet", "testnet", "stagenet", "regtest"]),
});

export class BridgeConfigError extends Error {
  override readonly name = "BridgeConfigError";
}

/** The federation-wide config, validated (it comes from a file), with messages that name the field. */
export function parseBridgeConfig(config: Record<string, unknown>): BridgeConfig {
  const r = bridgeConfigSchema.safeParse(config);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new BridgeConfigError(
      `bridge module config: ${issue ? `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}` : "invalid"}`,
    );
  }
  const c = r.data;
  const lower = new Set(c.guardians.map((a) => a.toLowerCase()));
  if (lower.size !== c.guardians.length)
    throw new BridgeConfigError("bridge module config: guardians: two guardians share an EVM address");
  if (c.threshold > c.guardians.length)
    throw new BridgeConfigError(
      `bridge module config: threshold ${c.threshold} is above the ${c.guardians.length} guardians`,
    );
  if (c.threshold !== quorumThreshold(c.guardians.length))
    throw new BridgeConfigError(
      `bridge module config: threshold must be the federation's t = n - f = ${quorumThreshold(c.guardians.length)} for ${c.guardians.length} guardians, not ${c.threshold}`,
    );
  return {
    chainId: c.chainId,
    contract: c.contract,
    guardians: c.guardians,
    threshold: c.threshold,
    setIndex: c.setIndex,
    confirmations: c.confirmations,
    mintDeadlineSeconds: c.mintDeadlineSeconds,
    mintMinPiconero: BigInt(c.mintMinPiconero),
    refundableMintMinPiconero: BigInt(c.refundableMintMinPiconero),
    refundableMintFeePiconero: BigInt(c.refundableMintFeePiconero),
    openVotesPerGuardianMax: c.openVotesPerGuardianMax,
    moneroNetwork: c.moneroNetwork,
  };
}

/** The guardian set as the contract holds it: addresses in ascending numeric order. */
export function sortedSigners(guardians: readonly EvmAddress[]): EvmAddress[] {
  return [...guardians].sort((a, b) => {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

export { faultTolerance, quorumThreshold };

/**
 * The value the guardians agree on from one report each (0 for none): sorted descending, position
 * 2f. At least f + 1 honest reports are at or above it and at least one honest one at or below it,
 * so f liars can move it neither above the highest honest report nor below the lowest (the monero
 * module's agreed height, common.ts, by the same rule).
 */
export function agreedReport(reported: readonly bigint[], n: number): bigint {
  const sorted = [...reported].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  return sorted[2 * faultTolerance(n)] ?? 0n;
}

// ---- output ------------------------------------------------------------------------------------

/**
 * "wXMR to `recipient`". With `refundKey` (an Ed25519 public key of whoever funds the output), the
 * 0x02 form: if the mint is never submitted and t guardians see it unminted past its deadline at
 * their depth, its value becomes input 0x02 that this key signs. With `refundKey` and
 * `refundAddress` too, the 0x03 form: such a mint is paid back in Monero to `refundAddress` by the
 * federation, with no client involved (the input to `refundKey` if the payout is refused). Without
 * either, the 0x01 form: expired unminted, it is re-issued to the same recipient (a fresh deadline
 * and deposit id; server-consensus.ts).
 */
export function encodeMintOutput(
  recipient: EvmAddress,
  refundKey?: Uint8Array,
  refundAddress?: string,
): Uint8Array {
  if (refundAddress !== undefined && !refundKey)
    throw new CodecError("a Monero refund address needs a refund key as well (form 0x03)");
  const tag =
    refundAddress !== undefined
      ? OUTPUT_MINT_REFUND_MONERO
      : refundKey
        ? OUTPUT_MINT_REFUNDABLE
        : OUTPUT_MINT;
  const w = new Writer().u8(tag).fixed(addressBytes(recipient), 20);
  if (refundKey) w.fixed(refundKey, 32);
  if (refundAddress !== undefined) {
    const bytes = new TextEncoder().encode(refundAddress);
    if (bytes.length === 0 || bytes.length > REFUND_ADDRESS_CHARS_MAX)
      throw new CodecError(`a refund address is 1 to ${REFUND_ADDRESS_CHARS_MAX} characters`);
    w.u8(bytes.length).fixed(bytes, bytes.length);
  }
  return w.finish();
}

export function decodeMintOutput(bytes: Uint8Array): {
  recipient: EvmAddress;
  refundKey?: Uint8Array;
  refundAddress?: string;
} {
  const r = new Reader(bytes);
  const tag = r.u8();
  if (tag !== OUTPUT_MINT && tag !== OUTPUT_MINT_REFUNDABLE && tag !== OUTPUT_MINT_REFUND_MONERO)
    throw new CodecError(`unknown bridge output kind ${tag}`);
  const raw = r.fixed(20);
  const refundKey = tag === OUTPUT_MINT ? undefined : r.fixed(32);
  let refundAddress: string | undefined;
  if (tag === OUTPUT_MINT_REFUND_MONERO) {
    const length = r.u8();
    if (length === 0 || length > REFUND_ADDRESS_CHARS_MAX)
      throw new CodecError(`a refund address is 1 to ${REFUND_ADDRESS_CHARS_MAX} characters`);
    const text = r.fixed(length);
    // Base58 only: the address is shown to its owner and handed to monero-wallet-rpc as text.
    if (!text.every((c) => BASE58.includes(c))) throw new CodecError("the refund address is not base58");
    refundAddress = new TextDecoder().decode(text);
  }
  r.end();
  if (raw.every((b) => b === 0)) throw new CodecError("the recipient is the zero address");
  return {
    recipient: addressOf(raw),
    ...(refundKey ? { refundKey } : {}),
    ...(refundAddress !== undefined ? { refundAddress } : {}),
  };
}

const BASE58 = new TextEncoder().encode("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz");

// ---- input -------------------------------------------------------------------------------------

export interface BurnKey {
  readonly txHash: Uint8Array;
  readonly logIndex: number;
}

export function encodeBurnClaimInput(key: BurnKey): Uint8Array {
  return new Writer().u8(INPUT_BURN_CLAIM).fixed(key.txHash, 32).u32(key.logIndex).finish();
}

export function decodeBurnClaimInput(bytes: Uint8Array): BurnKey {
  const input = decodeBridgeInput(bytes);
  if (input.kind !== "burn-claim") throw new CodecError(`not a burn-claim input`);
  return input.key;
}

/** A mint output (federation txid and output index). */
export interface MintKey {
  readonly txid: Uint8Array;
  readonly index: number;
}

/** Input 0x02: the value of a returned mint, signed by the refund key its output named. */
export function encodeRefundInput(key: MintKey): Uint8Array {
  return new Writer().u8(INPUT_REFUND).fixed(key.txid, 32).u32(key.index).finish();
}

export type BridgeInput =
  { readonly kind: "burn-claim"; readonly key: BurnKey } | { readonly kind: "refund"; readonly key: MintKey };

export function decodeBridgeInput(bytes: Uint8Array): BridgeInput {
  const r = new Reader(bytes);
  const tag = r.u8();
  let input: BridgeInput;
  if (tag === INPUT_BURN_CLAIM)
    input = { kind: "burn-claim", key: { txHash: r.fixed(32), logIndex: r.u32() } };
  else if (tag === INPUT_REFUND) input = { kind: "refund", key: { txid: r.fixed(32), index: r.u32() } };
  else throw new CodecError(`unknown bridge input kind ${tag}`);
  r.end();
  return input;
}

// ---- consensus items ---------------------------------------------------------------------------

/** A Burned log as a guardian saw it at its confirmation depth. */
export interface BurnSeen {
  readonly txHash: Uint8Array;
  readonly logIndex: number;
  readonly blockNumber: bigint;
  readonly burnId: bigint;
  readonly from: EvmAddress;
  readonly amount: bigint;
  /** 0: burn to a Monero address, 1: burn to a claim key. */
  readonly burnKind: number;
  readonly destination: Uint8Array;
}

/**
 * A guardian's vote on an expired mint: at its depth block, past the deadline, is the deposit id used?
 * `remint`: the mint is the re-mint of burn (txid = its tx hash, index = its log index), not an
 * output. `attempt`: which issue of a re-issuable mint (0, the first, when absent).
 */
export interface ExpirySeen extends MintKey {
  readonly used: boolean;
  readonly remint?: boolean;
  readonly attempt?: number;
}

/**
 * A guardian's own evidence for the accountant (server.ts checkBooks): its node's wXMR totalSupply()
 * after EVM block `block`, and Σ burned in its state when it read it (every accepted burn then was
 * on chain at or below `block`). Only its proposer acts on it, where consensus orders it: there its
 * state holds every mint signed before the read, so supply + burned > Σ signed there is a mint the
 * federation never signed. The other guardians ignore it (it changes no state).
 */
export interface SupplyCheck {
  readonly block: bigint;
  readonly supply: bigint;
  readonly burned: bigint;
  /** Σ returned ever (state.ts Totals.returnedEver) at the reading: what left Σ signed since is added back. */
  readonly returned: bigint;
}

export type BridgeItem =
  | { readonly kind: "scanned"; readonly block: bigint; readonly timestamp: bigint }
  | ({ readonly kind: "supply_check" } & SupplyCheck)
  | ({ readonly kind: "burn" } & BurnSeen)
  | ({ readonly kind: "expiry" } & ExpirySeen);

export function encodeBurnSeen(w: Writer, b: BurnSeen): Writer {
  return w
    .fixed(b.txHash, 32)
    .u32(b.logIndex)
    .u64big(b.blockNumber)
    .u64big(b.burnId)
    .fixed(addressBytes(b.from), 20)
    .u64big(b.amount)
    .u8(b.burnKind)
    .bytes(b.destination);
}

export function decodeBurnSeen(r: Reader): BurnSeen {
  return {
    txHash: r.fixed(32),
    logIndex: r.u32(),
    blockNumber: r.u64big(),
    burnId: r.u64big(),
    from: addressOf(r.fixed(20)),
    amount: r.u64big(),
    burnKind: r.u8(),
    destination: r.bytes(BURN_DESTINATION_BYTES_MAX),
  };
}

export function encodeBridgeItem(item: BridgeItem): Uint8Array {
  if (item.kind === "scanned")
    return new Writer().u8(ITEM_SCANNED).u64big(item.block).u64big(item.timestamp).finish();
  if (item.kind === "supply_check")
    return new Writer()
      .u8(ITEM_SUPPLY_CHECK)
      .u64big(item.block)
      .u64big(item.supply)
      .u64big(item.burned)
      .u64big(item.returned)
      .finish();
  if (item.kind === "expiry" && (item.remint === true || (item.attempt ?? 0) > 0))
    return new Writer()
      .u8(ITEM_EXPIRY_ATTEMPT)
      .u8(item.remint === true ? 1 : 0)
      .fixed(item.txid, 32)
      .u32(item.index)
      .u32(item.attempt ?? 0)
      .u8(item.used ? 1 : 0)
      .finish();
  if (item.kind === "expiry")
    return new Writer()
      .u8(ITEM_EXPIRY)
      .fixed(item.txid, 32)
      .u32(item.index)
      .u8(item.used ? 1 : 0)
      .finish();
  return encodeBurnSeen(new Writer().u8(ITEM_BURN), item).finish();
}

export function decodeBridgeItem(bytes: Uint8Array): BridgeItem {
  const r = new Reader(bytes);
  const tag = r.u8();
  let item: BridgeItem;
  if (tag === ITEM_SCANNED) item = { kind: "scanned", block: r.u64big(), timestamp: r.u64big() };
  else if (tag === ITEM_BURN) item = { kind: "burn", ...decodeBurnSeen(r) };
  else if (tag === ITEM_SUPPLY_CHECK)
    item = {
      kind: "supply_check",
      block: r.u64big(),
      supply: r.u64big(),
      burned: r.u64big(),
      returned: r.u64big(),
    };
  else if (tag === ITEM_EXPIRY) {
    const txid = r.fixed(32);
    const index = r.u32();
    const used = r.u8();
    if (used > 1) throw new CodecError(`an expiry vote's "used" is 0 or 1, not ${used}`);
    item = { kind: "expiry", txid, index, used: used === 1 };
  } else if (tag === ITEM_EXPIRY_ATTEMPT) {
    const source = r.u8();
    if (source > 1)
      throw new CodecError(`an expiry vote's source is 0 (output) or 1 (re-mint), not ${source}`);
    const txid = r.fixed(32);
    const index = r.u32();
    const attempt = r.u32();
    const used = r.u8();
    if (used > 1) throw new CodecError(`an expiry vote's "used" is 0 or 1, not ${used}`);
    item = { kind: "expiry", txid, index, used: used === 1, remint: source === 1, attempt };
  } else throw new CodecError(`unknown bridge item kind ${tag}`);
  r.end();
  return item;
}

/** Two votes for one burn agree when every field is equal. */
export function sameBurn(a: BurnSeen, b: BurnSeen): boolean {
  return (
    bytesEqual(a.txHash, b.txHash) &&
    a.logIndex === b.logIndex &&
    a.blockNumber === b.blockNumber &&
    a.burnId === b.burnId &&
    a.from === b.from &&
    a.amount === b.amount &&
    a.burnKind === b.burnKind &&
    bytesEqual(a.destination, b.destination)
  );
}

/**
 * The same burn at another place: one transaction, the same burner, amount, kind and destination,
 * another log index, and either another block or the same burn id. A reorg deeper than the
 * watchers' depth that includes an accepted burn's transaction again elsewhere gives its log another
 * index, so another key (tx hash, log index): without this, t watchers would vote it again and it
 * would be accepted (and paid) twice. Two real burns of one transaction are in one block with two
 * burn ids (the contract numbers every burn), so they stay two burns even when equal otherwise.
 */
export function sameBurnMoved(accepted: BurnSeen, seen: BurnSeen): boolean {
  return (
    bytesEqual(accepted.txHash, seen.txHash) &&
    accepted.logIndex !== seen.logIndex &&
    (accepted.blockNumber !== seen.blockNumber || accepted.burnId === seen.burnId) &&
    accepted.from === seen.from &&
    accepted.amount === seen.amount &&
    accepted.burnKind === seen.burnKind &&
    bytesEqual(accepted.destination, seen.destination)
  );
}

// ---- helpers -----------------------------------------------------------------------------------

export function addressBytes(address: EvmAddress): Uint8Array {
  const hex = address.slice(2);
  if (!/^[0-9a-fA-F]{40}$/.test(hex)) throw new CodecError(`not an EVM address: ${address.slice(0, 50)}`);
  return Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}

export function addressOf(bytes: Uint8Array): EvmAddress {
  return getAddress(`0x${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`);
}
