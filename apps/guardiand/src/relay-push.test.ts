// Webhooks and Web Push at four real guardian processes. The receiving side is real HTTP on
// 127.0.0.1: a webhook receiver that checks Standard Webhooks signatures, and a push-service stand-in
// (the role a browser vendor's push service plays for a real user) that checks the VAPID JWT
// (RFC 8292) against the guardian's key and decrypts each message with the subscription's keys
// (RFC 8291, written here independently of web-push). The guardians allow this one origin
// (outboundAllowedOrigins); every other loopback, private or own address is refused (SSRF).
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { encodeTransaction, toHex, transactionId } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { NodeSigner, sha256 } from "@conclave/core-server";
import { buildTransaction, coinOutput, faucetInput } from "@conclave/module-dummy";
import { FederationClient } from "@conclave/core-client";
import { ESCROW_WATCH_KIND, WAKE_PAYLOAD, WAKE_TOPIC } from "@conclave/module-relay";
import { collectFederationShard, requestFederationShard, watchStates } from "@conclave/module-relay/client";
import { freePort } from "./local-federation.js";
import {
  b64u,
  checkVapid as checkVapidAt,
  decrypt,
  userAgent as userAgentAt,
} from "./push-service-stand-in.js";
import { startRelayFederation } from "./relay-fixture.js";
import type { RelayFederation } from "./relay-fixture.js";

interface Hit {
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: Buffer;
}

let fed: RelayFederation;
let apis: string[];
let port: number;
let origin: string;
let receiver: Server;
let trap: Server;
const hits: Hit[] = [];
const trapHits: string[] = [];
/** Per path: statuses to answer, in order (then 200/201). */
const script = new Map<string, number[]>();
const owner = new NodeSigner(new Uint8Array(32).fill(11));

function listen(s: Server, p: number): Promise<void> {
  return new Promise((resolve) => s.listen(p, "127.0.0.1", () => resolve()));
}

beforeAll(async () => {
  port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  const trapPort = await freePort();
  trap = createServer((req, res) => {
    trapHits.push(req.url ?? "");
    res.end();
  });
  await listen(trap, trapPort);
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "";
      hits.push({ path, headers: req.headers, body: Buffer.concat(chunks) });
      if (path.startsWith("/redirect")) {
        res.writeHead(302, { location: `http://127.0.0.1:${trapPort}/stolen` });
        res.end();
        return;
      }
      const next = script.get(path)?.shift();
      res.writeHead(next ?? (path.startsWith("/push/") ? 201 : 200));
      res.end();
    });
  });
  await listen(receiver, port);
  fed = await startRelayFederation("relay-push-", {
    // No cover wake-ups here (their own test is relay-push-cover.test.ts): these count real ones.
    relayLocal: {
      outboundAllowedOrigins: [origin],
      vapidSubject: "mailto:ops@example.org",
      coverWakeupsPerDay: 0,
    },
  });
  apis = fed.files.config.guardians.map((g) => g.api!.url);
}, 120_000);

afterAll(async () => {
  await fed?.stop();
  await new Promise((r) => receiver?.close(r));
  await new Promise((r) => trap?.close(r));
});

function faucetTx(): { tx: Transaction; txid: string } {
  const tx = buildTransaction([faucetInput(0, 3n)], [coinOutput(0, 3n, owner.publicKey)], [], sha256);
  return { tx, txid: toHex(transactionId(tx, sha256)) };
}

