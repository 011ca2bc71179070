// Transaction status push over WebSocket (`ws`, on the HTTP server's port, path /v1/ws).
//
// A client sends {"type":"subscribe","txid":"..."} and gets {"type":"subscribed"}, the current
// status when the guardian knows the transaction, then every status change. Subscribing to an
// unknown transaction is allowed (subscribe first, then submit: no change can be missed).
// {"type":"subscribe-status"} gets {"type":"status"} with the guardian's status now and after every
// change: one timer per hub computes the status once per `statusPushMs` while anyone listens and
// pushes it only when it changed, so a thousand open status pages cost one status() a second (the
// web page's live view; no client polls).
// Everything a client can drive is bounded: connections (total and per client), subscriptions per
// connection, message size, messages per second (the HTTP rate limit's bucket), and the bytes
// queued for a client that does not read (it is disconnected).
// A module may have a WebSocket endpoint of its own at /v1/modules/<name>/ws (the relay's watches):
// the same connection bounds, rate limit and keep-alive; the module sees parsed JSON messages only.
import { STATUS_CODES } from "node:http";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import type { RawData } from "ws";
import {
  ConclaveError,
  InvalidRequestError,
  NotFoundError,
  RateLimitedError,
  UnavailableError,
} from "@conclave/core-common";
import type { ModuleSocketHandler, ModuleSocketSession } from "../federation/module.js";
import type { GuardianBackend } from "./backend.js";
import type { ApiMetrics } from "./metrics.js";
import { clientKey } from "./rate-limit.js";
import { WsClientMessageSchema } from "./schemas.js";
import type { WsServerMessage } from "./schemas.js";

export const WS_PATH = "/v1/ws";

/** A plain request (no Upgrade: websocket) to the WebSocket path: 426, with Upgrade: websocket. */
export class UpgradeRequiredError extends ConclaveError {
  override readonly name = "UpgradeRequiredError";
  constructor() {
    super(
      "upgrade_required",
      `${WS_PATH} is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)`,
      { status: 426 },
    );
  }
}

export interface WsLimits {
  readonly wsConnectionsMax: number;
  readonly wsConnectionsPerIpMax: number;
  readonly wsSubscriptionsPerConnectionMax: number;
  readonly wsMessageBytesMax: number;
  readonly wsBufferedBytesMax: number;
}

export interface WsHubOptions {
  readonly backend: GuardianBackend;
  readonly limits: WsLimits;
  readonly metrics: ApiMetrics;
  /** Takes a token from the client's rate-limit bucket: 0 when allowed, else ms until one is free. */
  readonly rateLimit: (client: string) => number;
  readonly log: (event: string, fields: Record<string, unknown>) => void;
  /** How often to ping; a connection that did not answer the previous ping is dropped. */
  readonly heartbeatMs: number;
  /** How often the status is computed for status subscribers (pushed only when it changed). */
  readonly statusPushMs?: number;
}

interface Connection {
  readonly ws: WebSocket;
  readonly client: string;
  readonly subscriptions: Map<string, () => void>;
  /** Subscribed to the status push (counts as one subscription). */
  status: boolean;
  alive: boolean;
  /** A connection to a module's endpoint: its messages go to the module. */
  session?: ModuleSocketSession;
}

const MODULE_WS_PATH = /^\/v1\/modules\/([a-z0-9-]{1,32})\/ws$/;

const CLOSE_GOING_AWAY = 1001;
const CLOSE_GRACE_MS = 1000;
const STATUS_PUSH_MS = 1000;

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}

