// What the web page needs from a guardian's API, over real HTTP and WebSocket on 127.0.0.1: the
// status pushed over WebSocket when it changes (no client polls), the public audit for proof of
// reserves, and the page itself at / with its SHA-256 at /v1/web.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiServer, guardianConnectSources } from "./server.js";
import { TestBackend, faucetTx, txHex } from "./test-backend.js";
import { TestSocket, call, post } from "./test-client.js";
import { NodeSigner } from "../node-crypto.js";

const alice = new NodeSigner(new Uint8Array(32).fill(3));
const PAGE = new TextEncoder().encode("<!doctype html><title>page</title>\n");
const WALLET = new TextEncoder().encode("<!doctype html><title>wallet</title>\n");

async function start(
  webPage?: Uint8Array,
  walletPage?: Uint8Array,
): Promise<{ api: ApiServer; url: string; backend: TestBackend }> {
  const backend = new TestBackend();
  const api = new ApiServer({
    backend,
    host: "127.0.0.1",
    port: 0,
    log: () => {},
    limits: { wsSubscriptionsPerConnectionMax: 2 },
    ...(webPage ? { webPage } : {}),
    ...(walletPage ? { walletPage } : {}),
  });
  const { url } = await api.start();
  return { api, url, backend };
}

describe("guardian API for the web page", () => {
  let s: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    s = await start(PAGE);
  });
  afterAll(() => s.api.close());

  it("pushes the status on subscribe-status and again when it changes, to every subscriber", async () => {
    const ws = await TestSocket.open(`${s.url.replace("http", "ws")}/v1/ws`);
    ws.send({ type: "subscribe-status" });
    const first = (await ws.next()) as { type: string; status: { height: number } };
    expect(first).toMatchObject({ type: "status", status: { guardian: 0, name: "guardian-0" } });
    const other = await TestSocket.open(`${s.url.replace("http", "ws")}/v1/ws`);
    other.send({ type: "subscribe-status" });
    expect(await other.next()).toMatchObject({ type: "status", status: { height: first.status.height } });

    // A block: both subscribers hear the new height without asking (a status may repeat first).
    expect(
      (await post(`${s.url}/v1/transactions`, { transaction: txHex(faucetTx(alice, 10n)) })).status,
    ).toBe(202);
    s.backend.orderProposed();
    const newHeight = async (socket: TestSocket) => {
      for (;;) {
        const m = (await socket.next()) as { type: string; status: { height: number } };
        expect(m.type).toBe("status");
        if (m.status.height > first.status.height) return m.status.height;
      }
    };
    expect(await newHeight(ws)).toBe(first.status.height + 1);
    expect(await newHeight(other)).toBe(first.status.height + 1);

    other.send({ type: "unsubscribe-status" });
    expect(await other.next()).toEqual({ type: "unsubscribed-status" });
    await other.close();
    await ws.close();
  });

  it("counts the status subscription against the per-connection subscription limit", async () => {
    const ws = await TestSocket.open(`${s.url.replace("http", "ws")}/v1/ws`);
    ws.send({ type: "subscribe-status" });
    expect(await ws.next()).toMatchObject({ type: "status" });
    ws.send({ type: "subscribe", txid: "aa".repeat(32) });
    expect(await ws.next()).toEqual({ type: "subscribed", txid: "aa".repeat(32) });
    ws.send({ type: "subscribe", txid: "bb".repeat(32) });
    expect(await ws.next()).toMatchObject({ type: "error", code: "too_many_subscriptions" });
    // Subscribing to the status twice is one subscription.
    ws.send({ type: "subscribe-status" });
    expect(await ws.next()).toMatchObject({ type: "status" });
    await ws.close();
  });

  it("serves the audit publicly (proof of reserves), the same as the admin route", async () => {
    const r = await call(`${s.url}/v1/audit`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(s.backend.audit());
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("serves the page at / with its security headers, and its SHA-256 at /v1/web", async () => {
    const page = await fetch(`${s.url}/`);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(new Uint8Array(await page.arrayBuffer())).toEqual(PAGE);
    const sha256 = createHash("sha256").update(PAGE).digest("hex");
    expect((await call(`${s.url}/v1/web`)).body).toEqual({ sha256, bytes: PAGE.length });
    expect(s.api.webPageSha256).toBe(sha256);
  });

  it("limits the page's connections to its own origin and the federation's guardians (connect-src)", async () => {
    const page = await fetch(`${s.url}/`);
    // The test backend's config names no guardian: only the page's own origin.
    expect(page.headers.get("content-security-policy")).toBe(
      "frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'; connect-src 'self'",
    );
    expect(
      guardianConnectSources({
        guardians: [
          { api: { url: "http://127.0.0.1:8001/" } },
          { api: { url: "https://g1.example.org/api" } },
          { api: { url: "not a url" } },
          { api: { url: "javascript:alert(1)" } },
          { api: {} },
          "junk",
        ],
      }),
    ).toEqual([
      "'self'",
      "http://127.0.0.1:8001",
      "ws://127.0.0.1:8001",
      "https://g1.example.org",
      "wss://g1.example.org",
    ]);
    expect(guardianConnectSources(undefined)).toEqual(["'self'"]);
  });

  it("serves the wallet page at /wallet with the same headers, its SHA-256 in /v1/web's wallet", async () => {
    const both = await start(PAGE, WALLET);
    try {
      const page = await fetch(`${both.url}/wallet`);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(new Uint8Array(await page.arrayBuffer())).toEqual(WALLET);
      expect((await call(`${both.url}/v1/web`)).body).toEqual({
        sha256: createHash("sha256").update(PAGE).digest("hex"),
        bytes: PAGE.length,
        wallet: { sha256: createHash("sha256").update(WALLET).digest("hex"), bytes: WALLET.length },
      });
      // The guardian above serves no wallet page: 404, not the status page.
      expect(await call(`${s.url}/wallet`)).toMatchObject({ status: 404, body: { code: "not_found" } });
    } finally {
      await both.api.close();
    }
  });

  it("without a page: / is the text index and /v1/web answers 404", async () => {
    const bare = await start();
    try {
      const index = await fetch(`${bare.url}/`);
      expect(index.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(await index.text()).toContain("/v1/audit");
      expect(await call(`${bare.url}/v1/web`)).toMatchObject({ status: 404, body: { code: "not_found" } });
    } finally {
      await bare.api.close();
    }
  });
});
