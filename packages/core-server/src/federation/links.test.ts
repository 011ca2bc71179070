// Module links (module.ts ModuleLinks): a module's consensus item asks the paying module for a payout
// inside the same state transition. Stand-ins: a payer that records requests in its own key space,
// and an asker whose item asks for a payout and then refuses or accepts the item.
import { describe, expect, it } from "vitest";
import { encodeConsensusItem } from "@conclave/core-common";
import { MemoryKv } from "../db/kv.js";
import type { ReadTx, WriteTx } from "../db/kv.js";
import { NodeVerifier, sha256 } from "../node-crypto.js";
import { fail, ok } from "./module.js";
import type {
  ModuleLinks,
  ModuleResult,
  PayoutProgress,
  PayoutRequest,
  PayoutService,
  ServerModule,
} from "./module.js";
import { FederationProcessor } from "./processor.js";

const PAYER = 2;
const ASKER = 3;

const base = {
  testOnly: true,
  api: [],
  consensusProposal: () => [],
  processInput: () => fail("no_inputs", "no inputs"),
  processOutput: () => fail("no_outputs", "no outputs"),
  outputOutcome: () => undefined,
} as const;

class Payer implements ServerModule {
  readonly kind = "payer";
  readonly instanceId: number;
  readonly audit = (db: ReadTx) => ({ assets: 1000n - this.paid(db), liabilities: 0n });
  constructor(instanceId = PAYER) {
    this.instanceId = instanceId;
  }
  readonly testOnly = base.testOnly;
  readonly api = base.api;
  consensusProposal = base.consensusProposal;
  processInput = base.processInput;
  processOutput = base.processOutput;
  outputOutcome = base.outputOutcome;
  processConsensusItem(): ModuleResult<void> {
    return fail("no_items", "no items");
  }
  paid(db: ReadTx): bigint {
    let sum = 0n;
    for (const [, v] of db.scan(Uint8Array.of(0x01))) sum += BigInt(new TextDecoder().decode(v));
    return sum;
  }
  readonly payoutService: PayoutService = {
    requestPayout: (db: WriteTx, from: number, r: PayoutRequest) => {
      const key = Uint8Array.from([0x01, from, ...r.ref]);
      if (db.get(key)) return fail("already_requested", "once");
      db.put(key, new TextEncoder().encode(r.value.toString()));
      return ok({ amount: r.value - 1n, fee: 1n });
    },
    payoutProgress: (db: ReadTx, from: number, ref: Uint8Array): PayoutProgress | undefined =>
      db.get(Uint8Array.from([0x01, from, ...ref])) ? { state: "queued" } : undefined,
  };
}

/** Item [ref byte, accept]: asks for a payout of 100 under ref, then keeps or refuses the item. */
class Asker implements ServerModule {
  readonly kind = "asker";
  readonly instanceId = ASKER;
  readonly testOnly = base.testOnly;
  readonly api = base.api;
  consensusProposal = base.consensusProposal;
  processInput = base.processInput;
  processOutput = base.processOutput;
  outputOutcome = base.outputOutcome;
  links: ModuleLinks = {};
  link(links: ModuleLinks): void {
    this.links = links;
  }
  audit() {
    return { assets: 0n, liabilities: 0n };
  }
  processConsensusItem(db: WriteTx, payload: Uint8Array): ModuleResult<void> {
    const r = this.links.payouts!.request(db, {
      ref: new Uint8Array(32).fill(payload[0]!),
      address: "x",
      value: 100n,
    });
    if (!r.ok) return r;
    if (payload[1] !== 1) return fail("refused", "the asker refuses after asking");
    db.put(Uint8Array.of(0x02, payload[0]!), Uint8Array.of(1));
    return ok(undefined);
  }
}

function run(items: Uint8Array[]) {
  const payer = new Payer();
  const asker = new Asker();
  const p = new FederationProcessor([payer, asker], { verifier: new NodeVerifier(), hash: sha256 });
  const db = new MemoryKv();
  const out = p.processBlock(db, 0, [
    {
      origin: 0,
      items: items.map((payload) => encodeConsensusItem({ kind: "module", module: ASKER, payload })),
    },
  ]);
  return { p, db, payer, asker, out };
}

describe("module links", () => {
  it("applies a payout request in the asker's state transition, in the payer's key space; the asker reads its progress", () => {
    const { p, db, payer, asker, out } = run([Uint8Array.of(7, 1)]);
    expect(out.moduleItemErrors).toBe(0);
    expect(payer.paid(p.moduleReadDb(db, PAYER))).toBe(100n);
    expect(asker.links.payouts!.progress(p.moduleReadDb(db, ASKER), new Uint8Array(32).fill(7))).toEqual({
      state: "queued",
    });
    // Nothing landed in the asker's own key space but its own record.
    expect([...p.moduleReadDb(db, ASKER).scan(new Uint8Array())].length).toBe(1);
  });

  it("undoes the payer's writes with a refused item: nothing is paid for an item that did not happen", () => {
    const { p, db, payer, out } = run([Uint8Array.of(7, 0)]);
    expect(out.moduleItemErrors).toBe(1);
    expect(payer.paid(p.moduleReadDb(db, PAYER))).toBe(0n);
    // The same ref can then be asked for by an item that is kept, once.
    const again = run([Uint8Array.of(7, 0), Uint8Array.of(7, 1), Uint8Array.of(7, 1)]);
    expect(again.out.moduleItemErrors).toBe(2);
    expect(again.payer.paid(again.p.moduleReadDb(again.db, PAYER))).toBe(100n);
  });

  it("refuses a link call with a view that is not the caller's own, and a federation with two paying modules", () => {
    const { p, db, asker } = run([]);
    expect(() =>
      asker.links.payouts!.request(p.moduleDb(db, PAYER), {
        ref: new Uint8Array(32),
        address: "x",
        value: 1n,
      }),
    ).toThrow(/not its own/);
    expect(
      () =>
        new FederationProcessor([new Payer(), new Payer(5)], { verifier: new NodeVerifier(), hash: sha256 }),
    ).toThrow(/both offer payouts/);
  });
});
