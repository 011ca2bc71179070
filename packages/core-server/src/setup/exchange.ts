// Module exchanges in the key ceremony: rounds of messages among the guardians' own external systems
// (a Monero multisig wallet per guardian: prepare -> make -> exchange until ready), run by the
// ceremony over its pinned TLS links once the DKG has succeeded.
//
// The protocol, per module instance with an exchange:
//   - round 0: each guardian asks its module for its first message (from the module's config and the
//     guardian's own local settings), records it durably, then broadcasts it;
//   - round r complete (one message from every guardian, its own included): the guardian records the
//     round and that it is about to call the module (`pending`), calls it, and gets either its
//     round r + 1 message (recorded, then broadcast) or the final result (a config patch);
//   - the result's hash is broadcast; when every guardian's hash is in, they must all be equal.
//
// Everything is recorded BEFORE it is sent, so a restarted guardian re-sends byte-identical messages
// and never asks its module for a step it has already finished. A restart in the middle of a call
// (`pending` recorded, no answer) repeats that one call with `retry: true`: the module must check
// its external system (Monero: is_multisig) before acting again.
//
// A peer can be at most one round ahead (it needs our message of the round before), so at most two
// rounds of messages are held per peer; anything else a peer does wrong fails the ceremony naming it.
import { existsSync, readFileSync } from "node:fs";
import { canonicalJson, fromHex, toHex, utf8 } from "@conclave/core-common";
import { sha256 } from "../node-crypto.js";

export const FRAME_EXCHANGE = 3;
export const FRAME_EXCHANGE_RESULT = 4;
/** The largest message any module may exchange (a module may set a lower `messageBytesMax`). */
export const EXCHANGE_MESSAGE_BYTES_LIMIT = 1024 * 1024;
/** Rounds after which a module that has not produced a result is considered broken. */
export const EXCHANGE_ROUNDS_LIMIT = 32;
const HEADER_BYTES = 1 + 4 + 2;
const HASH_BYTES = 32;

export interface ModuleExchangeContext {
  readonly instanceId: number;
  /** The module's config from the ceremony parameters (the same at every guardian). */
  readonly config: Readonly<Record<string, unknown>>;
  /** This guardian's own settings for the instance (`local.modules["<instanceId>"]`), if any. */
  readonly local: Readonly<Record<string, unknown>> | undefined;
  /** This guardian's index (codes sorted by key) and the federation's size and threshold t = N - f. */
  readonly self: number;
  readonly guardians: number;
  readonly threshold: number;
  /**
   * True when an earlier run of this guardian was inside this very call when it stopped: the
   * external step may already have happened, so check the external system before doing it again.
   */
  readonly retry: boolean;
  readonly log: (event: string, fields: Record<string, unknown>) => void;
}

export type ModuleExchangeStep =
  | { readonly message: string }
  /** The final result: merged into the module's config (every guardian must reach the same one). */
  | { readonly result: Record<string, unknown> };

/**
 * A module's setup that needs rounds of messages among the guardians' own external systems. Each call
 * may have side effects outside the ceremony; the ceremony makes each call at most once per round
 * (and once more, with `retry`, only after a restart in the middle of it).
 */
export interface ModuleExchange {
  /** Largest message (UTF-8 bytes) sent or accepted; at most EXCHANGE_MESSAGE_BYTES_LIMIT. */
  readonly messageBytesMax: number;
  /** This guardian's round-0 message. */
  start(ctx: ModuleExchangeContext): Promise<string>;
  /** With every guardian's round-`round` message (by guardian index): the next message or the result. */
  step(ctx: ModuleExchangeContext, round: number, messages: readonly string[]): Promise<ModuleExchangeStep>;
  /** Why a peer's message of `round` is refused (checked on arrival), or undefined if it is acceptable. */
  checkMessage?(round: number, message: string): string | undefined;
}

/** One module instance taking part, as the ceremony sees it. */
export interface ExchangeParticipant {
  readonly instanceId: number;
  readonly kind: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly exchange: ModuleExchange;
}

/** What is recorded per instance in `ceremony-exchange.json`. */
interface InstanceRecord {
  /** This guardian's message of each round, in round order. */
  own: string[];
  /** Completed rounds: every guardian's message, by guardian index. */
  rounds: string[][];
  /** The module is being asked for own[pending] (or the result when pending === rounds.length). */
  pending?: number;
  result?: Record<string, unknown>;
}

