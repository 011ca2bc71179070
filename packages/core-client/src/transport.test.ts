// GuardianHttp against a scripted HTTP server on 127.0.0.1: which answers are retried, which are
// not, how error bodies come back as the guardian's error classes, and the bounds on every answer.
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  ConclaveError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  TransactionRejectedError,
  UnauthorizedError,
  UnavailableError,
} from "@conclave/core-common";
import type { ErrorBody } from "@conclave/core-common";
import { BadResponseError, GuardianUnreachableError, RequestAbortedError, errorFromBody } from "./errors.js";
import { GuardianHttp, backoffMs } from "./transport.js";
import { DEFAULT_CLIENT_LIMITS } from "./limits.js";

type ErrorClass = abstract new (...args: never[]) => ConclaveError;
type Handler = (req: IncomingMessage, res: ServerResponse, hit: number) => void;

const routes = new Map<string, Handler>();
const hits = new Map<string, number>();
let server: Server;
let base: string;
let closedPortUrl: string;

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function route(path: string, handler: Handler): string {
  routes.set(path, handler);
  hits.set(path, 0);
  return path;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const handler = routes.get(path);
    const hit = (hits.get(path) ?? 0) + 1;
    hits.set(path, hit);
    req.resume();
    if (handler) handler(req, res, hit);
    else json(res, 404, { code: "not_found", message: `no route ${path}` });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  base = `http://127.0.0.1:${address.port}`;
  // A port that was just free and is closed again: connections are refused.
  const spare = createServer();
  await new Promise<void>((resolve) => spare.listen(0, "127.0.0.1", resolve));
  const spareAddress = spare.address();
  if (spareAddress === null || typeof spareAddress === "string") throw new Error("no address");
  closedPortUrl = `http://127.0.0.1:${spareAddress.port}`;
  await new Promise<void>((resolve) => spare.close(() => resolve()));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const fast = { backoffBaseMs: 1, backoffMaxMs: 5, retriesMax: 3 };
const http = (limits: Partial<typeof DEFAULT_CLIENT_LIMITS> = {}) =>
  new GuardianHttp(base, { limits: { ...fast, ...limits }, random: () => 0.5 });
const Ok = z.object({ ok: z.literal(true) });

describe("GuardianHttp retries", () => {
  it("retries 5xx answers and succeeds when the guardian recovers", async () => {
    const p = route("/flaky", (_req, res, hit) =>
      hit < 3 ? json(res, 503, { code: "unavailable", message: "busy" }) : json(res, 200, { ok: true }),
    );
    await expect(http().get(p, Ok)).resolves.toEqual({ ok: true });
    expect(hits.get(p)).toBe(3);
  });

  it("retries 429 (rate limited) answers", async () => {
    const p = route("/limited", (_req, res, hit) =>
      hit < 2
        ? json(res, 429, { code: "rate_limited", message: "slow down", details: { retryAfterMs: 1 } })
        : json(res, 200, { ok: true }),
    );
    await expect(http().get(p, Ok)).resolves.toEqual({ ok: true });
    expect(hits.get(p)).toBe(2);
  });

  it("gives up after retriesMax retries with the guardian's own error", async () => {
    const p = route("/down", (_req, res) => json(res, 500, { code: "internal", message: "internal error" }));
    const e = await http()
      .get(p, Ok)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConclaveError);
    expect(e).toMatchObject({ code: "internal", status: 500, message: "internal error" });
    expect(hits.get(p)).toBe(fast.retriesMax + 1);
  });

  it.each<[number, ErrorBody, ErrorClass]>([
    [400, { code: "invalid_request", message: "bad", details: { issues: [] } }, InvalidRequestError],
    [404, { code: "not_found", message: "no such transaction" }, NotFoundError],
    [
      422,
      { code: "spent_input", message: "input 0 is spent", details: { input: 0 } },
      TransactionRejectedError,
    ],
  ])("never retries a %i and rebuilds its error class with the same code", async (status, body, cls) => {
    const p = route(`/refuse-${status}`, (_req, res) => json(res, status, body));
    const e = await http()
      .post(p, { transaction: "00" }, Ok)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(cls);
    expect(e).toMatchObject({ code: body.code, message: body.message, status, details: body.details ?? {} });
    expect(hits.get(p)).toBe(1);
  });

  it("reports an unreachable guardian after every retry", async () => {
    const e = await new GuardianHttp(closedPortUrl, { limits: fast })
      .get("/v1/status", Ok)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GuardianUnreachableError);
    expect(e).toMatchObject({ code: "unreachable", details: { attempts: fast.retriesMax + 1 } });
  });

  it("times out an attempt that gets no answer, and retries it", async () => {
    const pending: ServerResponse[] = [];
    const p = route("/silent", (_req, res) => void pending.push(res));
    const e = await http({ requestTimeoutMs: 50, retriesMax: 1 })
      .get(p, Ok)
      .catch((x: unknown) => x);
    for (const res of pending) res.destroy();
    expect(e).toBeInstanceOf(GuardianUnreachableError);
    expect((e as GuardianUnreachableError).message).toMatch(/no answer within 50 ms, 2 attempts/);
    expect(hits.get(p)).toBe(2);
  });

  it("stops at once when the caller aborts", async () => {
    const pending: ServerResponse[] = [];
    const p = route("/hang", (_req, res) => void pending.push(res));
    const controller = new AbortController();
    const request = http().get(p, Ok, { signal: controller.signal });
    while (hits.get(p) === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await expect(request).rejects.toBeInstanceOf(RequestAbortedError);
    for (const res of pending) res.destroy();
    expect(hits.get(p)).toBe(1);
  });
});

