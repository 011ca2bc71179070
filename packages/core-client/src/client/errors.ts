// The client's error: one ConclaveError subclass for what the client core and every client half
// refuse (a stable code, a message a user can act on, an HTTP-like status), so that the CLI and
// the web page handle one error family. Guardian refusals keep the core's own classes
// (TransactionRejectedError, NoQuorumError). Its class name is the wallet's (WalletError): the one
// the wallet has always thrown; ClientError is the same class.
import { ConclaveError } from "@conclave/core-common";

export class WalletError extends ConclaveError {
  override readonly name = "WalletError";

  constructor(
    code: string,
    message: string,
    details: Record<string, unknown> = {},
    options: { readonly status?: number; readonly cause?: unknown } = {},
  ) {
    super(code, message, { status: options.status ?? 400, details, cause: options.cause });
  }
}

export { WalletError as ClientError };

/** A half's error constructor over its own codes and their statuses. */
export function clientErrors<C extends string>(
  statuses: Readonly<Record<C, number>>,
): (code: C, message: string, details?: Record<string, unknown>) => WalletError {
  return (code, message, details = {}) => new WalletError(code, message, details, { status: statuses[code] });
}

/** A broken invariant of the client itself (never the user's or a guardian's fault): crash loudly. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`wallet invariant broken: ${message}`);
}
