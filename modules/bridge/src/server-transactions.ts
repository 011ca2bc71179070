// The bridge's side of a federation transaction (server.ts holds BridgeServerModule, which calls
// these): input 0x01 spends an accepted burn to a claim key, input 0x02 a returned mint to its refund
// key; an output (0x01, 0x02 with a refund key, 0x03 with a Monero refund address too) is a wXMR mint,
// recorded and queued for its expiry vote.
import { toHex } from "@conclave/core-common";
import type { TxInput, TxOutput } from "@conclave/core-common";
import { fail, ok } from "@conclave/core-server";
import type { InputMeta, ModuleResult, OutPoint, OutputMeta, WriteTx } from "@conclave/core-server";
import { parseAddress } from "@conclave/monero";
import { bytesToHex } from "viem";
import { decodeBridgeInput, decodeMintOutput } from "./common.js";
import type { MintKey } from "./common.js";
import { outputDepositId } from "./eip712-mint.js";
import { indexOutputDeposit } from "./lookup-index.js";
import { agreedOf, isEd25519Point } from "./server-common.js";
import type { BridgeCore } from "./server-common.js";
import { BridgeState, BridgeStateWriter, REFUND_KEY_ENTRIES_MAX } from "./state.js";

/**
 * Input 0x01: the e-cash value of an accepted burnToClaim, signed by its claim key, once.
 * Input 0x02: the value of a returned mint (t guardians saw it unminted past its deadline), signed
 * by the refund key its output named, once.
 */
export function processBridgeInput(db: WriteTx, input: TxInput): ModuleResult<InputMeta> {
  let decoded;
  try {
    decoded = decodeBridgeInput(input.payload);
  } catch (e) {
    return fail(
      "malformed_input",
      `a bridge input is 0x01 | burn tx hash (32) | log index u32, or 0x02 | txid (32) | output index u32: ${(e as Error).message}`,
    );
  }
  const state = new BridgeStateWriter(db);
  if (decoded.kind === "refund") return spendRefund(state, decoded.key);
  const key = decoded.key;
  const accepted = state.burn(key);
  const name = `${bytesToHex(key.txHash)}:${key.logIndex}`;
  if (!accepted)
    return fail("unknown_burn", `no accepted burn ${name}: it needs t guardians' votes at depth first`);
  if (accepted.settlement === "claimed") return fail("spent_input", `burn ${name} was already claimed`);
  if (accepted.settlement !== "claimable")
    return fail("not_claimable", `burn ${name} is not a burn to a claim key (${accepted.settlement})`);
  state.putBurn(key, { ...accepted, settlement: "claimed" });
  const totals = state.totals();
  state.setTotals({ ...totals, unsettled: totals.unsettled - accepted.burn.amount });
  return ok({ amount: accepted.burn.amount, fee: 0n, signers: [accepted.burn.destination] });
}

/** A returned mint's value, whole (no fee), to whoever signs with its refund key; then refunded. */
function spendRefund(state: BridgeStateWriter, key: MintKey): ModuleResult<InputMeta> {
  const name = `${toHex(key.txid)}:${key.index}`;
  const record = state.mint(key.txid, key.index);
  if (!record) return fail("unknown_mint", `no wXMR mint output ${name}`);
  if (!record.refundKey)
    return fail(
      "not_refundable",
      `mint ${name} names no refund key (output form 0x01): it is never returned`,
    );
  const outcome = state.expiryOutcome(key);
  if (outcome === "refunded") return fail("spent_input", `mint ${name} was already refunded`);
  if (outcome === "paid_out")
    return fail(
      "not_returnable",
      `mint ${name} was paid back in Monero to the refund address its output named`,
    );
  if (outcome === "minted")
    return fail("not_returnable", `mint ${name} was minted on chain (t guardians saw its deposit id used)`);
  if (outcome === undefined)
    return fail(
      "not_returnable",
      `mint ${name} is not returned: t guardians must first see it unminted at their depth past its deadline ${record.deadline}`,
      { deadline: record.deadline.toString() },
    );
  state.setExpiryOutcome(key, "refunded");
  const totals = state.totals();
  state.setTotals({ ...totals, returnable: totals.returnable - record.amount });
  return ok({ amount: record.amount, fee: 0n, signers: [record.refundKey] });
}

