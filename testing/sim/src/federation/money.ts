// The money checkers, run after every block at every honest guardian. They keep their own ledger
// of what the committed transactions did (decoded from the block, independently of the modules'
// bookkeeping) and compare it with what the modules report:
//   - assets >= liabilities (the processor's audit, the federation's sum);
//   - conservation: liabilities = deposits credited (faucet inputs, XMR deposit inputs) - value that
//     left through accepted transactions (their inputs minus their outputs: fees and overpayments;
//     and payout outputs, which leave as XMR);
//   - XMR: the ledger's deposits spent minus payouts and their fees, returned for the monero
//     module's audit (federation/monero.ts compares);
//   - the dummy module's assets equal the deposits its accepted faucet inputs credited;
//   - no note (mint nonce) is spent by two accepted transactions;
//   - equal federation-state hashes across honest guardians at equal heights.
// Each guardian's ledger is indexed by height, so that a guardian that lost its last blocks to a
// power cut and processes them again is checked again from there.
import { decodeConsensusItem, toHex, transactionId } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { decodeDummyInput } from "@conclave/module-dummy";
import { decodeMintInput } from "@conclave/module-mint";
import type { BlockOutcome, FederationProcessor, ReadTx } from "@conclave/core-server";
import { sha256 } from "../consensus.js";
import { PayoutStore, decodePayoutOutput } from "@conclave/module-monero";
import { BRIDGE_ID, DUMMY_ID, MINT_ID, MONERO_ID } from "./setup.js";

/** Items whose decoding the checker remembers before it starts over (bounds memory on long runs). */
const DECODED_ENTRIES_MAX = 50_000;

interface Entry {
  /** Totals after this height: deposits credited, value that left through accepted transactions. */
  readonly deposits: bigint;
  readonly left: bigint;
  /** XMR deposits spent into the federation minus payouts and their fees (the monero module's assets). */
  readonly xmr: bigint;
  /** Dummy faucet deposits (the dummy module's assets). */
  readonly faucet: bigint;
  /** Σ amounts of accepted outputs to the bridge module (wXMR mints the federation signs). */
  readonly bridgeOut: bigint;
}

export interface MoneyTotals {
  accepted: number;
  rejected: number;
  badSignatureCopies: number;
  malformedItems: number;
  moduleItemErrors: number;
  deposits: bigint;
  /** Dummy faucet deposits only (the dummy module's assets). */
  faucet: bigint;
  notesSpent: number;
  checks: number;
}

export class MoneyCheckers {
  private readonly ledgers: Entry[][];
  /** Per guardian: note nonce (hex) -> height of the accepted transaction that spent it. */
  private readonly spent: Map<string, number>[];
  /** Per guardian: bridge input (a burn claimed, a mint refunded; hex payload) -> height spent. */
  private readonly bridgeSpent: Map<string, number>[];
  /**
   * The checker's decoding of each item, by its bytes: every honest guardian commits the same items,
   * and decoding is a pure function of them (garbage: null). Bounded like the simulator's other memos.
   */
  private readonly decoded = new Map<string, { txid: string; tx: Transaction } | null>();
  /** The first state hash an honest guardian reported at each height, and who. */
  private readonly hashes = new Map<number, { hash: string; by: number }>();
  readonly totals: MoneyTotals = {
    accepted: 0,
    rejected: 0,
    badSignatureCopies: 0,
    malformedItems: 0,
    moduleItemErrors: 0,
    deposits: 0n,
    faucet: 0n,
    notesSpent: 0,
    checks: 0,
  };

  constructor(
    n: number,
    private readonly violation: (what: string) => void,
  ) {
    this.ledgers = Array.from({ length: n }, () => []);
    this.spent = Array.from({ length: n }, () => new Map<string, number>());
    this.bridgeSpent = Array.from({ length: n }, () => new Map<string, number>());
  }

