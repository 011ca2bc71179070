// Burns from the user's EVM key: `burn(amount, moneroAddress)` (the federation pays Monero out) or
// `burnToClaim(amount, claimKey)` with a claim key derived from this wallet's secret (config.ts
// claimSeed), which the wallet then redeems into e-cash: once t guardians accepted the burn at
// their depth (GET burns/:txHash/:logIndex), one federation transaction spends the module's input
// `0x01 | tx hash | log index`, signed by the claim key, into fresh notes (the mint half's
// issueLocked). Crash-safe: the burn is signed first, and its raw bytes, hash and claim-key index are
// written down with its log entry before it is sent; resume sends the same bytes again and goes on.
import { json, parseJson, put, sleep } from "@conclave/core-client";
import type { ClientModuleInit, DbOp, OperationRecord } from "@conclave/core-client";
import { bytesToHex as toHex0x } from "viem";
import { fromHex } from "@conclave/core-common";
import type { PendingOp, ReissueResult } from "@conclave/module-mint/client";
import { BurnViewSchema } from "../api.js";
import type { BurnPayoutView, BurnView } from "../api.js";
import { BURN_TO_CLAIM, encodeBurnClaimInput } from "../common.js";
import {
  BURN_WAIT_MS_DEFAULT,
  CLAIM_KEY_GAP,
  SIGNATURES_WAIT_MS_DEFAULT,
  bridgeError,
  burnPath,
  claimSeed,
  errorText,
  reissueOf,
} from "./config.js";
import type { BridgeCrypto, BridgeHooks, BurnRecord, EvmSender, MintCall, ReissueInfo } from "./config.js";
import { burnCalldata, mintOnChain, readBurn, sendBurn, sendMintChecked, signBurn } from "./evm.js";
import type { EvmRpc, MintSubmission } from "./evm.js";
import { BridgePart } from "./part.js";

type Hex = `0x${string}`;

export type BurnDestination = { readonly moneroAddress: string } | { readonly toClaim: true };

export interface BurnOptions {
  /** Sign and send from this EVM key and node; without it, the call is returned for any EVM wallet. */
  readonly sender?: EvmSender;
  /** How long a burn to a claim key waits for t guardians to accept it (default 30 min). */
  readonly waitMs?: number;
  readonly pollMs?: number;
}

export interface BurnProgress {
  readonly stage: "signed" | "mined" | "voting" | "accepted" | "redeemed";
  readonly message: string;
  readonly txHash: string;
}

/** A burn's call for any EVM wallet (nothing was sent). */
export interface BurnCall {
  readonly chainId: number;
  readonly contract: Hex;
  readonly function: "burn" | "burnToClaim";
  readonly amount: bigint;
  /** The Monero address, or the claim key (0x, 32 bytes). */
  readonly destination: string;
  readonly data: Hex;
  /** For burnToClaim: the index of the wallet's claim key (`bridge-redeem` finds it from the burn). */
  readonly claimIndex?: number;
}

export interface BurnResult {
  readonly operationId?: string;
  /** Without a sender: the call to make from any EVM wallet. */
  readonly call?: BurnCall;
  readonly txHash?: Hex;
  readonly logIndex?: number;
  readonly burnId?: bigint;
  /** A burn to a claim key, redeemed: the notes' transaction and amount. */
  readonly redeemed?: Redeemed;
}

export interface Redeemed {
  readonly txid: string;
  readonly amount: bigint;
  readonly fee: bigint;
  readonly notesIssued: number;
}

const BASE58_ADDRESS = /^[1-9A-HJ-NP-Za-km-z]{95}$|^[1-9A-HJ-NP-Za-km-z]{106}$/;

export class BridgeBurns extends BridgePart {
  constructor(
    init: ClientModuleInit,
    crypto: BridgeCrypto,
    private readonly hooks: BridgeHooks = {},
  ) {
    super(init, crypto);
  }

  static attached(op: PendingOp): { txHash: string } | undefined {
    const a = op["bridgeRedeem"];
    if (a === null || typeof a !== "object" || !("txHash" in a) || typeof a.txHash !== "string")
      return undefined;
    return { txHash: a.txHash };
  }

  private claimKey(index: number): Hex {
    return toHex0x(this.crypto.ed25519PublicKey(claimSeed(this.secret, index)));
  }

  /** Reserves the next claim-key index (written before the key is used anywhere). */
  private reserveClaimIndex(): Promise<number> {
    return this.ctx.run(async () => {
      const next = await this.claimCounter();
      await this.db.write([put(this.key("claim-counter"), json({ next: next + 1 }))]);
      return next;
    });
  }