interface ExchangeFile {
  version: 1;
  modules: Record<string, InstanceRecord>;
}

export interface ExchangeHost {
  readonly statePath: string;
  readonly self: number;
  readonly threshold: number;
  /** Guardian names by index, for error messages. */
  readonly names: readonly string[];
  readonly local: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly send: (to: number | "all", frame: Uint8Array) => void;
  /** Durable write (fsync + rename) of the state file. */
  readonly persist: (path: string, text: string) => void;
  readonly fail: (message: string) => void;
  /** Every instance has its result and every guardian reported the same one. */
  readonly settled: () => void;
  readonly log: (event: string, fields: Record<string, unknown>) => void;
}

class Instance {
  /** Messages of rounds not yet complete, by round then guardian. */
  readonly inbox = new Map<number, Map<number, string>>();
  readonly peerHashes = new Map<number, string>();
  busy = false;
  /** Set from the state file: the call that was in flight when this guardian stopped. */
  retryRound: number | undefined;
  constructor(
    readonly p: ExchangeParticipant,
    readonly record: InstanceRecord,
  ) {
    this.retryRound = record.pending;
  }
  get label(): string {
    return `module ${this.p.instanceId} (${this.p.kind})`;
  }
}

export function resultHash(instanceId: number, result: Record<string, unknown>): string {
  return toHex(sha256(utf8.encode(`conclave/setup-exchange/v1|${instanceId}|${canonicalJson(result)}`)));
}

export class CeremonyExchanges {
  private readonly instances = new Map<number, Instance>();
  private readonly n: number;
  private begun = false;
  private stopped = false;
  private isSettled = false;

  constructor(
    private readonly host: ExchangeHost,
    participants: readonly ExchangeParticipant[],
  ) {
    this.n = host.names.length;
    const saved = existsSync(host.statePath)
      ? (JSON.parse(readFileSync(host.statePath, "utf8")) as ExchangeFile)
      : undefined;
    for (const p of participants) {
      const bytesMax = p.exchange.messageBytesMax;
      if (!Number.isSafeInteger(bytesMax) || bytesMax < 1 || bytesMax > EXCHANGE_MESSAGE_BYTES_LIMIT) {
        throw new RangeError(`${p.kind}: messageBytesMax must be in 1..${EXCHANGE_MESSAGE_BYTES_LIMIT}`);
      }
      const record = saved?.modules[String(p.instanceId)] ?? { own: [], rounds: [] };
      this.instances.set(p.instanceId, new Instance(p, record));
    }
  }

  get empty(): boolean {
    return this.instances.size === 0;
  }

  /** Results by instance id, once settled. */
  results(): ReadonlyMap<number, Record<string, unknown>> {
    const out = new Map<number, Record<string, unknown>>();
    for (const [id, inst] of this.instances) {
      if (inst.record.result === undefined) throw new Error(`exchange ${id} has no result (bug)`);
      out.set(id, inst.record.result);
    }
    return out;
  }

  /** Starts (or resumes) every exchange: called once the DKG has succeeded. */
  begin(): void {
    if (this.begun) return;
    this.begun = true;
    for (const inst of this.instances.values()) {
      // Re-send what a peer may have missed while this guardian was away.
      this.resendOwn(inst, "all");
      this.advance(inst);
    }
    this.checkSettled();
  }

  /** Nothing more is sent or asked of modules (the ceremony finished, failed or was aborted). */
  stop(): void {
    this.stopped = true;
  }

  private fail(message: string): void {
    this.stopped = true;
    this.host.fail(message);
  }

  resendTo(peer: number): void {
    if (!this.begun) return;
    for (const inst of this.instances.values()) this.resendOwn(inst, peer);
  }

