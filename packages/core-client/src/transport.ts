// HTTP to one guardian, with the platform's fetch (Node 20+ and browsers alike): a timeout per
// attempt, bounded retries with exponential backoff and jitter for what may pass (network errors,
// timeouts, 5xx, 429) and never for what will not (other 4xx), answers read up to a size limit and
// validated with zod, and error bodies rebuilt into the ConclaveError subclass the guardian threw.
import type { z } from "zod";
import { ConclaveError, utf8 } from "@conclave/core-common";
import { BadResponseError, GuardianUnreachableError, RequestAbortedError, errorFromBody } from "./errors.js";
import { clientLimits } from "./limits.js";
import type { TransportLimits } from "./limits.js";
import { ErrorBodySchema } from "./wire.js";

export type FetchFn = typeof fetch;

export interface GuardianHttpOptions {
  readonly limits?: Partial<TransportLimits>;
  /** Defaults to the global fetch. */
  readonly fetch?: FetchFn;
  /** Uniform in [0, 1), for backoff jitter; tests pass a fixed one. */
  readonly random?: () => number;
}

export interface RequestOptions {
  /** Aborts the request and any retry still to come. */
  readonly signal?: AbortSignal;
  /** Overrides requestTimeoutMs for this request (a long-poll needs its wait plus a margin). */
  readonly timeoutMs?: number;
  /** Overrides responseBytesMax for this request (signed sessions are larger). */
  readonly responseBytesMax?: number;
}

/** What one attempt produced: an HTTP answer (any status), or a failure to get one. */
type Attempt =
  | {
      readonly kind: "answer";
      readonly status: number;
      readonly body: Uint8Array;
      readonly retryAfterMs?: number;
    }
  | { readonly kind: "failed"; readonly reason: string; readonly cause: unknown };

class ResponseTooLarge extends Error {}

/** Resolves after `ms`, or as soon as the signal aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Exponential backoff with "equal jitter": half fixed, half random, so clients do not retry in step. */
export function backoffMs(retry: number, limits: TransportLimits, random: () => number): number {
  const ceiling = Math.min(limits.backoffMaxMs, limits.backoffBaseMs * 2 ** Math.min(retry, 30));
  return ceiling / 2 + (random() * ceiling) / 2;
}

