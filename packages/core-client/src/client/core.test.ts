// The client core with a client half it has never seen, against four real guardian processes (the
// test-only dummy module). The half ("coins", written here) prints dummy coins to a key derived from
// its own module secret: it logs the operation (with the signed transaction) before sending it,
// sends it, waits for t guardians, and writes the coin with the operation's end in one write. A
// crash after the guardians took the transaction (the half throws, the client is dropped) leaves the
// operation pending in the log; reopening the same LMDB database with the half registered resumes
// it through the half's own code, and the coin is there, once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  encodeInvite,
  encodeTransaction,
  federationId,
  fromHex,
  toHex,
  txidHex,
} from "@conclave/core-common";
import type { FederationConfig } from "@conclave/core-common";
import { NodeSigner, sha256 } from "@conclave/core-server";
import { buildTransaction, coinOutput, faucetInput } from "@conclave/module-dummy";
import {
  DEV_MODULES,
  startGuardian,
  stopGuardian,
  waitConnected,
  writeLocalFederation,
} from "../../../../apps/guardiand/src/index.js";
import type { GuardianProcess, LocalFederationFiles } from "../../../../apps/guardiand/src/index.js";
import { LmdbClientDb } from "../../../wallet/src/lmdb-db.js";
import type { ClientContext, ClientModule, ClientModuleFactory, ClientModuleInit } from "./contract.js";
import { ClientCore } from "./core.js";
import type { ClientDb } from "./db.js";
import { put, scanPrefix } from "./db.js";
import { json, parseJson } from "./json.js";
import type { OperationRecord } from "./operations.js";
import { OperationStream } from "./operations.js";
import { moduleSecret } from "./secrets.js";

let dir: string;
let files: LocalFederationFiles;
let invite: string;
const guardians: GuardianProcess[] = [];

interface PrintMeta {
  readonly tx: string;
  readonly txid: string;
  readonly amount: string;
}
type PrintProgress = { readonly stage: "submitted" } | { readonly stage: "accepted"; readonly txid: string };
interface PrintResult {
  readonly txid: string;
  readonly amount: string;
}

function printMeta(op: OperationRecord): PrintMeta {
  const m = op.meta;
  if (m === null || typeof m !== "object" || Array.isArray(m)) throw new Error(`operation ${op.id}: no meta`);
  const { tx, txid, amount } = m as { readonly [k: string]: unknown };
  if (typeof tx !== "string" || typeof txid !== "string" || typeof amount !== "string")
    throw new Error(`operation ${op.id}: bad meta`);
  return { tx, txid, amount };
}

/** A client half the core has never seen: dummy coins owned by a key from its module secret. */
class CoinsHalf implements ClientModule {
  readonly kind = "dummy";
  readonly instanceId: number;
  private readonly owner: NodeSigner;
  private readonly db: ClientDb;
  private readonly prefix: string;
  private readonly ctx: ClientContext;

  constructor(
    init: ClientModuleInit,
    private readonly crashAfterSubmit: boolean,
  ) {
    this.instanceId = init.instanceId;
    this.owner = new NodeSigner(init.secret);
    this.db = init.db;
    this.prefix = init.keyPrefix;
    this.ctx = init.context;
  }

  /** Prints `amount` in one dummy coin; its events end with the coin's txid. */
  print(amount: bigint): OperationStream<PrintProgress, PrintResult> {
    const events = new OperationStream<PrintProgress, PrintResult>();
    void events
      .run(async () => {
        const tx = buildTransaction(
          [faucetInput(this.instanceId, amount)],
          [coinOutput(this.instanceId, amount, this.owner.publicKey)],
          [],
          sha256,
        );
        const meta: PrintMeta = {
          tx: toHex(encodeTransaction(tx)),
          txid: txidHex(tx, sha256),
          amount: amount.toString(),
        };
        const op = await this.ctx.operations.start(this.instanceId, this.kind, "print", { ...meta });
        return this.submitAndSettle(op, meta, events, this.crashAfterSubmit);
      })
      .catch(() => undefined);
    return events;
  }

  async resumeOperation(op: OperationRecord): Promise<void> {
    await this.submitAndSettle(op, printMeta(op), new OperationStream(), false);
  }

  async coins(): Promise<PrintResult[]> {
    return (await scanPrefix(this.db, `${this.prefix}coin/`)).map(([, v]) => parseJson<PrintResult>(v));
  }

  private async submitAndSettle(
    op: OperationRecord,
    meta: PrintMeta,
    events: OperationStream<PrintProgress, PrintResult>,
    crash: boolean,
  ): Promise<PrintResult> {
    const client = await this.ctx.client();
    await client.submitTransaction(fromHex(meta.tx));
    events.progress({ stage: "submitted" });
    if (crash) throw new Error("simulated crash after the guardians took the transaction");
    const { value } = await client.awaitTransaction(meta.txid);
    if (value.state !== "accepted") throw new Error(`print refused: ${value.error.message}`);
    events.progress({ stage: "accepted", txid: meta.txid });
    const result: PrintResult = { txid: meta.txid, amount: meta.amount };
    await this.db.write([
      put(`${this.prefix}coin/${meta.txid}`, json(result)),
      this.ctx.operations.finishOp(op, { ...result }),
    ]);
    return result;
  }
}

