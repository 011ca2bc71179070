// How the guardian's API takes a request before any route sees it: the body's media type, the time
// a body may take to arrive, and the WebSocket path asked for without an upgrade. Real HTTP on
// 127.0.0.1 against the test backend (test-backend.ts), raw sockets where a client must misbehave.
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiServer } from "./server.js";
import type { ApiServerOptions } from "./server.js";
import { TestBackend, faucetTx, txHex } from "./test-backend.js";
import { NodeSigner } from "../node-crypto.js";
import { call, matching, post } from "./test-client.js";

const alice = new NodeSigner(new Uint8Array(32).fill(1));

interface Started {
  readonly api: ApiServer;
  readonly url: string;
  readonly port: number;
  readonly logs: { event: string; fields: Record<string, unknown> }[];
}

async function startApi(limits: ApiServerOptions["limits"] = {}): Promise<Started> {
  const logs: Started["logs"] = [];
  const api = new ApiServer({
    backend: new TestBackend(),
    host: "127.0.0.1",
    port: 0,
    log: (event, fields) => logs.push({ event, fields }),
    limits: { requestsPerSecondPerIpMax: 100_000, requestsBurstPerIpMax: 100_000, ...limits },
  });
  const { url, port } = await api.start();
  return { api, url, port, logs };
}

/** What came back on a raw connection, read until the server closed it. */
interface RawAnswer {
  readonly status: number;
  readonly headers: string;
  readonly body: string;
}

/**
 * Sends `head` and `body` on a fresh TCP connection and keeps it open, sending nothing more; resolves
 * once the server has closed the connection, with everything it answered.
 */
function rawExchange(port: number, head: string, body: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const split = text.indexOf("\r\n\r\n");
      const headers = split < 0 ? text : text.slice(0, split);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0);
      resolve({ status, headers, body: split < 0 ? "" : text.slice(split + 4) });
    });
    socket.write(head + body);
  });
}

function internalErrors(logs: Started["logs"]) {
  return logs.filter((l) => l.event === "api.internal_error");
}

describe("guardian API: request bodies' media type", () => {
  let s: Started;
  beforeAll(async () => {
    s = await startApi();
  });
  afterAll(() => s.api.close());

  it("refuses a body that is not declared as application/json with 415, on every POST route", async () => {
    const valid = JSON.stringify({ transaction: txHex(faucetTx(alice, 5n)) });
    for (const path of ["/v1/transactions", "/v1/backups", "/v1/modules/dummy/echo"]) {
      for (const type of ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded"]) {
        const r = await post(`${s.url}${path}`, valid, { "content-type": type });
        expect(r, `${path} ${type}`).toMatchObject({
          status: 415,
          body: { code: "unsupported_media_type", message: matching(/Content-Type: application\/json/) },
        });
      }
      // fetch sends no Content-Type for a body of bytes.
      const untyped = await call(`${s.url}${path}`, {
        method: "POST",
        body: new TextEncoder().encode(valid),
      });
      expect(untyped, path).toMatchObject({ status: 415, body: { code: "unsupported_media_type" } });
    }
    // A charset other than UTF-8 is refused too: the body is decoded as UTF-8.
    expect(
      await post(
        `${s.url}/v1/modules/dummy/echo`,
        { message: "hi" },
        { "content-type": "application/json; charset=latin1" },
      ),
    ).toMatchObject({ status: 415, body: { message: matching(/UTF-8/) } });
    expect(internalErrors(s.logs)).toEqual([]);
  });

  it("takes application/json with or without a UTF-8 charset, in any case", async () => {
    for (const type of [
      "application/json",
      "application/json; charset=utf-8",
      'Application/JSON;Charset="UTF-8"',
    ]) {
      expect(
        await post(`${s.url}/v1/modules/dummy/echo`, { message: type }, { "content-type": type }),
        type,
      ).toMatchObject({
        status: 200,
        body: { echoed: type },
      });
    }
  });
});

describe("guardian API: a body that does not arrive", () => {
  let s: Started;
  beforeAll(async () => {
    s = await startApi({ bodyReceiveMsMax: 300 });
  });
  afterAll(() => s.api.close());

  it("answers a body shorter than its Content-Length with 408 within bodyReceiveMsMax and closes the connection", async () => {
    const partial = '{"transaction": "00';
    for (const path of ["/v1/transactions", "/v1/modules/dummy/echo"]) {
      const head =
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${partial.length + 100}\r\n\r\n`;
      // Resolves only once the server has closed the connection (the client never does).
      const answer = await rawExchange(s.port, head, partial);
      expect(answer.status, path).toBe(408);
      expect(answer.headers.toLowerCase(), path).toContain("connection: close");
      expect(JSON.parse(answer.body), path).toMatchObject({
        code: "request_timeout",
        message: matching(/300 ms/),
        details: { bodyReceiveMsMax: 300 },
      });
    }
    expect(s.api.metrics.render()).toMatch(
      /conclave_api_requests_total\{method="POST",route="\/v1\/transactions",status="408"\} 1/,
    );
    expect((await call(`${s.url}/v1/status`)).status).toBe(200);
    expect(internalErrors(s.logs)).toEqual([]);
  });
});

describe("guardian API: the WebSocket path", () => {
  let s: Started;
  beforeAll(async () => {
    s = await startApi();
  });
  afterAll(() => s.api.close());

  it("answers a plain GET of /v1/ws with 426 naming the upgrade, and documents it as the upgrade it is", async () => {
    const plain = await call(`${s.url}/v1/ws`);
    expect(plain).toMatchObject({
      status: 426,
      body: { code: "upgrade_required", message: matching(/WebSocket/) },
    });
    expect(plain.headers.get("upgrade")).toBe("websocket");
    const doc = s.api.openApiDocument() as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, unknown>; parameters: { name: string; in: string }[] }>
      >;
    };
    const ws = doc.paths["/v1/ws"]!["get"]!;
    expect(Object.keys(ws.responses).sort()).toEqual(["101", "426", "429", "500", "503"]);
    expect(ws.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "Upgrade", in: "header" }),
        expect.objectContaining({ name: "Connection", in: "header" }),
      ]),
    );
  });
});
