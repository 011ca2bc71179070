// Watch and push, client side (browser-safe): WebSocket watches spread over the guardians, and
// registrations of webhooks and Web Push subscriptions, also spread.
//
// Spreading: each watch goes to `copies` guardians picked by HMAC(spread key, kind | key), so one
// guardian sees only its share of what a wallet waits for (with n = 4 and one copy, a quarter), and
// the same watch always goes to the same guardians (no guardian learns more over reconnects).
// Keep-alive: the client sends {"type":"ping"} every keepAliveMs and drops a connection that did not
// answer within the next period (browsers cannot see WebSocket pings; cashu-ts#1194 lost subscriptions
// on silently dead sockets); it reconnects with back-off and sends every watch again, and since a
// guardian answers a watch with the current state first, a change made while it was away arrives.
import { ClientError } from "@conclave/core-client";
import type { FederationClient } from "@conclave/core-client";
import { toHex, utf8 } from "@conclave/core-common";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { RELAY_KIND } from "../common.js";
import {
  DeletedSchema,
  PushKeyResponseSchema,
  RegisteredSchema,
  StatesResponseSchema,
  WatchServerMessageSchema,
} from "../watch-common.js";
import type { PushSubscriptionJson, Registered, WatchTarget } from "../watch-common.js";

/** The part of the WebSocket API used here (the browser's, or `ws`'s in Node). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open" | "close" | "error", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

const OPEN = 1;

export interface WatchUpdate {
  readonly target: WatchTarget;
  readonly guardian: number;
  readonly state: Readonly<Record<string, unknown>>;
}

export type WatchEvent =
  | { readonly type: "connected"; readonly guardian: number; readonly watches: number }
  | { readonly type: "disconnected"; readonly guardian: number; readonly reason: string }
  | { readonly type: "refused"; readonly guardian: number; readonly code: string; readonly message: string };

export interface WatchClientOptions {
  /** The guardians' API base URLs, by index. */
  readonly guardians: readonly string[];
  /** Opens a WebSocket (default: the global WebSocket; Node 20 passes `ws`). */
  readonly connect?: WebSocketFactory;
  /** Picks the guardians of each watch (default: random per client; a wallet passes its own, stable key). */
  readonly spreadKey?: Uint8Array;
  /** Guardians per watch (default 1; more survive a guardian's fault, and show each more). */
  readonly copies?: number;
  readonly keepAliveMs?: number;
  readonly reconnectMsMin?: number;
  readonly reconnectMsMax?: number;
  readonly onEvent?: (event: WatchEvent) => void;
}

/** The guardians (indices) a watch goes to: the `copies` of n ranked first by HMAC(key, kind | key). */
export function spreadTargets(
  spreadKey: Uint8Array,
  n: number,
  target: WatchTarget,
  copies: number,
): number[] {
  const rank = (g: number) =>
    toHex(hmac(sha256, spreadKey, utf8.encode(`conclave/relay/spread/v1|${target.kind}|${target.key}|${g}`)));
  return Array.from({ length: n }, (_, g) => g)
    .sort((a, b) => (rank(a) < rank(b) ? -1 : 1))
    .slice(0, Math.max(1, Math.min(copies, n)));
}

/** Groups targets by the guardian each is spread to. */
export function spreadGroups(
  spreadKey: Uint8Array,
  n: number,
  targets: readonly WatchTarget[],
  copies = 1,
): Map<number, WatchTarget[]> {
  const groups = new Map<number, WatchTarget[]>();
  for (const t of targets)
    for (const g of spreadTargets(spreadKey, n, t, copies)) groups.set(g, [...(groups.get(g) ?? []), t]);
  return groups;
}

function randomKey(): Uint8Array {
  const k = new Uint8Array(32);
  globalThis.crypto.getRandomValues(k);
  return k;
}

function defaultConnect(url: string): WebSocketLike {
  const W = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (!W)
    throw new ClientError(
      "no_websocket",
      "no WebSocket in this runtime: pass `connect` (Node 20: the ws package)",
    );
  return new W(url);
}

interface Entry {
  readonly target: WatchTarget;
  readonly listener: (u: WatchUpdate) => void;
  /** Last state seen per guardian (JSON): a repeated state after a reconnect is not a change. */
  readonly last: Map<number, string>;
}

/** One guardian's connection: reconnects with back-off and re-sends its watches on every open. */
class GuardianSocket {
  private ws: WebSocketLike | undefined;
  private keepAlive: ReturnType<typeof setInterval> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private waitingPong = false;
  private attempt = 0;
  private closed = false;
  readonly watches = new Map<string, Entry>();

