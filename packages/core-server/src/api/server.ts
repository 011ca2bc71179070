// The guardian's client API: HTTP + JSON (hono on node:http), WebSocket status push (ws) on the
// same port, an OpenAPI document, Prometheus metrics. It validates and bounds every request and
// maps errors to HTTP in one place (onError); the GuardianBackend does the work.
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import type { Server } from "node:http";
import { getRequestListener } from "@hono/node-server";
import type { HttpBindings } from "@hono/node-server";
import { Hono } from "hono";
import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { matchedRoutes } from "hono/route";
import type { z } from "zod";
import {
  BACKUP_REQUEST_BYTES_MAX,
  BackupRecordSchema,
  ConclaveError,
  InvalidRequestError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
  UnavailableError,
  fromHex,
} from "@conclave/core-common";
import { parseAdminPasswordHash, verifyAdminPassword } from "./admin-password.js";
import type { AdminPasswordHash } from "./admin-password.js";
import type { GuardianBackend, TxStatusView } from "./backend.js";
import { ApiMetrics } from "./metrics.js";
import { buildOpenApiDocument, moduleOperationDoc } from "./openapi.js";
import type { OperationDoc } from "./openapi.js";
import { TokenBuckets, clientKey } from "./rate-limit.js";
import {
  BackupIdParamsSchema,
  ModuleParamsSchema,
  SessionIndexParamsSchema,
  SubmitTransactionRequestSchema,
  TxidParamsSchema,
  WaitQuerySchema,
  WsUpgradeHeadersSchema,
} from "./schemas.js";
import { RequestTimeoutError, readJsonBody } from "./request-body.js";
import { UpgradeRequiredError, WS_PATH, WsHub } from "./websocket.js";

export const API_VERSION = "1";

export interface ApiLimits {
  /** Largest request body; larger ones get 413 before they are read in full. */
  readonly requestBodyBytesMax: number;
  /**
   * Longest time a request body may take to arrive once its headers are in (a body shorter than its
   * Content-Length, or a trickle): then 408 and the connection is closed.
   */
  readonly bodyReceiveMsMax: number;
  /** Token bucket per client (IPv4 address or IPv6 /64): sustained rate... */
  readonly requestsPerSecondPerIpMax: number;
  /** ...and burst. WebSocket upgrades and messages draw from the same bucket. */
  readonly requestsBurstPerIpMax: number;
  /** Longest long-poll (GET /v1/transactions/:txid?wait=); longer waits are cut to this. */
  readonly waitTimeoutMsMax: number;
  /** Long-polls waiting at once, over all clients; beyond it, 503. */
  readonly waitsInFlightMax: number;
  /** Open TCP connections to the HTTP server (node:http maxConnections). */
  readonly httpConnectionsMax: number;
  readonly wsConnectionsMax: number;
  readonly wsConnectionsPerIpMax: number;
  readonly wsSubscriptionsPerConnectionMax: number;
  /** Largest WebSocket message a client may send; a larger one closes the connection (1009). */
  readonly wsMessageBytesMax: number;
  /** Bytes queued for a client that does not read; beyond it the connection is dropped. */
  readonly wsBufferedBytesMax: number;
  /** Admin password checks (scrypt) running at once; beyond it, 429. */
  readonly adminChecksInFlightMax: number;
  /**
   * Milliseconds per second that checking one client's transactions (POST /v1/transactions:
   * signatures, pairings) may hold the thread that also runs consensus, sustained (a share of that
   * thread's time: 50 is 5%)...
   */
  readonly verifyMsPerSecondPerIpMax: number;
  /** ...and burst. A client over its budget gets 429 before its body is read. */
  readonly verifyMsBurstPerIpMax: number;
  /**
   * The same over all clients together, so that many addresses cannot take the thread either:
   * beyond it, 503 for everyone until the budget refills; consensus keeps the rest.
   */
  readonly verifyMsPerSecondMax: number;
  readonly verifyMsBurstMax: number;
}

