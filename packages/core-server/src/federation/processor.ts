// Consensus processing: ordered items -> modules -> database, atomically. Every honest guardian
// runs this on the same ordered items and so reaches the same state; nothing here reads a clock,
// a socket or a random source.
import {
  Reader,
  Writer,
  decodeConsensusItem,
  toHex,
  transactionId,
  txSignatureMessage,
  utf8,
} from "@conclave/core-common";
import type { Hash, Transaction, TransactionLimits, TxInput, Verifier } from "@conclave/core-common";
import { DEFAULT_TRANSACTION_LIMITS } from "@conclave/core-common";
import { OverlayTx, PrefixedReadTx, PrefixedTx } from "../db/kv.js";
import type { ReadTx, WriteTx } from "../db/kv.js";
import { fail, ok } from "./module.js";
import type { Audit, ModuleError, ModuleResult, ServerModule } from "./module.js";

const CORE_PREFIX = Uint8Array.from([0x01]);
const TX_STATUS = 0x01;
const MODULE_PREFIX = 0x02;

/** Defined with the transaction model (clients sign with it too); re-exported for modules. */
export { txSignatureMessage };

export type TxStatus =
  | {
      readonly state: "accepted";
      readonly height: number;
      readonly fee: bigint;
      /** Module instance of each output, so outcomes can be looked up later. */
      readonly outputModules: readonly number[];
    }
  | { readonly state: "rejected"; readonly height: number; readonly error: ModuleError };

export interface ProcessedEvent {
  readonly txid: string;
  readonly status: TxStatus;
  readonly origin: number;
}

export interface BlockOutcome {
  readonly events: ProcessedEvent[];
  readonly moduleItemErrors: number;
  readonly malformedItems: number;
  /** Set when some module's liabilities exceed its assets: the guardian must halt. */
  readonly auditFailure?: string;
}

function encodeStatus(s: TxStatus): Uint8Array {
  const w = new Writer().u8(s.state === "accepted" ? 1 : 2).u64(s.height);
  if (s.state === "accepted") {
    w.u64big(s.fee).u32(s.outputModules.length);
    for (const m of s.outputModules) w.u16(m);
  } else {
    w.bytes(utf8.encode(JSON.stringify(s.error)));
  }
  return w.finish();
}

function decodeStatus(bytes: Uint8Array): TxStatus {
  const r = new Reader(bytes);
  const tag = r.u8();
  const height = r.u64();
  if (tag === 1) {
    const fee = r.u64big();
    const outputModules: number[] = [];
    for (let i = 0, n = r.count(1 << 16); i < n; i++) outputModules.push(r.u16());
    return { state: "accepted", height, fee, outputModules };
  }
  return { state: "rejected", height, error: JSON.parse(utf8.decode(r.bytes(1 << 16))) as ModuleError };
}

/** What each output of an accepted transaction yielded (module outcome JSON, null when none yet). */
export function outputOutcomes(
  processor: FederationProcessor,
  db: ReadTx,
  txid: Uint8Array,
  status: TxStatus,
): unknown[] {
  if (status.state !== "accepted") return [];
  return status.outputModules.map((instanceId, index) => {
    const m = processor.module(instanceId);
    return m?.outputOutcome(processor.moduleReadDb(db, instanceId), { txid, index }) ?? null;
  });
}

/**
 * Remembers checks whose result can never change (a signature that verified over a given message),
 * so that a transaction checked at submission is not verified again when its block is processed.
 * Bounded: the oldest entries go first.
 */
class VerifiedSet {
  private readonly entries = new Set<string>();
  constructor(private readonly capacity: number) {}
  has(key: string): boolean {
    return this.entries.has(key);
  }
  add(key: string): void {
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.values().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.add(key);
  }
}

/** Successful stateless checks remembered (transaction-and-module pairs plus signatures). */
const VERIFIED_CACHE_ENTRIES = 65_536;

export class FederationProcessor {
  private readonly byId = new Map<number, ServerModule>();
  private readonly verified = new VerifiedSet(VERIFIED_CACHE_ENTRIES);

  constructor(
    readonly modules: readonly ServerModule[],
    private readonly crypto: { verifier: Verifier; hash: Hash },
    readonly limits: TransactionLimits = DEFAULT_TRANSACTION_LIMITS,
  ) {
    for (const m of modules) {
      if (this.byId.has(m.instanceId)) throw new Error(`two modules with instance id ${m.instanceId}`);
      this.byId.set(m.instanceId, m);
    }
  }

  module(instanceId: number): ServerModule | undefined {
    return this.byId.get(instanceId);
  }

