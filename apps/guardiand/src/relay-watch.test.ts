// Watches over WebSocket at four real guardian processes (the relay module, /v1/modules/relay/ws):
// the state now, then every change (NUT-17), across a dropped connection; spread over guardians;
// bad input answered with clear errors on a connection that stays usable; the client's keep-alive
// finds a connection that stopped answering.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { encodeTransaction, toHex, transactionId } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { NodeSigner, sha256 } from "@conclave/core-server";
import { buildTransaction, coinOutput, faucetInput } from "@conclave/module-dummy";
import { WATCHES_PER_CONNECTION_MAX } from "@conclave/module-relay";
import { WatchClient, relayWatchCommands, spreadGroups, watchUntilWith } from "@conclave/module-relay/client";
import type { WatchProgress } from "@conclave/module-relay/client";
import type { WatchEvent, WatchUpdate, WebSocketLike } from "@conclave/module-relay/client";
import { freePort } from "./local-federation.js";
import { startRelayFederation } from "./relay-fixture.js";
import type { RelayFederation } from "./relay-fixture.js";

let fed: RelayFederation;
let apis: string[];
const owner = new NodeSigner(new Uint8Array(32).fill(9));

beforeAll(async () => {
  fed = await startRelayFederation("relay-watch-");
  apis = fed.files.config.guardians.map((g) => g.api!.url);
}, 120_000);

afterAll(async () => {
  await fed?.stop();
});

function faucetTx(): { tx: Transaction; txid: string } {
  const tx = buildTransaction([faucetInput(0, 5n)], [coinOutput(0, 5n, owner.publicKey)], [], sha256);
  return { tx, txid: toHex(transactionId(tx, sha256)) };
}

