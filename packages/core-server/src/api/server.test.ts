// The guardian's client API over real HTTP and WebSocket on 127.0.0.1, against a backend built from
// the real transaction processor, the dummy module and an in-memory store (test-backend.ts).
// Consensus is out of scope of this HTTP-layer test: the test orders proposed transactions itself.
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { buildTransaction, coinOutput, spendInput } from "@conclave/module-dummy";
import type { BackupRecord, BackupStored } from "@conclave/core-common";
import { NodeSigner, sha256 } from "../node-crypto.js";
import { hashAdminPassword } from "./admin-password.js";
import { ApiServer, DEFAULT_API_LIMITS } from "./server.js";
import type { ApiServerOptions } from "./server.js";
import { DUMMY, TestBackend, faucetTx, txHex, txidOf } from "./test-backend.js";
import { TestSocket, anyString, call, matching, post } from "./test-client.js";

const alice = new NodeSigner(new Uint8Array(32).fill(1));
const bob = new NodeSigner(new Uint8Array(32).fill(2));
const PASSWORD = "correct horse battery staple";
// A cheap scrypt cost keeps the tests fast; the default (ln=15) is for operators.
const passwordHash = await hashAdminPassword(PASSWORD, { logN: 10, r: 8, p: 1 });

interface Started {
  readonly api: ApiServer;
  readonly url: string;
  readonly backend: TestBackend;
  readonly logs: { event: string; fields: Record<string, unknown> }[];
}

async function startApi(
  options: Partial<ApiServerOptions> = {},
  backend = new TestBackend(),
): Promise<Started> {
  const logs: Started["logs"] = [];
  const api = new ApiServer({
    backend,
    host: "127.0.0.1",
    port: 0,
    adminPasswordHash: passwordHash,
    log: (event, fields) => logs.push({ event, fields }),
    ...options,
    limits: { requestsPerSecondPerIpMax: 100_000, requestsBurstPerIpMax: 100_000, ...options.limits },
  });
  const { url } = await api.start();
  return { api, url, backend, logs };
}

/** A coin of `amount` owned by `owner`, already accepted. */
function fundedCoin(backend: TestBackend, owner: NodeSigner, amount: bigint): Uint8Array {
  const tx = faucetTx(owner, amount);
  expect(backend.commit(tx)?.state).toBe("accepted");
  return Buffer.from(txidOf(tx), "hex");
}

function internalErrors(logs: Started["logs"]) {
  return logs.filter((l) => l.event === "api.internal_error");
}