  moduleDb(db: WriteTx, instanceId: number): WriteTx {
    return new PrefixedTx(db, Uint8Array.from([MODULE_PREFIX, instanceId >> 8, instanceId & 0xff]));
  }

  moduleReadDb(db: ReadTx, instanceId: number): ReadTx {
    return new PrefixedReadTx(db, Uint8Array.from([MODULE_PREFIX, instanceId >> 8, instanceId & 0xff]));
  }

  txStatus(db: ReadTx, txid: Uint8Array): TxStatus | undefined {
    const v = db.get(statusKey(txid));
    return v ? decodeStatus(v) : undefined;
  }

  /**
   * Everything a module checks, run on a throwaway overlay: what the API answers before proposing a
   * transaction, so that a client learns at once about a spent input or a bad signature.
   */
  check(db: ReadTx, tx: Transaction): ModuleResult<{ fee: bigint }> {
    const txid = transactionId(tx, this.crypto.hash);
    const prior = this.txStatus(db, txid);
    if (prior?.state === "accepted") return fail("already_accepted", "this transaction was already accepted");
    const overlay = new OverlayTx(db);
    return this.apply(overlay, tx, txid);
  }

  /** Process one committed block's items inside `db` (the store's write transaction). */
  processBlock(
    db: WriteTx,
    height: number,
    bundles: readonly { origin: number; items: readonly Uint8Array[] }[],
  ): BlockOutcome {
    const events: ProcessedEvent[] = [];
    let moduleItemErrors = 0;
    let malformedItems = 0;
    for (const bundle of bundles) {
      for (const bytes of bundle.items) {
        let item;
        try {
          item = decodeConsensusItem(bytes, this.limits);
        } catch {
          // A Byzantine guardian can put garbage in its own bundle; it is ordered but means nothing.
          malformedItems++;
          continue;
        }
        if (item.kind === "module") {
          const m = this.byId.get(item.module);
          const overlay = new OverlayTx(db);
          const r = m
            ? m.processConsensusItem(this.moduleDb(overlay, m.instanceId), item.payload, bundle.origin)
            : undefined;
          if (r?.ok) overlay.commitInto(db);
          else moduleItemErrors++;
          continue;
        }
        const txid = transactionId(item.tx, this.crypto.hash);
        if (db.get(statusKey(txid))) continue; // proposed by several guardians: the first one counts
        const overlay = new OverlayTx(db);
        const r = this.apply(overlay, item.tx, txid);
        let status: TxStatus;
        if (r.ok) {
          overlay.commitInto(db);
          status = {
            state: "accepted",
            height,
            fee: r.value.fee,
            outputModules: item.tx.outputs.map((o) => o.module),
          };
        } else {
          status = { state: "rejected", height, error: r.error };
        }
        db.put(statusKey(txid), encodeStatus(status));
        events.push({ txid: toHex(txid), status, origin: bundle.origin });
      }
    }
    const failure = this.auditFailure(db);
    return failure
      ? { events, moduleItemErrors, malformedItems, auditFailure: failure }
      : { events, moduleItemErrors, malformedItems };
  }

  audit(db: ReadTx): {
    modules: { instanceId: number; kind: string; audit: Audit }[];
    assets: bigint;
    liabilities: bigint;
  } {
    const modules = this.modules.map((m) => ({
      instanceId: m.instanceId,
      kind: m.kind,
      audit: m.audit(this.moduleReadDb(db, m.instanceId)),
    }));
    return {
      modules,
      assets: modules.reduce((a, m) => a + m.audit.assets, 0n),
      liabilities: modules.reduce((a, m) => a + m.audit.liabilities, 0n),
    };
  }

  /**
   * Fedimint's rule, on the federation's sum: money moves between modules (a deposit module's
   * assets back a mint's notes), so one module alone may owe more than it holds; the federation as
   * a whole never may. The message names every module with its figures, to find the culprit.
   */
  private auditFailure(db: ReadTx): string | undefined {
    const a = this.audit(db);
    if (a.liabilities <= a.assets) return undefined;
    const detail = a.modules
      .map((m) => `${m.kind}#${m.instanceId} assets ${m.audit.assets} liabilities ${m.audit.liabilities}`)
      .join("; ");
    return `federation liabilities ${a.liabilities} exceed assets ${a.assets} (${detail})`;
  }

