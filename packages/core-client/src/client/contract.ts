// The client contract: what a module's client half gives the client core, and what the core gives
// it. The core (core.ts) knows no module by name; it builds one half per module instance of the
// federation's config whose kind a registered factory serves, and hands each pending entry of the
// operation log back to the half that wrote it.
import type { FederationConfig } from "@conclave/core-common";
import type { FederationClient } from "../federation-client.js";
import type { ClientDb } from "./db.js";
import type { OperationLog, OperationRecord } from "./operations.js";

/** What every half may use of the core. */
export interface ClientContext {
  /** The federation client (joined lazily from the stored invite; a failed join is retried). */
  client(): Promise<FederationClient>;
  /**
   * Another federation's client, joined from `invite` (its config checked against the invite's
   * federation id, as for this wallet's own), with this wallet's transport options; kept for reuse.
   * For halves that write to another federation's guardians (a letter to a contact there).
   */
  otherFederation(invite: string): Promise<FederationClient>;
  /**
   * The client's one lock: everything that reads and then writes the database runs under it. Not
   * re-entrant: a half calls another half's `...Locked` methods from inside its own `run`.
   */
  run<T>(f: () => Promise<T>): Promise<T>;
  now(): number;
  /** Secure random bytes. */
  random(bytes: number): Uint8Array;
  /** A warning for the user (kept in the core's `warnings`, and passed to `onWarning`). */
  warn(message: string): void;
  readonly operations: OperationLog;
  /** Another half's interface, by module kind (the first instance of it), or undefined. */
  module<M extends ClientModule>(kind: string): M | undefined;
}

/** What the core gives a half when it builds it. */
export interface ClientModuleInit {
  readonly instanceId: number;
  readonly kind: string;
  /** The module instance's entry in the federation config (unparsed: the half checks it). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly federation: FederationConfig;
  readonly federationId: string;
  /**
   * The half's secret: moduleSecret(root, instanceId, kind) (secrets.ts), or the federation root
   * itself for a `compat: "wallet-v1"` half.
   */
  readonly secret: Uint8Array;
  /** The client database, shared: a half writes only keys under `keyPrefix` (and the op log). */
  readonly db: ClientDb;
  /** `m/<instanceId>/`, or "" for a `compat: "wallet-v1"` half (whose keys are store.ts's). */
  readonly keyPrefix: string;
  readonly context: ClientContext;
}

/** A module's client half, as the core sees it. Its own API is whatever else it exports. */
export interface ClientModule {
  readonly kind: string;
  readonly instanceId: number;
  /**
   * Runs a pending operation of this half again after a crash, from its log entry, to its end (done
   * or failed, written to the log). Throws when it cannot end yet (the entry stays pending).
   */
  resumeOperation?(operation: OperationRecord): Promise<void>;
  /**
   * Finishes work the half keeps in its own tables rather than in the operation log (the mint's
   * pending transactions and the Monero claims of schema-1 wallets); returns how many finished.
   */
  resume?(): Promise<number>;
}

export interface ClientModuleFactory<M extends ClientModule = ClientModule> {
  /** The module kind it serves (the `kind` of the federation config's module entries). */
  readonly kind: string;
  /**
   * "wallet-v1": the half reads and writes the single-class wallet's keys (schema 1, at the
   * database root) and derives its secrets from the federation root; only the mint and Monero
   * halves, so that existing wallets and mnemonics keep working. New halves leave it out.
   */
  readonly compat?: "wallet-v1";
  /** The half for this module instance, or undefined when it serves none (a faucet outside dev). */
  init(init: ClientModuleInit): M | undefined;
}