export const DEFAULT_API_LIMITS: ApiLimits = {
  requestBodyBytesMax: 128 * 1024,
  // 128 KiB (a backup's 175 KB) in 5 s is 35 KB/s at worst; an honest client sends its body right
  // behind its headers.
  bodyReceiveMsMax: 5_000,
  requestsPerSecondPerIpMax: 200,
  requestsBurstPerIpMax: 400,
  waitTimeoutMsMax: 60_000,
  waitsInFlightMax: 1024,
  httpConnectionsMax: 4096,
  wsConnectionsMax: 1024,
  wsConnectionsPerIpMax: 32,
  wsSubscriptionsPerConnectionMax: 128,
  wsMessageBytesMax: 4 * 1024,
  wsBufferedBytesMax: 1024 * 1024,
  adminChecksInFlightMax: 2,
  // An honest wallet's reissue of a few notes checks in a few ms: 50 ms/s is several a second, and a
  // burst of 500 ms takes a 200-note transaction at once. All clients together get at most half the
  // thread; the total burst is ten clients' bursts, so that one address's single slow check (its
  // burst plus one check) cannot put everyone else in debt.
  verifyMsPerSecondPerIpMax: 50,
  verifyMsBurstPerIpMax: 500,
  verifyMsPerSecondMax: 500,
  verifyMsBurstMax: 5000,
};

export type ApiLog = (event: string, fields: Record<string, unknown>) => void;

export interface ApiServerOptions {
  readonly backend: GuardianBackend;
  /** Bind address (only this one). */
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /**
   * The admin password's stored form, `$scrypt$ln=..,r=..,p=..$<salt>$<key>` (see
   * admin-password.ts, `hashAdminPassword`). Without it the admin routes answer 401.
   */
  readonly adminPasswordHash?: string;
  readonly limits?: Partial<ApiLimits>;
  readonly log?: ApiLog;
  /** Monotonic milliseconds, for the rate limiter (tests pass a fake one). */
  readonly clock?: () => number;
  /**
   * The web page (apps/web's build: one self-contained HTML file with its own content security
   * policy), served at / with its SHA-256 at /v1/web. Without it, / answers a plain-text index.
   */
  readonly webPage?: Uint8Array;
  /**
   * The wallet page (apps/web's second build, one HTML file like the first), served at /wallet with
   * its SHA-256 in /v1/web's `wallet`. A page of its own so that the status page stays small.
   */
  readonly walletPage?: Uint8Array;
}

/**
 * Headers for the page. Its own <meta> policy (hashes of its one script and one style, nothing
 * loaded from anywhere) is the strict one; this header adds what a <meta> policy cannot say
 * (frame-ancestors) and applies on top of it (a browser enforces both).
 */
export const WEB_PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": "frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
} as const;

/**
 * The origins the status page may connect to: its own ('self') and each guardian's API URL in the
 * federation config, as HTTP(S) and as WebSocket (a CSP source with the http: scheme does not cover
 * ws:). A URL that does not parse, or is not http(s), is left out (the page cannot reach it).
 */
export function guardianConnectSources(config: unknown): string[] {
  const guardians =
    typeof config === "object" && config !== null && "guardians" in config ? config.guardians : undefined;
  const out = new Set<string>(["'self'"]);
  if (!Array.isArray(guardians)) return [...out];
  for (const g of guardians as unknown[]) {
    const api = typeof g === "object" && g !== null && "api" in g ? g.api : undefined;
    const url = typeof api === "object" && api !== null && "url" in api ? api.url : undefined;
    if (typeof url !== "string") continue;
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      continue;
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") continue;
    out.add(u.origin);
    out.add(`${u.protocol === "https:" ? "wss:" : "ws:"}//${u.host}`);
  }
  return [...out];
}

/**
 * Headers for the status page served by a guardian: WEB_PAGE_HEADERS plus `connect-src` limited to
 * this federation's guardians. The page's own <meta> policy allows any http(s)/ws(s) origin (the same
 * file is hosted anywhere and learns the guardians at run time, so its bytes cannot name them); a
 * browser enforces both policies, so the page a guardian serves reaches only the guardians.
 */
export function statusPageHeaders(config: unknown): Record<string, string> {
  return {
    ...WEB_PAGE_HEADERS,
    "content-security-policy": `${WEB_PAGE_HEADERS["content-security-policy"]}; connect-src ${guardianConnectSources(config).join(" ")}`,
  };
}

type Env = { Bindings: HttpBindings };
type Ctx = Context<Env, string, object>;

interface RouteSpec extends OperationDoc {
  readonly handle: (c: Ctx) => Response | Promise<Response>;
}

const HEADERS_TIMEOUT_MS = 10_000;
/** Time to receive a whole request (headers and body); a long-poll's answer is not counted. */
const REQUEST_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const WS_HEARTBEAT_MS = 30_000;
const CLOSE_GRACE_MS = 2_000;