describe("guardian API: reads, transactions, errors", () => {
  let s: Started;
  beforeAll(async () => {
    s = await startApi({ limits: { waitTimeoutMsMax: 10_000, wsSubscriptionsPerConnectionMax: 4 } });
  });
  afterAll(() => s.api.close());

  it("serves the federation, the status, the session count and a text index", async () => {
    const fed = await call(`${s.url}/v1/federation`);
    expect(fed).toMatchObject({ status: 200, body: { federationId: "ab".repeat(32) } });
    expect(fed.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await call(`${s.url}/v1/status`)).toMatchObject({
      status: 200,
      body: { guardian: 0, name: "guardian-0", halted: null },
    });
    expect((await call(`${s.url}/v1/sessions/count`)).body).toEqual({ count: s.backend.sessionCount() });
    const index = await fetch(`${s.url}/`);
    expect(index.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await index.text()).toContain("/openapi.json");
  });

  it("takes a transaction from proposed to accepted, answering a long-poll when it is ordered", async () => {
    const tx = faucetTx(alice, 250n);
    const txid = txidOf(tx);
    const submitted = await post(`${s.url}/v1/transactions`, { transaction: txHex(tx) });
    expect(submitted).toMatchObject({ status: 202, body: { txid, state: "proposed" } });
    expect((await call(`${s.url}/v1/transactions/${txid}`)).body).toEqual({ txid, state: "proposed" });

    // A wait far beyond the limit is cut to waitTimeoutMsMax.
    const waiting = call(`${s.url}/v1/transactions/${txid}?wait=999999999`);
    await vi.waitFor(() => expect(s.backend.waitsActive).toBe(1));
    expect(s.backend.lastWaitTimeoutMs).toBe(10_000);
    s.backend.orderProposed();
    const answer = await waiting;
    expect(answer).toMatchObject({
      status: 200,
      body: {
        txid,
        state: "accepted",
        fee: "0",
        outcomes: [{ amount: "250", owner: Buffer.from(alice.publicKey).toString("hex"), spent: false }],
      },
    });

    // Resubmitting is safe: the final status, 200.
    expect(await post(`${s.url}/v1/transactions`, { transaction: txHex(tx) })).toMatchObject({
      status: 200,
      body: { state: "accepted" },
    });
    // The session it was ordered in is served as its header and signatures, never its block: the
    // transaction's bytes (here its owner's key; a payout's address, tx key or tx set) stay inside.
    const last = s.backend.sessionCount() - 1;
    const session = await call(`${s.url}/v1/sessions/${last}`);
    expect(session).toMatchObject({ status: 200, body: { session: last } });
    expect(Object.keys(session.body as object).sort()).toEqual([
      "blockIds",
      "session",
      "sessionHash",
      "signatures",
    ]);
    expect(JSON.stringify(session.body)).not.toContain(txHex(tx));
    expect(JSON.stringify(session.body)).not.toContain(Buffer.from(alice.publicKey).toString("hex"));
    expect(await call(`${s.url}/v1/sessions/${last + 1}`)).toMatchObject({
      status: 404,
      body: { code: "not_found" },
    });
  });

  it("pushes proposed and accepted over WebSocket to a client that subscribed before submitting", async () => {
    const tx = faucetTx(bob, 40n);
    const txid = txidOf(tx);
    const ws = await TestSocket.open(`${s.url.replace("http", "ws")}/v1/ws`);
    ws.send({ type: "subscribe", txid });
    expect(await ws.next()).toEqual({ type: "subscribed", txid });

    expect((await post(`${s.url}/v1/transactions`, { transaction: txHex(tx) })).status).toBe(202);
    expect(await ws.next()).toEqual({ type: "transaction", status: { txid, state: "proposed" } });
    s.backend.orderProposed();
    expect(await ws.next()).toMatchObject({
      type: "transaction",
      status: { txid, state: "accepted", fee: "0" },
    });

    // A second client subscribing now gets the current (final) status at once.
    const late = await TestSocket.open(`${s.url.replace("http", "ws")}/v1/ws`);
    late.send({ type: "subscribe", txid });
    expect(await late.next()).toEqual({ type: "subscribed", txid });
    expect(await late.next()).toMatchObject({ type: "transaction", status: { state: "accepted" } });

    ws.send({ type: "unsubscribe", txid });
    expect(await ws.next()).toEqual({ type: "unsubscribed", txid });
    await ws.close();
    await late.close();
    // Closing unsubscribes everything.
    await vi.waitFor(() => expect(s.backend.subscriberCount).toBe(0));
  });

  it("answers a transaction the modules refuse with 422 and the module's code", async () => {
    const coin = fundedCoin(s.backend, alice, 100n);
    const spend = (signer: NodeSigner, out: bigint) =>
      buildTransaction(
        [spendInput(DUMMY, 100n, coin, 0)],
        [coinOutput(DUMMY, out, bob.publicKey)],
        [signer],
        sha256,
      );

    const bySomeoneElse = await post(`${s.url}/v1/transactions`, { transaction: txHex(spend(bob, 100n)) });
    expect(bySomeoneElse).toMatchObject({ status: 422, body: { code: "bad_signature" } });

    const tooMuch = await post(`${s.url}/v1/transactions`, { transaction: txHex(spend(alice, 150n)) });
    expect(tooMuch).toMatchObject({
      status: 422,
      body: { code: "unbalanced", details: { inputs: "100", outputs: "150" } },
    });

    const first = spend(alice, 100n);
    expect((await post(`${s.url}/v1/transactions`, { transaction: txHex(first) })).status).toBe(202);
    s.backend.orderProposed();
    expect(s.backend.transactionStatus(txidOf(first))?.state).toBe("accepted");
    const again = await post(`${s.url}/v1/transactions`, { transaction: txHex(spend(alice, 100n)) });
    expect(again).toMatchObject({ status: 422, body: { code: "spent_input" } });
    expect((again.body as { message: string }).message).toMatch(/already spent/);
  });

  it("answers 503 while the guardian is halted", async () => {
    s.backend.halted = "audit failed (test)";
    try {
      const r = await post(`${s.url}/v1/transactions`, { transaction: txHex(faucetTx(alice, 1n)) });
      expect(r).toMatchObject({ status: 503, body: { code: "unavailable" } });
    } finally {
      s.backend.halted = null;
    }
  });

  it("refuses malformed requests with 400 invalid_request and says what is wrong", async () => {
    const cases: [body: string, message: RegExp][] = [
      ["{not json", /not valid JSON/],
      ["", /empty/],
      ["[]", /invalid request body/],
      ['"a string"', /invalid request body/],
      ["{}", /transaction/],
      ['{"transaction": 5}', /transaction/],
      ['{"transaction": "zz"}', /lowercase hex/],
      ['{"transaction": "ABCD"}', /lowercase hex/],
      ['{"transaction": "abc"}', /lowercase hex/],
      ['{"transaction": ""}', /empty/],
      ['{"transaction": "00"}', /not a valid transaction encoding/],
      [`{"transaction": "${txHex(faucetTx(alice, 1n))}", "extra": 1}`, /extra/],
    ];
    for (const [body, message] of cases) {
      const r = await post(`${s.url}/v1/transactions`, body);
      expect(r.status, body).toBe(400);
      expect(r.body, body).toMatchObject({
        code: "invalid_request",
        message: matching(message),
      });
    }
    const notUtf8 = await call(`${s.url}/v1/transactions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
    });
    expect(notUtf8).toMatchObject({ status: 400, body: { message: matching(/UTF-8/) } });

    expect(await call(`${s.url}/v1/transactions/xyz`)).toMatchObject({
      status: 400,
      body: { message: matching(/64 lowercase hex/) },
    });
    expect(await call(`${s.url}/v1/transactions/${"0".repeat(64)}?wait=soon`)).toMatchObject({ status: 400 });
    expect(await call(`${s.url}/v1/transactions/${"0".repeat(64)}`)).toMatchObject({
      status: 404,
      body: { code: "not_found" },
    });
    expect(await call(`${s.url}/v1/sessions/abc`)).toMatchObject({ status: 400 });
    expect(internalErrors(s.logs)).toEqual([]);
  });

  it("refuses a body over requestBodyBytesMax with 413, declared or streamed, and keeps serving", async () => {
    const huge = JSON.stringify({ transaction: "00".repeat(600 * 1024) });
    expect(await post(`${s.url}/v1/transactions`, huge)).toMatchObject({
      status: 413,
      body: { code: "payload_too_large", details: { limitBytes: DEFAULT_API_LIMITS.requestBodyBytesMax } },
    });

    // No Content-Length: chunked, counted as it streams in.
    const chunk = new TextEncoder().encode("0".repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 64) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const streamed = await call(`${s.url}/v1/transactions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      duplex: "half",
    });
    expect(streamed).toMatchObject({ status: 413, body: { code: "payload_too_large" } });

    // Over a raw socket too, lying about nothing but sending far more than allowed.
    const status = await new Promise<number>((resolve, reject) => {
      const post = { method: "POST", headers: { "content-type": "application/json" } };
      const req = httpRequest(`${s.url}/v1/transactions`, post, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      for (let i = 0; i < 32; i++) req.write(chunk);
      req.end();
    });
    expect(status).toBe(413);

    expect((await call(`${s.url}/v1/status`)).status).toBe(200);
    expect(s.api.metrics.render()).toMatch(
      /conclave_api_requests_total\{method="POST",route="\/v1\/transactions",status="413"\} 3/,
    );
  });

  it("answers unknown routes, methods and modules with 404 and a pointer", async () => {
    expect(await call(`${s.url}/v1/nope`)).toMatchObject({
      status: 404,
      body: { code: "not_found", message: matching(/openapi\.json/) },
    });
    expect(await call(`${s.url}/v1/status`, { method: "DELETE" })).toMatchObject({ status: 404 });
    expect(await call(`${s.url}/v1/modules/nope/coins`)).toMatchObject({
      status: 404,
      body: { message: matching(/no module named "nope".*dummy/) },
    });
    expect(await call(`${s.url}/v1/modules/dummy/nothing-here`)).toMatchObject({ status: 404 });
  });

  it("serves module endpoints with their params and bodies, and maps their errors", async () => {
    const coin = fundedCoin(s.backend, bob, 77n);
    const coinHex = Buffer.from(coin).toString("hex");
    expect(await call(`${s.url}/v1/modules/dummy/coins/${coinHex}/0`)).toEqual(
      expect.objectContaining({
        status: 200,
        body: { amount: "77", owner: anyString, spent: false },
      }),
    );
    expect(await call(`${s.url}/v1/modules/dummy/coins/${coinHex}/1`)).toMatchObject({ status: 404 });
    expect(await call(`${s.url}/v1/modules/dummy/coins/zz/1`)).toMatchObject({ status: 400 });
    // bigints in a module's answer become decimal strings.
    expect(await post(`${s.url}/v1/modules/dummy/echo`, { message: "hi" })).toEqual(
      expect.objectContaining({ status: 200, body: { echoed: "hi", amount: "5" } }),
    );
    expect(await post(`${s.url}/v1/modules/dummy/echo`, { message: 5 })).toMatchObject({ status: 400 });
    expect(await post(`${s.url}/v1/modules/dummy/echo`, "{")).toMatchObject({ status: 400 });

    // A bug: 500 with a generic body; the details stay in the guardian's log.
    const before = internalErrors(s.logs).length;
    const broken = await call(`${s.url}/v1/modules/dummy/broken`);
    expect(broken).toEqual(
      expect.objectContaining({ status: 500, body: { code: "internal", message: "internal error" } }),
    );
    const logged = internalErrors(s.logs).slice(before);
    expect(logged).toHaveLength(1);
    expect(logged[0]!.fields).toMatchObject({ error: matching(/secret internal detail/) });
    expect(logged[0]!.fields["stack"]).toEqual(anyString);
    s.logs.length = 0;
  });

  it("serves metrics: the guardian's and the API's own, labelled by route pattern", async () => {
    await call(`${s.url}/v1/transactions/${"1".repeat(64)}`);
    const r = await fetch(`${s.url}/metrics`);
    expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    expect(text).toMatch(/^conclave_height \d+$/m);
    expect(text).toMatch(
      /conclave_api_requests_total\{method="GET",route="\/v1\/transactions\/:txid",status="404"\} \d+/,
    );
    expect(text).not.toContain("1".repeat(64));
    expect(text).toMatch(/^conclave_api_websockets_open \d+$/m);
  });
});

