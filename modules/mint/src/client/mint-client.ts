// The mint's client half: e-cash notes of one mint instance in the client database. Spend, cancel,
// reissue (receive), split, combine, validate, backup and restore are its own operations; other
// halves move value through it with `issueLocked` (new notes for inputs of theirs: a deposit, the
// faucet) and `payLocked` (own notes into outputs of theirs: a withdrawal), never by touching its
// tables. Transactions go through transactions.ts.
import type {
  ClientContext,
  ClientDb,
  ClientModule,
  ClientModuleFactory,
  ClientModuleInit,
  DbOp,
  OperationRecord,
} from "@conclave/core-client";
import { del, put, scanPrefix } from "@conclave/core-client";
import { TransactionRejectedError, fromHex, toHex } from "@conclave/core-common";
import type { Signer, TxInput, TxOutput } from "@conclave/core-common";
import { denominationAmount } from "../common.js";
import type { MintConfig } from "../common.js";
import {
  errorText,
  greedyPartial,
  largestFirst,
  mergeResults,
  mintError,
  parseMintConfig,
  pickNotes,
} from "./config.js";
import type { MintCrypto } from "./config.js";
import { MintKeys } from "./keys.js";
import { NOTES_PER_STRING_MAX, decodeNoteString, encodeNoteString } from "./note-string.js";
import type { BearerNote } from "./note-string.js";
import { spentOf } from "./queries.js";
import { storeBackup } from "./restore.js";
import {
  coverValue,
  decompose,
  holdingsOf,
  planCombine,
  planOutputs,
  selectExact,
  sumOf,
  without,
} from "./select.js";
import {
  K_BACKUP,
  K_COUNTER,
  P_OP,
  P_OUT,
  json,
  noteFromJson,
  noteKey,
  noteToJson,
  parseJson,
} from "./store.js";
import type {
  Attachments,
  BackupMeta,
  ForeignNoteJson,
  OutgoingRecord,
  OwnNote,
  PendingOp,
} from "./store.js";
import { MintTransactions } from "./transactions.js";
import type { AcceptanceHook, MintTransactionOptions, RejectionHook } from "./transactions.js";
import type {
  BackupResult,
  DenominationHolding,
  ReissueResult,
  SpendResult,
  ValidateResult,
} from "./types.js";

export const MINT_KIND = "mint";
/** Rounds of reissuing one operation may take (splitting into many notes takes several). */
const ROUNDS_MAX = 64;
/** Guardians' refusals meaning a note of the string is not the federation's. */
const FORGED_NOTE_CODES = new Set(["invalid_note", "malformed_note", "unknown_denomination"]);

/** What the wallet's info shows of the mint half. */
export interface MintInfo {
  readonly balance: bigint;
  readonly notes: readonly DenominationHolding[];
  readonly outgoing: readonly {
    readonly id: string;
    readonly amount: bigint;
    readonly createdAtMs: number;
  }[];
  /** Transactions written but not settled. */
  readonly pendingOperations: number;
  readonly feePerNote: bigint;
  readonly denominationsLog2: readonly number[];
  readonly lastBackup?: BackupMeta;
}

/** A payment out of own notes into another half's outputs (a withdrawal's payout). */
export interface PayParts {
  /** Value the other outputs need, without the mint's fees. */
  readonly needed: bigint;
  readonly extra: readonly TxOutput[];
  /** The error when the notes do not cover it (balance, fee per note). */
  readonly insufficient: (balance: bigint, feePerNote: bigint) => Error;
  /** The error when the change takes more notes than one transaction issues. */
  readonly tooMuchChange: (changeNotes: number, outputsMax: number) => Error;
  /** Fields kept in the pending transaction, knowing how many change notes come first. */
  readonly attach?: (changeNotes: number) => Attachments;
  readonly writes?: (op: PendingOp) => readonly DbOp[];
}

export class MintClient implements ClientModule {
  readonly kind = MINT_KIND;
  readonly instanceId: number;
  readonly config: MintConfig;
  private readonly db: ClientDb;
  private readonly ctx: ClientContext;
  private readonly keys: MintKeys;
  private readonly crypto: MintCrypto;
  private readonly txs: MintTransactions;
  private readonly federationId: string;
  private readonly federationIdBytes: Uint8Array;

  constructor(init: ClientModuleInit, options: MintTransactionOptions) {
    this.instanceId = init.instanceId;
    this.config = parseMintConfig(init.config);
    this.db = init.db;
    this.ctx = init.context;
    this.keys = new MintKeys(init.secret);
    this.crypto = options.crypto;
    this.federationId = init.federationId;
    this.federationIdBytes = fromHex(init.federationId);
    this.txs = new MintTransactions(
      init.db,
      init.context,
      init.instanceId,
      this.config,
      this.keys,
      init.federationId,
      options,
    );
  }

