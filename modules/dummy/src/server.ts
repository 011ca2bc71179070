// Server half of the test-only dummy module.
import { Reader, Writer, toHex } from "@conclave/core-common";
import type { TxInput, TxOutput } from "@conclave/core-common";
import { fail, ok } from "@conclave/core-server";
import type {
  Audit,
  InputMeta,
  ModuleResult,
  OutPoint,
  OutputMeta,
  ReadTx,
  ServerModule,
  WriteTx,
} from "@conclave/core-server";
import { DUMMY_KIND, decodeDummyInput, decodeDummyOutput } from "./common.js";
import type { DummyConfig } from "./common.js";

const COIN = 0x01;
const TOTALS = Uint8Array.from([0x02]);
const FAUCET_NONCE = 0x03;

function coinKey(txid: Uint8Array, index: number): Uint8Array {
  return new Writer().u8(COIN).fixed(txid, 32).u32(index).finish();
}

function readTotals(db: ReadTx): Audit {
  const v = db.get(TOTALS);
  if (!v) return { assets: 0n, liabilities: 0n };
  const r = new Reader(v);
  return { assets: r.u64big(), liabilities: r.u64big() };
}

function writeTotals(db: WriteTx, t: Audit): void {
  db.put(TOTALS, new Writer().u64big(t.assets).u64big(t.liabilities).finish());
}

export class DummyServerModule implements ServerModule {
  readonly kind = DUMMY_KIND;
  readonly testOnly = true;
  readonly api = [];

  constructor(
    readonly instanceId: number,
    private readonly config: DummyConfig,
  ) {}

  consensusProposal(): Uint8Array[] {
    return [];
  }

  processConsensusItem(): ModuleResult<void> {
    return fail("no_items", "the dummy module has no consensus items");
  }

  processInput(db: WriteTx, input: TxInput): ModuleResult<InputMeta> {
    let parsed;
    try {
      parsed = decodeDummyInput(input.payload);
    } catch (e) {
      return fail("malformed_input", (e as Error).message);
    }
    const totals = readTotals(db);
    if (parsed.kind === "faucet") {
      if (input.amount > this.config.faucetAmountMax) {
        return fail("faucet_limit", `the faucet prints at most ${this.config.faucetAmountMax} per input`);
      }
      const nonceKey = new Writer().u8(FAUCET_NONCE).fixed(parsed.nonce, 16).finish();
      if (db.get(nonceKey)) return fail("spent_input", "this faucet nonce was already used");
      db.put(nonceKey, Uint8Array.of(1));
      writeTotals(db, { assets: totals.assets + input.amount, liabilities: totals.liabilities });
      return ok({ amount: input.amount, fee: this.config.feePerInput, signers: [] });
    }
    const key = coinKey(parsed.txid, parsed.index);
    const coin = db.get(key);
    if (!coin) return fail("unknown_input", `no coin ${toHex(parsed.txid)}:${parsed.index}`);
    const r = new Reader(coin);
    const amount = r.u64big();
    const owner = r.fixed(32);
    const spent = r.u8() === 1;
    if (spent) return fail("spent_input", `coin ${toHex(parsed.txid)}:${parsed.index} is already spent`);
    db.put(key, new Writer().u64big(amount).fixed(owner, 32).u8(1).finish());
    writeTotals(db, { assets: totals.assets, liabilities: totals.liabilities - amount });
    return ok({ amount, fee: this.config.feePerInput, signers: [owner] });
  }

  processOutput(db: WriteTx, output: TxOutput, outPoint: OutPoint): ModuleResult<OutputMeta> {
    let owner;
    try {
      owner = decodeDummyOutput(output.payload).owner;
    } catch (e) {
      return fail("malformed_output", (e as Error).message);
    }
    if (output.amount === 0n) return fail("zero_amount", "an output must carry a positive amount");
    db.put(
      coinKey(outPoint.txid, outPoint.index),
      new Writer().u64big(output.amount).fixed(owner, 32).u8(0).finish(),
    );
    const totals = readTotals(db);
    writeTotals(db, { assets: totals.assets, liabilities: totals.liabilities + output.amount });
    return ok({ amount: output.amount, fee: 0n });
  }

  outputOutcome(db: ReadTx, outPoint: OutPoint): unknown {
    const coin = db.get(coinKey(outPoint.txid, outPoint.index));
    if (!coin) return undefined;
    const r = new Reader(coin);
    const amount = r.u64big();
    const owner = r.fixed(32);
    return { amount: amount.toString(), owner: toHex(owner), spent: r.u8() === 1 };
  }

  audit(db: ReadTx): Audit {
    return readTotals(db);
  }
}