  constructor(
    readonly guardian: number,
    private readonly url: string,
    private readonly options: WatchClientOptions,
  ) {}

  add(id: string, entry: Entry): void {
    this.watches.set(id, entry);
    if (!this.ws) this.open();
    else this.sendWatch(id, entry);
  }

  remove(id: string): void {
    if (!this.watches.delete(id)) return;
    if (this.ws?.readyState === OPEN) this.ws.send(JSON.stringify({ type: "unwatch", id }));
  }

  private sendWatch(id: string, e: Entry): void {
    if (this.ws?.readyState === OPEN)
      this.ws.send(JSON.stringify({ type: "watch", id, kind: e.target.kind, key: e.target.key }));
  }

  private open(): void {
    if (this.closed) return;
    const ws = (this.options.connect ?? defaultConnect)(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      if (this.ws !== ws) return;
      this.attempt = 0;
      for (const [id, e] of this.watches) this.sendWatch(id, e);
      this.options.onEvent?.({ type: "connected", guardian: this.guardian, watches: this.watches.size });
      this.startKeepAlive(ws);
    });
    ws.addEventListener("message", (event) => {
      if (this.ws === ws) this.onMessage(event.data);
    });
    const lost = (reason: string) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.stopKeepAlive();
      this.options.onEvent?.({ type: "disconnected", guardian: this.guardian, reason });
      if (!this.closed) this.scheduleReconnect();
    };
    ws.addEventListener("close", () => lost("closed"));
    ws.addEventListener("error", () => {
      lost("error");
      ws.close();
    });
  }

  private onMessage(data: unknown): void {
    let value: unknown;
    try {
      value = JSON.parse(typeof data === "string" ? data : String(data));
    } catch {
      return;
    }
    const r = WatchServerMessageSchema.safeParse(value);
    if (!r.success) return;
    const m = r.data;
    if (m.type === "pong") {
      this.waitingPong = false;
      return;
    }
    if (m.type === "error") {
      this.options.onEvent?.({ type: "refused", guardian: this.guardian, code: m.code, message: m.message });
      return;
    }
    if (m.type !== "state") return;
    const e = this.watches.get(m.id);
    if (!e || e.target.kind !== m.kind || e.target.key !== m.key) return;
    const text = JSON.stringify(m.state);
    if (e.last.get(this.guardian) === text) return;
    e.last.set(this.guardian, text);
    e.listener({ target: e.target, guardian: this.guardian, state: m.state });
  }

  private startKeepAlive(ws: WebSocketLike): void {
    this.stopKeepAlive();
    this.waitingPong = false;
    this.keepAlive = setInterval(() => {
      if (this.waitingPong) {
        // No answer for a whole period: the connection is dead even if the socket says open.
        this.ws = undefined;
        this.stopKeepAlive();
        ws.close();
        this.options.onEvent?.({ type: "disconnected", guardian: this.guardian, reason: "no pong" });
        this.scheduleReconnect();
        return;
      }
      this.waitingPong = true;
      if (ws.readyState === OPEN) ws.send(JSON.stringify({ type: "ping" }));
    }, this.options.keepAliveMs ?? 25_000);
  }

  private stopKeepAlive(): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retry) return;
    const min = this.options.reconnectMsMin ?? 250;
    const max = this.options.reconnectMsMax ?? 30_000;
    const delay = Math.min(max, min * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.open();
    }, delay);
  }

  /** Drops the connection as a network fault would (tests, and the keep-alive). */
  drop(): void {
    this.ws?.close();
  }

  close(): void {
    this.closed = true;
    this.stopKeepAlive();
    if (this.retry) clearTimeout(this.retry);
    this.ws?.close();
    this.ws = undefined;
  }
}

/** A watch across guardians: `stop()` ends it everywhere. */
export interface Watch {
  readonly target: WatchTarget;
  readonly guardians: readonly number[];
  stop(): void;
}

/** WebSocket watches over the federation's guardians, each watch at `copies` of them. */
export class WatchClient {
  private readonly sockets: GuardianSocket[];
  private readonly spreadKey: Uint8Array;
  private next = 0;

  constructor(private readonly options: WatchClientOptions) {
    this.spreadKey = options.spreadKey ?? randomKey();
    this.sockets = options.guardians.map(
      (url, g) => new GuardianSocket(g, `${url.replace(/^http/, "ws")}/v1/modules/${RELAY_KIND}/ws`, options),
    );
  }

  /** The guardians this target goes to. */
  guardiansFor(target: WatchTarget): number[] {
    return spreadTargets(this.spreadKey, this.sockets.length, target, this.options.copies ?? 1);
  }