describe("GuardianHttp answers", () => {
  it("refuses an answer larger than responseBytesMax, without retrying", async () => {
    const p = route("/huge", (_req, res) => json(res, 200, { ok: true, pad: "x".repeat(10_000) }));
    const e = await http({ responseBytesMax: 1000 })
      .get(p, Ok)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BadResponseError);
    expect((e as Error).message).toMatch(/exceeds 1000 bytes/);
    expect(hits.get(p)).toBe(1);
  });

  it("refuses a streamed answer that grows past the limit (no content-length)", async () => {
    const p = route("/stream", (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      for (let i = 0; i < 20; i++) res.write(`${i === 0 ? "[" : ","}"${"y".repeat(100)}"`);
      res.end("]");
    });
    await expect(http({ responseBytesMax: 1000 }).get(p, z.array(z.string()))).rejects.toBeInstanceOf(
      BadResponseError,
    );
  });

  it("refuses answers that are not JSON or not of the expected shape", async () => {
    const notJson = route("/html", (_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>hello</html>");
    });
    const wrong = route("/wrong", (_req, res) => json(res, 200, { ok: "yes" }));
    await expect(http().get(notJson, Ok)).rejects.toThrow(/is not JSON/);
    await expect(http().get(wrong, Ok)).rejects.toThrow(/ok: /);
    expect(hits.get(notJson)).toBe(1);
  });

  it("turns an error answer without an error body into a plain ConclaveError with the status", async () => {
    const p = route("/teapot", (_req, res) => {
      res.writeHead(418, { "content-type": "text/plain" });
      res.end("short and stout");
    });
    await expect(http().get(p, Ok)).rejects.toMatchObject({ code: "http_418", status: 418 });
  });

  it("does not follow redirects (another guardian's answer must not count twice)", async () => {
    const target = route("/target", (_req, res) => json(res, 200, { ok: true }));
    const p = route("/redirect", (_req, res) => {
      res.writeHead(302, { location: `${base}${target}` });
      res.end();
    });
    await expect(http({ retriesMax: 0 }).get(p, Ok)).rejects.toBeInstanceOf(GuardianUnreachableError);
    expect(hits.get(target)).toBe(0);
  });
});

describe("errorFromBody", () => {
  it.each<[ErrorBody, number, ErrorClass]>([
    [{ code: "invalid_request", message: "m" }, 400, InvalidRequestError],
    [{ code: "not_found", message: "m" }, 404, NotFoundError],
    [{ code: "unauthorized", message: "m" }, 401, UnauthorizedError],
    [{ code: "rate_limited", message: "m", details: { retryAfterMs: 2000 } }, 429, RateLimitedError],
    [{ code: "payload_too_large", message: "m", details: { limitBytes: 10 } }, 413, PayloadTooLargeError],
    [{ code: "unavailable", message: "m" }, 503, UnavailableError],
    [{ code: "unbalanced", message: "m", details: { missing: "5" } }, 422, TransactionRejectedError],
  ])("rebuilds %j (HTTP %i) as its class", (body, status, cls) => {
    const e = errorFromBody(body, status);
    expect(e).toBeInstanceOf(cls);
    expect(e.code).toBe(body.code);
    expect(e.status).toBe(status);
    expect(e.toBody().details ?? {}).toEqual(body.details ?? {});
  });

  it("keeps a known code with an unexpected status as a plain ConclaveError", () => {
    const e = errorFromBody({ code: "not_found", message: "m" }, 500);
    expect(e).not.toBeInstanceOf(NotFoundError);
    expect(e).toMatchObject({ code: "not_found", status: 500 });
  });
});

describe("backoffMs", () => {
  it("doubles per retry within [ceiling / 2, ceiling] and never exceeds backoffMaxMs", () => {
    const limits = { ...DEFAULT_CLIENT_LIMITS, backoffBaseMs: 100, backoffMaxMs: 1000 };
    expect(backoffMs(0, limits, () => 0)).toBe(50);
    expect(backoffMs(0, limits, () => 0.999999)).toBeLessThan(100);
    expect(backoffMs(2, limits, () => 0)).toBe(200);
    expect(backoffMs(50, limits, () => 0.999999)).toBeLessThanOrEqual(1000);
  });
});
