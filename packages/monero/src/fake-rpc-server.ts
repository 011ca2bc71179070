// A fake Monero RPC server on 127.0.0.1 for unit tests: answers each request with whatever the
// current handler writes, and records the request bodies.
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type FakeHandler = (body: string, req: IncomingMessage, res: ServerResponse) => void;

export interface FakeRpcServer {
  readonly url: string;
  /** Request bodies in arrival order. */
  readonly received: string[];
  handle(handler: FakeHandler): void;
  /** Drops open connections (a request left hanging by a test). */
  dropConnections(): void;
  close(): Promise<void>;
}

/** Answers every request with this JSON text and HTTP status. */
export function reply(json: string, status = 200): FakeHandler {
  return (_body, _req, res) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(json);
  };
}

/** Answers JSON-RPC requests by method: the map gives each method's `result`. */
export function jsonRpcResults(results: Record<string, string>): FakeHandler {
  return (body, _req, res) => {
    const { method } = JSON.parse(body) as { method: string };
    const result = results[method];
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      result === undefined
        ? `{"id":"0","jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"}}`
        : `{"id":"0","jsonrpc":"2.0","result":${result}}`,
    );
  };
}

export async function startFakeRpcServer(): Promise<FakeRpcServer> {
  let handler: FakeHandler = reply("{}");
  const received: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      received.push(body);
      handler(body, req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    handle: (h) => (handler = h),
    dropConnections: () => server.closeAllConnections(),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
