// Errors the client raises itself, and the rebuilding of a guardian's JSON error body into the
// same ConclaveError subclass the guardian threw (same code, message and details), so callers
// handle one error family whether a check failed locally or on a guardian.
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

/** A guardian could not be reached or did not answer in time, after every retry. */
export class GuardianUnreachableError extends ConclaveError {
  override readonly name = "GuardianUnreachableError";
  constructor(url: string, reason: string, attempts: number, cause?: unknown) {
    super("unreachable", `guardian ${url} is unreachable (${reason}, ${attempts} attempts)`, {
      status: 503,
      details: { url, attempts },
      cause,
    });
  }
}

/** A guardian answered something that is not the API: bad JSON, wrong shape, too large, wrong id. */
export class BadResponseError extends ConclaveError {
  override readonly name = "BadResponseError";
  constructor(url: string, problem: string) {
    super("bad_response", `guardian ${url} gave an invalid answer: ${problem}`, {
      status: 502,
      details: { url },
    });
  }
}

/** The caller aborted the request (its AbortSignal fired). */
export class RequestAbortedError extends ConclaveError {
  override readonly name = "RequestAbortedError";
  constructor(what: string) {
    super("aborted", `${what} was aborted`, { status: 499 });
  }
}

/** What one guardian said, for error messages and details. */
export interface AnswerSummary {
  readonly guardian: number;
  readonly url: string;
  readonly answer: string;
}

function listAnswers(answers: readonly AnswerSummary[]): string {
  return answers.map((a) => `guardian ${a.guardian} (${a.url}): ${a.answer}`).join("; ");
}

/** Fewer than t guardians gave one same answer: the client cannot tell what the federation says. */
export class NoQuorumError extends ConclaveError {
  override readonly name = "NoQuorumError";
  readonly answers: readonly AnswerSummary[];
  constructor(what: string, threshold: number, answers: readonly AnswerSummary[]) {
    super(
      "no_quorum",
      `${what}: fewer than ${threshold} guardians gave the same answer; ` +
        `check your connection or try again later. Answers: ${listAnswers(answers)}`,
      { status: 502, details: { threshold, answers } },
    );
    this.answers = answers;
  }
}

/** No guardian served the federation the invite names: a wrong or tampered invite, or all liars. */
export class FederationMismatchError extends ConclaveError {
  override readonly name = "FederationMismatchError";
  readonly answers: readonly AnswerSummary[];
  constructor(federationId: string, answers: readonly AnswerSummary[]) {
    super(
      "federation_mismatch",
      `no guardian served the federation config with id ${federationId} that the invite names; ` +
        `check the invite code with whoever gave it to you. Answers: ${listAnswers(answers)}`,
      { status: 502, details: { federationId, answers } },
    );
    this.answers = answers;
  }
}

/** No guardian served a session that verifies (t signatures over the session's header). */
export class SessionUnavailableError extends ConclaveError {
  override readonly name = "SessionUnavailableError";
  readonly answers: readonly AnswerSummary[];
  constructor(index: number, answers: readonly AnswerSummary[]) {
    super(
      "session_unavailable",
      `no guardian served a verifiable session ${index}; it may not be signed yet. ` +
        `Answers: ${listAnswers(answers)}`,
      { status: 502, details: { session: index, answers } },
    );
    this.answers = answers;
  }
}

/**
 * The error a guardian meant, rebuilt from its JSON body: the subclass whose code and HTTP status
 * both match (a body that names a known code with another status stays a plain ConclaveError).
 */
export function errorFromBody(body: ErrorBody, status: number): ConclaveError {
  const details = body.details ?? {};
  const known = rebuildKnown(body, details);
  if (known && known.status === status) return known;
  if (status === 422) return new TransactionRejectedError(body.code, body.message, details);
  return new ConclaveError(body.code, body.message, { status, details });
}

function rebuildKnown(body: ErrorBody, details: Record<string, unknown>): ConclaveError | undefined {
  switch (body.code) {
    case "invalid_request":
      return new InvalidRequestError(body.message, details);
    case "not_found":
      return new NotFoundError(body.message, details);
    case "unauthorized":
      return new UnauthorizedError(body.message);
    case "unavailable":
      return new UnavailableError(body.message, details);
    case "rate_limited": {
      const retryAfterMs = details["retryAfterMs"];
      return new RateLimitedError(typeof retryAfterMs === "number" ? retryAfterMs : 1000);
    }
    case "payload_too_large": {
      const limitBytes = details["limitBytes"];
      return typeof limitBytes === "number" ? new PayloadTooLargeError(limitBytes) : undefined;
    }
    default:
      return undefined;
  }
}

/** Any thrown value as a ConclaveError (a non-Conclave error is a bug or a platform failure). */
export function asConclaveError(e: unknown): ConclaveError {
  if (e instanceof ConclaveError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new ConclaveError("client_error", message, { status: 500, cause: e });
}

/** One line for an error in a per-guardian summary. */
export function describeError(e: ConclaveError): string {
  return `${e.code}: ${e.message}`;
}