/** Answer an upgrade we refuse with a plain HTTP response (the socket is not HTTP-managed any more). */
function refuseUpgrade(socket: Duplex, error: ConclaveError, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(error.toBody());
  const head = [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? "Error"}`,
    "Connection: close",
    "Content-Type: application/json; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
}

export class WsHub {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private readonly perClient = new Map<string, number>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly statusSubscribers = new Set<Connection>();
  private statusTimer: NodeJS.Timeout | undefined;
  /** The status last pushed (JSON), to push only changes. */
  private lastStatus = "";
  private closing = false;
  private readonly moduleSockets: ReadonlyMap<string, ModuleSocketHandler>;

  constructor(private readonly options: WsHubOptions) {
    this.moduleSockets = new Map(
      options.backend.modules().flatMap((m) => (m.socket ? [[m.name, m.socket] as const] : [])),
    );
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.limits.wsMessageBytesMax,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs);
    this.heartbeat.unref();
  }

  get subscriptionCount(): number {
    let n = this.statusSubscribers.size;
    for (const c of this.connections) n += c.subscriptions.size;
    return n;
  }

  /** The HTTP server's 'upgrade' event. Never throws: a refused upgrade gets an HTTP error answer. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    const { metrics, limits } = this.options;
    const refuse = (error: ConclaveError, limit?: string, headers?: Record<string, string>) => {
      if (limit) metrics.rejected(limit);
      metrics.request(
        limit === undefined && error.status === 404 ? "unmatched" : WS_PATH,
        "GET",
        error.status,
      );
      refuseUpgrade(socket, error, headers);
    };
    try {
      const path = (request.url ?? "").split("?")[0] ?? "";
      const moduleName = MODULE_WS_PATH.exec(path)?.[1];
      const moduleSocket = moduleName === undefined ? undefined : this.moduleSockets.get(moduleName);
      if (path !== WS_PATH && !moduleSocket)
        return refuse(new NotFoundError(`no WebSocket endpoint at this path; use ${WS_PATH}`));
      if (request.headers.upgrade?.toLowerCase() !== "websocket")
        return refuse(new InvalidRequestError(`${path} only upgrades to WebSocket`));
      const client = clientKey(request.socket.remoteAddress);
      const waitMs = this.options.rateLimit(client);
      if (waitMs > 0)
        return refuse(new RateLimitedError(waitMs), "requestsPerSecondPerIpMax", {
          "Retry-After": String(Math.ceil(waitMs / 1000)),
        });
      if (this.closing) return refuse(new UnavailableError("the guardian API is shutting down"));
      if (this.connections.size >= limits.wsConnectionsMax)
        return refuse(
          new UnavailableError(
            "too many WebSocket connections to this guardian; retry later or use another guardian",
          ),
          "wsConnectionsMax",
        );
      if ((this.perClient.get(client) ?? 0) >= limits.wsConnectionsPerIpMax)
        return refuse(
          new UnavailableError(
            `at most ${limits.wsConnectionsPerIpMax} WebSocket connections per client; close one first`,
          ),
          "wsConnectionsPerIpMax",
        );
      // ws completes a valid handshake synchronously, so `accept` counts the connection before the
      // next upgrade is looked at; an invalid one is answered by ws and never counted.
      this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, client, moduleSocket));
    } catch (e) {
      this.options.log("api.ws_upgrade_failed", { error: e instanceof Error ? e.message : String(e) });
      socket.destroy();
    }
  }

  private accept(ws: WebSocket, client: string, moduleSocket?: ModuleSocketHandler): void {
    const conn: Connection = { ws, client, subscriptions: new Map(), status: false, alive: true };
    if (moduleSocket) {
      try {
        conn.session = moduleSocket.open({
          client,
          send: (message) => this.sendRaw(conn, message),
        });
      } catch (e) {
        this.options.log("api.internal_error", { where: "module socket open", error: String(e) });
        ws.terminate();
        return;
      }
    }
    this.connections.add(conn);
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
    this.options.metrics.websocketsOpen = this.connections.size;
    this.options.metrics.request(WS_PATH, "GET", 101);
    ws.on("pong", () => {
      conn.alive = true;
    });
    ws.on("message", (data, isBinary) => this.onMessage(conn, data, isBinary));
    ws.on("error", (error: Error & { code?: string }) => {
      if (error.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH")
        this.options.metrics.rejected("wsMessageBytesMax");
      this.options.log("api.ws_error", { client, error: error.message });
    });
    ws.on("close", () => this.onClose(conn));
    if (this.closing) ws.close(CLOSE_GOING_AWAY, "the guardian API is shutting down");
  }

  private onClose(conn: Connection): void {
    if (!this.connections.delete(conn)) return;
    if (conn.session) this.safely(() => conn.session?.close());
    for (const unsubscribe of conn.subscriptions.values()) this.safely(unsubscribe);
    conn.subscriptions.clear();
    this.unsubscribeStatus(conn);
    const n = (this.perClient.get(conn.client) ?? 1) - 1;
    if (n > 0) this.perClient.set(conn.client, n);
    else this.perClient.delete(conn.client);
    this.options.metrics.websocketsOpen = this.connections.size;
    this.options.metrics.websocketSubscriptions = this.subscriptionCount;
  }

  private onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    try {
      this.handleMessage(conn, data, isBinary);
    } catch (e) {
      this.answerError(conn, e);
    }
  }

  private answerError(conn: Connection, e: unknown): void {
    if (e instanceof ConclaveError) {
      this.send(conn, { type: "error", ...e.toBody() });
      return;
    }
    this.options.log("api.internal_error", {
      where: "websocket",
      error: e instanceof Error ? e.message : String(e),
      stack: e instanceof Error ? e.stack : undefined,
    });
    this.send(conn, { type: "error", code: "internal", message: "internal error" });
  }

  private handleMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    const waitMs = this.options.rateLimit(conn.client);
    if (waitMs > 0) {
      this.options.metrics.rejected("requestsPerSecondPerIpMax");
      throw new RateLimitedError(waitMs);
    }
    if (isBinary) throw new InvalidRequestError("send text frames of JSON, not binary frames");
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawText(data));
    } catch {
      throw new InvalidRequestError('a message is JSON: {"type":"subscribe","txid":"<64 hex>"}');
    }
    if (conn.session) {
      const pending = conn.session.message(parsed);
      if (pending) pending.catch((e: unknown) => this.answerError(conn, e));
      return;
    }
    const r = WsClientMessageSchema.safeParse(parsed);
    if (!r.success) {
      const issue = r.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ` : "";
      throw new InvalidRequestError(
        `invalid message: ${where}${issue?.message ?? "unexpected shape"} ` +
          '(expected {"type":"subscribe"|"unsubscribe","txid":"<64 lowercase hex>"} or {"type":"subscribe-status"})',
      );
    }
    if (r.data.type === "subscribe-status") return this.subscribeStatus(conn);
    if (r.data.type === "unsubscribe-status") {
      this.unsubscribeStatus(conn);
      this.send(conn, { type: "unsubscribed-status" });
      return;
    }
    const { txid } = r.data;
    if (r.data.type === "unsubscribe") {
      const unsubscribe = conn.subscriptions.get(txid);
      conn.subscriptions.delete(txid);
      if (unsubscribe) this.safely(unsubscribe);
      this.options.metrics.websocketSubscriptions = this.subscriptionCount;
      this.send(conn, { type: "unsubscribed", txid });
      return;
    }
    if (!conn.subscriptions.has(txid)) {
      this.checkSubscriptionRoom(conn);
      // Subscribe before reading the current status: a change in between is then pushed, not lost.
      const unsubscribe = this.options.backend.subscribeTransaction(txid, (status) =>
        this.send(conn, { type: "transaction", status }),
      );
      conn.subscriptions.set(txid, unsubscribe);
      this.options.metrics.websocketSubscriptions = this.subscriptionCount;
    }
    this.send(conn, { type: "subscribed", txid });
    const current = this.options.backend.transactionStatus(txid);
    if (current) this.send(conn, { type: "transaction", status: current });
  }

  private checkSubscriptionRoom(conn: Connection): void {
    const max = this.options.limits.wsSubscriptionsPerConnectionMax;
    if (conn.subscriptions.size + (conn.status ? 1 : 0) >= max) {
      this.options.metrics.rejected("wsSubscriptionsPerConnectionMax");
      throw new ConclaveError(
        "too_many_subscriptions",
        `at most ${max} subscriptions per connection; unsubscribe from finished transactions first`,
        { status: 429, details: { limit: max } },
      );
    }
  }

  private subscribeStatus(conn: Connection): void {
    if (!conn.status) {
      this.checkSubscriptionRoom(conn);
      conn.status = true;
      this.statusSubscribers.add(conn);
      this.options.metrics.websocketSubscriptions = this.subscriptionCount;
      if (!this.statusTimer && !this.closing) {
        this.statusTimer = setInterval(() => this.pushStatus(), this.options.statusPushMs ?? STATUS_PUSH_MS);
        this.statusTimer.unref();
      }
    }
    // The current status to this subscriber at once; later only changes, to everyone.
    this.send(conn, { type: "status", status: this.options.backend.status() });
  }

  private unsubscribeStatus(conn: Connection): void {
    if (!conn.status) return;
    conn.status = false;
    this.statusSubscribers.delete(conn);
    this.options.metrics.websocketSubscriptions = this.subscriptionCount;
    if (this.statusSubscribers.size === 0 && this.statusTimer) {
      clearInterval(this.statusTimer);
      this.statusTimer = undefined;
      this.lastStatus = "";
    }
  }

  private pushStatus(): void {
    try {
      const status = this.options.backend.status();
      const text = JSON.stringify(status);
      if (text === this.lastStatus) return;
      this.lastStatus = text;
      for (const conn of this.statusSubscribers) this.send(conn, { type: "status", status });
    } catch (e) {
      this.options.log("api.internal_error", {
        where: "status push",
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }

  private send(conn: Connection, message: WsServerMessage): void {
    this.sendRaw(conn, message);
  }

  private sendRaw(conn: Connection, message: Readonly<Record<string, unknown>>): void {
    const { ws } = conn;
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > this.options.limits.wsBufferedBytesMax) {
      this.options.metrics.rejected("wsBufferedBytesMax");
      this.options.log("api.ws_slow_consumer", { client: conn.client, bufferedBytes: ws.bufferedAmount });
      ws.terminate();
      return;
    }
    try {
      ws.send(JSON.stringify(message));
    } catch (e) {
      // Called from the backend's notification loop: a failing socket must not break it.
      this.options.log("api.ws_error", {
        client: conn.client,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }

  private safely(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.options.log("api.internal_error", {
        where: "unsubscribe",
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }

  private beat(): void {
    for (const conn of this.connections) {
      if (!conn.alive) {
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      try {
        conn.ws.ping();
      } catch {
        conn.ws.terminate();
      }
    }
  }

  /** Close every connection (1001, going away), dropping those that do not finish the handshake in time. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.statusTimer = undefined;
    const open = [...this.connections];
    const closed = open.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.ws.readyState === WebSocket.CLOSED) return resolve();
          c.ws.once("close", () => resolve());
          c.ws.close(CLOSE_GOING_AWAY, "the guardian API is shutting down");
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_GRACE_MS);
    });
    await Promise.race([Promise.all(closed), grace]);
    clearTimeout(timer);
    for (const c of open) c.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