  private async claimCounter(): Promise<number> {
    const raw = await this.db.get(this.key("claim-counter"));
    return raw ? parseJson<{ next: number }>(raw).next : 0;
  }

  async burn(
    amount: bigint,
    to: BurnDestination,
    options: BurnOptions,
    progress: (p: BurnProgress) => void,
  ): Promise<BurnResult> {
    if (typeof amount !== "bigint" || amount <= 0n)
      throw bridgeError("invalid_amount", `a burn is a positive amount of piconero, not ${String(amount)}`);
    let destination: { moneroAddress: string } | { claimKey: Hex };
    let claimIndex: number | undefined;
    if ("moneroAddress" in to) {
      const a = to.moneroAddress.trim();
      // The contract checks the same form; the guardians check checksum and network, and re-mint
      // the wXMR to the burner when they fail (docs/bridge.md).
      if (!BASE58_ADDRESS.test(a))
        throw bridgeError(
          "invalid_monero_address",
          `a Monero address is 95 base58 characters (106 for an integrated one), not "${a.length > 40 ? `${a.slice(0, 40)}…` : a}"; nothing was burned`,
        );
      destination = { moneroAddress: a };
    } else {
      claimIndex = await this.reserveClaimIndex();
      destination = { claimKey: this.claimKey(claimIndex) };
    }
    const data = burnCalldata(destination, amount);
    const call: BurnCall = {
      chainId: this.config.chainId,
      contract: this.config.contract,
      function: "moneroAddress" in destination ? "burn" : "burnToClaim",
      amount,
      destination: "moneroAddress" in destination ? destination.moneroAddress : destination.claimKey,
      data,
      ...(claimIndex !== undefined ? { claimIndex } : {}),
    };
    if (!options.sender) return { call };
    const signed = await signBurn(this.config.chainId, this.config.contract, data, options.sender);
    const kind = "moneroAddress" in destination ? "monero" : "claim";
    const started = this.ctx.operations.startOp(
      this.instanceId,
      "bridge",
      kind === "claim" ? "burn-to-claim" : "burn",
      {
        txHash: signed.txHash,
        amount: amount.toString(),
        from: signed.from,
      },
    );
    const record: BurnRecord = {
      operationId: started.record.id,
      kind,
      amount: amount.toString(),
      createdAtMs: this.ctx.now(),
      rawTx: signed.rawTx,
      txHash: signed.txHash,
      rpcUrl: options.sender.rpcUrl,
      ...(claimIndex !== undefined && "claimKey" in destination
        ? { claimIndex, claimKey: destination.claimKey }
        : {}),
    };
    await this.ctx.run(() => this.db.write([started.op, this.putBurn(record)]));
    progress({
      stage: "signed",
      message: `burn ${signed.txHash} signed and written down; sending`,
      txHash: signed.txHash,
    });
    await this.hooks.beforeBurnSend?.(signed.txHash);
    return this.continueBurn(record, options, progress);
  }

  /** From a written-down burn to its end: mined; for a claim key, accepted and redeemed. */
  private async continueBurn(
    record: BurnRecord,
    options: Omit<BurnOptions, "sender">,
    progress: (p: BurnProgress) => void,
  ): Promise<BurnResult> {
    let r = record;
    if (r.logIndex === undefined) {
      if (!r.rawTx || !r.rpcUrl)
        throw bridgeError("unknown_burn", `burn ${r.txHash} has no signed transaction to send`);
      const log = await sendBurn(this.config.chainId, this.config.contract, r.rpcUrl, r.rawTx, r.txHash);
      r = { ...r, logIndex: log.logIndex };
      const next = r;
      await this.ctx.run(() => this.db.write([this.putBurn(next)]));
      progress({
        stage: "mined",
        message: `burn mined in block ${log.blockNumber} (burn id ${log.burnId})`,
        txHash: r.txHash,
      });
    }
    const logIndex = r.logIndex!;
    if (r.kind === "monero") {
      const entry = await this.ctx.operations.get(r.operationId);
      if (entry?.state === "pending")
        await this.ctx.operations.finish(entry, { txHash: r.txHash, logIndex, amount: r.amount });
      return { operationId: r.operationId, txHash: r.txHash, logIndex };
    }
    const redeemed = await this.redeemRecord(r, options, progress);
    return { operationId: r.operationId, txHash: r.txHash, logIndex, redeemed };
  }

