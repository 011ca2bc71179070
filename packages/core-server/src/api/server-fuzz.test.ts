// Generated input against the API over real HTTP and WebSocket: client mistakes never get a 500,
// nothing crashes, nothing is logged as an internal error, and the server answers a health request
// at the end. The backend is the real processor + dummy module (see test-backend.ts).
import { connect } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTransaction, coinOutput, spendInput } from "@conclave/module-dummy";
import { NodeSigner, sha256 } from "../node-crypto.js";
import { hashAdminPassword } from "./admin-password.js";
import { ApiServer } from "./server.js";
import { DUMMY, TestBackend, faucetTx, txHex, txidOf } from "./test-backend.js";
import { TestSocket, anyString, call, post } from "./test-client.js";

const alice = new NodeSigner(new Uint8Array(32).fill(1));
const bob = new NodeSigner(new Uint8Array(32).fill(2));
const RUNS = 150;
/** What a client mistake (or a lucky valid request) may get; never 5xx. */
const CLIENT_ANSWERS = [200, 202, 400, 401, 404, 413, 422];

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("guardian API under generated input", () => {
  const backend = new TestBackend();
  const logs: string[] = [];
  let api: ApiServer;
  let url: string;
  let validSpend: string;

  beforeAll(async () => {
    api = new ApiServer({
      backend,
      host: "127.0.0.1",
      port: 0,
      adminPasswordHash: await hashAdminPassword("the password", { logN: 10, r: 8, p: 1 }),
      // Limits out of the way (verify-budget.test.ts tests the CPU budget): this is about bad input.
      limits: {
        requestsPerSecondPerIpMax: 1_000_000,
        requestsBurstPerIpMax: 1_000_000,
        verifyMsPerSecondPerIpMax: 1_000_000,
        verifyMsBurstPerIpMax: 1_000_000,
        verifyMsPerSecondMax: 1_000_000,
        verifyMsBurstMax: 1_000_000,
      },
      log: (event) => logs.push(event),
    });
    ({ url } = await api.start());
    const faucet = faucetTx(alice, 1000n);
    backend.commit(faucet);
    validSpend = txHex(
      buildTransaction(
        [spendInput(DUMMY, 1000n, Buffer.from(txidOf(faucet), "hex"), 0)],
        [coinOutput(DUMMY, 600n, bob.publicKey), coinOutput(DUMMY, 400n, alice.publicKey)],
        [alice],
        sha256,
      ),
    );
  });

  afterAll(async () => {
    // The server survived everything above: it still answers, and nothing was an internal error.
    expect((await call(`${url}/v1/status`)).status).toBe(200);
    expect(logs.filter((e) => e === "api.internal_error")).toEqual([]);
    await api.close();
  });

  it("answers generated JSON bodies on POST /v1/transactions with a client error, never 500", async () => {
    const transactionField = fc.oneof(
      fc.string(),
      fc.uint8Array({ maxLength: 300 }).map(hex),
      fc.uint8Array({ maxLength: 300 }).map((b) => hex(b).toUpperCase()),
      fc.jsonValue(),
    );
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record({ transaction: transactionField }),
      fc.record({ transaction: transactionField, extra: fc.jsonValue() }, { requiredKeys: ["transaction"] }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const r = await post(`${url}/v1/transactions`, JSON.stringify(b));
        expect(CLIENT_ANSWERS).toContain(r.status);
        expect(r.body).toMatchObject({ code: anyString, message: anyString });
      }),
      { numRuns: RUNS },
    );
  });

  it("answers mutated valid transactions (flipped, cut, extended bytes) without a 500", async () => {
    const mutation = fc.oneof(
      fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }).map(({ at, xor }) => (b: Buffer) => {
        const c = Buffer.from(b);
        const i = at % c.length;
        c[i] = c[i]! ^ xor;
        return c;
      }),
      fc.nat().map((n) => (b: Buffer) => b.subarray(0, n % b.length)),
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map((extra) => (b: Buffer) => Buffer.concat([b, extra])),
    );
    await fc.assert(
      fc.asyncProperty(mutation, async (mutate) => {
        const bytes = mutate(Buffer.from(validSpend, "hex"));
        const r = await post(`${url}/v1/transactions`, { transaction: hex(bytes) });
        expect(CLIENT_ANSWERS).toContain(r.status);
      }),
      { numRuns: RUNS },
    );
  });

  it("answers random bytes as a JSON body with 400", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        const r = await call(`${url}/v1/transactions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: bytes,
        });
        expect(r.status).toBe(400);
      }),
      { numRuns: RUNS },
    );
  });

  it("answers random paths, methods and query strings without a 500", async () => {
    const segment = fc.oneof(
      fc.constantFrom(
        "v1",
        "transactions",
        "sessions",
        "modules",
        "dummy",
        "admin",
        "count",
        "coins",
        "ws",
        "..",
      ),
      fc.string({ maxLength: 20 }).map(encodeURIComponent),
      fc.constant("%zz"),
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map(hex),
    );
    const path = fc.array(segment, { maxLength: 6 }).map((s) => "/" + s.join("/"));
    const query = fc.option(fc.webQueryParameters(), { nil: undefined });
    const method = fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD");
    await fc.assert(
      fc.asyncProperty(path, query, method, async (p, q, m) => {
        const r = await fetch(`${url}${p}${q === undefined ? "" : `?${q}`}`, {
          method: m,
          ...(m === "GET" || m === "HEAD" ? {} : { body: "{}" }),
        });
        await r.arrayBuffer();
        expect(r.status).toBeLessThan(500);
        expect(r.status).not.toBe(0);
      }),
      { numRuns: RUNS },
    );
  });

  it("answers generated Authorization headers on admin routes with 401", async () => {
    const header = fc.oneof(
      fc.stringMatching(/^[\x21-\x7e ]{0,120}$/),
      fc.stringMatching(/^[\x21-\x7e]{1,120}$/).map((p) => `Bearer ${p}`),
    );
    await fc.assert(
      fc.asyncProperty(header, async (h) => {
        const r = await call(`${url}/v1/admin/audit`, { headers: { authorization: h.trim() } });
        expect(r.status).toBe(401);
      }),
      { numRuns: 60 },
    );
  });

  it("answers random bytes on a raw connection (not HTTP at all) without harm", async () => {
    const { port } = new URL(url);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 2048 }), async (bytes) => {
        await new Promise<void>((resolve) => {
          const socket = connect(Number(port), "127.0.0.1", () => socket.end(bytes));
          socket.on("data", () => undefined);
          socket.on("error", () => resolve());
          socket.on("close", () => resolve());
          socket.setTimeout(5_000, () => socket.destroy());
        });
      }),
      { numRuns: 40 },
    );
    expect((await call(`${url}/v1/status`)).status).toBe(200);
  });

  it("answers generated WebSocket messages one reply each and keeps the connection open", async () => {
    const ws = await TestSocket.open(`${url.replace("http", "ws")}/v1/ws`);
    const message = fc.oneof(
      fc.string({ maxLength: 500 }),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc.record({
        type: fc.constantFrom("subscribe", "unsubscribe", "other"),
        txid: fc.oneof(fc.string(), fc.uint8Array({ minLength: 32, maxLength: 32 }).map(hex)),
      }),
      fc.uint8Array({ maxLength: 500 }),
    );
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        if (m instanceof Uint8Array || typeof m === "string") ws.ws.send(m);
        else ws.send(m);
        const reply = (await ws.next()) as { type: string };
        expect(["error", "subscribed", "unsubscribed"]).toContain(reply.type);
      }),
      { numRuns: RUNS },
    );
    expect(ws.ws.readyState).toBe(ws.ws.OPEN);
    await ws.close();
  });
});