describe("guardian API: admin", () => {
  let s: Started;
  beforeAll(async () => {
    s = await startApi();
  });
  afterAll(() => s.api.close());

  it("refuses admin routes without, with a malformed, or with a wrong password (401)", async () => {
    const none = await call(`${s.url}/v1/admin/audit`);
    expect(none).toMatchObject({
      status: 401,
      body: { code: "unauthorized", message: matching(/Bearer/) },
    });
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const basic = await call(`${s.url}/v1/admin/audit`, { headers: { authorization: `Basic ${PASSWORD}` } });
    expect(basic.status).toBe(401);
    const wrong = await call(`${s.url}/v1/admin/audit`, { headers: { authorization: "Bearer hunter2" } });
    expect(wrong).toMatchObject({ status: 401, body: { message: "wrong admin password" } });
    const wrongShutdown = await call(`${s.url}/v1/admin/shutdown`, {
      method: "POST",
      headers: { authorization: `Bearer ${PASSWORD}x` },
    });
    expect(wrongShutdown.status).toBe(401);
    expect(s.backend.shutdownCalls).toBe(0);
  });

  it("serves the audit and the status with the right password, and shuts down after answering 202", async () => {
    const auth = { authorization: `Bearer ${PASSWORD}` };
    fundedCoin(s.backend, alice, 9n);
    expect(await call(`${s.url}/v1/admin/audit`, { headers: auth })).toMatchObject({
      status: 200,
      body: { assets: "9", liabilities: "9", modules: [{ kind: "dummy", assets: "9" }] },
    });
    expect(await call(`${s.url}/v1/admin/status`, { headers: auth })).toMatchObject({
      status: 200,
      body: {
        guardian: { guardian: 0 },
        api: { limits: { requestBodyBytesMax: DEFAULT_API_LIMITS.requestBodyBytesMax } },
      },
    });
    const shutdown = await call(`${s.url}/v1/admin/shutdown`, { method: "POST", headers: auth });
    expect(shutdown).toMatchObject({ status: 202, body: { shuttingDown: true } });
    await vi.waitFor(() => expect(s.backend.shutdownCalls).toBe(1));
  });

  it("says the admin API is off when no password hash is configured", async () => {
    const off = new ApiServer({ backend: new TestBackend(), host: "127.0.0.1", port: 0, log: () => {} });
    const { url } = await off.start();
    try {
      const r = await call(`${url}/v1/admin/status`, { headers: { authorization: `Bearer ${PASSWORD}` } });
      expect(r).toMatchObject({ status: 401, body: { message: matching(/admin API is off/) } });
    } finally {
      await off.close();
    }
  });

  it("refuses to start with a malformed password hash", () => {
    expect(
      () =>
        new ApiServer({ backend: new TestBackend(), host: "127.0.0.1", port: 0, adminPasswordHash: "plain" }),
    ).toThrow(/\$scrypt\$/);
  });
});