  /**
   * Redeems a burn to one of this wallet's claim keys into notes. A burn this wallet has no record
   * of (made from another EVM wallet with the printed call, or before a restore) is read from the
   * EVM node at `rpcUrl`, and its claim key looked up among this wallet's.
   */
  async redeem(
    txHashText: string,
    options: Omit<BurnOptions, "sender"> & { readonly rpcUrl?: EvmRpc },
    progress: (p: BurnProgress) => void,
  ): Promise<BurnResult> {
    const txHash = txHashText.trim().toLowerCase();
    if (!/^0x[0-9a-f]{64}$/.test(txHash))
      throw bridgeError(
        "unknown_burn",
        `an EVM transaction hash is 0x and 64 hex digits, not "${txHashText.slice(0, 80)}"`,
      );
    let record = await this.burnRecord(txHash);
    if (!record) record = await this.adoptBurn(txHash as Hex, options.rpcUrl);
    if (record.kind !== "claim")
      throw bridgeError(
        "not_claimable",
        `burn ${txHash} pays a Monero address; the federation pays it, there is nothing to redeem`,
      );
    return this.continueBurn(record, options, progress);
  }

  /** Reads a burn from the chain and finds its claim key among this wallet's; writes its record and entry. */
  private async adoptBurn(txHash: Hex, rpcUrl: EvmRpc | undefined): Promise<BurnRecord> {
    if (!rpcUrl)
      throw bridgeError(
        "unknown_burn",
        `this wallet has no record of burn ${txHash}: give an EVM node (--rpc) to read it from the chain`,
      );
    const logs = (await readBurn(this.config.chainId, this.config.contract, rpcUrl, txHash)).filter(
      (l) => l.kind === BURN_TO_CLAIM,
    );
    if (logs.length === 0)
      throw bridgeError("unknown_burn", `transaction ${txHash} burned nothing to a claim key`);
    const counter = await this.claimCounter();
    for (let index = 0; index < counter + CLAIM_KEY_GAP; index++) {
      const key = this.claimKey(index);
      const log = logs.find((l) => l.destination.toLowerCase() === key.toLowerCase());
      if (!log) continue;
      const started = this.ctx.operations.startOp(this.instanceId, "bridge", "redeem", {
        txHash,
        amount: log.amount.toString(),
      });
      const record: BurnRecord = {
        operationId: started.record.id,
        kind: "claim",
        amount: log.amount.toString(),
        createdAtMs: this.ctx.now(),
        txHash,
        logIndex: log.logIndex,
        claimIndex: index,
        claimKey: key,
      };
      await this.ctx.run(() =>
        this.db.write([
          started.op,
          this.putBurn(record),
          put(this.key("claim-counter"), json({ next: Math.max(counter, index + 1) })),
        ]),
      );
      return record;
    }
    throw bridgeError(
      "claim_key_unknown",
      `burn ${txHash} is to a claim key that is not one of this wallet's first ${counter + CLAIM_KEY_GAP}`,
    );
  }