  private apply(db: WriteTx, tx: Transaction, txid: Uint8Array): ModuleResult<{ fee: bigint }> {
    if (tx.inputs.length === 0 && tx.outputs.length === 0)
      return fail("empty_transaction", "a transaction needs inputs or outputs");
    let inputTotal = 0n;
    let outputTotal = 0n;
    let fees = 0n;
    const signers: Uint8Array[] = [];
    const byModule = new Map<number, { inputs: TxInput[]; indexes: number[] }>();
    for (const [i, input] of tx.inputs.entries()) {
      const m = this.byId.get(input.module);
      if (!m)
        return fail(
          "unknown_module",
          `input ${i} names module ${input.module}, which this federation does not run`,
        );
      const r = m.processInput(this.moduleDb(db, m.instanceId), input);
      if (!r.ok)
        return fail(r.error.code, `input ${i}: ${r.error.message}`, { ...r.error.details, input: i });
      if (r.value.amount !== input.amount) {
        return fail("amount_mismatch", `input ${i} declares ${input.amount} but is worth ${r.value.amount}`, {
          input: i,
        });
      }
      inputTotal += r.value.amount;
      fees += r.value.fee;
      signers.push(...r.value.signers);
      if (m.verifyInputs) {
        const group = byModule.get(m.instanceId) ?? { inputs: [], indexes: [] };
        group.inputs.push(input);
        group.indexes.push(i);
        byModule.set(m.instanceId, group);
      }
    }
    const txidHex = toHex(txid);
    for (const [instanceId, group] of byModule) {
      const key = `inputs:${txidHex}:${instanceId}`;
      if (this.verified.has(key)) continue;
      const r = this.byId.get(instanceId)!.verifyInputs!(group.inputs);
      if (!r.ok) {
        const local = r.error.details?.["input"];
        const i = typeof local === "number" ? group.indexes[local] : undefined;
        return i === undefined
          ? fail(r.error.code, r.error.message, { ...r.error.details })
          : fail(r.error.code, `input ${i}: ${r.error.message}`, { ...r.error.details, input: i });
      }
      this.verified.add(key);
    }
    if (tx.signatures.length !== signers.length) {
      return fail(
        "bad_signature",
        `the inputs need ${signers.length} signatures, the transaction has ${tx.signatures.length}`,
      );
    }
    const message = txSignatureMessage(txid);
    for (const [i, key] of signers.entries()) {
      const signature = tx.signatures[i]!;
      const remembered = `sig:${txidHex}:${toHex(key)}:${toHex(signature)}`;
      if (this.verified.has(remembered)) continue;
      if (!this.crypto.verifier.verify(key, message, signature)) {
        return fail("bad_signature", `signature ${i} does not verify for its input's key`, { signature: i });
      }
      this.verified.add(remembered);
    }
    for (const [i, output] of tx.outputs.entries()) {
      const m = this.byId.get(output.module);
      if (!m)
        return fail(
          "unknown_module",
          `output ${i} names module ${output.module}, which this federation does not run`,
        );
      const r = m.processOutput(this.moduleDb(db, m.instanceId), output, { txid, index: i });
      if (!r.ok)
        return fail(r.error.code, `output ${i}: ${r.error.message}`, { ...r.error.details, output: i });
      if (r.value.amount !== output.amount) {
        return fail(
          "amount_mismatch",
          `output ${i} declares ${output.amount} but is worth ${r.value.amount}`,
          { output: i },
        );
      }
      outputTotal += r.value.amount;
      fees += r.value.fee;
    }
    if (inputTotal < outputTotal + fees) {
      return fail(
        "unbalanced",
        `inputs ${inputTotal} are less than outputs ${outputTotal} plus fees ${fees}`,
        {
          inputs: inputTotal.toString(),
          outputs: outputTotal.toString(),
          fees: fees.toString(),
        },
      );
    }
    return ok({ fee: fees });
  }
}

function statusKey(txid: Uint8Array): Uint8Array {
  const k = new Uint8Array(2 + txid.length);
  k.set(CORE_PREFIX);
  k[1] = TX_STATUS;
  k.set(txid, 2);
  return k;
}

/** The audit as the API shows it: amounts as decimal strings. */
export function auditView(a: ReturnType<FederationProcessor["audit"]>): {
  modules: { instanceId: number; kind: string; assets: string; liabilities: string }[];
  assets: string;
  liabilities: string;
} {
  return {
    modules: a.modules.map((m) => ({
      instanceId: m.instanceId,
      kind: m.kind,
      assets: m.audit.assets.toString(),
      liabilities: m.audit.liabilities.toString(),
    })),
    assets: a.assets.toString(),
    liabilities: a.liabilities.toString(),
  };
}
