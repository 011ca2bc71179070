// The mint half's transaction engine: every transaction goes through one path.
//   1. prepare: pick inputs, reserve note indexes, build and sign the transaction; ONE atomic write
//      stores the pending operation (transaction bytes, inputs, outputs with their note indexes),
//      advances the note counter and removes the input notes from the spendable set (and does the
//      writes another half attached: a Monero claim deleted, a withdrawal recorded);
//   2. submit the same bytes to every guardian (a resubmission after a crash gets the final state);
//   3. await the state t guardians agree on (outcomes are per guardian: each its own share);
//   4. accepted: combine each new note from t guardian shares (a share that does not verify against
//      its guardian's public key share is dropped and the guardian named in a warning), unblind,
//      verify; ONE atomic write stores the notes and deletes the pending operation. Fewer than t good
//      shares: the operation stays pending and resume asks again.
//      rejected: the inputs go back to the wallet, except those t guardians report spent; the
//      halves that attached to it undo their part in the same write (onRejected).
// Network trouble leaves the operation pending; the half's resume() (also run on opening) continues it.
import { sha256 } from "@noble/hashes/sha2.js";
import { NoQuorumError, assert, del, put, scanPrefix } from "@conclave/core-client";
import type { ClientContext, ClientDb, DbOp, GuardianAnswer, TxStatusView } from "@conclave/core-client";
import type { FederationClient } from "@conclave/core-client";
import {
  TransactionRejectedError,
  buildTransaction,
  encodeTransaction,
  fromHex,
  toHex,
  txidHex,
} from "@conclave/core-common";
import type { Signer, TxInput, TxOutput, ConclaveError } from "@conclave/core-common";
import type { KeyedNote } from "@conclave/core-common/tbs";
import type { Rng } from "@conclave/core-common/threshold";
import { MintOutputOutcomeSchema } from "../api.js";
import { denominationAmount, encodeMintInput, encodeMintOutput } from "../common.js";
import type { DenominationKey, MintConfig } from "../common.js";
import { INPUTS_PER_TX_MAX, OUTPUTS_PER_TX_MAX, errorText, isRefusal, mintError } from "./config.js";
import type { MintCrypto } from "./config.js";
import type { MintKeys } from "./keys.js";
import { NOTE_INDEX_MAX } from "./keys.js";
import { NOTES_PER_STRING_MAX, encodeNoteString } from "./note-string.js";
import { spentOf } from "./queries.js";
import { planOutputs, representable, sumOf } from "./select.js";
import type { ReissuePlan } from "./select.js";
import {
  K_COUNTER,
  P_NOTE,
  P_OP,
  P_OUT,
  decodeNote,
  json,
  noteFromJson,
  noteKey,
  notePut,
  noteToJson,
  parseJson,
} from "./store.js";
import type {
  Attachments,
  ForeignNoteJson,
  OutgoingRecord,
  OwnNote,
  PendingKind,
  PendingOp,
} from "./store.js";
import type { ReissueResult } from "./types.js";

/** Derived notes kept between preparing and settling (those of refused transactions are dropped here). */
const PREPARED_CACHE_MAX = 4096;

export interface MintHooks {
  /** Test hook: runs once the operation is written down, before its transaction is first sent. */
  readonly beforeSubmit?: (txid: string) => void | Promise<void>;
  /** Test hook: runs after the guardians took a transaction, before the wallet waits for it. */
  readonly afterSubmit?: (txid: string) => void | Promise<void>;
}

export interface MintTransactionOptions {
  readonly crypto: MintCrypto;
  /** How long one operation waits for t guardians to decide its transaction (default 60 s). */
  readonly awaitTimeoutMs?: number;
  readonly hooks?: MintHooks;
}

/** What another half undoes when a transaction it attached to is refused (ops in the same write). */
export type RejectionHook = (
  op: PendingOp,
  spentInput: boolean,
  error: Error,
) => readonly DbOp[] | Promise<readonly DbOp[]>;

/** What another half writes when a transaction it attached to is accepted (ops in the settling write). */
export type AcceptanceHook = (
  op: PendingOp,
  result: ReissueResult,
) => readonly DbOp[] | Promise<readonly DbOp[]>;