const INDEX_TEXT = `Conclave guardian API v${API_VERSION}

  GET  /openapi.json   every route, with request and response schemas (OpenAPI 3.1)
  GET  /v1/status      this guardian's status
  GET  /v1/audit       assets and liabilities of every module
  WS   ${WS_PATH}          transaction and status push
  GET  /metrics        Prometheus metrics
`;

function defaultLog(event: string, fields: Record<string, unknown>): void {
  console.error(JSON.stringify({ event, ...fields }));
}

/** JSON, with bigints as decimal strings (money is never a JSON number). */
function json(status: number, value: unknown, headers: Record<string, string> = {}): Response {
  const body = JSON.stringify(value ?? null, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  return new Response(body, {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues
    .slice(0, 10)
    .map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
  const first = issues[0];
  const at = first && first.path !== "" ? `${first.path}: ` : "";
  throw new InvalidRequestError(`invalid ${where}: ${at}${first?.message ?? "unexpected shape"}`, { issues });
}

function checkLimits(limits: ApiLimits): void {
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0)
      throw new TypeError(`API limit ${name} must be a positive number, got ${String(value)}`);
  }
}

function remoteAddress(c: Ctx): string | undefined {
  return c.env.incoming.socket?.remoteAddress;
}

/** The registered route pattern that answered, for metric labels (never the raw path). */
function routeLabel(c: Context): string {
  const routes = matchedRoutes(c).filter((r) => r.method !== "ALL");
  return routes.at(-1)?.path ?? "unmatched";
}

export class ApiServer {
  readonly metrics = new ApiMetrics();
  readonly limits: ApiLimits;
  private readonly app = new Hono<Env>();
  private readonly backend: GuardianBackend;
  private readonly buckets: TokenBuckets;
  /** Milliseconds of transaction checking per client, and over all clients (key ""). */
  private readonly verifyBudget: TokenBuckets;
  private readonly verifyBudgetTotal: TokenBuckets;
  private readonly clock: () => number;
  private readonly adminHash: AdminPasswordHash | undefined;
  private readonly log: ApiLog;
  private readonly routes: readonly RouteSpec[];
  private readonly moduleNames: ReadonlySet<string>;
  private readonly openApiText: string;
  private readonly web: { readonly bytes: Uint8Array; readonly sha256: string } | undefined;
  private readonly wallet: { readonly bytes: Uint8Array; readonly sha256: string } | undefined;
  private readonly waits = new Set<AbortController>();
  private adminChecksInFlight = 0;
  private shutdownStarted = false;
  /** Set by close(): answers carry Connection: close so that keep-alive connections end with them. */
  private closing = false;
  private server: Server | undefined;
  private hub: WsHub | undefined;

  constructor(private readonly options: ApiServerOptions) {
    this.backend = options.backend;
    this.limits = { ...DEFAULT_API_LIMITS, ...options.limits };
    checkLimits(this.limits);
    this.log = options.log ?? defaultLog;
    this.adminHash =
      options.adminPasswordHash === undefined ? undefined : parseAdminPasswordHash(options.adminPasswordHash);
    const clock = options.clock ?? (() => performance.now());
    this.clock = clock;
    this.buckets = new TokenBuckets({
      perSecond: this.limits.requestsPerSecondPerIpMax,
      burst: this.limits.requestsBurstPerIpMax,
      now: clock,
    });
    this.verifyBudget = new TokenBuckets({
      perSecond: this.limits.verifyMsPerSecondPerIpMax,
      burst: this.limits.verifyMsBurstPerIpMax,
      now: clock,
    });
    this.verifyBudgetTotal = new TokenBuckets({
      perSecond: this.limits.verifyMsPerSecondMax,
      burst: this.limits.verifyMsBurstMax,
      now: clock,
    });
    this.web =
      options.webPage === undefined
        ? undefined
        : { bytes: options.webPage, sha256: createHash("sha256").update(options.webPage).digest("hex") };
    this.wallet =
      options.walletPage === undefined
        ? undefined
        : {
            bytes: options.walletPage,
            sha256: createHash("sha256").update(options.walletPage).digest("hex"),
          };
    const modules = this.backend.modules();
    this.moduleNames = new Set(modules.map((m) => m.name));
    this.routes = [...this.coreRoutes(), ...this.moduleRoutes(modules)];
    this.openApiText = JSON.stringify(buildOpenApiDocument(this.routes, { version: API_VERSION }));
    this.configureApp();
  }

  /** SHA-256 (hex) of the web page served at /, if any. */
  get webPageSha256(): string | undefined {
    return this.web?.sha256;
  }

  /** The OpenAPI document served at /openapi.json. */
  openApiDocument(): unknown {
    return JSON.parse(this.openApiText);
  }

  async start(): Promise<{ url: string; port: number }> {
    if (this.server) throw new Error("the API server is already started");
    if (this.closing) throw new Error("a closed API server cannot be started again; make a new one");
    const listener = getRequestListener(this.app.fetch, {
      errorHandler: (e) => {
        this.logInternal(e, "listener");
        return json(500, { code: "internal", message: "internal error" });
      },
    });
    const server = createServer((request, response) => {
      listener(request, response).catch((e: unknown) => this.logInternal(e, "listener"));
    });
    server.headersTimeout = HEADERS_TIMEOUT_MS;
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.maxConnections = this.limits.httpConnectionsMax;
    const hub = new WsHub({
      backend: this.backend,
      limits: this.limits,
      metrics: this.metrics,
      rateLimit: (client) => this.buckets.take(client),
      log: this.log,
      heartbeatMs: WS_HEARTBEAT_MS,
    });
    server.on("upgrade", (request, socket, head: Buffer) => hub.handleUpgrade(request, socket, head));
    server.on("drop", () => this.metrics.rejected("httpConnectionsMax"));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(this.options.port, this.options.host, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (e) {
      await hub.close();
      throw e;
    }
    this.server = server;
    this.hub = hub;
    server.on("error", (e) => this.log("api.server_error", { error: e.message }));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("the API server has no TCP address");
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    this.log("api.listening", { url });
    return { url, port: address.port };
  }

  /** Stop accepting, answer pending long-polls with the current status, close WebSockets and connections. */
  async close(): Promise<void> {
    const { server, hub } = this;
    if (!server || !hub) return;
    this.server = undefined;
    this.hub = undefined;
    this.closing = true;
    for (const w of this.waits) w.abort();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await hub.close();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_GRACE_MS);
    });
    await Promise.race([closed, grace]);
    clearTimeout(timer);
    server.closeAllConnections();
    await closed;
  }

  // ---- routes ------------------------------------------------------------------------------------

  private coreRoutes(): RouteSpec[] {
    const b = this.backend;
    return [
      {
        method: "get",
        path: "/v1/federation",
        operationId: "getFederation",
        summary: "The public federation config and id, as clients join with",
        tag: "federation",
        responses: { 200: { description: "The federation.", content: "FederationView" } },
        handle: () => json(200, b.federation()),
      },
      {
        method: "get",
        path: "/v1/status",
        operationId: "getStatus",
        summary: "This guardian's status: height, peers, sessions, halted",
        tag: "federation",
        responses: { 200: { description: "The status.", content: "GuardianStatusView" } },
        handle: () => json(200, b.status()),
      },
      {
        method: "post",
        path: "/v1/transactions",
        operationId: "submitTransaction",
        summary: "Check a transaction against the current state and propose it to consensus",
        description:
          "Answers 202 with state proposed, or 200 with the final status if the transaction is already " +
          "known. Resubmitting is safe. A transaction that fails the check gets 422 with the module's code.",
        tag: "transactions",
        body: "SubmitTransactionRequest",
        responses: {
          200: { description: "Already final.", content: "TxStatusView" },
          202: { description: "Proposed to consensus.", content: "TxStatusView" },
          422: { description: "Refused; the code says why (spent_input, bad_signature, unbalanced...)." },
          429: {
            description: "This client's request rate or transaction-checking budget is used up; retry later.",
          },
          503: {
            description:
              "The guardian cannot take transactions now (halted, queue full, all clients' checking budget used up).",
          },
        },
        handle: async (c) => {
          const client = clientKey(remoteAddress(c));
          this.checkVerifyBudget(client); // before reading a body that would be refused anyway
          const raw = await readJsonBody(c.env.incoming, this.bodyLimits(this.limits.requestBodyBytesMax));
          // Again, now that other requests of this client may have been charged while its body was
          // read. From here to the charge the work is synchronous: for as long as it takes, nothing
          // else runs on this thread, consensus included. That elapsed time, not the CPU time, is
          // what is charged: on a busy machine it grows with what consensus loses.
          this.checkVerifyBudget(client);
          const started = this.clock();
          try {
            const body = parse(SubmitTransactionRequestSchema, raw, "request body");
            const status = b.submitTransaction(fromHex(body.transaction));
            return json(status.state === "proposed" ? 202 : 200, status);
          } finally {
            const spentMs = Math.max(0, this.clock() - started);
            this.verifyBudget.charge(client, spentMs);
            this.verifyBudgetTotal.charge("", spentMs);
          }
        },
      },
      {
        method: "get",
        path: "/v1/transactions/:txid",
        operationId: "getTransaction",
        summary: "A transaction's status; with ?wait=<ms>, wait for it to become final",
        tag: "transactions",
        params: TxidParamsSchema,
        query: WaitQuerySchema,
        responses: {
          200: { description: "The status (still proposed if the wait ran out).", content: "TxStatusView" },
          404: { description: "This guardian does not know the transaction." },
          503: { description: "Too many long-polls at once; retry, or poll without ?wait." },
        },
        handle: async (c) => {
          const { txid } = parse(TxidParamsSchema, c.req.param(), "path");
          const { wait } = parse(WaitQuerySchema, c.req.query(), "query");
          const status =
            wait === undefined || wait === 0 ? b.transactionStatus(txid) : await this.waitFor(c, txid, wait);
          if (!status) throw new NotFoundError(`this guardian does not know transaction ${txid}`);
          return json(200, status);
        },
      },
      {
        method: "post",
        path: "/v1/backups",
        operationId: "storeBackup",
        summary: "Store a client's encrypted backup (signed by its owner; a newer version replaces it)",
        description:
          "Outside consensus: each guardian keeps its own copy. The body is at most " +
          `${BACKUP_REQUEST_BYTES_MAX} bytes (the backup limit, not the API's general one).`,
        tag: "backups",
        body: "BackupRecord",
        responses: {
          200: { description: "Stored.", content: "BackupStored" },
          400: { description: "Malformed, or the signature does not verify." },
          409: { description: "This guardian holds the same or a newer version (stale_backup)." },
          429: { description: "This client's network added its quota of new backup keys today." },
          503: { description: "The guardian's backup storage is full of recently written backups." },
        },
        handle: async (c) => {
          const record = parse(
            BackupRecordSchema,
            await readJsonBody(c.env.incoming, this.bodyLimits(BACKUP_REQUEST_BYTES_MAX)),
            "request body",
          );
          return json(200, await b.storeBackup(record, clientKey(remoteAddress(c))));
        },
      },
      {
        method: "get",
        path: "/v1/backups/:id",
        operationId: "getBackup",
        summary: "A client's encrypted backup, by its id (the owner's public key)",
        tag: "backups",
        params: BackupIdParamsSchema,
        responses: {
          200: { description: "The stored backup.", content: "BackupRecord" },
          404: { description: "This guardian holds no backup with this id." },
        },
        handle: (c) => {
          const { id } = parse(BackupIdParamsSchema, c.req.param(), "path");
          const record = b.backup(id);
          if (!record) throw new NotFoundError(`this guardian holds no backup ${id}`);
          return json(200, record);
        },
      },
      {
        method: "get",
        path: "/v1/sessions/count",
        operationId: "getSessionCount",
        summary: "How many sessions this guardian has signed",
        tag: "sessions",
        responses: { 200: { description: "The count.", content: "SessionCount" } },
        handle: () => json(200, { count: b.sessionCount() }),
      },
      {
        method: "get",
        path: "/v1/sessions/:index",
        operationId: "getSession",
        summary:
          "A signed session's header (block ids, session hash) and its guardian signatures, to verify without trusting this guardian; never its blocks",
        tag: "sessions",
        params: SessionIndexParamsSchema,
        responses: {
          200: { description: "The session.", content: "SessionView" },
          404: { description: "Not signed yet." },
        },
        handle: (c) => {
          const { index } = parse(SessionIndexParamsSchema, c.req.param(), "path");
          const session = b.session(index);
          if (!session)
            throw new NotFoundError(`session ${index} is not signed yet (${b.sessionCount()} are)`, {
              sessions: b.sessionCount(),
            });
          // Field by field, so that nothing a backend adds to a session reaches the public.
          const { session: i, sessionHash, blockIds, signatures } = session;
          return json(200, { session: i, sessionHash, blockIds, signatures });
        },
      },
      {
        method: "get",
        path: "/v1/audit",
        operationId: "getPublicAudit",
        summary:
          "Assets and liabilities of every module, as this guardian's state has them after its last block: what the federation owes (e-cash outstanding, wXMR...) beside what backs it; public, for proof of reserves",
        tag: "federation",
        responses: { 200: { description: "The audit.", content: "AuditView" } },
        handle: () => json(200, b.audit()),
      },
      {
        method: "get",
        path: "/v1/web",
        operationId: "getWebPage",
        summary:
          "The SHA-256 and size of the web page this guardian serves at /: compare it across guardians and with your own build",
        tag: "meta",
        responses: {
          200: { description: "The page's hash.", content: "WebPageView" },
          404: { description: "This guardian serves no web page." },
        },
        handle: () => {
          if (!this.web) throw new NotFoundError("this guardian serves no web page (started without one)");
          return json(200, {
            sha256: this.web.sha256,
            bytes: this.web.bytes.length,
            ...(this.wallet
              ? { wallet: { sha256: this.wallet.sha256, bytes: this.wallet.bytes.length } }
              : {}),
          });
        },
      },
      {
        method: "get",
        path: "/v1/admin/status",
        operationId: "getAdminStatus",
        summary: "The guardian's status and the API's own (connections, limits)",
        tag: "admin",
        admin: true,
        responses: { 200: { description: "Status.", content: "AdminStatus" } },
        handle: () =>
          json(200, {
            guardian: b.status(),
            api: {
              websocketsOpen: this.metrics.websocketsOpen,
              websocketSubscriptions: this.metrics.websocketSubscriptions,
              waitsInFlight: this.waits.size,
              limits: this.limits,
            },
          }),
      },
      {
        method: "get",
        path: "/v1/admin/audit",
        operationId: "getAudit",
        summary: "Assets and liabilities of every module",
        tag: "admin",
        admin: true,
        responses: { 200: { description: "The audit.", content: "AuditView" } },
        handle: () => json(200, b.audit()),
      },
      {
        method: "post",
        path: "/v1/admin/shutdown",
        operationId: "shutdown",
        summary: "Shut the guardian down gracefully (after answering)",
        tag: "admin",
        admin: true,
        responses: { 202: { description: "Shutting down.", content: "ShutdownAccepted" } },
        handle: (c) => {
          // Shut down once the answer is out, so that the operator learns it was accepted.
          c.env.outgoing.once("close", () => this.startShutdown());
          return json(202, { shuttingDown: true });
        },
      },
      {
        method: "get",
        path: WS_PATH,
        operationId: "transactionStatusSocket",
        summary: "WebSocket: subscribe to transaction status changes",
        description:
          "A WebSocket upgrade (RFC 6455), not a plain GET: send Upgrade: websocket, then WsClientMessage " +
          "text frames; the server sends WsServerMessage frames: an acknowledgement, the current status " +
          "after subscribing (when known), every change. A GET without the upgrade gets 426.",
        tag: "transactions",
        headers: WsUpgradeHeadersSchema,
        responses: {
          101: { description: "Switching to the WebSocket protocol." },
          426: { description: "A plain GET: this path only upgrades to WebSocket (upgrade_required)." },
          503: { description: "Too many WebSocket connections." },
        },
        // Reached only without an Upgrade header: node hands upgrades to the WsHub ('upgrade' event).
        handle: () => {
          throw new UpgradeRequiredError();
        },
      },
      {
        method: "get",
        path: "/metrics",
        operationId: "getMetrics",
        summary: "Prometheus metrics: the guardian's and the API's own",
        tag: "meta",
        responses: { 200: { description: "Prometheus text exposition format.", content: "text" } },
        handle: () => {
          const guardian = b.metrics();
          const text =
            (guardian.endsWith("\n") || guardian === "" ? guardian : guardian + "\n") + this.metrics.render();
          return new Response(text, {
            headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
          });
        },
      },
      {
        method: "get",
        path: "/openapi.json",
        operationId: "getOpenApi",
        summary: "This document",
        tag: "meta",
        responses: { 200: { description: "OpenAPI 3.1.", content: "OpenApiDocument" } },
        handle: () =>
          new Response(this.openApiText, { headers: { "content-type": "application/json; charset=utf-8" } }),
      },
      {
        method: "get",
        path: "/",
        operationId: "getIndex",
        summary:
          "The web page (status, reserves, look-up) when the guardian serves one; else a short index pointing at /openapi.json",
        tag: "meta",
        responses: { 200: { description: "HTML (the page), or plain text (the index).", content: "text" } },
        handle: () =>
          this.web
            ? new Response(this.web.bytes, { headers: statusPageHeaders(this.backend.federation().config) })
            : new Response(INDEX_TEXT, { headers: { "content-type": "text/plain; charset=utf-8" } }),
      },
      {
        method: "get",
        path: "/wallet",
        operationId: "getWalletPage",
        summary:
          "The wallet page (join, balance, send and receive e-cash, deposit and withdraw; kept in the browser) when the guardian serves one",
        tag: "meta",
        responses: {
          200: { description: "HTML (the wallet page).", content: "text" },
          404: { description: "This guardian serves no wallet page." },
        },
        handle: () => {
          if (!this.wallet)
            throw new NotFoundError("this guardian serves no wallet page (started without one)");
          return new Response(this.wallet.bytes, { headers: WEB_PAGE_HEADERS });
        },
      },
    ];
  }

  private moduleRoutes(modules: ReturnType<GuardianBackend["modules"]>): RouteSpec[] {
    const routes: RouteSpec[] = [];
    for (const m of modules) {
      for (const [i, endpoint] of m.endpoints.entries()) {
        routes.push({
          ...moduleOperationDoc(m.name, endpoint, i),
          handle: async (c) => {
            const params = parse(ModuleParamsSchema, c.req.param(), "path");
            const body =
              endpoint.method === "POST"
                ? await readJsonBody(c.env.incoming, this.bodyLimits(this.limits.requestBodyBytesMax))
                : undefined;
            // A module endpoint validates its own body (the contract says so) and reads through a
            // read-only view; whatever it throws goes through onError like everything else.
            const client = clientKey(remoteAddress(c));
            const result: unknown = await Promise.resolve(
              endpoint.handle({ params, body, db: m.db(), client }),
            );
            return json(200, result);
          },
        });
      }
    }
    return routes;
  }

  // ---- behaviour shared by the routes -------------------------------------------------------------

  private async waitFor(c: Ctx, txid: string, waitMs: number): Promise<TxStatusView | undefined> {
    if (this.waits.size >= this.limits.waitsInFlightMax) {
      this.metrics.rejected("waitsInFlightMax");
      throw new UnavailableError("too many clients are waiting; retry, or poll without ?wait");
    }
    const controller = new AbortController();
    const request = c.req.raw.signal;
    const onClientGone = () => controller.abort();
    if (request.aborted) return this.backend.transactionStatus(txid);
    request.addEventListener("abort", onClientGone, { once: true });
    this.waits.add(controller);
    this.metrics.waitsInFlight = this.waits.size;
    try {
      return await this.backend.waitTransaction(
        txid,
        Math.min(waitMs, this.limits.waitTimeoutMsMax),
        controller.signal,
      );
    } catch (e) {
      // The client left, or the server is closing: whatever the backend does on abort, answer with
      // what is known now (nobody may be listening; nothing is logged as an error).
      if (controller.signal.aborted) return this.backend.transactionStatus(txid);
      throw e;
    } finally {
      request.removeEventListener("abort", onClientGone);
      this.waits.delete(controller);
      this.metrics.waitsInFlight = this.waits.size;
    }
  }

  private bodyLimits(bytesMax: number): { bytesMax: number; receiveMsMax: number } {
    return { bytesMax, receiveMsMax: this.limits.bodyReceiveMsMax };
  }

  /**
   * Before a transaction is read: refuses a client that used up its checking budget (429), or any
   * client while all clients together did (503). The cost is charged after the check, when known.
   */
  private checkVerifyBudget(client: string): void {
    const waitMs = this.verifyBudget.waitMs(client);
    if (waitMs > 0) {
      this.metrics.rejected("verifyMsPerSecondPerIpMax");
      throw new RateLimitedError(waitMs);
    }
    const totalWaitMs = this.verifyBudgetTotal.waitMs("");
    if (totalWaitMs > 0) {
      this.metrics.rejected("verifyMsPerSecondMax");
      throw new UnavailableError("this guardian is busy checking transactions; retry shortly", {
        retryAfterMs: totalWaitMs,
      });
    }
  }

  private startShutdown(): void {
    if (this.shutdownStarted) return;
    this.shutdownStarted = true;
    this.log("api.shutdown_requested", {});
    this.backend.shutdown().catch((e: unknown) => this.logInternal(e, "shutdown"));
  }

  private readonly requireAdmin: MiddlewareHandler<Env> = async (c, next) => {
    if (!this.adminHash)
      throw new UnauthorizedError(
        "the admin API is off: this guardian was started without an admin password",
      );
    const header = c.req.header("authorization");
    const match = header === undefined ? null : /^Bearer (.+)$/i.exec(header);
    if (!match) throw new UnauthorizedError();
    if (this.adminChecksInFlight >= this.limits.adminChecksInFlightMax) {
      this.metrics.rejected("adminChecksInFlightMax");
      throw new RateLimitedError(1000);
    }
    this.adminChecksInFlight++;
    let ok: boolean;
    try {
      ok = await verifyAdminPassword(match[1]!, this.adminHash);
    } finally {
      this.adminChecksInFlight--;
    }
    if (!ok) throw new UnauthorizedError("wrong admin password");
    await next();
  };

  private logInternal(e: unknown, where: string): void {
    this.log("api.internal_error", {
      where,
      error: e instanceof Error ? e.message : String(e),
      stack: e instanceof Error ? e.stack : undefined,
    });
  }

  /** The one place that maps errors to HTTP. `where` names the request, for the log. */
  private errorResponse(e: unknown, where: () => string): Response {
    if (e instanceof ConclaveError) {
      const headers: Record<string, string> = {};
      const retryAfterMs = e.details["retryAfterMs"];
      if (e instanceof RateLimitedError && typeof retryAfterMs === "number")
        headers["retry-after"] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
      if (e instanceof UnauthorizedError) headers["www-authenticate"] = 'Bearer realm="conclave-admin"';
      // The rest of the body may still come: the connection cannot carry another request.
      if (e instanceof RequestTimeoutError) headers["connection"] = "close";
      if (e instanceof UpgradeRequiredError) {
        headers["upgrade"] = "websocket";
        headers["connection"] = "upgrade";
      }
      return json(e.status, e.toBody(), headers);
    }
    if (e instanceof HTTPException && e.status < 500) {
      return json(e.status, { code: "invalid_request", message: e.message || "bad request" });
    }
    this.logInternal(e, where());
    return json(500, { code: "internal", message: "internal error" });
  }

  private configureApp(): void {
    const app = this.app;
    const countRequests: MiddlewareHandler<Env> = async (c, next) => {
      await next();
      this.metrics.request(routeLabel(c), c.req.method, c.res.status);
      if (this.closing) c.header("connection", "close");
    };
    const rateLimit: MiddlewareHandler<Env> = async (c, next) => {
      const waitMs = this.buckets.take(clientKey(remoteAddress(c)));
      if (waitMs > 0) {
        this.metrics.rejected("requestsPerSecondPerIpMax");
        throw new RateLimitedError(waitMs);
      }
      await next();
    };
    app.use(countRequests, rateLimit);
    // Browsers (the web page, the browser SDK) call guardians cross-origin. No cookies are used, so
    // allowing any origin gives a web page nothing a script could not already do. Not for admin.
    const publicCors: MiddlewareHandler<Env> = cors({
      origin: "*",
      allowMethods: ["GET", "POST"],
      allowHeaders: ["Content-Type"],
      maxAge: 600,
    });
    const corsUnlessAdmin: MiddlewareHandler<Env> = async (c, next) =>
      c.req.path.startsWith("/v1/admin/") ? next() : publicCors(c, next);
    app.use(corsUnlessAdmin);
    app.use("/v1/admin/*", this.requireAdmin);
    for (const r of this.routes) app.on(r.method.toUpperCase(), r.path, (c) => r.handle(c));
    app.notFound((c) => {
      const module = /^\/v1\/modules\/([^/]*)/.exec(c.req.path)?.[1];
      if (module !== undefined && !this.moduleNames.has(module)) {
        const known = [...this.moduleNames].join(", ") || "none";
        return this.errorResponse(
          new NotFoundError(`no module named "${module.slice(0, 64)}" (this federation runs: ${known})`),
          () => "notFound",
        );
      }
      return this.errorResponse(
        new NotFoundError(`no route ${c.req.method} ${c.req.path.slice(0, 200)}; see /openapi.json`),
        () => "notFound",
      );
    });
    app.onError((e, c) => this.errorResponse(e, () => `${c.req.method} ${routeLabel(c)}`));
  }
}