  /** Waits until t guardians accepted the burn as claimable, then spends it into notes. */
  private async redeemRecord(
    record: BurnRecord,
    options: Omit<BurnOptions, "sender">,
    progress: (p: BurnProgress) => void,
  ): Promise<Redeemed> {
    const logIndex = record.logIndex!;
    if (record.redeemTxid && (await this.mintHalf().isPending(record.redeemTxid)))
      throw bridgeError(
        "not_claimable",
        `burn ${record.txHash} is being redeemed in ${record.redeemTxid}: \`resume\` finishes it`,
      );
    const client = await this.ctx.client();
    const deadline = this.ctx.now() + (options.waitMs ?? BURN_WAIT_MS_DEFAULT);
    let last = "";
    for (;;) {
      const view = await this.agreed(client, burnPath(record.txHash, logIndex), BurnViewSchema, sameBurnView);
      const said = view
        ? `${view.state}${view.settlement ? ` (${view.settlement})` : ""}, ${view.votes}/${view.votesRequired} votes`
        : "no t guardians agree yet";
      if (said !== last) {
        progress({
          stage: view?.state === "accepted" ? "accepted" : "voting",
          message: said,
          txHash: record.txHash,
        });
        last = said;
      }
      if (view?.state === "accepted") {
        if (view.settlement === "claimable") break;
        const entry = await this.ctx.operations.get(record.operationId);
        if (view.settlement === "claimed" && entry?.state === "done") {
          const result = entry.result as
            { txid?: string; amount?: string; fee?: string; notesIssued?: number } | undefined;
          return {
            txid: result?.txid ?? "",
            amount: BigInt(result?.amount ?? "0"),
            fee: BigInt(result?.fee ?? "0"),
            notesIssued: result?.notesIssued ?? 0,
          };
        }
        const error = bridgeError(
          "not_claimable",
          view.settlement === "reminted"
            ? `burn ${record.txHash} was re-minted to its burner (${view.reason ?? "invalid claim key"})`
            : `burn ${record.txHash} is ${view.settlement ?? "not claimable"}`,
        );
        if (entry?.state === "pending") await this.ctx.operations.fail(entry, error);
        throw error;
      }
      if (this.ctx.now() >= deadline)
        throw bridgeError(
          "burn_timeout",
          `burn ${record.txHash} is not accepted by the guardians yet (${said}); \`bridge-redeem ${record.txHash}\` or \`resume\` goes on`,
          { txHash: record.txHash },
        );
      await sleep(options.pollMs ?? 500);
    }
    const amount = BigInt(record.amount);
    const seed = claimSeed(this.secret, record.claimIndex!);
    const r: ReissueResult = await this.ctx.run(async () => {
      const mint = this.mintHalf();
      const { notes } = mint.decompose(amount);
      return mint.issueLocked("bridge-redeem", {
        inputs: [
          {
            module: this.instanceId,
            amount,
            payload: encodeBurnClaimInput({ txHash: fromHex(record.txHash.slice(2)), logIndex }),
          },
        ],
        signers: [this.crypto.ed25519Signer(seed, fromHex(record.claimKey!.slice(2)))],
        outputs: notes,
        attach: { bridgeRedeem: { txHash: record.txHash } },
        writes: (op) => [this.putBurn({ ...record, redeemTxid: op.txid })],
      });
    });
    progress({
      stage: "redeemed",
      message: `redeemed into ${r.notesIssued} notes (transaction ${r.txid})`,
      txHash: record.txHash,
    });
    return { txid: r.txid, amount: r.amount, fee: r.fee, notesIssued: r.notesIssued };
  }

  /** A redeeming transaction accepted: the burn's entry ends done in the settling write. */
  async endAccepted(op: PendingOp, result: ReissueResult): Promise<DbOp[]> {
    const a = BridgeBurns.attached(op);
    const record = a && (await this.burnRecord(a.txHash));
    const entry = record && (await this.ctx.operations.get(record.operationId));
    if (!record || !entry || entry.state !== "pending") return [];
    return [
      this.ctx.operations.finishOp(entry, {
        txHash: record.txHash,
        logIndex: record.logIndex ?? null,
        txid: result.txid,
        amount: result.amount.toString(),
        fee: result.fee.toString(),
        notesIssued: result.notesIssued,
      }),
    ];
  }

  /** A redeeming transaction refused: the burn is redeemable again (its entry stays pending), or spent. */
  async undoRejected(op: PendingOp, spentInput: boolean, error: Error): Promise<DbOp[]> {
    const a = BridgeBurns.attached(op);
    const record = a && (await this.burnRecord(a.txHash));
    if (!record) return [];
    const { redeemTxid: _dropped, ...rest } = record;
    const entry = await this.ctx.operations.get(record.operationId);
    return [
      this.putBurn(rest),
      ...(spentInput && entry?.state === "pending" ? [this.ctx.operations.failOp(entry, error)] : []),
    ];
  }

  /** A pending burn entry after a crash: send again if not mined, then one look at the guardians. */
  async resumeBurn(entry: OperationRecord): Promise<void> {
    const meta = entry.meta;
    const txHash =
      typeof meta === "object" && meta !== null && "txHash" in meta && typeof meta["txHash"] === "string"
        ? meta["txHash"]
        : undefined;
    const record = txHash === undefined ? undefined : await this.burnRecord(txHash);
    if (!record) return this.ctx.operations.fail(entry, new Error("its burn record is gone"));
    if (record.redeemTxid && (await this.mintHalf().isPending(record.redeemTxid))) return;
    await this.continueBurn(record, { waitMs: 0 }, () => undefined);
  }

