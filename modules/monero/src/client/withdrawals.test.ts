// How a withdrawal shows the guardians' refusal of its payout: in the words of the withdrawal, not
// of the transaction's output list (withdraw-regtest.test.ts sees it from real guardians).
import { describe, expect, it } from "vitest";
import { ConclaveError, TransactionRejectedError } from "@conclave/core-common";
import { payoutRefusal } from "./withdrawals.js";

// What the federation's processor sends for a refused output: the module's message behind
// "output <index>: ", the index in the details (core-server processor.ts, processOutputs).
const OWN_ADDRESS =
  "cannot pay 44AFFq5k…VNLGs: that is the federation's own deposit address (withdraw to a wallet of yours)";
const refused = (index: number) =>
  new TransactionRejectedError("invalid_address", `output ${index}: ${OWN_ADDRESS}`, {
    output: index,
    txid: "ab".repeat(32),
  });

describe("a refused payout", () => {
  it("names the payout, not its output index, and keeps the code and details", () => {
    const e = payoutRefusal(refused(3), 3);
    expect(e).toBeInstanceOf(TransactionRejectedError);
    const r = e as TransactionRejectedError;
    expect(r.message).toBe(
      `the guardians refused the payout: ${OWN_ADDRESS}; nothing was spent, the notes are in the wallet`,
    );
    expect(r.message).not.toMatch(/output \d/);
    expect(r.code).toBe("invalid_address");
    expect(r.details).toEqual({ output: 3, txid: "ab".repeat(32) });
  });

  it("leaves other errors alone: another output's refusal, one before the payout was planned, not a refusal", () => {
    const change = refused(1);
    expect(payoutRefusal(change, 3)).toBe(change);
    const early = refused(0);
    expect(payoutRefusal(early, -1)).toBe(early);
    const other = new ConclaveError("insufficient_funds", "the wallet holds 5");
    expect(payoutRefusal(other, 3)).toBe(other);
  });
});
