// The browser's own view of the federation: every guardian asked directly (HTTP for one-off
// answers, one WebSocket per guardian for its status, pushed by the guardian when it changes), never
// one guardian's word for another's. Nothing here polls: a guardian that goes down is retried with
// a growing delay (2 s doubling to 30 s).
import { federationIdOf } from "./federation-id.js";
import { thresholdOf } from "./format.js";
import type { Invite } from "./format.js";

export interface GuardianStatus {
  readonly guardian: number;
  readonly name: string;
  readonly height: number;
  readonly round: number;
  readonly sessionsSigned: number;
  readonly peersConnected: number;
  readonly peersTotal: number;
  readonly mempoolItems: number;
  readonly halted: string | null;
  readonly version: string;
  readonly alerts: readonly { module: string; instanceId: number; code: string; message: string }[];
}

export interface GuardianView {
  readonly index: number;
  readonly name: string;
  readonly url: string;
  /** connecting: no answer yet; up: its status stream is open; down: it is not answering. */
  readonly state: "connecting" | "up" | "down";
  readonly status?: GuardianStatus;
  /** The federation id it reports (GET /v1/federation). */
  readonly federationId?: string;
  /**
   * Whether the config it serves hashes to the federation id it reports (federation-id.ts), or why
   * it cannot be hashed.
   */
  readonly configHashes?: true | string;
  /** SHA-256 of the page it serves (GET /v1/web), or null when it serves none. */
  readonly pageSha256?: string | null;
  readonly error?: string;
  /** Status messages received, for the page's "live" indicator. */
  readonly updates: number;
}

export interface FederationInfo {
  readonly federationId: string;
  readonly name: string;
  readonly guardians: readonly { readonly name: string; readonly url: string }[];
  readonly threshold: number;
  /** Where the page learned the guardians from. */
  readonly source: string;
  /** The module kinds the federation runs, when the page read its config (an invite does not say). */
  readonly modules?: readonly string[];
}

const REQUEST_TIMEOUT_MS = 8_000;
const RETRY_FIRST_MS = 2_000;
const RETRY_MAX_MS = 30_000;

