// The wallet's own errors: one ConclaveError subclass with the stable codes of types.ts, so the
// CLI and the web page handle one error family (guardian refusals keep the core's own classes).
import { ConclaveError } from "@conclave/core-common";
import type { WalletErrorCode } from "./types.js";

const STATUS: Record<WalletErrorCode, number> = {
  malformed_notes: 400,
  wrong_federation: 400,
  invalid_note: 400,
  insufficient_funds: 400,
  invalid_amount: 400,
  invalid_mnemonic: 400,
  already_joined: 409,
  not_joined: 404,
  unknown_spend: 404,
  not_dev_federation: 400,
  backup_unavailable: 404,
  no_monero_module: 400,
  unknown_address: 404,
  invalid_deposit_proof: 400,
  deposit_claimed: 409,
  deposit_rejected: 422,
  deposit_timeout: 504,
  claim_not_taken: 503,
  unknown_guardian: 400,
  unknown_claim: 404,
  invalid_address: 400,
  fee_rate_unknown: 503,
  withdraw_timeout: 504,
};

export class WalletError extends ConclaveError {
  override readonly name = "WalletError";
  declare readonly code: WalletErrorCode;

  constructor(
    code: WalletErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    cause?: unknown,
  ) {
    super(code, message, { status: STATUS[code], details, cause });
  }
}

/** A broken invariant of the wallet itself (never the user's or a guardian's fault): crash loudly. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`wallet invariant broken: ${message}`);
}