  /** Inside guardian g's block transaction: record what the block's accepted transactions did. */
  onBlock(
    g: number,
    height: number,
    bundles: readonly { origin: number; items: readonly Uint8Array[] }[],
    outcome: BlockOutcome,
    processor: FederationProcessor,
  ): void {
    const txs = new Map<string, Transaction>();
    for (const b of bundles) {
      for (const bytes of b.items) {
        const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
        let known = this.decoded.get(key);
        if (known === undefined) {
          known = null;
          try {
            const item = decodeConsensusItem(bytes, processor.limits);
            if (item.kind === "transaction")
              known = { txid: toHex(transactionId(item.tx, sha256)), tx: item.tx };
          } catch {
            // Garbage from a Byzantine guardian, or the consensus workload's string items; the
            // processor counts it as malformed.
          }
          if (this.decoded.size >= DECODED_ENTRIES_MAX) this.decoded.clear();
          this.decoded.set(key, known);
        }
        if (known !== null) txs.set(known.txid, known.tx);
      }
    }
    const ledger = this.ledgers[g]!;
    ledger.length = height;
    const before =
      height === 0 ? { deposits: 0n, left: 0n, xmr: 0n, faucet: 0n, bridgeOut: 0n } : ledger[height - 1];
    if (before === undefined) {
      this.violation(
        `guardian ${g} processed height ${height} without having processed height ${height - 1}`,
      );
      return;
    }
    let { deposits, left, xmr, faucet, bridgeOut } = before;
    this.totals.malformedItems += outcome.malformedItems;
    this.totals.moduleItemErrors += outcome.moduleItemErrors;
    for (const e of outcome.events) {
      if (!e.final) {
        this.totals.badSignatureCopies++;
        continue;
      }
      if (e.status.state !== "accepted") {
        this.totals.rejected++;
        continue;
      }
      this.totals.accepted++;
      const tx = txs.get(e.txid);
      if (tx === undefined) {
        this.violation(
          `guardian ${g} accepted transaction ${e.txid.slice(0, 12)} at height ${height}, which is not in the block`,
        );
        continue;
      }
      const inputs = tx.inputs.reduce((a, i) => a + i.amount, 0n);
      const outputs = tx.outputs.reduce((a, o) => a + o.amount, 0n);
      if (inputs < outputs + e.status.fee) {
        this.violation(
          `guardian ${g} accepted transaction ${e.txid.slice(0, 12)} at height ${height} whose inputs ${inputs} ` +
            `are less than its outputs ${outputs} plus fee ${e.status.fee}`,
        );
      }
      left += inputs - outputs;
      for (const output of tx.outputs) {
        if (output.module === BRIDGE_ID) bridgeOut += output.amount;
        if (output.module !== MONERO_ID) continue;
        // A payout leaves the federation: its amount is no liability, it and its fee leave the XMR held.
        left += output.amount;
        xmr -= output.amount + decodePayoutOutput(output.payload).fee;
      }
      for (const input of tx.inputs) {
        if (input.module === MONERO_ID) {
          deposits += input.amount;
          xmr += input.amount;
        } else if (input.module === DUMMY_ID) {
          if (decodeDummyInput(input.payload).kind === "faucet") {
            deposits += input.amount;
            faucet += input.amount;
          }
        } else if (input.module === BRIDGE_ID) {
          // A burn's e-cash claimed or a returned mint refunded: each once.
          const key = toHex(input.payload);
          const at = this.bridgeSpent[g]!.get(key);
          if (at !== undefined && at < height)
            this.violation(
              `guardian ${g} accepted bridge input ${key.slice(0, 16)} twice: at height ${at} and again at height ${height}`,
            );
          this.bridgeSpent[g]!.set(key, height);
        } else if (input.module === MINT_ID) {
          const nonce = toHex(decodeMintInput(input.payload).spendKey);
          const at = this.spent[g]!.get(nonce);
          if (at !== undefined && at < height) {
            this.violation(
              `guardian ${g} accepted note ${nonce.slice(0, 12)} twice: at height ${at} and again at height ${height} ` +
                `(transaction ${e.txid.slice(0, 12)})`,
            );
          }
          this.spent[g]!.set(nonce, height);
          this.totals.notesSpent++;
        }
      }
    }
    ledger[height] = { deposits, left, xmr, faucet, bridgeOut };
  }