describe("guardian API: rate limiting", () => {
  it("answers 429 with Retry-After when a client's bucket is empty, and recovers as it refills", async () => {
    let now = 0;
    const s = await startApi({
      clock: () => now,
      limits: { requestsPerSecondPerIpMax: 2, requestsBurstPerIpMax: 3 },
    });
    try {
      for (let i = 0; i < 3; i++) expect((await call(`${s.url}/v1/status`)).status).toBe(200);
      const limited = await call(`${s.url}/v1/status`);
      expect(limited).toMatchObject({ status: 429, body: { code: "rate_limited" } });
      expect(limited.headers.get("retry-after")).toBe("1");
      // WebSocket upgrades draw from the same bucket.
      const ws = new WebSocket(`${s.url.replace("http", "ws")}/v1/ws`);
      const refused = await new Promise<string>((resolve) => ws.once("error", (e) => resolve(e.message)));
      expect(refused).toMatch(/429/);

      now += 1000; // two tokens back
      expect((await call(`${s.url}/v1/status`)).status).toBe(200);
      const metrics = await fetch(`${s.url}/metrics`);
      expect(await metrics.text()).toMatch(
        /conclave_api_limit_rejections_total\{limit="requestsPerSecondPerIpMax"\} 2/,
      );
      expect((await call(`${s.url}/v1/status`)).status).toBe(429);
    } finally {
      await s.api.close();
    }
  });
});