const coinsFactory = (crashAfterSubmit: boolean): ClientModuleFactory<CoinsHalf> => ({
  kind: "dummy",
  init: (init) => new CoinsHalf(init, crashAfterSubmit),
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "conclave-client-core-"));
  files = await writeLocalFederation(dir, 4, { heightsPerSession: 16 }, DEV_MODULES);
  const config: FederationConfig = files.config;
  invite = encodeInvite({
    federationId: toHex(federationId(config, sha256)),
    name: config.name,
    guardians: config.guardians.map((g) => ({ name: g.name, api: g.api?.url ?? "" })),
  });
  const started = await Promise.allSettled([0, 1, 2, 3].map((i) => startGuardian(files, i)));
  for (const s of started) if (s.status === "fulfilled") guardians.push(s.value);
  const failed = started.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  await waitConnected(guardians);
});

afterAll(async () => {
  await Promise.all(guardians.map((g) => stopGuardian(g, "SIGKILL")));
  rmSync(dir, { recursive: true, force: true });
});

describe("the client core runs a client half it has never seen", () => {
  it("runs its operation with events, logs it, and resumes it after a crash mid-operation", async () => {
    const root = new Uint8Array(32).fill(7);
    const location = join(dir, "client-a");
    const db = LmdbClientDb.open(location);
    const core = await ClientCore.create(db, { invite, client: await ClientCore.join(invite), root }, [
      coinsFactory(false),
    ]);
    const half = core.module<CoinsHalf>("dummy");
    expect(half).toBeDefined();
    // The half got its own secret, not the root.
    expect(toHex(new NodeSigner(moduleSecret(root, 0, "dummy")).publicKey)).not.toBe(
      toHex(new NodeSigner(root).publicKey),
    );

    // One run: progress events, then done; the log says done with the result.
    const stream = half!.print(500n);
    const seen: string[] = [];
    for await (const e of stream) seen.push(e.type === "progress" ? e.progress.stage : e.type);
    expect(seen).toEqual(["submitted", "accepted", "done"]);
    const first = await stream.result;
    expect(await core.operations.list()).toMatchObject([
      { module: "dummy", kind: "print", state: "done", result: { txid: first.txid, amount: "500" } },
    ]);
    await core.close();

    // A crash: the guardians took the transaction, the client drops before settling.
    const crashing = await ClientCore.open(LmdbClientDb.open(location), [coinsFactory(true)]);
    const interrupted = crashing.module<CoinsHalf>("dummy")!.print(700n);
    await expect(interrupted.result).rejects.toThrow(/simulated crash/);
    const pending = await crashing.operations.list({ state: "pending" });
    expect(pending).toHaveLength(1);
    expect(await crashing.module<CoinsHalf>("dummy")!.coins()).toHaveLength(1);
    await crashing.close();

    // Reopened on the same database: the core hands the pending entry back to the half.
    const reopened = await ClientCore.open(LmdbClientDb.open(location), [coinsFactory(false)]);
    expect(await reopened.resume()).toBe(1);
    const coins = await reopened.module<CoinsHalf>("dummy")!.coins();
    expect(coins.map((c) => c.amount).sort()).toEqual(["500", "700"]);
    const resumed = await reopened.operations.get(pending[0]!.id);
    expect(resumed).toMatchObject({ state: "done", result: { amount: "700" } });
    expect(await reopened.operations.list({ state: "pending" })).toEqual([]);
    // Nothing left to resume: a second resume finishes nothing and prints no second coin.
    expect(await reopened.resume()).toBe(0);
    expect(await reopened.module<CoinsHalf>("dummy")!.coins()).toHaveLength(2);
    await reopened.close();
  });

  it("keeps an operation of a module no registered half runs pending, with a warning", async () => {
    const location = join(dir, "client-b");
    const db = LmdbClientDb.open(location);
    const core = await ClientCore.create(
      db,
      { invite, client: await ClientCore.join(invite), root: new Uint8Array(32).fill(9) },
      [coinsFactory(true)],
    );
    await expect(core.module<CoinsHalf>("dummy")!.print(5n).result).rejects.toThrow(/simulated crash/);
    await core.close();
    const without = await ClientCore.open(LmdbClientDb.open(location), []);
    expect(without.modules()).toEqual([]);
    expect(await without.resume()).toBe(0);
    expect(without.warnings.join("\n")).toMatch(/no client half here runs module dummy/);
    expect(await without.operations.list({ state: "pending" })).toHaveLength(1);
    await without.close();
  });
});

describe("OperationStream", () => {
  it("gives a late listener the end, and a failure to the iterator and to result", async () => {
    const s = new OperationStream<number, string>();
    const got: unknown[] = [];
    s.subscribe((e) => got.push(e.type));
    s.progress(1);
    expect(() => s.failed(new Error("boom"))).toThrow("boom");
    s.progress(2); // after the end: dropped
    expect(got).toEqual(["progress", "failed"]);
    const late: unknown[] = [];
    s.subscribe((e) => late.push(e.type));
    expect(late).toEqual(["failed"]);
    await expect(s.result).rejects.toThrow("boom");
    const iterated: string[] = [];
    for await (const e of s) iterated.push(e.type);
    expect(iterated).toEqual(["failed"]);
  });
});