export function processMintOutput(
  core: BridgeCore,
  db: WriteTx,
  output: TxOutput,
  outPoint: OutPoint,
): ModuleResult<OutputMeta> {
  let decoded;
  try {
    decoded = decodeMintOutput(output.payload);
  } catch (e) {
    return fail(
      "malformed_output",
      `a bridge output is 0x01 | EVM recipient (20), 0x02 | EVM recipient (20) | refund key (32), or 0x03 | EVM recipient (20) | refund key (32) | u8 length | Monero refund address: ${(e as Error).message}`,
    );
  }
  const { recipient, refundKey, refundAddress } = decoded;
  if (refundAddress !== undefined) {
    // Checked at acceptance, so that the refund can be paid when it is due: an address of this
    // federation's network (checksum, network byte), not integrated (a payout carries no payment id).
    try {
      parseAddress(refundAddress, core.config.moneroNetwork, ["standard", "subaddress"]);
    } catch (e) {
      return fail(
        "malformed_output",
        `the refund address is not a standard address or subaddress of this federation's Monero network: ${(e as Error).message}`,
      );
    }
  }
  // A key the index lists already passed this check when its first output was accepted: a flood of
  // outputs naming one key (threat model 12zf) costs the guardians no point check each.
  const listed = refundKey ? new BridgeState(db).refundKeyEntries(refundKey) : 0;
  if (refundKey && listed === 0 && !isEd25519Point(refundKey))
    return fail(
      "malformed_output",
      "the refund key is not an Ed25519 public key of prime order (nothing could sign its return, or anyone could)",
    );
  if (output.amount < core.config.mintMinPiconero)
    return fail("below_minimum", `a wXMR mint is at least ${core.config.mintMinPiconero} piconero`, {
      mintMinPiconero: core.config.mintMinPiconero.toString(),
    });
  // A refundable output costs every guardian a record, a queue entry, an eth_call and a vote
  // (threat-model 12w): it has its own minimum and pays the federation a fee on top of its amount,
  // which the core's balance check makes the transaction's inputs cover.
  const { refundableMintMinPiconero: refundableMin, refundableMintFeePiconero: refundableFee } = core.config;
  if (refundKey && output.amount < refundableMin)
    return fail(
      "below_minimum",
      `a refundable wXMR mint (output form 0x02) is at least ${refundableMin} piconero and pays the federation ${refundableFee} piconero on top`,
      {
        refundableMintMinPiconero: refundableMin.toString(),
        refundableMintFeePiconero: refundableFee.toString(),
      },
    );
  const state = new BridgeStateWriter(db);
  // A refund key lists at most REFUND_KEY_ENTRIES_MAX mints (threat model 12zf): a wallet names each
  // key once, before the key is public, so its own mint is among the first; the rest were made by
  // someone who read the key off that mint, each paying the fee above. Past the bound: refused.
  if (refundKey && listed >= REFUND_KEY_ENTRIES_MAX)
    return fail(
      "refund_key_full",
      `${REFUND_KEY_ENTRIES_MAX} refundable mints name this refund key already (the most one key lists): a wallet uses a fresh refund key for each mint`,
      { refundKeyEntriesMax: REFUND_KEY_ENTRIES_MAX.toString() },
    );
  const agreed = agreedOf(state, core.n);
  if (agreed.timestamp === 0n)
    return fail(
      "evm_time_unknown",
      "the guardians have not agreed on the EVM chain's time yet; retry shortly",
    );
  const deadline = agreed.timestamp + BigInt(core.config.mintDeadlineSeconds);
  state.putMint(outPoint.txid, outPoint.index, {
    recipient,
    amount: output.amount,
    deadline,
    setIndex: core.config.setIndex,
    ...(refundKey ? { refundKey } : {}),
    ...(refundAddress !== undefined ? { refundAddress } : {}),
  });
  const federationId = core.federationId();
  if (federationId)
    indexOutputDeposit(state.tx, outputDepositId(federationId, outPoint.txid, outPoint.index), outPoint);
  // Every guardian's queue of mints to vote on once the agreed EVM time passes the deadline:
  // a refundable one is then returned, a 0x01 one re-issued.
  state.putDue(core.n, deadline, outPoint);
  if (refundKey) state.putByRefundKey(refundKey, outPoint);
  const totals = state.totals();
  state.setTotals({ ...totals, signed: totals.signed + output.amount });
  return ok({ amount: output.amount, fee: refundKey ? refundableFee : 0n });
}