/** GET a guardian's JSON route; throws with the guardian's error message on a non-2xx answer. */
export async function getJson(base: string, path: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<unknown> {
  const r = await fetch(new URL(path, base), {
    signal: AbortSignal.timeout(timeoutMs),
    redirect: "error",
    cache: "no-store",
  });
  const body: unknown = await r.json().catch(() => undefined);
  if (!r.ok) {
    const message =
      typeof body === "object" && body !== null && "message" in body && typeof body.message === "string"
        ? body.message
        : `HTTP ${r.status}`;
    throw new HttpError(r.status, message);
  }
  return body;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** The federation as a guardian's GET /v1/federation describes it. */
export function federationFromConfig(view: unknown, source: string): FederationInfo {
  const v = record(view);
  const config = record(v?.["config"]);
  const guardians = config?.["guardians"];
  if (!v || typeof v["federationId"] !== "string" || !config || !Array.isArray(guardians))
    throw new Error("the answer is not a federation config");
  // The id names the config (its guardians' keys and modules): a config that hashes to another id
  // is not the federation it claims to be.
  const computed = federationIdOf(config);
  if (computed !== v["federationId"])
    throw new Error(
      `the guardian's config hashes to ${computed}, not to the federation id it states (${v["federationId"]})`,
    );
  const list = guardians.map((g, i) => {
    const r = record(g);
    const url = record(r?.["api"])?.["url"];
    if (typeof url !== "string") throw new Error(`guardian ${i} has no API URL in the config`);
    return { name: typeof r?.["name"] === "string" ? r["name"] : `guardian ${i}`, url };
  });
  const modules = Array.isArray(config["modules"])
    ? config["modules"].map((m) => record(m)?.["kind"]).filter((k): k is string => typeof k === "string")
    : undefined;
  return {
    federationId: v["federationId"],
    name: typeof config["name"] === "string" ? config["name"] : "federation",
    guardians: list,
    threshold: thresholdOf(list.length),
    source,
    ...(modules ? { modules } : {}),
  };
}

export function federationFromInvite(invite: Invite): FederationInfo {
  return {
    federationId: invite.federationId,
    name: invite.name,
    guardians: invite.guardians.map((g) => ({ name: g.name, url: g.api })),
    threshold: thresholdOf(invite.guardians.length),
    source: "the invite code",
  };
}

function wsUrl(base: string): string {
  const u = new URL("/v1/ws", base);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.toString();
}

function isStatus(v: unknown): v is GuardianStatus {
  const r = record(v);
  return !!r && typeof r["height"] === "number" && typeof r["version"] === "string";
}

/** Every guardian's live view; `onChange` runs after each change. `close()` ends every connection. */
export class FederationWatch {
  private readonly views: GuardianView[];
  private readonly sockets: (WebSocket | undefined)[];
  private readonly timers: (number | undefined)[];
  private readonly delays: number[];
  private closed = false;

  constructor(
    readonly federation: FederationInfo,
    private readonly onChange: () => void,
  ) {
    this.views = federation.guardians.map((g, index) => ({
      index,
      name: g.name,
      url: g.url,
      state: "connecting",
      updates: 0,
    }));
    this.sockets = federation.guardians.map(() => undefined);
    this.timers = federation.guardians.map(() => undefined);
    this.delays = federation.guardians.map(() => RETRY_FIRST_MS);
    for (let i = 0; i < this.views.length; i++) this.connect(i);
  }

  get guardians(): readonly GuardianView[] {
    return this.views;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) if (t !== undefined) clearTimeout(t);
    for (const s of this.sockets) s?.close();
  }

  private update(i: number, patch: Partial<GuardianView>): void {
    const old = this.views[i]!;
    this.views[i] = { ...old, ...patch };
    this.onChange();
  }

  private connect(i: number): void {
    if (this.closed) return;
    const url = this.views[i]!.url;
    let ws: WebSocket;
    try {
      ws = new WebSocket(wsUrl(url));
    } catch (e) {
      this.update(i, { state: "down", error: e instanceof Error ? e.message : String(e) });
      this.retry(i);
      return;
    }
    this.sockets[i] = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "subscribe-status" }));
      void this.fetchOnce(i);
    };
    ws.onmessage = (ev: MessageEvent) => {
      let msg: unknown;
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      const m = record(msg);
      if (m?.["type"] === "status" && isStatus(m["status"])) {
        this.delays[i] = RETRY_FIRST_MS;
        this.update(i, { state: "up", status: m["status"], updates: this.views[i]!.updates + 1 });
      } else if (m?.["type"] === "error" && typeof m["message"] === "string") {
        this.update(i, { error: m["message"] });
      }
    };
    ws.onclose = () => {
      if (this.sockets[i] !== ws) return;
      this.sockets[i] = undefined;
      if (this.closed) return;
      this.update(i, { state: "down", error: "its status stream closed or never opened" });
      this.retry(i);
    };
  }

  private retry(i: number): void {
    if (this.closed) return;
    const delay = this.delays[i]!;
    this.delays[i] = Math.min(delay * 2, RETRY_MAX_MS);
    this.timers[i] = window.setTimeout(() => this.connect(i), delay);
  }

  /** What does not change while a guardian runs: its federation id and its page's hash. */
  private async fetchOnce(i: number): Promise<void> {
    const url = this.views[i]!.url;
    try {
      const fed = record(await getJson(url, "/v1/federation"));
      if (typeof fed?.["federationId"] === "string") {
        let configHashes: true | string;
        try {
          const computed = federationIdOf(fed["config"]);
          configHashes = computed === fed["federationId"] ? true : `its config hashes to ${computed}`;
        } catch (e) {
          configHashes = e instanceof Error ? e.message : String(e);
        }
        this.update(i, { federationId: fed["federationId"], configHashes });
      }
    } catch (e) {
      this.update(i, { error: e instanceof Error ? e.message : String(e) });
    }
    try {
      const web = record(await getJson(url, "/v1/web"));
      this.update(i, { pageSha256: typeof web?.["sha256"] === "string" ? web["sha256"] : null });
    } catch (e) {
      if (e instanceof HttpError && e.status === 404) this.update(i, { pageSha256: null });
    }
  }
}

/**
 * Groups guardians by a value they report: one group means agreement. Guardians that report
 * nothing (down, or the value unknown) are left out.
 */
export function groupBy<T>(
  views: readonly GuardianView[],
  value: (v: GuardianView) => T | undefined,
): { value: T; guardians: number[] }[] {
  const groups: { value: T; key: string; guardians: number[] }[] = [];
  for (const v of views) {
    const x = value(v);
    if (x === undefined) continue;
    const key = JSON.stringify(x);
    const g = groups.find((gr) => gr.key === key);
    if (g) g.guardians.push(v.index);
    else groups.push({ value: x, key, guardians: [v.index] });
  }
  return groups
    .sort((a, b) => b.guardians.length - a.guardians.length)
    .map(({ value: val, guardians }) => ({ value: val, guardians }));
}

/** The height at least t guardians reached (the t-th highest of those up), or undefined. */
export function heightReachedBy(views: readonly GuardianView[], t: number): number | undefined {
  const heights = views
    .filter((v) => v.state === "up" && v.status)
    .map((v) => v.status!.height)
    .sort((a, b) => b - a);
  return heights.length >= t ? heights[t - 1] : undefined;
}
