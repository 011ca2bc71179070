// Consensus processing: ordered items -> modules -> database, atomically. Every honest guardian
// runs this on the same ordered items and so reaches the same state; nothing here reads a clock,
// a socket or a random source.
import {
  Reader,
  Writer,
  bytesEqual,
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
import type { Audit, ModuleError, ModuleLinks, ModuleResult, ServerModule } from "./module.js";

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
  /**
   * False for a copy refused because its signatures do not verify: the signatures are not covered
   * by the txid, so such a refusal says nothing about the correctly signed transaction with the
   * same id. It is not recorded; the txid stays open and a later, correctly signed copy is processed.
   */
  readonly final: boolean;
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
    const payers = modules.filter((m) => m.payoutService !== undefined);
    if (payers.length > 1)
      throw new Error(
        `modules ${payers.map((m) => m.instanceId).join(", ")} both offer payouts: a federation has one paying module`,
      );
    for (const m of modules) m.link?.(this.linksFor(m.instanceId, payers[0]));
  }

  /**
   * Module `from`'s links: each call takes `from`'s own view (as the core handed it) and runs the
   * other module on its key space in the same database transaction (module.ts, ModuleLinks).
   */
  private linksFor(from: number, payer: ServerModule | undefined): ModuleLinks {
    const service = payer?.payoutService;
    if (!payer || !service || payer.instanceId === from) return {};
    const prefix = modulePrefix(payer.instanceId);
    const own = modulePrefix(from);
    const rebaseRead = (db: ReadTx): ReadTx => {
      assert(
        db instanceof PrefixedReadTx && bytesEqual(db.prefix, own),
        `module ${from} used a link with a view that is not its own`,
      );
      return new PrefixedReadTx(db.reader, prefix);
    };
    return {
      payouts: {
        request: (db, request) => {
          assert(
            db instanceof PrefixedTx && bytesEqual(db.prefix, own),
            `module ${from} used a link with a transaction that is not its own`,
          );
          return service.requestPayout(new PrefixedTx(db.inner, prefix), from, request);
        },
        progress: (db, ref) => service.payoutProgress(rebaseRead(db), from, ref),
      },
    };
  }

  module(instanceId: number): ServerModule | undefined {
    return this.byId.get(instanceId);
  }

  moduleDb(db: WriteTx, instanceId: number): WriteTx {
    return new PrefixedTx(db, modulePrefix(instanceId));
  }

  moduleReadDb(db: ReadTx, instanceId: number): ReadTx {
    return new PrefixedReadTx(db, modulePrefix(instanceId));
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
    return this.apply(overlay, tx, txid).result;
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
        // Proposed by several guardians: the first copy that gets a status counts. What a status
        // records never depends on the signatures (see `apply`), so every copy would get the same.
        if (db.get(statusKey(txid))) continue;
        const overlay = new OverlayTx(db);
        const { result: r, bySignatures } = this.apply(overlay, item.tx, txid);
        if (!r.ok && bySignatures) {
          // A copy with bad signatures (a Byzantine proposer can make one of any transaction it
          // saw): refused, and not recorded, so that it cannot burn the txid of the good copy.
          const status: TxStatus = { state: "rejected", height, error: r.error };
          events.push({ txid: toHex(txid), status, origin: bundle.origin, final: false });
          continue;
        }
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
        events.push({ txid: toHex(txid), status, origin: bundle.origin, final: true });
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

  /**
   * All the checks of a transaction, cheapest first, so that a transaction that fails a cheap check
   * costs no expensive one (a client can send any bytes; only the budget of its address limits how
   * often it reaches the pairing check):
   *   1. structure: inputs or outputs, known modules, each module's cheap stateless input checks
   *      (counts, encodings);
   *   2. balance of the declared amounts (fees are never negative);
   *   3. each input against the state (spent, known; decoding), its value, fee and signers, and the
   *      balance again with the inputs' fees;
   *   4. the Ed25519 signatures (about 4,500 a second);
   *   5. modules' batched input checks (the mint's pairing check, the most expensive);
   *   6. outputs (point checks), and the final balance.
   * `bySignatures` says the refusal came from step 4: it depends on the bytes the txid does not
   * cover, so it must not be recorded as the txid's status. Every other refusal is a function of the
   * txid-covered bytes and the state, and so is the same for every copy of the transaction.
   */
  private apply(
    db: WriteTx,
    tx: Transaction,
    txid: Uint8Array,
  ): { result: ModuleResult<{ fee: bigint }>; bySignatures: boolean } {
    const signed = { bySignatures: false };
    const structure = this.checkStructure(tx);
    if (!structure.ok) return { result: structure, ...signed };
    const byModule = structure.value;
    const declared = declaredBalance(tx);
    if (!declared.ok) return { result: declared, ...signed };

    const inputs = this.processInputs(db, tx, txid);
    if (!inputs.ok) return { result: inputs, ...signed };
    const { inputTotal, inputFees, signers } = inputs.value;
    const declaredOutputs = tx.outputs.reduce((a, o) => a + o.amount, 0n);
    if (inputTotal < declaredOutputs + inputFees)
      return { result: unbalanced(inputTotal, declaredOutputs, inputFees), ...signed };

    const signatures = this.checkSignatures(tx, txid, signers);
    if (!signatures.ok) return { result: signatures, bySignatures: true };

    const verified = this.verifyInputs(txid, byModule);
    if (!verified.ok) return { result: verified, ...signed };

    const outputs = this.processOutputs(db, tx, txid);
    if (!outputs.ok) return { result: outputs, ...signed };
    const fees = inputFees + outputs.value.fees;
    if (inputTotal < outputs.value.total + fees)
      return { result: unbalanced(inputTotal, outputs.value.total, fees), ...signed };
    return { result: ok({ fee: fees }), ...signed };
  }

  /** Step 1: no state, no cryptography. Groups the inputs by module for steps 1 and 5. */
  private checkStructure(
    tx: Transaction,
  ): ModuleResult<Map<number, { inputs: TxInput[]; indexes: number[] }>> {
    if (tx.inputs.length === 0 && tx.outputs.length === 0)
      return fail("empty_transaction", "a transaction needs inputs or outputs");
    const byModule = new Map<number, { inputs: TxInput[]; indexes: number[] }>();
    for (const [i, input] of tx.inputs.entries()) {
      if (!this.byId.has(input.module))
        return fail(
          "unknown_module",
          `input ${i} names module ${input.module}, which this federation does not run`,
        );
      const group = byModule.get(input.module) ?? { inputs: [], indexes: [] };
      group.inputs.push(input);
      group.indexes.push(i);
      byModule.set(input.module, group);
    }
    for (const [i, output] of tx.outputs.entries()) {
      if (!this.byId.has(output.module))
        return fail(
          "unknown_module",
          `output ${i} names module ${output.module}, which this federation does not run`,
        );
    }
    for (const [instanceId, group] of byModule) {
      const m = this.byId.get(instanceId)!;
      if (!m.precheckInputs) continue;
      const r = moduleGroupResult(m.precheckInputs(group.inputs), group.indexes);
      if (!r.ok) return r;
    }
    return ok(byModule);
  }

  /** Step 3. */
  private processInputs(
    db: WriteTx,
    tx: Transaction,
    txid: Uint8Array,
  ): ModuleResult<{ inputTotal: bigint; inputFees: bigint; signers: Uint8Array[] }> {
    let inputTotal = 0n;
    let inputFees = 0n;
    const signers: Uint8Array[] = [];
    for (const [i, input] of tx.inputs.entries()) {
      const m = this.byId.get(input.module)!;
      const r = m.processInput(this.moduleDb(db, m.instanceId), input, txid);
      if (!r.ok)
        return fail(r.error.code, `input ${i}: ${r.error.message}`, { ...r.error.details, input: i });
      if (r.value.amount !== input.amount) {
        return fail("amount_mismatch", `input ${i} declares ${input.amount} but is worth ${r.value.amount}`, {
          input: i,
        });
      }
      assert(r.value.fee >= 0n, `module ${m.instanceId} charged a negative fee for input ${i}`);
      inputTotal += r.value.amount;
      inputFees += r.value.fee;
      signers.push(...r.value.signers);
    }
    return ok({ inputTotal, inputFees, signers });
  }

  /** Step 4: the only step that reads the signatures, which the txid does not cover. */
  private checkSignatures(
    tx: Transaction,
    txid: Uint8Array,
    signers: readonly Uint8Array[],
  ): ModuleResult<void> {
    if (tx.signatures.length !== signers.length) {
      return fail(
        "bad_signature",
        `the inputs need ${signers.length} signatures, the transaction has ${tx.signatures.length}`,
      );
    }
    const txidHex = toHex(txid);
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
    return ok(undefined);
  }

  /** Step 5: modules' stateless batched checks (pairings), remembered per transaction id. */
  private verifyInputs(
    txid: Uint8Array,
    byModule: ReadonlyMap<number, { inputs: TxInput[]; indexes: number[] }>,
  ): ModuleResult<void> {
    const txidHex = toHex(txid);
    for (const [instanceId, group] of byModule) {
      const m = this.byId.get(instanceId)!;
      if (!m.verifyInputs) continue;
      const key = `inputs:${txidHex}:${instanceId}`;
      if (this.verified.has(key)) continue;
      const r = moduleGroupResult(m.verifyInputs(group.inputs), group.indexes);
      if (!r.ok) return r;
      this.verified.add(key);
    }
    return ok(undefined);
  }

  /** Step 6. */
  private processOutputs(
    db: WriteTx,
    tx: Transaction,
    txid: Uint8Array,
  ): ModuleResult<{ total: bigint; fees: bigint }> {
    let total = 0n;
    let fees = 0n;
    for (const [i, output] of tx.outputs.entries()) {
      const m = this.byId.get(output.module)!;
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
      assert(r.value.fee >= 0n, `module ${m.instanceId} charged a negative fee for output ${i}`);
      total += r.value.amount;
      fees += r.value.fee;
    }
    return ok({ total, fees });
  }
}