async function submitAccepted(tx: Transaction, txid: string): Promise<void> {
  const r = await fetch(`${apis[0]}/v1/transactions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ transaction: Buffer.from(encodeTransaction(tx)).toString("hex") }),
  });
  expect(r.status).toBe(202);
  for (;;) {
    const s = await fetch(`${apis[0]}/v1/transactions/${txid}?wait=5000`);
    if (((await s.json()) as { state: string }).state === "accepted") return;
  }
}

async function until<T>(what: string, f: () => T | undefined): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function untilAsync(what: string, f: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await f().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const post = (g: number, path: string, body: unknown) => fed.post(g, path, body);

// ---- the push service's side: VAPID check and RFC 8291 decryption (push-service-stand-in.ts) --------

const checkVapid = (headers: IncomingMessage["headers"], expectedKey: string) =>
  checkVapidAt(headers, expectedKey, origin, "mailto:ops@example.org");
const userAgent = (path: string) => userAgentAt(origin, path);

describe("webhooks", () => {
  it("POSTs each watched change, signed with the registration's secret, the current state first", async () => {
    const done = faucetTx();
    await submitAccepted(done.tx, done.txid);
    const fresh = faucetTx();
    const reg = await post(1, "watch/webhooks", {
      url: `${origin}/hook/a`,
      watches: [
        { kind: "tx", key: done.txid },
        { kind: "tx", key: fresh.txid },
      ],
    });
    expect(reg.status).toBe(200);
    const secret = String(reg.body["secret"]);
    const first = await until("the current state", () => hits.find((h) => h.path === "/hook/a"));
    await submitAccepted(fresh.tx, fresh.txid);
    await until("the change", () =>
      hits.filter((h) => h.path === "/hook/a").length >= 2 ? true : undefined,
    );
    const got = hits.filter((h) => h.path === "/hook/a");
    const bodies = got.map((h) =>
      new Webhook(secret).verify(h.body.toString(), h.headers as Record<string, string>),
    );
    expect(bodies[0]).toMatchObject({
      type: "state",
      guardian: 1,
      kind: "tx",
      key: done.txid,
      state: { state: "accepted" },
    });
    expect(bodies[1]).toMatchObject({ kind: "tx", key: fresh.txid, state: { state: "accepted" } });
    // A forged or altered body does not verify with the secret.
    expect(() =>
      new Webhook(secret).verify(
        first.body.toString().replace("accepted", "rejected"),
        first.headers as Record<string, string>,
      ),
    ).toThrow();
  });

  it("retries a failed delivery with back-off until the receiver takes it", async () => {
    script.set("/hook/retry", [500, 503]);
    const { tx, txid } = faucetTx();
    const reg = await post(2, "watch/webhooks", {
      url: `${origin}/hook/retry`,
      watches: [{ kind: "tx", key: txid }],
    });
    expect(reg.status).toBe(200);
    await submitAccepted(tx, txid);
    await until("three attempts", () =>
      hits.filter((h) => h.path === "/hook/retry").length >= 3 ? true : undefined,
    );
    const attempts = hits.filter((h) => h.path === "/hook/retry");
    expect(attempts).toHaveLength(3);
    // The same event each time (same webhook-id), delivered on the third.
    expect(new Set(attempts.map((h) => h.headers["webhook-id"])).size).toBe(1);
  });

  it("refuses URLs at loopback, private, link-local or own addresses, names resolving there, credentials and plain http", async () => {
    const watches = [{ kind: "tx", key: "ab".repeat(32) }];
    const refused = async (url: string, reason?: string) => {
      const r = await post(0, "watch/webhooks", { url, watches });
      expect(r.status, url).toBe(400);
      if (reason) expect(r.body, url).toMatchObject({ code: "invalid_request", details: { reason } });
      return String(r.body["message"]);
    };
    // The guardian itself (its API), over http and https.
    await refused(apis[0]!);
    await refused(apis[0]!.replace("http:", "https:"), "address_refused");
    await refused("https://127.0.0.1:1/", "address_refused");
    await refused("https://10.1.2.3/x", "address_refused");
    await refused("https://192.168.0.1/x", "address_refused");
    await refused("https://169.254.169.254/latest/meta-data", "address_refused");
    await refused("https://100.64.0.1/", "address_refused");
    await refused("https://[::1]/", "address_refused");
    await refused("https://[::ffff:127.0.0.1]/", "address_refused");
    await refused("https://[fd00::1]/", "address_refused");
    // A DNS name that resolves to loopback.
    expect(await refused("https://localhost/hook", "address_refused")).toMatch(
      /localhost resolves to 127\.0\.0\.1 is a loopback address|localhost resolves to ::1/,
    );
    await refused("https://user:pw@example.org/");
    await refused("http://example.org/");
    await refused("not a url");
  });

  it("does not follow a redirect (to a private address or anywhere)", async () => {
    const { tx, txid } = faucetTx();
    const reg = await post(3, "watch/webhooks", {
      url: `${origin}/redirect`,
      watches: [{ kind: "tx", key: txid }],
    });
    expect(reg.status).toBe(200);
    await submitAccepted(tx, txid);
    await until("two attempts", () =>
      hits.filter((h) => h.path === "/redirect").length >= 2 ? true : undefined,
    );
    expect(trapHits).toEqual([]);
  });

  it("bounds registrations per client network (429) and answers bad bodies with 400", async () => {
    const watches = [{ kind: "tx", key: "cd".repeat(32) }];
    const g = 3;
    // Bad input: clear errors.
    expect(await post(g, "watch/webhooks", { url: `${origin}/x`, watches: [] })).toMatchObject({
      status: 400,
    });
    expect(
      await post(g, "watch/webhooks", { url: `${origin}/x`, watches: [{ kind: "tx", key: "zz" }] }),
    ).toMatchObject({
      status: 400,
      body: { code: "invalid_request" },
    });
    expect(
      await post(g, "watch/webhooks", { url: `${origin}/x`, watches: [{ kind: "nothing", key: "a" }] }),
    ).toMatchObject({
      status: 404,
      body: { code: "not_found" },
    });
    expect(
      await post(g, "watch/webhooks", {
        url: `${origin}/x`,
        watches: Array.from({ length: 65 }, () => watches[0]),
      }),
    ).toMatchObject({ status: 400 });
    expect(await post(g, "watch/webhooks", { url: 7, watches })).toMatchObject({ status: 400 });
    // Up to the limit (this client may hold some from earlier tests), then 429.
    const ids: { id: string; secret: string }[] = [];
    for (;;) {
      const r = await post(g, "watch/webhooks", { url: `${origin}/hook/flood`, watches });
      if (r.status !== 200) {
        expect(r).toMatchObject({
          status: 429,
          body: { code: "too_many_registrations", details: { limit: 16 } },
        });
        break;
      }
      ids.push({ id: String(r.body["id"]), secret: String(r.body["secret"]) });
      expect(ids.length).toBeLessThanOrEqual(16);
    }
    // Deleting needs the secret; a deleted one frees room.
    const wrong = await post(g, `watch/registrations/${ids[0]!.id}/delete`, { secret: ids[1]!.secret });
    expect(wrong).toMatchObject({ status: 404 });
    const del = await post(g, `watch/registrations/${ids[0]!.id}/delete`, { secret: ids[0]!.secret });
    expect(del).toMatchObject({ status: 200, body: { deleted: true } });
    const again = await post(g, "watch/webhooks", { url: `${origin}/hook/flood`, watches });
    expect(again.status).toBe(200);
    ids[0] = { id: String(again.body["id"]), secret: String(again.body["secret"]) };
    for (const r of ids) await post(g, `watch/registrations/${r.id}/delete`, { secret: r.secret });
  });
});

describe("Web Push through a push-service stand-in", () => {
  it("sends the same padded, content-free wake-up for every change, with a valid VAPID JWT; the client then fetches", async () => {
    const key = await post(1, "watch/push/key", {});
    const vapid = String(key.body["vapidPublicKey"]);
    const ua = userAgent("/push/ua1");
    const a = faucetTx();
    const b = faucetTx();
    const watches = [
      { kind: "tx", key: a.txid },
      { kind: "tx", key: b.txid },
    ];
    const reg = await post(1, "watch/push", { subscription: ua.subscription, watches });
    expect(reg.status).toBe(200);
    await submitAccepted(a.tx, a.txid);
    await until("a wake-up", () => hits.find((h) => h.path === "/push/ua1"));
    await submitAccepted(b.tx, b.txid);
    await until("a second wake-up", () =>
      hits.filter((h) => h.path === "/push/ua1").length >= 2 ? true : undefined,
    );
    const wakes = hits.filter((h) => h.path === "/push/ua1");
    for (const w of wakes) {
      checkVapid(w.headers, vapid);
      expect(w.headers["content-encoding"]).toBe("aes128gcm");
      expect(w.headers["topic"]).toBe(WAKE_TOPIC);
      expect(Number(w.headers["ttl"])).toBeGreaterThan(0);
      expect(decrypt(w.body, ua).toString()).toBe(WAKE_PAYLOAD);
    }
    // Two different changes: bodies of the same size, the same plaintext (nothing of what happened).
    expect(wakes[0]!.body.length).toBe(wakes[1]!.body.length);
    // Woken, the client asks what changed.
    const states = await post(1, "watch/states", { watches });
    expect(states.body).toMatchObject({
      states: [
        { kind: "tx", key: a.txid, state: { state: "accepted" } },
        { kind: "tx", key: b.txid, state: { state: "accepted" } },
      ],
    });
  });

  it("drops a registration whose push service answers 410 (expired subscription)", async () => {
    script.set("/push/gone", [410]);
    const ua = userAgent("/push/gone");
    const a = faucetTx();
    const b = faucetTx();
    const reg = await post(2, "watch/push", {
      subscription: ua.subscription,
      watches: [
        { kind: "tx", key: a.txid },
        { kind: "tx", key: b.txid },
      ],
    });
    expect(reg.status).toBe(200);
    const expired = async () => {
      const m = await (await fetch(`${apis[2]}/metrics`)).text();
      return Number(
        /conclave_relay_push_deliveries_total\{instance="1",result="expired"\} (\d+)/.exec(m)?.[1] ?? 0,
      );
    };
    const before = await expired();
    await submitAccepted(a.tx, a.txid);
    await until("the wake-up", () => hits.find((h) => h.path === "/push/gone"));
    while ((await expired()) === before) await new Promise((r) => setTimeout(r, 50));
    // Gone: a later change wakes nobody, and the registration is no longer there to delete.
    await submitAccepted(b.tx, b.txid);
    const del = await post(2, `watch/registrations/${String(reg.body["id"])}/delete`, {
      secret: reg.body["secret"],
    });
    expect(del).toMatchObject({ status: 200, body: { deleted: false } });
    expect(hits.filter((h) => h.path === "/push/gone")).toHaveLength(1);
  });

  it("keeps push and webhook registrations across a guardian restart (its LMDB): a change after the restart wakes the device", async () => {
    const g = 2;
    const ua = userAgent("/push/restart");
    const a = faucetTx();
    const b = faucetTx();
    const push = await post(g, "watch/push", {
      subscription: ua.subscription,
      watches: [{ kind: "tx", key: a.txid }],
    });
    expect(push.status).toBe(200);
    const hook = await post(g, "watch/webhooks", {
      url: `${origin}/hook/restart`,
      watches: [{ kind: "tx", key: b.txid }],
    });
    expect(hook.status).toBe(200);
    const registrations = async () => {
      const m = await (await fetch(`${apis[g]}/metrics`)).text();
      return Number(/conclave_relay_push_registrations\{instance="1"\} (\d+)/.exec(m)?.[1] ?? -1);
    };
    const before = await registrations();
    expect(before).toBeGreaterThanOrEqual(2);
    await fed.restart(g);
    // Reloaded from the guardian's database once its modules started.
    await untilAsync("the registrations reloaded", async () => (await registrations()) === before);
    await submitAccepted(a.tx, a.txid);
    const wake = await until("a wake-up after the restart", () =>
      hits.find((h) => h.path === "/push/restart"),
    );
    expect(decrypt(wake.body, ua).toString()).toBe(WAKE_PAYLOAD);
    await submitAccepted(b.tx, b.txid);
    const delivered = await until("the webhook after the restart", () =>
      hits.find((h) => h.path === "/hook/restart" && h.body.toString().includes('"accepted"')),
    );
    expect(
      new Webhook(String(hook.body["secret"])).verify(
        delivered.body.toString(),
        delivered.headers as Record<string, string>,
      ),
    ).toMatchObject({
      registration: hook.body["id"],
      guardian: g,
      key: b.txid,
      state: { state: "accepted" },
    });
    // Deleting with the secret issued before the restart still works, and the delete is stored too.
    const del = await post(g, `watch/registrations/${String(push.body["id"])}/delete`, {
      secret: push.body["secret"],
    });
    expect(del).toMatchObject({ status: 200, body: { deleted: true } });
    await post(g, `watch/registrations/${String(hook.body["id"])}/delete`, { secret: hook.body["secret"] });
    await fed.restart(g);
    await untilAsync("the deletes kept", async () => (await registrations()) === before - 2);
  });

  it("refuses a push subscription with a wrong key (not on P-256, compressed, short auth)", async () => {
    const ua = userAgent("/push/bad");
    const watches = [{ kind: "tx", key: "ef".repeat(32) }];
    const notOnCurve = b64u(Buffer.concat([Buffer.from([4]), randomBytes(64)]));
    const compressed = b64u(Buffer.concat([Buffer.from([2]), randomBytes(32)]));
    for (const keys of [
      { p256dh: notOnCurve, auth: ua.subscription.keys.auth },
      { p256dh: compressed, auth: ua.subscription.keys.auth },
      { p256dh: ua.subscription.keys.p256dh, auth: b64u(randomBytes(15)) },
    ]) {
      const r = await post(0, "watch/push", {
        subscription: { endpoint: ua.subscription.endpoint, keys },
        watches,
      });
      expect(r).toMatchObject({
        status: 400,
        body: { code: "invalid_request", details: { reason: "bad_push_key" } },
      });
    }
    // And an endpoint at a private address, whatever the keys.
    const r = await post(0, "watch/push", {
      subscription: { ...ua.subscription, endpoint: "https://10.0.0.8/push" },
      watches,
    });
    expect(r).toMatchObject({ status: 400, body: { details: { reason: "address_refused" } } });
  });

  it("a stranger's request for the federation's shard wakes the owner's devices at every guardian; the owner cancels and nothing is released", async () => {
    const { relay: owner } = await fed.wallet();
    const secret = new TextEncoder().encode("owner's seed words");
    const setup = await owner.socialSetup(secret, 2, [
      { kind: "device" },
      { kind: "federation", delayMs: 24 * 3600 * 1000 },
      { kind: "offline" },
    ]);
    const agents = [0, 1, 2, 3].map((g) => userAgent(`/push/owner-${g}`));
    const regs = await owner.alertRecoveryRequests({ push: (g) => agents[g]!.subscription });
    expect(regs.map((r) => r.guardian)).toEqual([0, 1, 2, 3]);
    expect(await owner.recoveryWatch()).toEqual({ kind: ESCROW_WATCH_KIND, key: setup.setId });
    const wakes = (g: number) => hits.filter((h) => h.path === `/push/owner-${g}`);
    expect([0, 1, 2, 3].map((g) => wakes(g).length)).toEqual([0, 0, 0, 0]);

    // The stranger holds the printed shard (it names the set) and asks the federation for its piece.
    const client = await FederationClient.join(fed.invite);
    const theft = await requestFederationShard(client, setup.offline[0]!.text, (n) =>
      crypto.getRandomValues(new Uint8Array(n)),
    );
    expect(theft.releases.map((r) => r.guardian)).toEqual([0, 1, 2, 3]);
    // Every guardian wakes the owner's device it holds a subscription of: the same content-free wake-up.
    for (const g of [0, 1, 2, 3]) {
      const w = await until(`guardian ${g}'s wake-up`, () => wakes(g)[0]);
      expect(decrypt(w.body, agents[g]!).toString()).toBe(WAKE_PAYLOAD);
    }
    // Woken, the device asks what changed: an open request it did not make.
    const states = await watchStates(client, 0, [await owner.recoveryWatch()]);
    expect(states[0]!.state).toMatchObject({
      state: "held",
      requests: [{ requestId: theft.requestId, cancelled: false }],
    });
    const cancel = await owner.cancelRecoveryRequests();
    expect(cancel.cancelled.map((c) => c.guardian).sort()).toEqual([0, 1, 2, 3]);
    const after = await collectFederationShard(client, theft);
    expect(after).toMatchObject({ cancelledAt: [0, 1, 2, 3], piecesFrom: [], pending: [] });
    expect(after.shard).toBeUndefined();
  });

  it("refuses a recovery-escrow watch on a malformed set id; an unknown set's state is none", async () => {
    const bad = await post(0, "watch/states", { watches: [{ kind: ESCROW_WATCH_KIND, key: "not-a-set" }] });
    expect(bad).toMatchObject({ status: 400, body: { code: "invalid_request" } });
    const unknown = await post(0, "watch/states", {
      watches: [{ kind: ESCROW_WATCH_KIND, key: "ab".repeat(16) }],
    });
    expect(unknown).toMatchObject({ status: 200, body: { states: [{ state: { state: "none" } }] } });
  });
});