  /** The first records of a new wallet: the note counter. */
  static createOps(nextIndex = 0): DbOp[] {
    return [put(K_COUNTER, json({ next: nextIndex }))];
  }

  /** The mint's part of the wallet's info; call under the client's lock. */
  async infoLocked(): Promise<MintInfo> {
    const notes = await this.txs.loadNotes();
    const counts = holdingsOf(notes.map((n) => n.denominationLog2));
    const holdings: DenominationHolding[] = [...counts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([log2, count]) => ({
        denominationLog2: log2,
        amount: denominationAmount(log2).toString(),
        count,
      }));
    const outgoing = (await scanPrefix(this.db, P_OUT))
      .map(([, v]) => parseJson<OutgoingRecord>(v))
      .map((o) => ({ id: o.id, amount: BigInt(o.amount), createdAtMs: o.createdAtMs }))
      .sort((a, b) => a.createdAtMs - b.createdAtMs);
    const pending = await scanPrefix(this.db, P_OP);
    const backupRaw = await this.db.get(K_BACKUP);
    const lastBackup = backupRaw ? parseJson<BackupMeta>(backupRaw) : undefined;
    return {
      balance: sumOf(notes.map((n) => n.denominationLog2)),
      notes: holdings,
      outgoing,
      pendingOperations: pending.length,
      feePerNote: this.config.feePerInput,
      denominationsLog2: this.config.denominationsLog2,
      ...(lastBackup ? { lastBackup } : {}),
    };
  }

  // ---- for other halves (call under the client's lock) -------------------------------------------

  /**
   * One transaction: `inputs` of another half (signed by `signers`) into fresh notes of `outputs`
   * and, after them, `extra` outputs of other modules (a deposit straight into a wXMR mint).
   */
  async issueLocked(
    kind: string,
    parts: {
      readonly inputs: readonly TxInput[];
      readonly signers?: readonly Signer[];
      readonly outputs: readonly number[];
      readonly extra?: readonly TxOutput[];
      readonly attach?: Attachments;
      readonly writes?: (op: PendingOp) => readonly DbOp[];
    },
  ): Promise<ReissueResult> {
    return this.txs.execute(await this.txs.prepare(kind, parts));
  }

  /** Notes covering `needed` plus the mint's fees; change notes first, then the other outputs. */
  async payLocked(kind: string, parts: PayParts): Promise<ReissueResult & { readonly op: PendingOp }> {
    const fee = this.config.feePerInput;
    const notes = await this.txs.loadNotes();
    const holdings = holdingsOf(notes.map((n) => n.denominationLog2));
    const inputs = coverValue(holdings, parts.needed, fee, this.txs.inputsMax());
    if (!inputs) throw parts.insufficient(sumOf(notes.map((n) => n.denominationLog2)), fee);
    const change = decompose(
      sumOf(inputs) - fee * BigInt(inputs.length) - parts.needed,
      this.config.denominationsLog2,
    );
    if (change.notes.length > this.txs.outputsMax())
      throw parts.tooMuchChange(change.notes.length, this.txs.outputsMax());
    const op = await this.txs.prepare(kind, {
      own: pickNotes(notes, inputs),
      outputs: change.notes,
      extra: parts.extra,
      ...(parts.attach ? { attach: parts.attach(change.notes.length) } : {}),
      ...(parts.writes ? { writes: parts.writes } : {}),
    });
    return { ...(await this.txs.execute(op)), op };
  }

  /** Transactions written but not settled (resume settles them). */
  async pendingLocked(): Promise<PendingOp[]> {
    return (await scanPrefix(this.db, P_OP)).map(([, v]) => parseJson<PendingOp>(v));
  }

  async isPending(txid: string): Promise<boolean> {
    return (await this.db.get(P_OP + txid)) !== undefined;
  }

  /** The notes `amount` decomposes into (the rest, below the smallest note, is dust). */
  decompose(amount: bigint): { notes: number[]; dust: bigint } {
    return decompose(amount, this.config.denominationsLog2);
  }

  outputsMax(): number {
    return this.txs.outputsMax();
  }

  checkAmount(amount: bigint): void {
    this.txs.checkAmount(amount);
  }

  /** Registers another half's undo for refused transactions it attached to. */
  onRejected(hook: RejectionHook): void {
    this.txs.onRejected(hook);
  }