  /** Σ amounts of bridge outputs accepted up to `height` at guardian g (0 if not processed). */
  bridgeOutputs(g: number, height: number): bigint {
    return this.ledgers[g]![height]?.bridgeOut ?? 0n;
  }

  /** After guardian g processed `height` (its state as of that block): audit and state against its ledger and the others. */
  afterBlock(g: number, height: number, state: ReadTx, processor: FederationProcessor): bigint | undefined {
    this.totals.checks++;
    const entry = this.ledgers[g]![height];
    if (entry === undefined) {
      this.violation(`guardian ${g} committed height ${height} without processing it`);
      return undefined;
    }
    const audit = processor.audit(state);
    const at = `guardian ${g} at height ${height}`;
    if (audit.liabilities > audit.assets)
      this.violation(`${at}: liabilities ${audit.liabilities} exceed assets ${audit.assets}`);
    // Payouts other modules asked for (the bridge's burns to a Monero address, core ModuleLinks): no
    // transaction carries them, so the ledger counts them from the monero module's payout records
    // (outpoint index 0xffff0000 | asker); federation/bridge.ts checks each against an accepted burn.
    const requested = requestedPayouts(processor, state);
    const expected = entry.deposits - entry.left - requested;
    if (audit.liabilities !== expected) {
      const detail = audit.modules
        .map((m) => `${m.kind} ${m.audit.assets}/${m.audit.liabilities}`)
        .join(", ");
      this.violation(
        `${at}: conservation broken: liabilities ${audit.liabilities}, but deposits ${entry.deposits} - ` +
          `value left ${entry.left}${requested > 0n ? ` - payouts asked by modules ${requested}` : ""} = ${expected} (assets/liabilities: ${detail})`,
      );
    }
    const dummy = audit.modules.find((m) => m.instanceId === DUMMY_ID);
    if (dummy !== undefined && dummy.audit.assets !== entry.faucet)
      this.violation(
        `${at}: the dummy module reports assets ${dummy.audit.assets}, deposits credited are ${entry.faucet}`,
      );
    if (entry.deposits > this.totals.deposits) this.totals.deposits = entry.deposits;
    const hash = stateHash(state);
    const first = this.hashes.get(height);
    if (first === undefined) this.hashes.set(height, { hash, by: g });
    else if (first.hash !== hash)
      this.violation(
        `${at}: federation state hash ${hash.slice(0, 12)} differs from guardian ${first.by}'s ${first.hash.slice(0, 12)}`,
      );
    return entry.xmr - requested;
  }
}

/** The index of a payout another module asked for (monero server.ts requestOutPoint: 0xffff0000 | asker). */
export const REQUESTED_PAYOUT_INDEX_MIN = 0xffff0000;

/** Σ (amount + fee) of the payouts other modules asked for, as the monero module recorded them (0 without it). */
export function requestedPayouts(processor: FederationProcessor, state: ReadTx): bigint {
  if (!processor.modules.some((m) => m.instanceId === MONERO_ID)) return 0n;
  const store = new PayoutStore(processor.moduleReadDb(state, MONERO_ID));
  let sum = 0n;
  for (let seq = 0; seq < store.counters().nextSeq; seq++) {
    const p = store.payout(seq)!;
    if (p.index >= REQUESTED_PAYOUT_INDEX_MIN) sum += p.amount + p.fee;
  }
  return sum;
}

/** A digest of the whole federation state (core statuses and every module's store), in key order. */
export function stateHash(db: ReadTx): string {
  const parts: Uint8Array[] = [];
  let bytes = 0;
  for (const [k, v] of db.scan(new Uint8Array())) {
    const head = new Uint8Array(8);
    const view = new DataView(head.buffer);
    view.setUint32(0, k.length);
    view.setUint32(4, v.length);
    parts.push(head, k, v);
    bytes += 8 + k.length + v.length;
  }
  const all = new Uint8Array(bytes);
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.length;
  }
  return toHex(sha256(all));
}
