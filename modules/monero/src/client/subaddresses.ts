// The Monero half's deposit subaddresses: a subaddress of the federation's wallet bound to a fresh
// claim key (written down before it is requested), paid from any wallet without a tx key; what t
// guardians credit to it becomes notes through the mint half.
import { put, scanPrefix } from "@conclave/core-client";
import type { FederationClient } from "@conclave/core-client";
import { NoQuorumError, json, parseJson, sleep } from "@conclave/core-client";
import { fromHex, toHex } from "@conclave/core-common";
import type { PendingOp, ReissueResult } from "@conclave/module-mint/client";
import { SubaddressAnswerSchema, SubaddressSeenViewSchema, SubaddressViewSchema } from "../api.js";
import type { SubaddressDepositView, SubaddressSeenView, SubaddressView } from "../api.js";
import { subaddressDepositInput } from "../client.js";
import { subaddressRequestMessage } from "../common.js";
import {
  CLAIM_REPOST_MS,
  DEPOSIT_WAIT_MS_DEFAULT,
  MoneroPart,
  SUBADDRESSES_PATH,
  errorText,
  moneroError,
  progressReporter,
  subaddressPath,
  subaddressSeenPath,
  sumBig,
  xmrText,
} from "./config.js";
import { K_CLAIM_COUNTER, MONERO_KIND, P_SUBADDR } from "./store.js";
import type { SubaddressRecord } from "./store.js";
import { KEY_INDEX_MAX as NOTE_INDEX_MAX } from "@conclave/core-client";
import type {
  DepositAddressOptions,
  DepositAddressResult,
  ReceiveDepositsOptions,
  ReceiveDepositsResult,
  SubaddressDepositProgress,
} from "./types.js";

/** The subaddress deposit a pending mint transaction spends, if it is one. */
/** The subaddress deposit a pending deposit transaction carries (and its log entry, if written with one). */
export function subaddressDepositOf(
  op: PendingOp,
): { txid: string; index: number; operationId?: string } | undefined {
  const d = op["subaddressDeposit"];
  if (d === null || typeof d !== "object" || !("txid" in d) || !("index" in d)) return undefined;
  if (typeof d.txid !== "string" || typeof d.index !== "number") return undefined;
  const id = "operationId" in d && typeof d.operationId === "string" ? d.operationId : undefined;
  return { txid: d.txid, index: d.index, ...(id === undefined ? {} : { operationId: id }) };
}

export class MoneroSubaddresses extends MoneroPart {
  async depositAddress(options: DepositAddressOptions = {}): Promise<DepositAddressResult> {
    const federationAddress = this.address;
    if (federationAddress === undefined)
      throw moneroError(
        "no_monero_module",
        "this federation runs no Monero module: it takes no Monero deposits",
      );
    // A fresh claim key, written down before anyone sees it (the mnemonic re-derives it).
    const record = await this.ctx.run(async () => {
      const counterRaw = await this.db.get(K_CLAIM_COUNTER);
      const index = counterRaw ? parseJson<{ next: number }>(counterRaw).next : 0;
      if (index > NOTE_INDEX_MAX) throw new Error("the wallet ran out of claim indexes");
      const claimKey = toHex(this.crypto.ed25519PublicKey(this.claimSeed(index)));
      const r: SubaddressRecord = { claimKey, index, createdAtMs: this.ctx.now() };
      await this.db.write([
        put(K_CLAIM_COUNTER, json({ next: index + 1 })),
        put(P_SUBADDR + claimKey, json(r)),
      ]);
      return r;
    });
    const client = await this.ctx.client();
    const seed = this.claimSeed(record.index);
    const pub = fromHex(record.claimKey);
    const signature = this.crypto
      .ed25519Signer(seed, pub)
      .sign(subaddressRequestMessage(federationAddress, pub));
    const body = { claimKey: record.claimKey, signature: toHex(signature) };
    const post = async () => {
      const answers = await client.postEach(SUBADDRESSES_PATH, body, SubaddressAnswerSchema);
      if (answers.some((a) => a.ok)) return;
      const first = answers.find((a) => !a.ok);
      if (first && !first.ok) throw first.error;
    };
    await post();
    const pollMs = options.pollMs ?? 500;
    const deadline = this.ctx.now() + (options.timeoutMs ?? 120_000);
    let postedAt = this.ctx.now();
    for (;;) {
      const view = await this.subaddressView(client, record.claimKey);
      if (view?.state === "assigned" && view.address !== undefined && view.index !== undefined) {
        const done: SubaddressRecord = { ...record, address: view.address, subaddressIndex: view.index };
        await this.ctx.run(() => this.db.write([put(P_SUBADDR + record.claimKey, json(done))]));
        return { address: view.address, index: view.index, claimKey: record.claimKey };
      }
      if (this.ctx.now() >= deadline)
        throw moneroError(
          "deposit_timeout",
          `t guardians did not agree on a deposit subaddress for claim key ${record.claimKey} in time` +
            (view ? ` (${view.state}${view.index === undefined ? "" : `, index ${view.index}`})` : "") +
            "; ask again later",
          { claimKey: record.claimKey },
        );
      if (view?.state === "unassigned" && this.ctx.now() - postedAt >= CLAIM_REPOST_MS) {
        postedAt = this.ctx.now();
        await post();
      }
      await sleep(pollMs);
    }
  }