/** A note being issued to this wallet: everything re-derives from its index. */
interface PreparedNote {
  readonly index: number;
  readonly denominationLog2: number;
  readonly nonce: Uint8Array;
  readonly blindingKey: bigint;
  readonly blindedMessage: Uint8Array;
}

export class MintTransactions {
  /** Notes derived for transactions being prepared, until they settle (derivation costs ~1 ms each). */
  private readonly prepared = new Map<number, PreparedNote>();
  private readonly rejectionHooks: RejectionHook[] = [];
  private readonly acceptanceHooks: AcceptanceHook[] = [];
  private readonly crypto: MintCrypto;

  constructor(
    private readonly db: ClientDb,
    private readonly ctx: ClientContext,
    readonly instanceId: number,
    readonly config: MintConfig,
    readonly keys: MintKeys,
    readonly federationId: string,
    private readonly options: MintTransactionOptions,
  ) {
    this.crypto = options.crypto;
  }

  /** Another half's undo for refused transactions it attached to. */
  onRejected(hook: RejectionHook): void {
    this.rejectionHooks.push(hook);
  }

  /** Another half's writes for accepted transactions it attached to (its operation log entry ended). */
  onAccepted(hook: AcceptanceHook): void {
    this.acceptanceHooks.push(hook);
  }

  /** The mint counts notes per transaction on each side (inputs and outputs). */
  inputsMax(): number {
    return Math.min(this.config.notesPerTxMax, INPUTS_PER_TX_MAX);
  }

  outputsMax(): number {
    return Math.min(this.config.notesPerTxMax, OUTPUTS_PER_TX_MAX);
  }

  checkAmount(amount: bigint): void {
    if (typeof amount !== "bigint" || !representable(amount, this.config.denominationsLog2)) {
      const smallest = denominationAmount(Math.min(...this.config.denominationsLog2));
      throw mintError(
        "invalid_amount",
        amount <= 0n
          ? `an amount must be positive, got ${amount}`
          : `${amount} is not a multiple of ${smallest}, the smallest note of this mint`,
        { amount: String(amount) },
      );
    }
  }

  /** Outputs for spending `inputs` (wanted notes, then change), or a clear error. */
  plan(inputs: readonly number[], wanted: readonly number[]): ReissuePlan {
    const plan = planOutputs(
      inputs,
      wanted,
      this.config.feePerInput,
      this.config.denominationsLog2,
      this.outputsMax(),
    );
    if (!plan)
      throw mintError(
        "insufficient_funds",
        `notes worth ${sumOf(inputs)} do not pay the fee of ${this.config.feePerInput} per note`,
      );
    return plan;
  }

  /** Splits inputs into transactions whose change fits in the mint's notes per transaction. */
  chunkInputs(log2s: readonly number[]): number[][] {
    const chunks: number[][] = [];
    let chunk: number[] = [];
    const fits = (c: readonly number[]) =>
      c.length <= this.inputsMax() &&
      planOutputs(
        c.map((i) => log2s[i]!),
        [],
        this.config.feePerInput,
        this.config.denominationsLog2,
        this.outputsMax(),
      ) !== undefined;
    for (let i = 0; i < log2s.length; i++) {
      const next = [...chunk, i];
      if (chunk.length > 0 && !fits(next)) {
        chunks.push(chunk);
        chunk = [i];
      } else chunk = next;
    }
    if (chunk.length > 0) chunks.push(chunk);
    return chunks;
  }

  keyOf(log2: number): DenominationKey | undefined {
    const i = this.config.denominationsLog2.indexOf(log2);
    return i < 0 ? undefined : this.config.keys[i];
  }

  /**
   * Positions of notes that do not verify (unknown denomination included): one multi-pairing over
   * all of them (one Miller loop per denomination), then one by one only if it fails.
   */
  badNotes(
    notes: readonly { denominationLog2: number; nonce: Uint8Array; signature: Uint8Array }[],
  ): number[] {
    const bad: number[] = [];
    const keyed: KeyedNote[] = [];
    const at: number[] = [];
    notes.forEach((n, i) => {
      const key = this.keyOf(n.denominationLog2);
      if (!key) bad.push(i);
      else {
        keyed.push({ publicKey: key.publicKey, nonce: n.nonce, signature: n.signature });
        at.push(i);
      }
    });
    for (const b of this.crypto.tbs.findBadKeyedNotes(keyed, this.crypto.random)) bad.push(at[b]!);
    return bad.sort((a, b) => a - b);
  }