  /** Registers another half's writes for accepted transactions it attached to (in the settling write). */
  onAccepted(hook: AcceptanceHook): void {
    this.txs.onAccepted(hook);
  }

  /** Settles every pending transaction (a crash, or guardians unreachable); returns how many. */
  resume(): Promise<number> {
    return this.ctx.run(async () => {
      let finished = 0;
      for (const op of await this.pendingLocked()) {
        try {
          await this.txs.execute(op, true);
          finished++;
        } catch (e) {
          if (!(await this.isPending(op.txid))) finished++;
          this.ctx.warn(`operation ${op.txid} (${op.kind}): ${errorText(e)}`);
        }
      }
      return finished;
    });
  }

  /**
   * A pending log entry of a mint transaction: `resume()` already ran it this round (its pending
   * transaction is in `op/`), so nothing more here; an entry whose transaction is gone is closed.
   */
  async resumeOperation(entry: OperationRecord): Promise<void> {
    const txid =
      typeof entry.meta === "object" && entry.meta !== null && "txid" in entry.meta
        ? entry.meta["txid"]
        : undefined;
    if (typeof txid === "string" && (await this.isPending(txid))) return;
    await this.ctx.operations.fail(entry, new Error("its pending transaction is gone"));
  }

  // ---- the mint's own operations -----------------------------------------------------------------

  /** Hands out notes worth exactly `amount` (reissuing for change first if needed). */
  spend(amount: bigint): Promise<SpendResult> {
    return this.ctx.run(async () => {
      this.txs.checkAmount(amount);
      for (let round = 0; round < ROUNDS_MAX; round++) {
        const notes = await this.txs.loadNotes();
        const holdings = holdingsOf(notes.map((n) => n.denominationLog2));
        const exact = selectExact(holdings, amount);
        if (exact) return this.handOut(notes, exact, amount);
        await this.txs.execute(await this.prepareChange(notes, amount));
      }
      throw new Error(`spend of ${amount} did not converge in ${ROUNDS_MAX} reissues`);
    });
  }

  /** Takes back notes handed out by `spend` (reissues them to oneself) if nobody redeemed them yet. */
  cancel(spendId: string): Promise<ReissueResult> {
    return this.ctx.run(async () => {
      const raw = /^[0-9a-f]{1,64}$/.test(spendId) ? await this.db.get(P_OUT + spendId) : undefined;
      if (!raw) throw mintError("unknown_spend", `this wallet handed out no open spend with id ${spendId}`);
      const outgoing = parseJson<OutgoingRecord>(raw);
      const inputs = outgoing.notes.map(noteFromJson);
      const results: ReissueResult[] = [];
      // One transaction per chunk; the entry keeps the notes not yet taken back, so that a crash
      // between chunks leaves every note either in the entry or in a pending operation.
      const chunks = this.txs.chunkInputs(inputs.map((n) => n.denominationLog2));
      let rest = outgoing.notes;
      for (const chunk of chunks) {
        const own = chunk.map((i) => inputs[i]!);
        const plan = this.txs.plan(
          own.map((n) => n.denominationLog2),
          [],
        );
        const taken = new Set(own.map((n) => toHex(n.nonce)));
        rest = rest.filter((n) => !taken.has(n.nonce));
        results.push(
          await this.txs.execute(
            await this.txs.prepare("cancel", {
              own,
              outputs: plan.outputs,
              outgoing: { ...outgoing, notes: own.map(noteToJson) },
              outgoingRest: { ...outgoing, notes: rest },
            }),
          ),
        );
      }
      return mergeResults(results);
    });
  }