  async receiveDeposits(
    address: string,
    options: ReceiveDepositsOptions = {},
  ): Promise<ReceiveDepositsResult> {
    const record = await this.subaddressRecord(address.trim());
    const client = await this.ctx.client();
    const report = progressReporter(options.onProgress);
    const pollMs = options.pollMs ?? 1000;
    const deadline = this.ctx.now() + (options.timeoutMs ?? DEPOSIT_WAIT_MS_DEFAULT);
    const issued: { txid: string; amount: bigint; dust: bigint }[] = [];
    for (;;) {
      const view = await this.subaddressView(client, record.claimKey);
      if (view) {
        const spendable = view.deposits.filter((d) => d.spendable);
        for (const d of spendable) {
          report({
            stage: "issuing",
            txid: d.txid,
            message: `issuing notes for ${xmrText(d.amount)} (${d.txid})`,
          });
          const r = await this.issueSubaddressDeposit(record, d);
          if (r) {
            issued.push({ txid: d.txid, amount: r.amount, dust: r.dust });
            report({
              stage: "done",
              txid: d.txid,
              amount: r.amount,
              message: `received ${xmrText(r.amount)}`,
            });
          }
        }
        if (issued.length > 0 && spendable.length === 0)
          return {
            address: record.address ?? address,
            deposits: issued,
            amount: sumBig(issued.map((d) => d.amount)),
          };
        if (spendable.length === 0) report(await this.subaddressProgress(client, record.claimKey, view));
      }
      if (this.ctx.now() >= deadline)
        throw moneroError(
          "deposit_timeout",
          `no payment to ${address} became spendable in time; it stays watched: receive again (or resume) later`,
          { address },
        );
      await sleep(pollMs);
    }
  }

  private async subaddressRecord(address: string): Promise<SubaddressRecord> {
    for (const [, raw] of await scanPrefix(this.db, P_SUBADDR)) {
      const r = parseJson<SubaddressRecord>(raw);
      if (r.address === address) return r;
    }
    throw moneroError(
      "unknown_address",
      `${address.slice(0, 120)} is not a deposit subaddress of this wallet (depositAddress makes one)`,
      { address: address.slice(0, 120) },
    );
  }

  /** The claim key's subaddress view as t guardians agree, or undefined while they do not. */
  private subaddressView(client: FederationClient, claimKey: string): Promise<SubaddressView | undefined> {
    return this.agreed(client, subaddressPath(claimKey), SubaddressViewSchema);
  }