  /** A FRAME_EXCHANGE or FRAME_EXCHANGE_RESULT frame (type byte included) from `peer`. */
  receive(peer: number, frame: Uint8Array): void {
    if (this.stopped) return;
    const who = `guardian "${this.host.names[peer] ?? "?"}" (index ${peer})`;
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    if (frame.length < 5) return this.fail(`${who} sent a truncated setup-exchange frame`);
    const instanceId = view.getUint32(1);
    const inst = this.instances.get(instanceId);
    if (inst === undefined) {
      return this.fail(`${who} sent a setup-exchange frame for module ${instanceId}, which has none`);
    }
    if (frame[0] === FRAME_EXCHANGE_RESULT) {
      if (frame.length !== 5 + HASH_BYTES) {
        return this.fail(`${who} sent a malformed result hash for ${inst.label}`);
      }
      const hash = toHex(frame.subarray(5));
      const before = inst.peerHashes.get(peer);
      if (before !== undefined && before !== hash) {
        return this.fail(`${who} reported two different results for ${inst.label}`);
      }
      inst.peerHashes.set(peer, hash);
      return this.checkSettled();
    }
    if (frame.length < HEADER_BYTES) return this.fail(`${who} sent a truncated setup-exchange frame`);
    const round = view.getUint16(5);
    const body = frame.subarray(HEADER_BYTES);
    if (body.length === 0 || body.length > inst.p.exchange.messageBytesMax) {
      return this.fail(
        `${who} sent a ${inst.label} round-${round} message of ${body.length} bytes (1..${inst.p.exchange.messageBytesMax})`,
      );
    }
    let message: string;
    try {
      message = utf8.decode(body);
    } catch {
      return this.fail(`${who} sent a ${inst.label} round-${round} message that is not UTF-8`);
    }
    const { record } = inst;
    if (round > record.own.length) {
      // It cannot have completed the round before without our message of it.
      return this.fail(`${who} sent a ${inst.label} message for round ${round}, ahead of this guardian`);
    }
    const recorded =
      round < record.rounds.length ? record.rounds[round]![peer] : inst.inbox.get(round)?.get(peer);
    if (recorded !== undefined) {
      if (recorded !== message) {
        return this.fail(`${who} sent two different ${inst.label} messages for round ${round}`);
      }
      return; // a re-send after a reconnect
    }
    const refused = inst.p.exchange.checkMessage?.(round, message);
    if (refused !== undefined) {
      return this.fail(`${who} sent an invalid ${inst.label} round-${round} message: ${refused}`);
    }
    let box = inst.inbox.get(round);
    if (box === undefined) inst.inbox.set(round, (box = new Map<number, string>()));
    box.set(peer, message);
    this.advance(inst);
  }

  private resendOwn(inst: Instance, to: number | "all"): void {
    for (const [round, message] of inst.record.own.entries()) {
      this.host.send(to, messageFrame(inst.p.instanceId, round, message));
    }
    if (inst.record.result !== undefined) {
      this.host.send(to, hashFrame(inst.p.instanceId, inst.record.result));
    }
  }

  private save(): void {
    const file: ExchangeFile = { version: 1, modules: {} };
    for (const [id, inst] of this.instances) file.modules[String(id)] = inst.record;
    this.host.persist(this.host.statePath, JSON.stringify(file));
  }

  private context(inst: Instance, round: number): ModuleExchangeContext {
    return {
      instanceId: inst.p.instanceId,
      config: inst.p.config,
      local: this.host.local[String(inst.p.instanceId)],
      self: this.host.self,
      guardians: this.n,
      threshold: this.host.threshold,
      retry: inst.retryRound === round,
      log: this.host.log,
    };
  }

  /** Does whatever the instance's record allows next: one module call at a time. */
  private advance(inst: Instance): void {
    if (!this.begun || this.stopped || inst.busy) return;
    const { record } = inst;
    if (record.result !== undefined) return;
    if (record.pending === undefined) {
      if (record.own.length === 0) {
        record.pending = 0;
      } else {
        const round = record.rounds.length;
        const box = inst.inbox.get(round);
        if (box === undefined || box.size < this.n - 1) return;
        const messages = Array.from({ length: this.n }, (_, i) =>
          i === this.host.self ? record.own[round]! : box.get(i)!,
        );
        record.rounds.push(messages);
        inst.inbox.delete(round);
        record.pending = round + 1;
      }
      // Recorded before the module acts: a restart then knows the call may have happened.
      this.save();
    }
    this.call(inst, record.pending);
  }