  private prepareNote(index: number, denominationLog2: number): PreparedNote {
    // Made when the transaction was prepared, asked again when it settles: derived once.
    const cached = this.prepared.get(index);
    if (cached && cached.denominationLog2 === denominationLog2) {
      this.prepared.delete(index);
      return cached;
    }
    const nonce = this.crypto.ed25519PublicKey(this.keys.spendSeed(index));
    const { blindingKey, blindedMessage } = this.crypto.tbs.blind(nonce, this.keys.blindingRng(index));
    return { index, denominationLog2, nonce, blindingKey, blindedMessage };
  }

  async readCounter(): Promise<number> {
    const raw = await this.db.get(K_COUNTER);
    assert(raw, "the wallet has no note counter");
    return parseJson<{ next: number }>(raw).next;
  }

  /**

   * Builds and signs a transaction and writes it down as a pending operation, together with the
   * advanced note counter and the removal of its inputs from the spendable notes (one atomic write).
   */
  async prepare(
    kind: PendingKind,
    parts: {
      readonly own?: readonly OwnNote[];
      readonly foreign?: readonly ForeignNoteJson[];
      /** Inputs of other modules (a deposit, the faucet), before the notes'. */
      readonly inputs?: readonly TxInput[];
      /** Keys that sign those inputs (a deposit's claim key), in their order. */
      readonly signers?: readonly Signer[];
      readonly outputs: readonly number[];
      /** Outputs of other modules, after the mint's (a payout): part of the signed transaction. */
      readonly extra?: readonly TxOutput[];
      /** Another half's fields, kept in the pending transaction (handed back when it settles). */
      readonly attach?: Attachments;
      /** Another half's writes, in the same atomic write as the pending transaction. */
      readonly writes?: (op: PendingOp) => readonly DbOp[];
      readonly outgoing?: OutgoingRecord;
      /** For a cancel: what stays in the outgoing entry (deleted when nothing does). */
      readonly outgoingRest?: OutgoingRecord;
    },
  ): Promise<PendingOp> {
    const own = parts.own ?? [];
    const foreign = parts.foreign ?? [];
    const first = await this.readCounter();
    if (first + parts.outputs.length > NOTE_INDEX_MAX) throw new Error("the wallet ran out of note indexes");
    const prepared = parts.outputs.map((log2, i) => this.prepareNote(first + i, log2));
    if (this.prepared.size > PREPARED_CACHE_MAX) this.prepared.clear();
    for (const p of prepared) this.prepared.set(p.index, p);
    const mintModule = this.instanceId;
    const inputs: TxInput[] = [...(parts.inputs ?? [])];
    const signers: Signer[] = [...(parts.signers ?? [])];
    for (const n of own) {
      inputs.push({
        module: mintModule,
        amount: denominationAmount(n.denominationLog2),
        payload: encodeMintInput({
          denominationLog2: n.denominationLog2,
          spendKey: n.nonce,
          signature: n.signature,
        }),
      });
      signers.push(this.crypto.ed25519Signer(this.keys.spendSeed(n.index), n.nonce));
    }
    for (const n of foreign) {
      inputs.push({
        module: mintModule,
        amount: denominationAmount(n.denominationLog2),
        payload: encodeMintInput({
          denominationLog2: n.denominationLog2,
          spendKey: fromHex(n.nonce),
          signature: fromHex(n.signature),
        }),
      });
      signers.push(this.crypto.ed25519Signer(fromHex(n.spendSeed), fromHex(n.nonce)));
    }
    const outputs: TxOutput[] = prepared.map((p) => ({
      module: mintModule,
      amount: denominationAmount(p.denominationLog2),
      payload: encodeMintOutput({ denominationLog2: p.denominationLog2, blindedMessage: p.blindedMessage }),
    }));
    outputs.push(...(parts.extra ?? []));
    const tx = buildTransaction(inputs, outputs, signers, sha256, this.crypto.random(32));
    const txid = txidHex(tx, sha256);
    // The operation log's entry, in the same write (transactions written before the log have none).
    const logged = this.ctx.operations.startOp(this.instanceId, "mint", kind, { txid });
    const op: PendingOp = {
      txid,
      kind,
      operationId: logged.record.id,
      createdAtMs: this.ctx.now(),
      tx: toHex(encodeTransaction(tx)),
      ownInputs: own.map(noteToJson),
      foreignInputs: foreign,
      outputs: prepared.map((p, i) => ({ index: p.index, denominationLog2: p.denominationLog2, output: i })),
      ...(parts.outgoing ? { outgoing: parts.outgoing } : {}),
      ...parts.attach,
    };
    await this.db.write([
      put(K_COUNTER, json({ next: first + prepared.length })),
      put(P_OP + op.txid, json(op)),
      logged.op,
      ...(parts.writes?.(op) ?? []),
      ...own.map((n) => del(noteKey(n.denominationLog2, n.nonce))),
      ...(parts.outgoingRest
        ? [
            parts.outgoingRest.notes.length > 0
              ? put(P_OUT + parts.outgoingRest.id, json(parts.outgoingRest))
              : del(P_OUT + parts.outgoingRest.id),
          ]
        : []),
    ]);
    return op;
  }

