// The client core: one joined federation in one client database. It holds the federation root,
// derives a secret per module instance, owns the operation log and the lock, builds a client half
// per module instance from the factories it is given, and on opening resumes what a crash
// interrupted, through each half's own code. It names no module: a half it has never seen works
// the same as the mint's (core.test.ts registers one and crashes it mid-operation).
//
// Database keys it owns (schema 1, those of the single-class wallet, so existing wallets open):
//   schema          {"schema":1}
//   wallet          ClientRecord (JSON): federation id, invite, config, root (hex), createdAtMs
//   oplog/<id>      OperationRecord (JSON): the operation log (operations.ts)
// Each half keeps its own keys under its `keyPrefix` (contract.ts).
import { ConclaveError, fromHex, parseFederationConfig, toHex } from "@conclave/core-common";
import type { FederationConfig } from "@conclave/core-common";
import { BadResponseError } from "../errors.js";
import { FederationClient } from "../federation-client.js";
import type { ClientOptions } from "../federation-client.js";
import type { ClientContext, ClientModule, ClientModuleFactory } from "./contract.js";
import type { ClientDb, DbOp } from "./db.js";
import { put } from "./db.js";
import { json, parseJson } from "./json.js";
import { OperationLog } from "./operations.js";
import { moduleSecret } from "./secrets.js";

export const SCHEMA_VERSION = 1;
export const K_SCHEMA = "schema";
export const K_CLIENT = "wallet";
/** Warnings kept in `warnings` (the oldest go first). */
const WARNINGS_MAX = 100;

export interface ClientRecord {
  readonly federationId: string;
  readonly invite: string;
  /** The federation config as joined (checked against the federation id by FederationClient). */
  readonly config: unknown;
  /** The federation root, hex: the mnemonic itself is not stored. */
  readonly root: string;
  readonly createdAtMs: number;
}

export interface ClientCoreOptions {
  readonly client?: ClientOptions;
  readonly now?: () => number;
  readonly random?: (bytes: number) => Uint8Array;
  readonly onWarning?: (message: string) => void;
}