describe("guardian API: backups", () => {
  it("hands the store the uploader's rate-limit key, so that new backup keys are counted per client network", async () => {
    const clients: string[] = [];
    class RecordingBackend extends TestBackend {
      override storeBackup(record: BackupRecord, client: string): Promise<BackupStored> {
        clients.push(client);
        return Promise.resolve({ stored: true, version: record.version });
      }
    }
    const s = await startApi({}, new RecordingBackend());
    try {
      const record: BackupRecord = {
        id: "ab".repeat(32),
        version: 1,
        ciphertext: "AQID",
        signature: "cd".repeat(64),
      };
      expect(await post(`${s.url}/v1/backups`, record)).toMatchObject({
        status: 200,
        body: { stored: true },
      });
      expect(clients).toEqual(["127.0.0.1"]);
    } finally {
      await s.api.close();
    }
  });
});

describe("guardian API: OpenAPI", () => {
  it("publishes an OpenAPI 3.1 document that lists every route and whose references resolve", async () => {
    const s = await startApi({
      webPage: new TextEncoder().encode("<!doctype html>\n"),
      walletPage: new TextEncoder().encode("<!doctype html>\n<title>wallet</title>\n"),
    });
    try {
      const r = await call(`${s.url}/openapi.json`);
      expect(r.status).toBe(200);
      const doc = r.body as {
        openapi: string;
        paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown }>>;
        components: { schemas: Record<string, unknown> };
      };
      expect(doc.openapi).toBe("3.1.0");
      const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
        Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
      );
      expect(operations.sort()).toEqual(
        [
          "GET /",
          "GET /wallet",
          "GET /metrics",
          "GET /openapi.json",
          "GET /v1/federation",
          "GET /v1/status",
          "POST /v1/transactions",
          "GET /v1/transactions/{txid}",
          "GET /v1/sessions/count",
          "GET /v1/sessions/{index}",
          "GET /v1/admin/status",
          "GET /v1/admin/audit",
          "GET /v1/audit",
          "GET /v1/web",
          "POST /v1/admin/shutdown",
          "POST /v1/backups",
          "GET /v1/backups/{id}",
          "GET /v1/ws",
          "GET /v1/modules/dummy/coins/{txid}/{index}",
          "POST /v1/modules/dummy/echo",
          "GET /v1/modules/dummy/broken",
        ].sort(),
      );
      expect(doc.paths["/v1/admin/audit"]!["get"]!.security).toEqual([{ adminPassword: [] }]);
      expect(Object.keys(doc.paths["/v1/transactions"]!["post"]!.responses)).toEqual(
        expect.arrayContaining(["202", "400", "413", "422", "429", "503"]),
      );
      // Every $ref points at a component that exists.
      const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([A-Za-z]+)"/g)].map(
        (m) => m[1]!,
      );
      expect(refs.length).toBeGreaterThan(10);
      for (const name of refs) expect(doc.components.schemas, name).toHaveProperty(name);
      // The request schema is the one the server validates with.
      expect(doc.components.schemas["SubmitTransactionRequest"]).toMatchObject({
        required: ["transaction"],
        additionalProperties: false,
        properties: { transaction: { pattern: "^(?:[0-9a-f]{2})*$" } },
      });
      // Every documented GET without path parameters is really served.
      for (const op of operations.filter((o) => o.startsWith("GET ") && !o.includes("{"))) {
        const path = op.slice(4);
        if (path === "/v1/ws") continue;
        const res = await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${PASSWORD}` } });
        await res.arrayBuffer();
        expect(res.status, op).not.toBe(404);
      }
    } finally {
      await s.api.close();
    }
  });
});

describe("guardian API: clients that go away, hostile WebSocket clients, shutdown", () => {
  let s: Started;
  beforeAll(async () => {
    s = await startApi({ limits: { wsSubscriptionsPerConnectionMax: 3, wsMessageBytesMax: 1024 } });
  });
  afterAll(() => s.api.close());

  it("a client aborting a long-poll mid-request releases the wait and leaves the server healthy", async () => {
    const tx = faucetTx(alice, 3n);
    expect((await post(`${s.url}/v1/transactions`, { transaction: txHex(tx) })).status).toBe(202);
    const abort = new AbortController();
    const waiting = fetch(`${s.url}/v1/transactions/${txidOf(tx)}?wait=60000`, { signal: abort.signal });
    await vi.waitFor(() => expect(s.backend.waitsActive).toBe(1));
    abort.abort();
    await expect(waiting).rejects.toThrow(/abort/i);
    await vi.waitFor(() => expect(s.backend.waitsAborted).toBe(1));
    expect(s.backend.waitsActive).toBe(0);
    expect(s.api.metrics.waitsInFlight).toBe(0);
    expect((await call(`${s.url}/v1/status`)).status).toBe(200);
    expect(internalErrors(s.logs)).toEqual([]);
  });

  it("a client dropping the connection mid-body leaves the server healthy", async () => {
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${s.url}/v1/transactions`, {
        method: "POST",
        headers: { "content-length": "1000", "content-type": "application/json" },
      });
      req.on("error", () => resolve());
      req.write('{"transaction": "00', () => {
        req.destroy();
        resolve();
      });
    });
    expect((await call(`${s.url}/v1/status`)).status).toBe(200);
    expect(internalErrors(s.logs)).toEqual([]);
  });

  it("answers WebSocket garbage with error messages and keeps the connection", async () => {
    const ws = await TestSocket.open(`${s.url.replace("http", "ws")}/v1/ws`);
    const garbage: (string | Uint8Array)[] = [
      "not json",
      "{}",
      "null",
      "[1,2]",
      '{"type":"subscribe"}',
      '{"type":"subscribe","txid":"ZZ"}',
      `{"type":"dance","txid":"${"0".repeat(64)}"}`,
      `{"type":"subscribe","txid":"${"0".repeat(64)}","extra":true}`,
      new Uint8Array([1, 2, 3]),
    ];
    for (const g of garbage) {
      ws.ws.send(g);
      expect(await ws.next(), String(g)).toMatchObject({ type: "error", code: "invalid_request" });
    }
    const txid = "a".repeat(64);
    ws.send({ type: "subscribe", txid });
    expect(await ws.next()).toEqual({ type: "subscribed", txid });
    await ws.close();
  });

  it("bounds subscriptions per connection and message size; the server keeps serving", async () => {
    const ws = await TestSocket.open(`${s.url.replace("http", "ws")}/v1/ws`);
    const ids = ["1", "2", "3", "4"].map((c) => c.repeat(64));
    for (const txid of ids.slice(0, 3)) {
      ws.send({ type: "subscribe", txid });
      expect(await ws.next()).toEqual({ type: "subscribed", txid });
    }
    ws.send({ type: "subscribe", txid: ids[3] });
    expect(await ws.next()).toMatchObject({
      type: "error",
      code: "too_many_subscriptions",
      details: { limit: 3 },
    });
    // Subscribing again to one it has is not a new subscription.
    ws.send({ type: "subscribe", txid: ids[0] });
    expect(await ws.next()).toEqual({ type: "subscribed", txid: ids[0] });
    expect(s.backend.subscriberCount).toBe(3);

    ws.send("x".repeat(2048));
    expect((await ws.closed).code).toBe(1009);
    await vi.waitFor(() => expect(s.backend.subscriberCount).toBe(0));
    expect(s.api.metrics.websocketsOpen).toBe(0);

    const again = await TestSocket.open(`${s.url.replace("http", "ws")}/v1/ws`);
    again.send({ type: "subscribe", txid: ids[3] });
    expect(await again.next()).toEqual({ type: "subscribed", txid: ids[3] });
    await again.close();
    expect((await call(`${s.url}/v1/status`)).status).toBe(200);
  });

  it("bounds WebSocket connections per client with 503, and frees the slot when one closes", async () => {
    const own = await startApi({ limits: { wsConnectionsPerIpMax: 2 } });
    try {
      const wsUrl = `${own.url.replace("http", "ws")}/v1/ws`;
      const first = await TestSocket.open(wsUrl);
      const second = await TestSocket.open(wsUrl);
      const third = new WebSocket(wsUrl);
      const refused = await new Promise<string>((resolve) => third.once("error", (e) => resolve(e.message)));
      expect(refused).toMatch(/503/);
      await first.close();
      await vi.waitFor(() => expect(own.api.metrics.websocketsOpen).toBe(1));
      const fourth = await TestSocket.open(wsUrl);
      await Promise.all([second.close(), fourth.close()]);
      expect(own.api.metrics.rejectedCount("wsConnectionsPerIpMax")).toBe(1);
    } finally {
      await own.api.close();
    }
  });

  it("refuses WebSocket upgrades on other paths with 404", async () => {
    const ws = new WebSocket(`${s.url.replace("http", "ws")}/v1/other`);
    const message = await new Promise<string>((resolve) => ws.once("error", (e) => resolve(e.message)));
    expect(message).toMatch(/404/);
  });

  it("closing the server ends WebSockets with 1001 and answers pending long-polls", async () => {
    const own = await startApi();
    const tx = faucetTx(bob, 5n);
    own.backend.submitTransaction(Buffer.from(txHex(tx), "hex"));
    const ws = await TestSocket.open(`${own.url.replace("http", "ws")}/v1/ws`);
    const waiting = call(`${own.url}/v1/transactions/${txidOf(tx)}?wait=60000`);
    await vi.waitFor(() => expect(own.backend.waitsActive).toBe(1));
    await own.api.close();
    expect((await ws.closed).code).toBe(1001);
    expect(await waiting).toMatchObject({ status: 200, body: { state: "proposed" } });
    await expect(fetch(`${own.url}/v1/status`)).rejects.toThrow();
  });
});