  /** Submits (or resubmits) a pending operation, waits for the federation, and settles it. */
  async execute(op: PendingOp, resuming = false): Promise<ReissueResult> {
    const client = await this.ctx.client();
    if (!resuming) await this.options.hooks?.beforeSubmit?.(op.txid);
    try {
      await client.submitTransaction(fromHex(op.tx));
    } catch (e) {
      if (isRefusal(e)) return this.settleRejected(op, e);
      this.ctx.warn(`transaction ${op.txid} not submitted (${errorText(e)}); it stays pending for resume()`);
      throw e;
    }
    if (!resuming) await this.options.hooks?.afterSubmit?.(op.txid);
    const agreement = await client.awaitTransaction(op.txid, {
      agreeOnOutcomes: false,
      ...(this.options.awaitTimeoutMs !== undefined ? { timeoutMs: this.options.awaitTimeoutMs } : {}),
    });
    const state = agreement.value;
    if (state.state === "rejected")
      return this.settleRejected(
        op,
        new TransactionRejectedError(state.error.code, state.error.message, state.error.details ?? {}),
      );
    return this.settleAccepted(op, client, agreement.answers, BigInt(state.fee));
  }

  private async settleAccepted(
    op: PendingOp,
    client: FederationClient,
    answers: readonly GuardianAnswer<TxStatusView>[],
    fee: bigint,
  ): Promise<ReissueResult> {
    const outcomes = new Map<number, readonly unknown[]>();
    const take = (a: GuardianAnswer<TxStatusView>) => {
      if (a.ok && a.value.state === "accepted" && a.value.txid === op.txid)
        outcomes.set(a.guardian, a.value.outcomes);
    };
    answers.forEach(take);
    let notes = this.finishNotes(op, outcomes, client.t);
    if (!notes.done) {
      // Ask the guardians whose outcomes are missing (down when we waited, or slower than t others).
      const missing = client.guardians
        .map((g) => g.index)
        .filter((g) => !outcomes.has(g) || notes.badGuardians.has(g));
      const fetched = await Promise.allSettled(missing.map((g) => client.transactionAt(g, op.txid)));
      fetched.forEach((r, i) => {
        if (r.status === "fulfilled") take({ guardian: missing[i]!, ok: true, value: r.value });
      });
      notes = this.finishNotes(op, outcomes, client.t);
    }
    for (const g of notes.badGuardians)
      this.ctx.warn(
        `guardian ${g} sent blind signature shares that do not verify for transaction ${op.txid}; ignored`,
      );
    if (!notes.done)
      throw new NoQuorumError(
        `fewer than ${client.t} guardians sent valid blind signature shares for transaction ${op.txid} ` +
          `(it is accepted; resume() asks again)`,
        client.t,
        client.guardians.map((g) => ({
          guardian: g.index,
          url: g.url,
          answer: !outcomes.has(g.index)
            ? "no outcome"
            : notes.badGuardians.has(g.index)
              ? "shares that do not verify"
              : "valid shares",
        })),
      );
    const issued = sumOf(notes.notes.map((n) => n.denominationLog2));
    const result = { txid: op.txid, amount: issued, fee, notesIssued: notes.notes.length };
    const entry = op.operationId ? await this.ctx.operations.get(op.operationId) : undefined;
    const ops: DbOp[] = [
      ...notes.notes.map(notePut),
      del(P_OP + op.txid),
      ...(entry
        ? [
            this.ctx.operations.finishOp(entry, {
              txid: op.txid,
              amount: issued.toString(),
              fee: fee.toString(),
              notesIssued: notes.notes.length,
            }),
          ]
        : []),
    ];
    for (const hook of this.acceptanceHooks) ops.push(...(await hook(op, result)));
    await this.db.write(ops);
    return result;
  }