/** One at a time, in call order (a failed call does not stop the next). */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(f: () => Promise<T>): Promise<T> {
    const result = this.tail.then(f);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** Other federations' clients a wallet keeps joined at once (the oldest is dropped beyond). */
const OTHER_FEDERATIONS_MAX = 8;

const webRandom = (n: number): Uint8Array => globalThis.crypto.getRandomValues(new Uint8Array(n));

export class ClientCore implements ClientContext {
  /** Recent warnings: operations left pending, guardians that sent bad shares, ... */
  readonly warnings: string[] = [];
  readonly operations: OperationLog;
  readonly config: FederationConfig;
  private readonly mutex = new Mutex();
  private readonly halves: ClientModule[] = [];
  private clientPromise: Promise<FederationClient> | undefined;
  /** Other federations joined (otherFederation), by invite; at most OTHER_FEDERATIONS_MAX kept. */
  private readonly others = new Map<string, Promise<FederationClient>>();

  private constructor(
    readonly db: ClientDb,
    readonly record: ClientRecord,
    private readonly options: ClientCoreOptions,
    client?: FederationClient,
  ) {
    this.config = parseFederationConfig(record.config);
    this.operations = new OperationLog(
      db,
      () => this.now(),
      (n) => this.random(n),
    );
    if (client) this.clientPromise = Promise.resolve(client);
  }

  /** Throws already_joined (with `message`) when `db` holds a client. */
  static async assertEmpty(db: ClientDb, message: string): Promise<void> {
    if (await db.get(K_CLIENT)) throw new ConclaveError("already_joined", message, { status: 409 });
  }

  /** Joins the federation of `invite` (its config, checked against its federation id). */
  static join(invite: string, options: ClientCoreOptions = {}): Promise<FederationClient> {
    return FederationClient.join(invite.trim(), options.client ?? {});
  }

  /** The client stored in `db`, with its halves built; resumes nothing (call `resume`). */
  static async open(
    db: ClientDb,
    factories: readonly ClientModuleFactory[],
    options: ClientCoreOptions = {},
  ): Promise<ClientCore> {
    const schema = await db.get(K_SCHEMA);
    const raw = await db.get(K_CLIENT);
    if (!schema || !raw)
      throw new ConclaveError("not_joined", "this database holds no wallet: join a federation first", {
        status: 404,
      });
    const { schema: version } = parseJson<{ schema: number }>(schema);
    if (version !== SCHEMA_VERSION)
      throw new ConclaveError(
        "unsupported_schema",
        `the wallet database has schema ${version}; this wallet reads schema ${SCHEMA_VERSION}`,
        { status: 400 },
      );
    const core = new ClientCore(db, parseJson<ClientRecord>(raw), options);
    core.build(factories);
    return core;
  }

  /**
   * Writes a new client into an empty `db` (with `extra`, the halves' first records, in the same
   * write) and builds its halves.
   */
  static async create(
    db: ClientDb,
    joined: { readonly invite: string; readonly client: FederationClient; readonly root: Uint8Array },
    factories: readonly ClientModuleFactory[],
    options: ClientCoreOptions = {},
    extra: readonly DbOp[] = [],
  ): Promise<ClientCore> {
    const record: ClientRecord = {
      federationId: joined.client.federationId,
      invite: joined.invite.trim(),
      config: joined.client.config,
      root: toHex(joined.root),
      createdAtMs: (options.now ?? Date.now)(),
    };
    await db.write([put(K_SCHEMA, json({ schema: SCHEMA_VERSION })), put(K_CLIENT, json(record)), ...extra]);
    const core = new ClientCore(db, record, options, joined.client);
    core.build(factories);
    return core;
  }

  get federationId(): string {
    return this.record.federationId;
  }

  /** Every half built, in the order of the factories given. */
  modules(): readonly ClientModule[] {
    return this.halves;
  }

  module<M extends ClientModule>(kind: string): M | undefined {
    return this.halves.find((h) => h.kind === kind) as M | undefined;
  }

  client(): Promise<FederationClient> {
    this.clientPromise ??= ClientCore.join(this.record.invite, this.options).then((c) => {
      if (c.federationId !== this.record.federationId)
        throw new BadResponseError("invite", `the stored invite names federation ${c.federationId}`);
      return c;
    });
    const p = this.clientPromise;
    // A failed join is retried at the next call (the guardians may have been unreachable).
    p.catch(() => {
      if (this.clientPromise === p) this.clientPromise = undefined;
    });
    return p;
  }

  otherFederation(invite: string): Promise<FederationClient> {
    const key = invite.trim();
    const known = this.others.get(key);
    if (known) return known;
    const p = ClientCore.join(key, this.options);
    if (this.others.size >= OTHER_FEDERATIONS_MAX) this.others.delete(this.others.keys().next().value!);
    this.others.set(key, p);
    // A failed join is not kept: the next call tries again.
    p.catch(() => {
      if (this.others.get(key) === p) this.others.delete(key);
    });
    return p;
  }

  run<T>(f: () => Promise<T>): Promise<T> {
    return this.mutex.run(f);
  }

  now(): number {
    return (this.options.now ?? Date.now)();
  }

  random(bytes: number): Uint8Array {
    return (this.options.random ?? webRandom)(bytes);
  }

  warn(message: string): void {
    this.warnings.push(message);
    if (this.warnings.length > WARNINGS_MAX) this.warnings.shift();
    this.options.onWarning?.(message);
  }

  /**
   * Finishes what a crash interrupted: each half's own pending work (in factory order), then every
   * pending entry of the operation log, through the half that wrote it. Returns how many finished;
   * what cannot finish yet stays pending, with a warning.
   */
  async resume(): Promise<number> {
    let finished = 0;
    for (const half of this.halves) if (half.resume) finished += await half.resume();
    for (const op of await this.operations.list({ state: "pending" })) {
      const half = this.halves.find((h) => h.instanceId === op.instanceId);
      if (!half?.resumeOperation) {
        this.warn(
          `operation ${op.id} (${op.module} ${op.kind}): no client half here runs module ${op.module}`,
        );
        continue;
      }
      try {
        await half.resumeOperation(op);
      } catch (e) {
        this.warn(
          `operation ${op.id} (${op.module} ${op.kind}): ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      if ((await this.operations.get(op.id))?.state !== "pending") finished++;
    }
    return finished;
  }

  close(): Promise<void> {
    return this.mutex.run(() => this.db.close());
  }

  private build(factories: readonly ClientModuleFactory[]): void {
    const root = fromHex(this.record.root);
    for (const factory of factories)
      for (const entry of this.config.modules.filter((m) => m.kind === factory.kind)) {
        const compat = factory.compat === "wallet-v1";
        const half = factory.init({
          instanceId: entry.instanceId,
          kind: entry.kind,
          config: entry.config,
          federation: this.config,
          federationId: this.record.federationId,
          secret: compat ? root : moduleSecret(root, entry.instanceId, entry.kind),
          db: this.db,
          keyPrefix: compat ? "" : `m/${entry.instanceId}/`,
          context: this,
        });
        if (half) this.halves.push(half);
      }
  }
}