  private call(inst: Instance, pending: number): void {
    const { record } = inst;
    if (pending >= EXCHANGE_ROUNDS_LIMIT) {
      return this.fail(`${inst.label}: no result after ${EXCHANGE_ROUNDS_LIMIT} rounds`);
    }
    inst.busy = true;
    const ctx = this.context(inst, pending);
    this.host.log("ceremony.exchange-step", {
      instanceId: inst.p.instanceId,
      round: pending,
      retry: ctx.retry,
    });
    // async: a module that throws instead of rejecting fails the ceremony the same way.
    const work = async (): Promise<ModuleExchangeStep> =>
      pending === 0
        ? { message: await inst.p.exchange.start(ctx) }
        : inst.p.exchange.step(ctx, pending - 1, record.rounds[pending - 1]!);
    work().then(
      (out) => {
        inst.busy = false;
        if (this.stopped) return;
        inst.retryRound = undefined;
        if ("message" in out) {
          const bytes = utf8.encode(out.message);
          if (bytes.length === 0 || bytes.length > inst.p.exchange.messageBytesMax) {
            return this.fail(
              `${inst.label}: this guardian's round-${pending} message has ${bytes.length} bytes (1..${inst.p.exchange.messageBytesMax})`,
            );
          }
          record.own.push(out.message);
          delete record.pending;
          this.save();
          this.host.send("all", messageFrame(inst.p.instanceId, pending, out.message));
          this.advance(inst);
        } else {
          record.result = out.result;
          delete record.pending;
          this.save();
          this.host.log("ceremony.exchange-result", {
            instanceId: inst.p.instanceId,
            rounds: record.rounds.length,
            hash: resultHash(inst.p.instanceId, out.result),
          });
          this.host.send("all", hashFrame(inst.p.instanceId, out.result));
          this.checkSettled();
        }
      },
      (e: unknown) => {
        inst.busy = false;
        if (this.stopped) return;
        this.fail(
          `${inst.label}: ${pending === 0 ? "its first step" : `its step after round ${pending - 1}`} failed at this guardian: ` +
            `${e instanceof Error ? e.message : String(e)} ` +
            `(fix the cause and run "setup run" again: it resumes)`,
        );
      },
    );
  }

  private checkSettled(): void {
    if (!this.begun || this.stopped || this.isSettled) return;
    for (const inst of this.instances.values()) {
      const { result } = inst.record;
      if (result === undefined || inst.peerHashes.size < this.n - 1) return;
      const own = resultHash(inst.p.instanceId, result);
      const groups = new Map<string, number[]>([[own, [this.host.self]]]);
      for (const [peer, hash] of inst.peerHashes) groups.set(hash, [...(groups.get(hash) ?? []), peer]);
      if (groups.size > 1) {
        const described = [...groups.entries()]
          .map(([hash, who]) => {
            const names = who.sort((a, b) => a - b).map((i) => `"${this.host.names[i]}"`);
            return `${names.join(", ")} ${who.length === 1 ? "has" : "have"} ${hash.slice(0, 16)}…`;
          })
          .join("; ");
        const differ = [...groups.values()]
          .filter((who) => !who.includes(this.host.self))
          .flat()
          .sort((a, b) => a - b)
          .map((i) => `"${this.host.names[i]}"`);
        return this.fail(
          `guardians disagree on the setup result of ${inst.label}: ${described} ` +
            `(differing from this guardian: ${differ.join(", ")})`,
        );
      }
    }
    this.isSettled = true;
    this.host.settled();
  }
}

function messageFrame(instanceId: number, round: number, message: string): Uint8Array {
  const body = utf8.encode(message);
  const out = new Uint8Array(HEADER_BYTES + body.length);
  const view = new DataView(out.buffer);
  out[0] = FRAME_EXCHANGE;
  view.setUint32(1, instanceId);
  view.setUint16(5, round);
  out.set(body, HEADER_BYTES);
  return out;
}

function hashFrame(instanceId: number, result: Record<string, unknown>): Uint8Array {
  const hash = resultHash(instanceId, result);
  const out = new Uint8Array(5 + HASH_BYTES);
  out[0] = FRAME_EXCHANGE_RESULT;
  new DataView(out.buffer).setUint32(1, instanceId);
  out.set(fromHex(hash), 5);
  return out;
}
