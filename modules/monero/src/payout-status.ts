// What a payout output's outcome shows whoever asks for it: GET payouts/:txid/:index and the
// outcomes of GET /v1/transactions/:txid. Both are keyed by the federation transaction id, which only
// the user who built the transaction holds (its 32-byte nonce makes it unguessable, and since the
// public no longer gets blocks, no public route names it). The answer is what that user needs to
// follow its withdrawal and prove it was paid: state, batch, signing progress, the Monero txid, the
// tx key, confirmations, the fee it paid. Not the destination address nor the amount: the user chose
// them, and a txid passed on (a support ticket, a log, a shared screen) must not tell a third party
// where the money went or how much (invariant 9). docs/monero.md, "What a payout's status shows".
import type { z } from "zod";
import { PayoutOutcomeSchema } from "./payout-common.js";
import type { PayoutOutcome } from "./payout-common.js";

export const PayoutStatusSchema = PayoutOutcomeSchema.omit({ address: true, amount: true });
export type PayoutStatus = z.infer<typeof PayoutStatusSchema>;

/** The guardian's record of a payout, as the caller may see it. */
export function payoutStatusOf(outcome: PayoutOutcome): PayoutStatus {
  const { address: _address, amount: _amount, ...status } = outcome;
  return status;
}