async function submit(g: number, tx: Transaction): Promise<void> {
  const r = await fetch(`${apis[g]}/v1/transactions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ transaction: Buffer.from(encodeTransaction(tx)).toString("hex") }),
  });
  expect(r.status).toBe(202);
}

async function acceptedAt(g: number, txid: string): Promise<void> {
  for (;;) {
    const r = await fetch(`${apis[g]}/v1/transactions/${txid}?wait=5000`);
    if (r.status === 200 && ((await r.json()) as { state: string }).state === "accepted") return;
  }
}

const connect = (url: string): WebSocketLike => new WebSocket(url);

/** A raw connection to guardian g's relay socket, with the messages it received. */
async function raw(
  g: number,
): Promise<{ ws: WebSocket; got: Record<string, unknown>[]; next: () => Promise<Record<string, unknown>> }> {
  const ws = new WebSocket(`${apis[g]!.replace("http", "ws")}/v1/modules/relay/ws`);
  const got: Record<string, unknown>[] = [];
  const waiting: ((m: Record<string, unknown>) => void)[] = [];
  ws.on("message", (d: Buffer) => {
    const m = JSON.parse(d.toString()) as Record<string, unknown>;
    const w = waiting.shift();
    if (w) w(m);
    else got.push(m);
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve) => {
      const m = got.shift();
      if (m) resolve(m);
      else waiting.push(resolve);
    });
  return { ws, got, next };
}

describe("watches over WebSocket at four guardian processes", () => {
  it("sends a transaction's state once it is decided when the watch came first, and the current state first to a later watch", async () => {
    const client = new WatchClient({ guardians: apis, connect, spreadKey: new Uint8Array(32).fill(1) });
    try {
      const { tx, txid } = faucetTx();
      const updates: WatchUpdate[] = [];
      const done = client.until(
        { kind: "tx", key: txid },
        (u) => u.state["state"] === "accepted",
        (u) => updates.push(u),
      );
      // Subscribe first, then submit (at another guardian than the one watching).
      await new Promise((r) => setTimeout(r, 200));
      const [watcher] = client.guardiansFor({ kind: "tx", key: txid });
      await submit((watcher! + 1) % 4, tx);
      const final = await done;
      expect(final.guardian).toBe(watcher);
      expect(final.state).toMatchObject({ txid, state: "accepted" });
      expect(final.state["outcomes"]).toHaveLength(1);
      // A later watch gets the state now, first.
      const later = await client.until({ kind: "tx", key: txid }, () => true);
      expect(later.state).toMatchObject({ txid, state: "accepted" });
    } finally {
      client.close();
    }
  });

  it("does not lose a change made while the connection was down: it reconnects, watches again and gets the state now", async () => {
    let blocked = false;
    const deadPort = await freePort();
    const events: WatchEvent[] = [];
    const client = new WatchClient({
      guardians: apis,
      // While blocked, connections go to a port nobody listens on (refused, as with a network fault).
      connect: (url) => (blocked ? new WebSocket(`ws://127.0.0.1:${deadPort}/`) : new WebSocket(url)),
      spreadKey: new Uint8Array(32).fill(2),
      reconnectMsMin: 50,
      reconnectMsMax: 200,
      onEvent: (e) => events.push(e),
    });
    try {
      const { tx, txid } = faucetTx();
      const [g] = client.guardiansFor({ kind: "tx", key: txid });
      const updates: WatchUpdate[] = [];
      client.watch({ kind: "tx", key: txid }, (u) => updates.push(u));
      while (!events.some((e) => e.type === "connected" && e.guardian === g))
        await new Promise((r) => setTimeout(r, 20));
      blocked = true;
      client.dropConnection(g!);
      while (!events.some((e) => e.type === "disconnected" && e.guardian === g))
        await new Promise((r) => setTimeout(r, 20));
      // The change happens while the client cannot reach its guardian.
      await submit(g!, tx);
      await acceptedAt(g!, txid);
      expect(updates.filter((u) => u.state["state"] === "accepted")).toEqual([]);
      blocked = false;
      while (!updates.some((u) => u.state["state"] === "accepted"))
        await new Promise((r) => setTimeout(r, 20));
      expect(updates.at(-1)).toMatchObject({ guardian: g, state: { txid, state: "accepted" } });
      expect(events.filter((e) => e.type === "connected" && e.guardian === g).length).toBeGreaterThanOrEqual(
        2,
      );
    } finally {
      client.close();
    }
  });

  it("spreads watches so that no guardian holds them all, the same guardians for the same watch", () => {
    const key = new Uint8Array(32).fill(3);
    const targets = Array.from({ length: 40 }, () => ({ kind: "tx", key: toHex(randomBytes(32)) }));
    const groups = spreadGroups(key, 4, targets);
    expect([...groups.keys()].sort()).toEqual([0, 1, 2, 3]);
    for (const [, ts] of groups) expect(ts.length).toBeLessThan(targets.length);
    expect(spreadGroups(key, 4, targets)).toEqual(groups);
    const two = spreadGroups(key, 4, targets, 2);
    expect([...two.values()].reduce((n, ts) => n + ts.length, 0)).toBe(80);
  });

  it("answers bad messages with clear errors and keeps the connection usable", async () => {
    const { ws, next } = await raw(0);
    try {
      ws.send("not json");
      expect(await next()).toMatchObject({ type: "error", code: "invalid_request" });
      ws.send(Buffer.from([1, 2, 3]), { binary: true });
      expect(await next()).toMatchObject({ type: "error", code: "invalid_request" });
      ws.send(JSON.stringify({ type: "watch", id: "a", kind: "nothing", key: "x" }));
      expect(await next()).toMatchObject({ type: "error", code: "not_found", details: { id: "a" } });
      ws.send(JSON.stringify({ type: "watch", id: "b", kind: "tx", key: "nothex" }));
      expect(await next()).toMatchObject({ type: "error", code: "invalid_request", details: { id: "b" } });
      ws.send(JSON.stringify({ type: "watch", id: "c", kind: "tx", key: "ab".repeat(32), extra: 1 }));
      expect(await next()).toMatchObject({ type: "error", code: "invalid_request" });
      ws.send(JSON.stringify({ type: "ping" }));
      expect(await next()).toEqual({ type: "pong" });
    } finally {
      ws.close();
    }
  });

  it(`refuses more than ${WATCHES_PER_CONNECTION_MAX} watches on one connection (429), and a replaced or removed watch frees room`, async () => {
    const { ws, next } = await raw(1);
    try {
      for (let i = 0; i < WATCHES_PER_CONNECTION_MAX; i++) {
        ws.send(JSON.stringify({ type: "watch", id: `w${i}`, kind: "tx", key: toHex(randomBytes(32)) }));
        expect(await next()).toEqual({ type: "watching", id: `w${i}` });
      }
      ws.send(JSON.stringify({ type: "watch", id: "over", kind: "tx", key: toHex(randomBytes(32)) }));
      expect(await next()).toMatchObject({
        type: "error",
        code: "too_many_watches",
        details: { limit: WATCHES_PER_CONNECTION_MAX },
      });
      ws.send(JSON.stringify({ type: "watch", id: "w0", kind: "tx", key: toHex(randomBytes(32)) }));
      expect(await next()).toEqual({ type: "watching", id: "w0" });
      ws.send(JSON.stringify({ type: "unwatch", id: "w1" }));
      expect(await next()).toEqual({ type: "unwatched", id: "w1" });
      ws.send(JSON.stringify({ type: "watch", id: "again", kind: "tx", key: toHex(randomBytes(32)) }));
      expect(await next()).toEqual({ type: "watching", id: "again" });
    } finally {
      ws.close();
    }
  });

  it("drops a connection that stops answering its keep-alive and reconnects", async () => {
    // A server that accepts, then never answers anything (a half-open connection as seen by the client).
    const port = await freePort();
    const silent = new WebSocketServer({ host: "127.0.0.1", port });
    const events: WatchEvent[] = [];
    const client = new WatchClient({
      guardians: [`http://127.0.0.1:${port}`],
      connect,
      keepAliveMs: 100,
      reconnectMsMin: 50,
      onEvent: (e) => events.push(e),
    });
    try {
      client.watch({ kind: "tx", key: "ab".repeat(32) }, () => {});
      while (events.filter((e) => e.type === "connected").length < 2)
        await new Promise((r) => setTimeout(r, 20));
      expect(events).toContainEqual({ type: "disconnected", guardian: 0, reason: "no pong" });
    } finally {
      client.close();
      for (const c of silent.clients) c.terminate();
      await new Promise((r) => silent.close(r));
    }
  });

  it("the watch command (conclave watch tx TXID) reports every update as progress and ends at the final state", async () => {
    const [watch] = relayWatchCommands;
    const parsers = {
      amount: () => 0n,
      count: (t: string) => Number(t),
      denomination: () => 0,
      input: () => ({ kind: "stdin" as const }),
    };
    expect(() => watch.parse(["tx", "nothex"], {}, parsers)).toThrow(/64 lowercase hex/);
    expect(() => watch.parse(["Bad Kind", "x"], {}, parsers)).toThrow(/KIND/);
    const client = new WatchClient({ guardians: apis, connect, spreadKey: new Uint8Array(32).fill(4) });
    try {
      const { tx, txid } = faucetTx();
      const args = watch.parse(["tx", txid], { copies: "2" }, parsers);
      expect(args).toEqual({ target: { kind: "tx", key: txid }, first: false, copies: 2 });
      const events: WatchProgress[] = [];
      const api = { watchUntil: watchUntilWith.bind(null, client) };
      const running = watch.run(api, args, { emit: (e) => events.push(e), inputText: () => "" });
      await new Promise((r) => setTimeout(r, 200));
      await submit(0, tx);
      const result = await running;
      expect(result).toMatchObject({ kind: "tx", key: txid, state: { state: "accepted" } });
      expect(events.at(-1)).toMatchObject({
        type: "progress",
        value: { key: txid, state: { state: "accepted" } },
      });
    } finally {
      client.close();
    }
  });
});