function retryable(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Retry-After in seconds (the guardian's form), in ms; absent or unreadable: undefined. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^[0-9]{1,6}$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}

async function readCapped(response: Response, bytesMax: number): Promise<Uint8Array> {
  const declared = response.headers.get("content-length");
  if (declared !== null && Number(declared) > bytesMax) {
    await response.body?.cancel();
    throw new ResponseTooLarge();
  }
  if (!response.body) return new Uint8Array();
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > bytesMax) {
      await reader.cancel();
      throw new ResponseTooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

function parseJson(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(utf8.decode(bytes)) };
  } catch {
    return { ok: false };
  }
}

/** One guardian's API, at `baseUrl` (e.g. https://guardian.example:8174, no trailing path needed). */
export class GuardianHttp {
  readonly baseUrl: string;
  readonly limits: TransportLimits;
  private readonly fetchFn: FetchFn;
  private readonly random: () => number;

  constructor(baseUrl: string, options: GuardianHttpOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.limits = clientLimits(options.limits);
    // Called as a plain function: browsers refuse fetch called as a method of another object.
    const f = options.fetch ?? globalThis.fetch;
    this.fetchFn = (input, init) => f(input, init);
    this.random = options.random ?? Math.random;
  }

  get<S extends z.ZodType>(path: string, schema: S, options: RequestOptions = {}): Promise<z.output<S>> {
    return this.request("GET", path, undefined, schema, options);
  }

  /** POST with a JSON body. Only for idempotent routes: a retry sends the same body again. */
  post<S extends z.ZodType>(
    path: string,
    body: unknown,
    schema: S,
    options: RequestOptions = {},
  ): Promise<z.output<S>> {
    return this.request("POST", path, JSON.stringify(body), schema, options);
  }

  private async request<S extends z.ZodType>(
    method: "GET" | "POST",
    path: string,
    body: string | undefined,
    schema: S,
    options: RequestOptions,
  ): Promise<z.output<S>> {
    if (!path.startsWith("/"))
      throw new TypeError(`a request path starts with "/", got ${path.slice(0, 64)}`);
    const url = this.baseUrl + path;
    const what = `${method} ${url}`;
    let lastFailure = "no attempt made";
    let lastCause: unknown;
    let lastError: ConclaveError | undefined;
    let askedWaitMs: number | undefined;
    for (let attempt = 0; attempt <= this.limits.retriesMax; attempt++) {
      if (attempt > 0) await sleep(this.backoffFor(attempt - 1, askedWaitMs), options.signal);
      if (options.signal?.aborted) throw new RequestAbortedError(what);
      const result = await this.attempt(method, url, body, options);
      if (result.kind === "failed") {
        lastFailure = result.reason;
        lastCause = result.cause;
        lastError = undefined;
        askedWaitMs = undefined;
        continue;
      }
      if (result.status >= 200 && result.status < 300) return this.decode(url, result.body, schema);
      const error = this.errorOf(url, result);
      if (!retryable(result.status)) throw error;
      lastError = error;
      const inBody = error.details["retryAfterMs"];
      askedWaitMs = result.retryAfterMs ?? (typeof inBody === "number" ? inBody : undefined);
    }
    if (lastError) throw lastError;
    throw new GuardianUnreachableError(this.baseUrl, lastFailure, this.limits.retriesMax + 1, lastCause);
  }

  private backoffFor(retry: number, askedWaitMs: number | undefined): number {
    const base = backoffMs(retry, this.limits, this.random);
    // A guardian that says when to come back (429, or Retry-After) is believed, within bounds.
    return askedWaitMs !== undefined && Number.isFinite(askedWaitMs)
      ? Math.min(this.limits.backoffMaxMs, Math.max(base, askedWaitMs))
      : base;
  }

  private async attempt(
    method: "GET" | "POST",
    url: string,
    body: string | undefined,
    options: RequestOptions,
  ): Promise<Attempt> {
    const timeoutMs = options.timeoutMs ?? this.limits.requestTimeoutMs;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const response = await this.fetchFn(url, {
        method,
        headers: body === undefined ? { accept: "application/json" } : { "content-type": "application/json" },
        ...(body === undefined ? {} : { body }),
        signal: controller.signal,
        // A redirect could send this guardian's request to another guardian, whose answer would
        // then count twice towards t; guardians never redirect.
        redirect: "error",
      });
      const bytes = await readCapped(response, options.responseBytesMax ?? this.limits.responseBytesMax);
      const after = retryAfterMs(response.headers.get("retry-after"));
      return after === undefined
        ? { kind: "answer", status: response.status, body: bytes }
        : { kind: "answer", status: response.status, body: bytes, retryAfterMs: after };
    } catch (e) {
      if (options.signal?.aborted) throw new RequestAbortedError(`${method} ${url}`);
      if (e instanceof ResponseTooLarge) {
        throw new BadResponseError(
          this.baseUrl,
          `the answer exceeds ${options.responseBytesMax ?? this.limits.responseBytesMax} bytes`,
        );
      }
      const reason = timedOut
        ? `no answer within ${timeoutMs} ms`
        : e instanceof Error
          ? e.message
          : String(e);
      return { kind: "failed", reason, cause: e };
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  private decode<S extends z.ZodType>(url: string, body: Uint8Array, schema: S): z.output<S> {
    const json = parseJson(body);
    if (!json.ok) throw new BadResponseError(this.baseUrl, `the answer to ${url} is not JSON`);
    const parsed = schema.safeParse(json.value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const at = issue && issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ` : "";
      throw new BadResponseError(
        this.baseUrl,
        `unexpected answer to ${url}: ${at}${issue?.message ?? "wrong shape"}`,
      );
    }
    return parsed.data;
  }

  private errorOf(url: string, answer: Extract<Attempt, { kind: "answer" }>): ConclaveError {
    const json = parseJson(answer.body);
    const parsed = json.ok ? ErrorBodySchema.safeParse(json.value) : undefined;
    if (!parsed?.success) {
      return new ConclaveError(
        `http_${answer.status}`,
        `guardian ${this.baseUrl} answered ${url} with HTTP ${answer.status} and no error body`,
        { status: answer.status },
      );
    }
    return errorFromBody(parsed.data, answer.status);
  }
}
