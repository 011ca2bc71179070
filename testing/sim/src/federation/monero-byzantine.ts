// A Byzantine guardian that holds its share of the federation's multisig wallet and takes part in
// the payout rounds (issue 11, the custody issue's last-signer attack): it exports, imports and
// signs with the real PayoutSigner on its own SimMoneroShare, driven by the duties an honest
// guardian's state gives it (the adversary reads an honest guardian's state), and puts its results
// in its own bundles. As the last signer it keeps the completed transaction to itself (silent, or
// accusing the previous signer so that the slot is sent back); as any participant that has not
// signed, it may complete the set of t - 1 signatures the state holds out of turn, privately. It
// broadcasts what it kept later, once the federation has moved on to a new attempt of the batch
// (or finished it). Whatever the timing, the
// batch must be paid once: every attempt after one that could still be finished spends only from
// its inputs (payouts.ts nextBound), so the kept transaction and the new one conflict.
import { encodeConsensusItem } from "@conclave/core-common";
import type { ReadTx } from "@conclave/core-server";
import { toHex } from "@conclave/core-common";
import {
  MoneroServerModule,
  PAYOUT_ITEM_TAGS,
  PayoutStore,
  SLOT_EXPORT,
  quorumThreshold,
  dutyKey,
  encodePayoutItem,
  txsetOfBlob,
} from "@conclave/module-monero";
import type { ByzantineLastSigner, PayoutDuty, PayoutResult } from "@conclave/module-monero";
import type { Rng } from "../rng.js";
import type { SimHost } from "../application.js";
import type { SimMoneroShare } from "../chains/monero-wallet.js";
import type { MoneroConfig } from "@conclave/module-monero";
import { MONERO_ID } from "./setup.js";

export interface ByzantinePayoutStats {
  /** Completed transactions a Byzantine last signer kept to itself. */
  xmrByzKept: number;
  /** Kept transactions it broadcast after the federation moved on. */
  xmrByzLateBroadcasts: number;
  /** Late broadcasts the chain took (the batch was paid by the kept transaction). */
  xmrByzLateAccepted: number;
  /** Payout items (chunks, votes) the Byzantine participants put in their bundles. */
  xmrByzPayoutItems: number;
  /** False accusations from a signing guardian: Fault(s - 1) on its turn, Fault(t) when submitting. */
  xmrByzAccusations: number;
  /** Garbage final sets a Byzantine last signer proposed (mode garbage). */
  xmrByzGarbageSets: number;
}

export type KeepMode = "silent" | "accuse" | "garbage";

/**
 * What the last signer does with its completed set: keeps it, and stays silent, accuses the
 * previous signer, or (garbage, as modules/monero payout-byzantine.ts) proposes bytes that are no
 * transaction set as its final set: the submitters' nodes refuse it, and their Fault(t) votes pass
 * it over.
 */
class Keeper implements ByzantineLastSigner {
  readonly kept: { batch: number; attempt: number; txset: string; broadcast: boolean }[] = [];

  constructor(
    readonly mode: KeepMode,
    private readonly onKept: () => void,
    private readonly onGarbage: () => void,
  ) {}

  lastSigned(duty: PayoutDuty, completed: string): PayoutResult | undefined {
    if (duty.kind !== "sign") return undefined;
    this.kept.push({ batch: duty.batch, attempt: duty.attempt, txset: completed, broadcast: false });
    this.onKept();
    switch (this.mode) {
      case "silent":
        return undefined;
      case "accuse":
        return { kind: "fault", slot: duty.slot - 1 };
      case "garbage":
        this.onGarbage();
        return { kind: "blob", slot: duty.slot, blob: new TextEncoder().encode(`garbage ${duty.batch}`) };
    }
  }
}

export class ByzantinePayoutParticipant {
  private readonly module: MoneroServerModule;
  private readonly keeper: Keeper;
  private busy = false;
  /** Duties it answered with a false accusation (dutyKey). */
  private readonly accused = new Set<string>();
  /** Lineages it completed privately ("batch:attempt:signers"). */
  private readonly completed = new Set<string>();

  constructor(
    private readonly host: SimHost,
    private readonly b: number,
    private readonly share: SimMoneroShare,
    config: MoneroConfig,
    private readonly rng: Rng,
    mode: KeepMode,
    private readonly pollMs: number,
    /** An honest guardian's monero state to read (undefined: none runs now). */
    private readonly honestState: (rng: Rng) => ReadTx | undefined,
    private readonly stats: ByzantinePayoutStats,
    /** Also completes a stuck attempt's set out of turn (completePrivately). */
    private readonly privately: boolean,
    /** Accuses the previous signer on each of its turns, and the final set in the submit round. */
    private readonly accuser: boolean,
  ) {
    this.keeper = new Keeper(
      mode,
      () => {
        this.stats.xmrByzKept++;
        host.note(`xmr byzantine ${b} kept a completed payout transaction (${mode})`);
      },
      () => {
        this.stats.xmrByzGarbageSets++;
      },
    );
    this.module = new MoneroServerModule(
      MONERO_ID,
      config,
      {
        chain: share,
        payoutWallet: share,
        pollMs,
        autoPoll: false,
        payoutByzantine: this.keeper,
      },
      () => host.now(),
    );
    this.module.start({
      self: b,
      wake: () => {},
      log: (event) => host.note(`xmr byzantine ${b} ${event}`),
    });
    // No real timer (as MoneroWorld.module: the watch's interval kept the whole run alive).
    this.module.watchable.stop();
  }