  /** The life cycle of a burn: the wallet's record, the chain (with an EVM node), the guardians (t agreeing). */
  async status(
    txHash: string,
    logIndexGiven: number | undefined,
    rpcUrl: EvmRpc | undefined,
  ): Promise<BurnStatus> {
    const record = await this.burnRecord(txHash);
    let logIndex = logIndexGiven ?? record?.logIndex;
    if (logIndex === undefined && rpcUrl) {
      const logs = await readBurn(this.config.chainId, this.config.contract, rpcUrl, txHash as Hex).catch(
        () => [],
      );
      logIndex = logs[0]?.logIndex;
    }
    const base = {
      kind: "burn" as const,
      txHash,
      ...(record ? { operationId: record.operationId, amount: record.amount, to: record.kind } : {}),
      ...(record?.redeemTxid ? { redeemTxid: record.redeemTxid } : {}),
    };
    if (logIndex === undefined)
      return {
        ...base,
        state: record ? "sent" : "unknown",
        message: record
          ? "signed and sent, not seen mined yet"
          : "unknown: give the log index (HASH:INDEX) or an EVM node (--rpc)",
      };
    const client = await this.ctx.client();
    const view = await this.agreed(client, burnPath(txHash, logIndex), BurnViewSchema, sameBurnView);
    const withLog = { ...base, logIndex };
    if (!view)
      return {
        ...withLog,
        state: "voting",
        message: "the guardians do not agree on it yet (one may be behind)",
      };
    const votes = {
      votes: view.votes,
      votesRequired: view.votesRequired,
      ...(view.amount ? { amount: view.amount } : {}),
    };
    if (view.state !== "accepted")
      return {
        ...withLog,
        ...votes,
        state: view.state === "unknown" ? "mined" : "voting",
        message: `${view.votes} of ${view.votesRequired} guardian votes at their confirmation depth`,
      };
    const settlement = view.settlement ?? "payout_pending";
    const redeemed = record?.redeemTxid && !(await this.mintHalf().isPending(record.redeemTxid));
    const remint =
      settlement === "reminted" ? await this.remintStatus(txHash, logIndex, view, rpcUrl) : undefined;
    return {
      ...withLog,
      ...votes,
      ...(view.payout ? { payout: view.payout } : {}),
      ...(remint ? { remint } : {}),
      state: settlement === "claimed" && redeemed ? "redeemed" : settlement,
      message:
        settlement === "payout_pending"
          ? "accepted: the federation owes the Monero payout"
          : settlement === "payout"
            ? `accepted: Monero payout of ${view.payout?.amount ?? "?"} piconero (fee ${view.payout?.fee ?? "?"}) ${view.payout?.state ?? "queued"}${view.payout?.moneroTxid ? `, Monero txid ${view.payout.moneroTxid}` : ""}`
            : settlement === "claimable"
              ? "accepted: redeemable into e-cash by its claim key (`bridge-redeem`)"
              : settlement === "claimed"
                ? "accepted and redeemed into e-cash"
                : `re-minted to the burner: ${view.reason ?? ""}${remint ? `; ${remint.message}` : ""}`,
    };
  }

  /**
   * The re-mint of an accepted burn the federation could not pay: the call t guardians sign now
   * (collectSignedCall: a re-issued one under the attempt they agree on, its deposit id computed
   * here), with an EVM node where it stands on chain.
   */
  private async remintStatus(
    txHash: string,
    logIndex: number,
    view: BurnView,
    rpcUrl: EvmRpc | undefined,
  ): Promise<RemintStatus> {
    let call: MintCall;
    try {
      call = await this.remintCall(txHash, logIndex, view, 0);
    } catch (e) {
      return { state: "unsigned", message: `its signatures: ${errorText(e)}` };
    }
    const reissue = reissueOf(call);
    const signed = {
      recipient: call.recipient,
      amount: call.amount.toString(),
      depositId: call.depositId,
      deadline: call.deadline.toString(),
      signers: [...call.signers],
      ...reissue,
    };
    const said = (m: string) => (reissue.reissue ? `${reissue.reissue.text}; ${m}` : m);
    if (!rpcUrl)
      return {
        ...signed,
        state: "signed",
        message: said(`signed by t guardians to ${call.recipient} (give an EVM node to see the chain)`),
      };
    const chain = await mintOnChain(
      this.config.chainId,
      this.config.contract,
      rpcUrl,
      call.depositId,
      undefined,
    );
    if (chain.deposit === "minted")
      return { ...signed, state: "minted", message: said("the re-mint is minted") };
    if (chain.deposit === "queued")
      return {
        ...signed,
        state: "submitted",
        message: said("the re-mint is queued above the single-mint cap"),
      };
    if (chain.chainTime > call.deadline || chain.deposit === "cancelled")
      return {
        ...signed,
        state: "expired",
        message: said(
          "not minted and past its deadline (or cancelled): it is re-issued once t guardians see it unminted at their confirmation depth",
        ),
      };
    return {
      ...signed,
      state: "signed",
      message: said(`signed, not submitted: \`bridge-submit ${txHash}:${logIndex}\` sends it`),
    };
  }

