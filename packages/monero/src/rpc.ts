// One HTTP transport for monerod and monero-wallet-rpc: JSON-RPC 2.0 at /json_rpc and monerod's
// "other" endpoints (/get_transactions, ...), with a time limit on every call, exact integers (see
// json.ts), every answer checked against a zod schema, and each failure mapped to one typed error.
import type { z } from "zod";
import {
  MoneroConnectionError,
  MoneroResponseError,
  MoneroRpcError,
  MoneroStatusError,
  MoneroTimeoutError,
} from "./errors.js";
import { parseJsonExact, stringifyJson } from "./json.js";
import type { JsonIn } from "./json.js";

export interface RpcClientOptions {
  /** Base URL, for example http://127.0.0.1:18081 (no trailing /json_rpc). */
  readonly url: string;
  /** Time limit of each call unless the call sets its own. Default 30 s. */
  readonly timeoutMs?: number;
  /** For tests: a fetch to use instead of the global one. */
  readonly fetch?: typeof fetch;
}

export interface CallOptions {
  readonly timeoutMs?: number;
}

/** An answer body larger than this is refused (a wallet's full transfer list stays far below). */
export const RESPONSE_BYTES_MAX = 64 * 1024 * 1024;

const DEFAULT_TIMEOUT_MS = 30_000;

const JsonRpcEnvelope = {
  isError(body: unknown): body is { error: { code: unknown; message: unknown } } {
    return typeof body === "object" && body !== null && "error" in body && typeof body.error === "object";
  },
  hasResult(body: unknown): body is { result: unknown } {
    return typeof body === "object" && body !== null && "result" in body;
  },
};

export class RpcTransport {
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: RpcClientOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** Calls a JSON-RPC method and returns its `result`, validated by `schema`. */
  async jsonRpc<S extends z.ZodType>(
    method: string,
    params: JsonIn,
    schema: S,
    options: CallOptions = {},
  ): Promise<z.output<S>> {
    const body = stringifyJson({ jsonrpc: "2.0", id: "0", method, params: params ?? {} });
    const answer = await this.post("/json_rpc", method, body, options);
    if (JsonRpcEnvelope.isError(answer)) {
      const { code, message } = answer.error;
      throw new MoneroRpcError({
        url: this.url,
        method,
        rpcCode: typeof code === "number" ? code : Number.NaN,
        rpcMessage: typeof message === "string" ? message : JSON.stringify(message),
      });
    }
    if (!JsonRpcEnvelope.hasResult(answer)) {
      throw new MoneroResponseError("neither result nor error in the JSON-RPC answer", {
        url: this.url,
        method,
      });
    }
    return this.validate(method, schema, answer.result);
  }

  /**
   * Calls one of monerod's non-JSON-RPC endpoints (path like "/get_transactions"). These report
   * failure in a `status` field rather than an error object: anything but "OK" throws
   * MoneroStatusError, with `reason` and the true boolean flags of the answer when there are some.
   */
  async other<S extends z.ZodType>(
    path: string,
    params: JsonIn,
    schema: S,
    options: CallOptions = {},
  ): Promise<z.output<S>> {
    const method = path.replace(/^\//, "");
    const answer = await this.post(path, method, stringifyJson(params ?? {}), options);
    if (typeof answer !== "object" || answer === null || !("status" in answer)) {
      throw new MoneroResponseError("no status in the answer", { url: this.url, method });
    }
    const record: Record<string, unknown> = { ...answer };
    const status = record.status;
    if (status !== "OK") {
      const reason = typeof record.reason === "string" ? record.reason : undefined;
      const flags = Object.entries(record)
        .filter(([k, v]) => v === true && k !== "untrusted")
        .map(([k]) => k);
      throw new MoneroStatusError({
        url: this.url,
        method,
        rpcStatus: typeof status === "string" ? status : JSON.stringify(status),
        ...(reason === undefined ? {} : { reason }),
        flags,
      });
    }
    return this.validate(method, schema, answer);
  }

  private validate<S extends z.ZodType>(method: string, schema: S, value: unknown): z.output<S> {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
      throw new MoneroResponseError(
        `unexpected answer shape (${issues.slice(0, 3).join("; ")})`,
        { url: this.url, method, issues },
        parsed.error,
      );
    }
    return parsed.data;
  }

  private async post(path: string, method: string, body: string, options: CallOptions): Promise<unknown> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const signal = AbortSignal.timeout(timeoutMs);
    let text: string;
    let httpStatus: number;
    try {
      const response = await this.fetchImpl(this.url + path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal,
      });
      httpStatus = response.status;
      const length = Number(response.headers.get("content-length") ?? "0");
      if (length > RESPONSE_BYTES_MAX) {
        await response.body?.cancel();
        throw new MoneroResponseError(`answer of ${length} bytes exceeds ${RESPONSE_BYTES_MAX}`, {
          url: this.url,
          method,
          httpStatus,
        });
      }
      text = await response.text();
    } catch (e) {
      throw this.mapFetchError(e, method, timeoutMs);
    }
    if (httpStatus !== 200) {
      throw new MoneroResponseError(
        `HTTP ${httpStatus}${httpStatus === 401 ? " (this server wants a login: --rpc-login)" : ""}${httpStatus === 404 ? " (no such endpoint)" : ""}`,
        { url: this.url, method, httpStatus },
      );
    }
    try {
      return parseJsonExact(text);
    } catch (e) {
      throw new MoneroResponseError(
        `answer is not JSON: ${JSON.stringify(text.slice(0, 80))}`,
        { url: this.url, method, httpStatus },
        e,
      );
    }
  }

  private mapFetchError(e: unknown, method: string, timeoutMs: number): Error {
    if (e instanceof MoneroResponseError) return e;
    if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) {
      return new MoneroTimeoutError({ url: this.url, method, timeoutMs }, e);
    }
    const errno = errnoOf(e);
    return new MoneroConnectionError({ url: this.url, method, ...(errno === undefined ? {} : { errno }) }, e);
  }
}

/** undici wraps the socket error: TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } }). */
function errnoOf(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur instanceof Error && depth < 4; cur = cur.cause, depth++) {
    if ("code" in cur && typeof cur.code === "string") return cur.code;
  }
  return undefined;
}