  /**
   * Progress of the newest payment: from the agreed state once t guardians attest it; before that
   * from what one guardian's own wallet sees (the pool, its node's confirmations): progress only.
   */
  private async subaddressProgress(
    client: FederationClient,
    claimKey: string,
    view: SubaddressView,
  ): Promise<SubaddressDepositProgress> {
    const required = view.confirmationsRequired;
    const pending = view.deposits.find((d) => d.state === "pending");
    const credited = view.deposits.find((d) => d.state === "credited");
    if (credited)
      return {
        stage: "confirming",
        txid: credited.txid,
        confirmations: credited.confirmations,
        confirmationsRequired: required,
        message: `credited ${xmrText(credited.amount)}: ${credited.confirmations} of ${required} confirmations at the agreed height`,
      };
    if (pending)
      return {
        stage: "verifying",
        txid: pending.txid,
        attestations: pending.attestations,
        attestationsRequired: view.attestationsRequired,
        confirmations: required,
        confirmationsRequired: required,
        message: `${required} of ${required} confirmations; ${pending.attestations} of ${view.attestationsRequired} guardians attested it`,
      };
    let seen: SubaddressSeenView | undefined;
    try {
      seen = (await client.queryConsensus(subaddressSeenPath(claimKey), SubaddressSeenViewSchema, () => true))
        .value;
    } catch (e) {
      if (!(e instanceof NoQuorumError)) throw e;
    }
    const known = new Set(view.deposits.map((d) => d.txid));
    const latest = seen?.seen.filter((t) => !known.has(t.txid)).at(-1);
    if (!latest) return { stage: "waiting", message: "waiting for a payment to the address" };
    const amount = BigInt(latest.amount);
    if (latest.txHeight === undefined)
      return {
        stage: "seen",
        txid: latest.txid,
        amount,
        message: `${xmrText(latest.amount)} seen in the pool`,
      };
    const k = Math.min(latest.confirmations, required);
    return {
      stage: "confirming",
      txid: latest.txid,
      amount,
      confirmations: k,
      confirmationsRequired: required,
      message: `${xmrText(latest.amount)}: ${k} of ${required} confirmations`,
    };
  }

  /** One transaction: the subaddress deposit as input (signed by its claim key), fresh notes of its amount. */
  private issueSubaddressDeposit(
    record: SubaddressRecord,
    d: SubaddressDepositView,
  ): Promise<(ReissueResult & { dust: bigint }) | undefined> {
    return this.ctx.run(async () => {
      const index = record.subaddressIndex;
      if (index === undefined) throw new Error("a subaddress record without its index");
      // Being issued already (a crash or a concurrent call): resume() finishes that one.
      for (const op of await this.mint().pendingLocked()) {
        const pending = subaddressDepositOf(op);
        if (pending?.txid === d.txid && pending.index === index) return undefined;
      }
      const amount = BigInt(d.amount ?? "0");
      const { notes, dust } = this.depositNotes(amount);
      const seed = this.claimSeed(record.index);
      // The payment's operation log entry, written with the deposit's pending transaction; the
      // mint's settling write ends it (MoneroClient's onAccepted / onRejected hooks).
      const logged = this.ctx.operations.startOp(this.instanceId, MONERO_KIND, "subaddress-deposit", {
        txid: d.txid,
        address: record.address ?? null,
        subaddressIndex: index,
      });
      const r = await this.mint().issueLocked("deposit", {
        inputs: [subaddressDepositInput(this.instanceId, amount, fromHex(d.txid), index)],
        signers: [this.crypto.ed25519Signer(seed, fromHex(record.claimKey))],
        outputs: notes,
        attach: { subaddressDeposit: { txid: d.txid, index, operationId: logged.record.id } },
        writes: () => [logged.op],
      });
      return { ...r, dust };
    });
  }

  /** One look at each deposit subaddress: what is spendable now becomes notes. */
  async resume(): Promise<number> {
    let finished = 0;
    for (const [, raw] of await scanPrefix(this.db, P_SUBADDR)) {
      const record = parseJson<SubaddressRecord>(raw);
      if (record.address === undefined) continue;
      try {
        const view = await this.subaddressView(await this.ctx.client(), record.claimKey);
        for (const d of view?.deposits.filter((x) => x.spendable) ?? [])
          if (await this.issueSubaddressDeposit(record, d)) finished++;
      } catch (e) {
        this.ctx.warn(`deposit subaddress ${record.address}: ${errorText(e)}`);
      }
    }
    return finished;
  }
}