  /** The re-mint's call t guardians sign now, to the burner `view.from` for `view.amount`. */
  private remintCall(txHash: string, logIndex: number, view: BurnView, waitMs: number): Promise<MintCall> {
    if (view.state !== "accepted" || view.settlement !== "reminted" || !view.from || !view.amount)
      throw bridgeError(
        "unknown_mint",
        `burn ${txHash}:${logIndex} is not re-minted (${view.state}${view.settlement ? `, ${view.settlement}` : ""})`,
      );
    return this.collectSignedCall(
      this.remintSource(txHash, logIndex),
      view.from as Hex,
      BigInt(view.amount),
      waitMs,
    );
  }

  /**
   * Sends the re-mint of a burn the federation could not pay (any burner's: the wXMR goes to the
   * burner whoever pays the gas) from `sender`: the attempt t guardians sign now, never an expired
   * one. `logIndex`: given, this wallet's record's, or read from the chain through the sender's node.
   */
  async submitRemint(
    txHashText: string,
    logIndexGiven: number | undefined,
    sender: EvmSender,
  ): Promise<MintSubmission> {
    const txHash = txHashText.trim().toLowerCase();
    let logIndex = logIndexGiven ?? (await this.burnRecord(txHash))?.logIndex;
    if (logIndex === undefined) {
      const logs = await readBurn(this.config.chainId, this.config.contract, sender.rpcUrl, txHash as Hex);
      if (logs.length !== 1)
        throw bridgeError(
          "unknown_burn",
          `transaction ${txHash} has ${logs.length} burns: give the one to re-mint as HASH:LOG`,
        );
      logIndex = logs[0]!.logIndex;
    }
    const client = await this.ctx.client();
    const view = await this.agreed(client, burnPath(txHash, logIndex), BurnViewSchema, sameBurnView);
    if (!view)
      throw bridgeError("guardians_disagree", `no t guardians agree on burn ${txHash}:${logIndex} yet`);
    const call = await this.remintCall(txHash, logIndex, view, SIGNATURES_WAIT_MS_DEFAULT);
    return sendMintChecked(call, sender);
  }
}

/** A burn's re-mint (a burn the federation could not pay, minted back to its burner). */
export interface RemintStatus {
  /** unsigned: fewer than t good signatures of one attempt yet; with an EVM node: submitted, minted or expired. */
  readonly state: "unsigned" | "signed" | "submitted" | "minted" | "expired";
  readonly message: string;
  readonly recipient?: string;
  readonly amount?: string;
  /** The current attempt's deposit id (computed here) and deadline. */
  readonly depositId?: string;
  readonly deadline?: string;
  readonly signers?: readonly string[];
  /** Re-issued: the attempt t guardians sign now. */
  readonly reissue?: ReissueInfo;
}

/** Two guardians' views of a burn agree on everything but their own re-mint signatures. */
function sameBurnView(a: BurnView, b: BurnView): boolean {
  const strip = (v: BurnView) => {
    const { remint, ...rest } = v;
    return JSON.stringify({
      ...rest,
      remint: remint ? { ...remint, guardian: 0, signer: "", signature: "" } : null,
    });
  };
  return strip(a) === strip(b);
}

export interface BurnStatus {
  readonly kind: "burn";
  readonly state:
    | "unknown"
    | "sent"
    | "mined"
    | "voting"
    | "payout_pending"
    | "payout"
    | "claimable"
    | "claimed"
    | "redeemed"
    | "reminted";
  readonly message: string;
  readonly txHash: string;
  readonly logIndex?: number;
  readonly operationId?: string;
  readonly amount?: string;
  readonly to?: "monero" | "claim";
  readonly votes?: number;
  readonly votesRequired?: number;
  readonly redeemTxid?: string;
  /** Settled by a Monero payout: its amount, fee and progress (t guardians agreeing; never its address). */
  readonly payout?: BurnPayoutView;
  /** Reminted: the re-mint's signed call as t guardians sign it now. */
  readonly remint?: RemintStatus;
}