  /**
   * The new notes from the guardians' outcomes: for each output, t shares combined without checking
   * first (then the notes of a denomination verified in one batch); only a note that does not verify
   * has its shares checked one by one against each guardian's public key share, naming the bad ones.
   */
  private finishNotes(
    op: PendingOp,
    outcomes: ReadonlyMap<number, readonly unknown[]>,
    t: number,
  ): { done: boolean; notes: OwnNote[]; badGuardians: Set<number> } {
    const tbs = this.crypto.tbs;
    const badGuardians = new Set<number>();
    const candidates: {
      p: PreparedNote;
      shares: { guardian: number; share: Uint8Array }[];
      signature?: Uint8Array;
    }[] = [];
    for (const out of op.outputs) {
      const p = this.prepareNote(out.index, out.denominationLog2);
      const shares: { guardian: number; share: Uint8Array }[] = [];
      for (const [guardian, list] of [...outcomes.entries()].sort(([a], [b]) => a - b)) {
        const parsed = MintOutputOutcomeSchema.safeParse(list[out.output]);
        if (!parsed.success || parsed.data.denominationLog2 !== out.denominationLog2) {
          if (list[out.output] !== null && list[out.output] !== undefined) badGuardians.add(guardian);
          continue;
        }
        shares.push({ guardian, share: fromHex(parsed.data.blindShare) });
      }
      candidates.push({ p, shares });
    }
    const rng: Rng = this.crypto.random;
    // Optimistic: combine the first t shares and verify all the resulting notes in one multi-pairing.
    const combinedAt: number[] = [];
    const keyed: KeyedNote[] = [];
    candidates.forEach((c, i) => {
      if (c.shares.length < t) return;
      const key = this.keyOf(c.p.denominationLog2);
      assert(key, `an output of an unknown denomination 2^${c.p.denominationLog2}`);
      const combined = tbs.combineBlindShares(t, c.shares.slice(0, t));
      const sig = combined.ok ? tbs.unblind(combined.value, c.p.blindingKey) : combined;
      if (!sig.ok) return;
      c.signature = sig.value;
      combinedAt.push(i);
      keyed.push({ publicKey: key.publicKey, nonce: c.p.nonce, signature: sig.value });
    });
    const verified = new Set<number>(combinedAt);
    for (const b of tbs.findBadKeyedNotes(keyed, rng)) verified.delete(combinedAt[b]!);
    // Pessimistic, for the rest: check every share, combine t good ones.
    candidates.forEach((c, i) => {
      if (verified.has(i)) return;
      const key = this.keyOf(c.p.denominationLog2);
      assert(key, "denomination checked above");
      const good = c.shares.filter((s) => {
        const pk = key.publicKeyShares[s.guardian];
        const ok = pk !== undefined && tbs.verifyBlindShare(pk, c.p.blindedMessage, s.share);
        if (!ok) badGuardians.add(s.guardian);
        return ok;
      });
      delete c.signature;
      if (good.length < t) return;
      const combined = tbs.combineBlindShares(t, good.slice(0, t));
      const sig = combined.ok ? tbs.unblind(combined.value, c.p.blindingKey) : combined;
      if (sig.ok && tbs.verifyNote(key.publicKey, c.p.nonce, sig.value)) {
        c.signature = sig.value;
        verified.add(i);
      }
    });
    const notes = candidates.flatMap((c, i) =>
      verified.has(i) && c.signature
        ? [
            {
              index: c.p.index,
              denominationLog2: c.p.denominationLog2,
              nonce: c.p.nonce,
              signature: c.signature,
            },
          ]
        : [],
    );
    return { done: notes.length === candidates.length, notes, badGuardians };
  }

