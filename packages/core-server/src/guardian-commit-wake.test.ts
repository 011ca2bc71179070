// A guardian collects its modules' consensus proposals right after each commit, not only on its
// timer (moduleProposalMs) or a module's wake: a module whose next item depends on the state the
// last block made (the monero payout signer's next turn, a claim to check) proposes it at once.
// Here a one-guardian federation (real consensus node, LMDB) with a module that proposes item k + 1
// once item k is in its state, the timer at one hour and one wake at start: every item after the
// first can only come from a collection after a commit. The module stops at COUNT (bounded).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Reader, Writer, toHex } from "@conclave/core-common";
import type { FederationConfig } from "@conclave/core-common";
import { Guardian } from "./guardian.js";
import { fail, ok } from "./federation/module.js";
import type { ModuleContext, ModuleResult, ServerModule } from "./federation/module.js";
import type { ReadTx, WriteTx } from "./db/kv.js";
import { ed25519PublicKeyOf, generateEd25519Seed } from "./node-crypto.js";
import { freePort } from "./ports.js";

const COUNT = 5;
const KEY = Uint8Array.of(1);

class CounterModule implements ServerModule {
  readonly kind = "counter";
  readonly testOnly = true;
  readonly api = [];
  context: ModuleContext | undefined;
  constructor(readonly instanceId: number) {}
  static count(db: ReadTx): number {
    const v = db.get(KEY);
    return v ? new Reader(v).u32() : 0;
  }
  start(context: ModuleContext): void {
    this.context = context;
    context.wake();
  }
  consensusProposal(db: ReadTx): Uint8Array[] {
    const n = CounterModule.count(db);
    return n >= COUNT ? [] : [new Writer().u32(n + 1).finish()];
  }
  processConsensusItem(db: WriteTx, payload: Uint8Array): ModuleResult<void> {
    const k = new Reader(payload).u32();
    if (k !== CounterModule.count(db) + 1) return ok(undefined); // a resubmission
    db.put(KEY, new Writer().u32(k).finish());
    return ok(undefined);
  }
  processInput(): ModuleResult<never> {
    return fail("no_inputs", "none");
  }
  processOutput(): ModuleResult<never> {
    return fail("no_outputs", "none");
  }
  outputOutcome(): unknown {
    return undefined;
  }
  audit() {
    return { assets: 0n, liabilities: 0n };
  }
}

let dir: string | undefined;
let guardian: Guardian | undefined;
afterEach(async () => {
  await guardian?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("Guardian: module proposals after each commit", () => {
  it("proposes a module's next item as soon as the block with its last one is committed", async () => {
    dir = mkdtempSync(join(tmpdir(), "guardian-commit-wake-"));
    const seed = generateEd25519Seed();
    const federation: FederationConfig = {
      version: 1,
      name: "commit-wake",
      environment: "dev",
      guardians: [
        {
          name: "guardian-0",
          publicKey: toHex(ed25519PublicKeyOf(seed)),
          p2p: { host: "127.0.0.1", port: await freePort() },
        },
      ],
      consensus: { heightsPerSession: 16 },
      modules: [{ instanceId: 7, kind: "counter", config: {} }],
    };
    let module: CounterModule | undefined;
    guardian = new Guardian({
      federation,
      secretSeed: seed,
      dataDir: join(dir, "g0"),
      moduleFactories: { counter: (id) => (module = new CounterModule(id)) },
      moduleProposalMs: 3_600_000,
      log: () => {},
    });
    await guardian.start();
    const read = () => CounterModule.count(module!.context!.readState!());
    // Without the collection after a commit: 1 (the wake), then nothing for an hour.
    for (let tries = 0; read() < COUNT; tries++) {
      if (tries > 600) throw new Error(`stuck at item ${read()} of ${COUNT}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(read()).toBe(COUNT);
  }, 120_000);
});