  /** Receives a note string: redeems its notes into fresh ones of this wallet. */
  reissue(notesText: string): Promise<ReissueResult> {
    return this.ctx.run(async () => {
      const decoded = this.decodeOwn(notesText);
      const foreign = decoded.notes.map((n) => this.foreignNote(n));
      const seen = new Set<string>();
      foreign.forEach((n, i) => {
        if (seen.has(n.nonce))
          throw mintError("malformed_notes", `note ${i + 1} appears twice in the string`);
        seen.add(n.nonce);
      });
      const forged = (bad: readonly number[]) =>
        mintError(
          "invalid_note",
          `note${bad.length > 1 ? "s" : ""} ${bad.map((i) => i + 1).join(", ")} of the string ` +
            `do${bad.length > 1 ? "" : "es"} not carry the federation's signature (forged or altered); nothing was redeemed`,
          { notes: bad },
        );
      const chunks = this.txs.chunkInputs(foreign.map((n) => n.denominationLog2));
      // A string that takes several transactions is checked here first, so that a forged note in a
      // later one cannot leave the string half redeemed. A one-transaction string is checked by
      // every guardian anyway (and refused whole): checking it here too would cost the receiver a
      // second multi-pairing on the latency path.
      if (chunks.length > 1) {
        const bad = this.txs.badNotes(
          foreign.map((n) => ({ ...n, nonce: fromHex(n.nonce), signature: fromHex(n.signature) })),
        );
        if (bad.length > 0) throw forged(bad);
      }
      const results: ReissueResult[] = [];
      for (const chunk of chunks) {
        const inputs = chunk.map((i) => foreign[i]!);
        const plan = this.txs.plan(
          inputs.map((n) => n.denominationLog2),
          [],
        );
        try {
          results.push(
            await this.txs.execute(
              await this.txs.prepare("reissue", { foreign: inputs, outputs: plan.outputs }),
            ),
          );
        } catch (e) {
          const input = e instanceof TransactionRejectedError ? e.details["input"] : undefined;
          if (
            chunks.length === 1 &&
            e instanceof TransactionRejectedError &&
            FORGED_NOTE_CODES.has(e.code) &&
            typeof input === "number"
          )
            throw forged([chunk[input] ?? input]);
          throw e;
        }
      }
      return mergeResults(results);
    });
  }

  /** Reissues own notes so that at least `count` notes of 2^denominationLog2 exist (change kept). */
  split(denominationLog2: number, count: number): Promise<ReissueResult> {
    return this.ctx.run(async () => {
      if (!this.config.denominationsLog2.includes(denominationLog2))
        throw mintError(
          "invalid_amount",
          `the mint has no denomination 2^${denominationLog2}; it has 2^k for k in [${this.config.denominationsLog2.join(", ")}]`,
        );
      if (!Number.isSafeInteger(count) || count < 1 || count > 100_000)
        throw mintError("invalid_amount", `a note count is 1 to 100000, not ${count}`);
      const results: ReissueResult[] = [];
      for (let round = 0; round < ROUNDS_MAX * 4; round++) {
        const notes = await this.txs.loadNotes();
        const holdings = holdingsOf(notes.map((n) => n.denominationLog2));
        const have = holdings.get(denominationLog2) ?? 0;
        if (have >= count) return mergeResults(results);
        const need = count - have;
        const others = new Map(holdings);
        others.delete(denominationLog2);
        const wantedValue = BigInt(need) * denominationAmount(denominationLog2);
        const fee = this.config.feePerInput;
        const inputs =
          coverValue(others, wantedValue, fee, this.txs.inputsMax()) ??
          largestFirst(others, this.txs.inputsMax());
        const plan = planOutputs(
          inputs,
          new Array<number>(need).fill(denominationLog2),
          fee,
          this.config.denominationsLog2,
          this.txs.outputsMax(),
        );
        if (!plan || !plan.outputs.includes(denominationLog2))
          throw mintError(
            "insufficient_funds",
            `not enough other notes to make ${count} notes of ${denominationAmount(denominationLog2)} (have ${have})`,
          );
        results.push(
          await this.txs.execute(
            await this.txs.prepare("split", { own: pickNotes(notes, inputs), outputs: plan.outputs }),
          ),
        );
      }
      throw new Error(`split did not converge in ${ROUNDS_MAX * 4} reissues`);
    });
  }

  /** Reissues own notes into as few notes as possible. */
  combine(): Promise<ReissueResult> {
    return this.ctx.run(async () => {
      const results: ReissueResult[] = [];
      for (let round = 0; round < ROUNDS_MAX * 4; round++) {
        const notes = await this.txs.loadNotes();
        const plan = planCombine(
          notes.map((n) => n.denominationLog2),
          this.config.feePerInput,
          this.config.denominationsLog2,
          this.txs.inputsMax(),
          this.txs.outputsMax(),
        );
        if (!plan) break;
        results.push(
          await this.txs.execute(
            await this.txs.prepare("combine", { own: pickNotes(notes, plan.inputs), outputs: plan.outputs }),
          ),
        );
      }
      return mergeResults(results);
    });
  }

