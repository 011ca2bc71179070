// One error base for the SDK and the HTTP API (as viem's BaseError): a short message a user can act
// on, a stable machine-readable code, details, and the cause. The API maps `status` to the HTTP
// status code in one place; the client SDK rebuilds the same classes from the JSON body.

export interface ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export class ConclaveError extends Error {
  override readonly name: string = "ConclaveError";
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    options: { status?: number; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? 400;
    this.details = options.details ?? {};
  }

  toBody(): ErrorBody {
    return Object.keys(this.details).length > 0
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }
}

/** The request itself is malformed (bad JSON, wrong types, too large): fix the request. */
export class InvalidRequestError extends ConclaveError {
  override readonly name = "InvalidRequestError";
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("invalid_request", message, { status: 400, details });
  }
}

export class NotFoundError extends ConclaveError {
  override readonly name = "NotFoundError";
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("not_found", message, { status: 404, details });
  }
}

export class UnauthorizedError extends ConclaveError {
  override readonly name = "UnauthorizedError";
  constructor(message = "this endpoint needs the guardian's admin password (Authorization: Bearer ...)") {
    super("unauthorized", message, { status: 401 });
  }
}

export class RateLimitedError extends ConclaveError {
  override readonly name = "RateLimitedError";
  constructor(retryAfterMs: number) {
    super("rate_limited", `too many requests; retry in ${Math.ceil(retryAfterMs / 1000)} s`, {
      status: 429,
      details: { retryAfterMs },
    });
  }
}

export class PayloadTooLargeError extends ConclaveError {
  override readonly name = "PayloadTooLargeError";
  constructor(limitBytes: number) {
    super("payload_too_large", `request body exceeds ${limitBytes} bytes`, {
      status: 413,
      details: { limitBytes },
    });
  }
}

/** The guardian cannot take this now (halted, shutting down, queue full): retry later or elsewhere. */
export class UnavailableError extends ConclaveError {
  override readonly name = "UnavailableError";
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("unavailable", message, { status: 503, details });
  }
}

/** A transaction was refused: the code says why (spent input, bad signature, unbalanced...). */
export class TransactionRejectedError extends ConclaveError {
  override readonly name = "TransactionRejectedError";
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, message, { status: 422, details });
  }
}