  /** Calls `listener` with the state now (as soon as a guardian knows it) and after every change. */
  watch(
    target: WatchTarget,
    listener: (u: WatchUpdate) => void,
    guardians = this.guardiansFor(target),
  ): Watch {
    const id = `w${(this.next++).toString(36)}`;
    const entry: Entry = { target, listener, last: new Map() };
    for (const g of guardians) this.sockets[g]!.add(id, entry);
    return { target, guardians, stop: () => guardians.forEach((g) => this.sockets[g]!.remove(id)) };
  }

  /** Resolves with the first update that `done` accepts (e.g. a transaction's final state). */
  until(
    target: WatchTarget,
    done: (u: WatchUpdate) => boolean,
    onUpdate?: (u: WatchUpdate) => void,
  ): Promise<WatchUpdate> {
    return new Promise((resolve) => {
      const w = this.watch(target, (u) => {
        onUpdate?.(u);
        if (!done(u)) return;
        w.stop();
        resolve(u);
      });
    });
  }

  /** Drops guardian g's connection as a network fault would (it reconnects and re-sends its watches). */
  dropConnection(g: number): void {
    this.sockets[g]?.drop();
  }

  close(): void {
    for (const s of this.sockets) s.close();
  }
}

// ---- webhooks and Web Push: registrations at the guardians a watch is spread to --------------------

const path = (rest: string) => `/v1/modules/${RELAY_KIND}/watch/${rest}`;

async function one<T>(
  client: FederationClient,
  g: number,
  p: string,
  body: unknown,
  schema: Parameters<FederationClient["postEach"]>[2] & { parse(v: unknown): T },
): Promise<T> {
  const [a] = await client.postEach(p, body, schema, { guardians: [g] });
  if (!a!.ok) throw a!.error;
  return a!.value as T;
}

export interface Registration extends Registered {
  readonly guardian: number;
  readonly watches: readonly WatchTarget[];
}

/** Registers a webhook for `watches`, each at the guardians it is spread to (one registration per guardian). */
export async function registerWebhook(
  client: FederationClient,
  url: string,
  watches: readonly WatchTarget[],
  options: { spreadKey: Uint8Array; copies?: number; ttlSeconds?: number },
): Promise<Registration[]> {
  const groups = spreadGroups(options.spreadKey, client.guardians.length, watches, options.copies ?? 1);
  const out: Registration[] = [];
  for (const [g, ws] of groups) {
    const body = { url, watches: ws, ...(options.ttlSeconds ? { ttlSeconds: options.ttlSeconds } : {}) };
    out.push({
      ...(await one(client, g, path("webhooks"), body, RegisteredSchema)),
      guardian: g,
      watches: ws,
    });
  }
  return out;
}

/** Guardian g's VAPID public key (the applicationServerKey of a push subscription meant for it). */
export async function vapidKey(client: FederationClient, g: number): Promise<string> {
  return (await one(client, g, path("push/key"), {}, PushKeyResponseSchema)).vapidPublicKey;
}

/** Registers a push subscription (made with guardian g's VAPID key) for `watches` at guardian g. */
export async function registerPush(
  client: FederationClient,
  g: number,
  subscription: PushSubscriptionJson,
  watches: readonly WatchTarget[],
  ttlSeconds?: number,
): Promise<Registration> {
  const body = { subscription, watches, ...(ttlSeconds ? { ttlSeconds } : {}) };
  return { ...(await one(client, g, path("push"), body, RegisteredSchema)), guardian: g, watches };
}

/** Deletes a webhook or push registration. */
export async function deleteRegistration(client: FederationClient, r: Registration): Promise<boolean> {
  return (
    await one(client, r.guardian, path(`registrations/${r.id}/delete`), { secret: r.secret }, DeletedSchema)
  ).deleted;
}

/** What guardian g knows now of `watches` (what a client asks after a wake-up). */
export async function watchStates(
  client: FederationClient,
  g: number,
  watches: readonly WatchTarget[],
): Promise<{ target: WatchTarget; state: Readonly<Record<string, unknown>> | null }[]> {
  const r = await one(client, g, path("states"), { watches }, StatesResponseSchema);
  return r.states.map((s) => ({ target: { kind: s.kind, key: s.key }, state: s.state }));
}

/** A stable spread key for a wallet (from its relay secret), so its watches go to the same guardians. */
export function spreadKeyFrom(secret: Uint8Array): Uint8Array {
  return hmac(sha256, secret, utf8.encode("conclave/relay/spread-key/v1"));
}
export type { WatchTarget, PushSubscriptionJson } from "../watch-common.js";