/** A module's verdict on a group of a transaction's inputs, with `details.input` mapped to the transaction's index. */
function moduleGroupResult(r: ModuleResult<void>, indexes: readonly number[]): ModuleResult<void> {
  if (r.ok) return r;
  const local = r.error.details?.["input"];
  const i = typeof local === "number" ? indexes[local] : undefined;
  return i === undefined
    ? fail(r.error.code, r.error.message, { ...r.error.details })
    : fail(r.error.code, `input ${i}: ${r.error.message}`, { ...r.error.details, input: i });
}

/**
 * Step 2: the declared amounts alone. Every input and output must later be worth exactly what it
 * declares and fees are never negative, so a transaction whose declared inputs are less than its
 * declared outputs can be refused before anything is looked up or verified.
 */
function declaredBalance(tx: Transaction): ModuleResult<void> {
  const inputs = tx.inputs.reduce((a, i) => a + i.amount, 0n);
  const outputs = tx.outputs.reduce((a, o) => a + o.amount, 0n);
  if (inputs >= outputs) return ok(undefined);
  return fail("unbalanced", `the inputs declare ${inputs}, less than the outputs' ${outputs}`, {
    inputs: inputs.toString(),
    outputs: outputs.toString(),
  });
}

function unbalanced(inputs: bigint, outputs: bigint, fees: bigint): ModuleResult<never> {
  return fail("unbalanced", `inputs ${inputs} are less than outputs ${outputs} plus fees ${fees}`, {
    inputs: inputs.toString(),
    outputs: outputs.toString(),
    fees: fees.toString(),
  });
}

/** A broken invariant (a module's bug, not a client's mistake): crash loudly. */
function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

function modulePrefix(instanceId: number): Uint8Array {
  return Uint8Array.from([MODULE_PREFIX, instanceId >> 8, instanceId & 0xff]);
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