  start(): void {
    const step = (): void => {
      this.host.schedule(this.host.now() + this.pollMs, step);
      if (this.busy) return;
      const db = this.honestState(this.rng);
      if (db === undefined) return;
      this.busy = true;
      void this.work(db).finally(() => {
        this.busy = false;
      });
    };
    this.host.schedule(this.rng.range(0, this.pollMs), step);
  }

  /**
   * A stuck attempt completed privately: when the state holds the set of slot t - 2 (t - 1
   * signatures) and this guardian is a participant that has not signed it, it imports the others'
   * exports and signs that set with its own share, out of turn, and keeps the completion. (Its
   * wallet's nonces are then spent on it: when its turn comes it cannot sign again, as a real
   * wallet could not.)
   */
  private async completePrivately(db: ReadTx): Promise<void> {
    const store = new PayoutStore(db);
    const batch = store.counters().current;
    const rec = batch === 0 ? undefined : store.batch(batch);
    if (rec?.phase !== "sign" || !rec.order.includes(this.b) || rec.signers.includes(this.b)) return;
    const t = quorumThreshold(this.host.n);
    if (rec.signers.length !== t - 1) return;
    const key = `${batch}:${rec.attempt}:${rec.signers.join(",")}`;
    if (this.completed.has(key)) return;
    this.completed.add(key);
    const previous = rec.signers[t - 2]!;
    const blob = store.blob(batch, t - 2, previous);
    if (blob === undefined) return;
    const others = rec.order
      .filter((g) => g !== this.b)
      .map((g) => store.blob(batch, SLOT_EXPORT, g))
      .filter((x): x is Uint8Array => x !== undefined);
    try {
      await this.share.importInfos(others.map(toHex));
      const signed = await this.share.sign(toHex(txsetOfBlob(t - 2, blob)));
      if (!signed.complete) return;
      this.keeper.kept.push({ batch, attempt: rec.attempt, txset: signed.txset, broadcast: false });
      this.stats.xmrByzKept++;
      this.host.note(`xmr byzantine ${this.b} completed batch ${batch} attempt ${rec.attempt} privately`);
    } catch (e) {
      this.host.note(`xmr byzantine ${this.b} could not complete privately: ${String(e)}`);
    }
  }

  /**
   * False accusations from a signing guardian: on its turn at slot s > 0 it accuses the previous
   * (honest) signer's set instead of signing (Fault(s - 1)), and in the submit round it claims its
   * node refused the final set (Fault(t)); each once per duty. The accused are blamed and may be
   * excluded from the next attempt; one refusal only passes the accuser over, and f refusals of a
   * final set never reach t. Answers whether it accused (then it does nothing else this pass).
   */
  private accuse(db: ReadTx): boolean {
    const duty = this.module.payouts.duty(db, this.b);
    if (duty === undefined || (duty.kind !== "submit" && (duty.kind !== "sign" || duty.slot === 0)))
      return false;
    const key = dutyKey(duty);
    if (!this.accused.has(key)) {
      this.accused.add(key);
      const t = quorumThreshold(this.host.n);
      const slot = duty.kind === "sign" ? duty.slot - 1 : t;
      this.stats.xmrByzAccusations++;
      this.host.submitByzantine(this.b, [
        encodeConsensusItem({
          kind: "module",
          module: MONERO_ID,
          payload: encodePayoutItem({ kind: "fault", batch: duty.batch, attempt: duty.attempt, slot }),
        }),
      ]);
    }
    return true;
  }

  /** One pass: broadcast what the federation moved past, then its part of the current round. */
  private async work(db: ReadTx): Promise<void> {
    await this.broadcastKept(db);
    if (this.privately) await this.completePrivately(db);
    if (this.accuser && this.accuse(db)) return;
    this.module.consensusProposal(db);
    await this.module.payoutSigner!.work().catch((e: unknown) => {
      this.host.note(`xmr byzantine ${this.b} payout step failed: ${String(e)}`);
    });
    const items = this.module
      .consensusProposal(db)
      .filter((p) => p[0] !== undefined && PAYOUT_ITEM_TAGS.has(p[0]));
    if (items.length === 0) return;
    this.stats.xmrByzPayoutItems += items.length;
    this.host.submitByzantine(
      this.b,
      items.map((payload) => encodeConsensusItem({ kind: "module", module: MONERO_ID, payload })),
    );
  }

  /** Kept transactions of attempts the federation has left (a later attempt, or the batch done). */
  private async broadcastKept(db: ReadTx): Promise<void> {
    const store = new PayoutStore(db);
    for (const k of this.keeper.kept) {
      if (k.broadcast) continue;
      const rec = store.batch(k.batch);
      const movedOn = rec !== undefined && (rec.attempt > k.attempt || rec.phase === "done");
      if (!movedOn) continue;
      k.broadcast = true;
      this.stats.xmrByzLateBroadcasts++;
      try {
        const txid = await this.share.submit(k.txset);
        this.stats.xmrByzLateAccepted++;
        this.host.note(`xmr byzantine ${this.b} broadcast its kept transaction ${txid.slice(0, 8)}: taken`);
      } catch (e) {
        this.host.note(`xmr byzantine ${this.b} broadcast its kept transaction: refused (${String(e)})`);
      }
    }
  }
}
