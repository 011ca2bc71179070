// TEST ONLY: small helpers for the API tests: JSON over fetch, and a WebSocket client (`ws`) whose
// messages can be awaited one by one.
import { once } from "node:events";
import { expect } from "vitest";
import WebSocket from "ws";

/** vitest's asymmetric matchers, typed `unknown` instead of `any`. */
export function matching(pattern: RegExp): unknown {
  return expect.stringMatching(pattern);
}
export const anyString: unknown = expect.any(String);

export interface JsonAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

/** Fetch and parse the answer as JSON (every API answer but /, /metrics is JSON). */
export async function call(url: string, init: RequestInit = {}): Promise<JsonAnswer> {
  const r = await fetch(url, init);
  const text = await r.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(
      `answer ${r.status} to ${init.method ?? "GET"} ${url} is not JSON: ${text.slice(0, 200)}`,
    );
  }
  return { status: r.status, headers: r.headers, body };
}

export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonAnswer> {
  return call(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export class TestSocket {
  private readonly queue: unknown[] = [];
  private readonly waiters: ((m: unknown) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => {
      const m: unknown = JSON.parse(data.toString("utf8"));
      const w = this.waiters.shift();
      if (w) w(m);
      else this.queue.push(m);
    });
    this.closed = new Promise((resolve) =>
      ws.once("close", (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })),
    );
  }

  static async open(url: string): Promise<TestSocket> {
    const ws = new WebSocket(url);
    const socket = new TestSocket(ws);
    await once(ws, "open");
    return socket;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** The next message from the server (waits for it). */
  next(): Promise<unknown> {
    const m = this.queue.shift();
    if (m !== undefined) return Promise.resolve(m);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }
}