  validate(notesText: string, options: { online?: boolean } = {}): Promise<ValidateResult> {
    return this.ctx.run(async () => {
      const decoded = this.decodeOwn(notesText);
      const notes = decoded.notes.map((n) => ({
        denominationLog2: n.denominationLog2,
        nonce: this.crypto.ed25519PublicKey(n.spendSeed),
        signature: n.signature,
      }));
      const bad = new Set(this.txs.badNotes(notes));
      const result: ValidateResult = {
        federationId: decoded.federationId,
        amount: sumOf(notes.map((n) => n.denominationLog2)),
        notes: notes.map((n, i) => ({
          denominationLog2: n.denominationLog2,
          nonce: toHex(n.nonce),
          valid: !bad.has(i),
        })),
      };
      if (!options.online) return result;
      const spent = await spentOf(
        await this.ctx.client(),
        notes.map((n) => toHex(n.nonce)),
      );
      return { ...result, spent };
    });
  }

  backup(): Promise<BackupResult> {
    return this.ctx.run(async () =>
      storeBackup(await this.ctx.client(), {
        db: this.db,
        txs: this.txs,
        keys: this.keys,
        crypto: this.crypto,
        federationId: this.federationIdBytes,
        now: () => this.ctx.now(),
      }),
    );
  }

  private prepareChange(notes: readonly OwnNote[], amount: bigint): Promise<PendingOp> {
    const fee = this.config.feePerInput;
    const denoms = this.config.denominationsLog2;
    const holdings = holdingsOf(notes.map((n) => n.denominationLog2));
    // Pay what exact notes can pay; split one note for the rest (fewest inputs, least fee)...
    const partial = greedyPartial(holdings, amount);
    const rest = amount - sumOf(partial);
    let inputs = coverValue(without(holdings, partial), rest, fee, this.txs.inputsMax());
    let wanted = decompose(rest, denoms).notes;
    // ...or reissue enough notes into the whole amount.
    if (!inputs) {
      inputs = coverValue(holdings, amount, fee, this.txs.inputsMax());
      wanted = decompose(amount, denoms).notes;
    }
    const plan = inputs && planOutputs(inputs, wanted, fee, denoms, this.txs.outputsMax());
    if (!inputs || !plan) {
      const balance = sumOf(notes.map((n) => n.denominationLog2));
      throw mintError(
        "insufficient_funds",
        `the wallet holds ${balance}; spending ${amount} needs more (the mint charges ${fee} per note reissued for change)`,
        { balance: balance.toString(), amount: amount.toString() },
      );
    }
    return this.txs.prepare("change", { own: pickNotes(notes, plan.inputs), outputs: plan.outputs });
  }

  /** A note string of this wallet's federation (wrong_federation otherwise). */
  private decodeOwn(notesText: string): ReturnType<typeof decodeNoteString> {
    const decoded = decodeNoteString(notesText);
    if (decoded.federationId !== this.federationId)
      throw mintError(
        "wrong_federation",
        `these notes belong to federation ${decoded.federationId}, this wallet to ${this.federationId}`,
        { federationId: decoded.federationId },
      );
    return decoded;
  }

  private foreignNote(n: BearerNote): ForeignNoteJson {
    return {
      denominationLog2: n.denominationLog2,
      spendSeed: toHex(n.spendSeed),
      nonce: toHex(this.crypto.ed25519PublicKey(n.spendSeed)),
      signature: toHex(n.signature),
    };
  }

  private async handOut(
    notes: readonly OwnNote[],
    log2s: readonly number[],
    amount: bigint,
  ): Promise<SpendResult> {
    const chosen = pickNotes(notes, log2s);
    if (chosen.length > NOTES_PER_STRING_MAX)
      throw mintError(
        "invalid_amount",
        `${amount} needs ${chosen.length} notes, a note string holds at most ${NOTES_PER_STRING_MAX}: combine first`,
      );
    const id = toHex(this.crypto.random(16));
    const outgoing: OutgoingRecord = {
      id,
      amount: amount.toString(),
      createdAtMs: this.ctx.now(),
      notes: chosen.map(noteToJson),
    };
    const text = encodeNoteString({
      federationId: this.federationId,
      notes: chosen.map((n) => ({
        denominationLog2: n.denominationLog2,
        spendSeed: this.keys.spendSeed(n.index),
        signature: n.signature,
      })),
    });
    await this.db.write([
      ...chosen.map((n) => del(noteKey(n.denominationLog2, n.nonce))),
      put(P_OUT + id, json(outgoing)),
    ]);
    return { id, amount, notes: text };
  }
}

/** The mint's client half for a client core (`compat: "wallet-v1"`: the single-class wallet's keys). */
export function mintClientFactory(options: MintTransactionOptions): ClientModuleFactory<MintClient> {
  return { kind: MINT_KIND, compat: "wallet-v1", init: (init) => new MintClient(init, options) };
}