  /**
   * The federation refused the transaction: nothing moved. Own inputs go back to the wallet (or to
   * the outgoing entry of a cancel), except inputs t guardians report spent when the refusal is a
   * spent input. Throws the refusal, with what happened to the notes.
   */
  private async settleRejected(op: PendingOp, error: ConclaveError): Promise<never> {
    const client = await this.ctx.client();
    const spentInput = error.code === "spent_input";
    const own = op.ownInputs.map(noteFromJson);
    let spentOwn = new Set<number>();
    let spentForeign = new Set<number>();
    // A cancel refused for a spent note closes the whole entry: its other notes are checked too.
    const restRaw =
      op.kind === "cancel" && op.outgoing ? await this.db.get(P_OUT + op.outgoing.id) : undefined;
    const rest = restRaw ? parseJson<OutgoingRecord>(restRaw) : undefined;
    const restNotes = spentInput && rest ? rest.notes.map(noteFromJson) : [];
    let restUnspent: OwnNote[] = [];
    if (spentInput) {
      // Unknown spent state keeps the operation pending (resume asks again): never guess.
      const spent = await spentOf(client, [
        ...op.ownInputs.map((n) => n.nonce),
        ...op.foreignInputs.map((n) => n.nonce),
        ...restNotes.map((n) => toHex(n.nonce)),
      ]);
      spentOwn = new Set(own.flatMap((_, i) => (spent[i] ? [i] : [])));
      spentForeign = new Set(op.foreignInputs.flatMap((_, i) => (spent[own.length + i] ? [i] : [])));
      const offset = own.length + op.foreignInputs.length;
      restUnspent = restNotes.filter((_, i) => !spent[offset + i]);
    }
    const ops: DbOp[] = [del(P_OP + op.txid)];
    // What other halves undo with it (a withdrawal's record, a deposit's claim), in the same write.
    for (const hook of this.rejectionHooks) ops.push(...(await hook(op, spentInput, error)));
    let message = error.message;
    const details: Record<string, unknown> = { ...error.details, txid: op.txid };
    if (op.kind === "cancel" && op.outgoing) {
      if (spentInput) {
        const unspent = [...own.filter((_, i) => !spentOwn.has(i)), ...restUnspent];
        const total = own.length + restNotes.length;
        ops.push(...unspent.map(notePut), del(P_OUT + op.outgoing.id));
        message =
          `spend ${op.outgoing.id} was already redeemed by whoever received it (${total - unspent.length} of ` +
          `${total} notes spent); its outgoing entry is closed` +
          (unspent.length > 0 ? `, and the ${unspent.length} unspent notes are back in the wallet` : "");
      } else {
        // Back into the entry, next to the notes no chunk has taken yet.
        ops.push(
          put(
            P_OUT + op.outgoing.id,
            json({ ...op.outgoing, notes: [...(rest?.notes ?? []), ...op.outgoing.notes] }),
          ),
        );
      }
    } else {
      ops.push(...own.filter((_, i) => !spentOwn.has(i)).map(notePut));
      if (spentOwn.size > 0)
        message += `; ${spentOwn.size} of this wallet's notes are spent and were dropped`;
    }
    if (op.foreignInputs.length > 0 && spentInput) {
      const unspent = op.foreignInputs.filter((_, i) => !spentForeign.has(i));
      message =
        `${spentForeign.size} of the ${op.foreignInputs.length} notes were already redeemed (spent); nothing was received` +
        (unspent.length > 0 ? `; the ${unspent.length} unspent ones are in details.unspentNotes` : "");
      if (unspent.length > 0)
        details["unspentNotes"] = encodeNoteString({
          federationId: this.federationId,
          notes: unspent.slice(0, NOTES_PER_STRING_MAX).map((n) => ({
            denominationLog2: n.denominationLog2,
            spendSeed: fromHex(n.spendSeed),
            signature: fromHex(n.signature),
          })),
        });
    }
    const entry = op.operationId ? await this.ctx.operations.get(op.operationId) : undefined;
    const refusal =
      error instanceof TransactionRejectedError
        ? new TransactionRejectedError(error.code, message, details)
        : error;
    if (entry) ops.push(this.ctx.operations.failOp(entry, refusal));
    await this.db.write(ops);
    throw refusal;
  }

  async loadNotes(): Promise<OwnNote[]> {
    return (await scanPrefix(this.db, P_NOTE)).map(([, v]) => decodeNote(v));
  }
}
