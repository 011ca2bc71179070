// goneEvidenceCounts: the one rule of which evidence counts toward a Gone vote (RpcPayoutWallet and
// the simulator's wallet model both use it; payout-gone-wallet.test.ts checks the real wallet's
// gathering of the facts).
import { describe, expect, it } from "vitest";
import { goneEvidenceCounts } from "./payout-gone-evidence.js";
import type { GoneEvidence } from "./payout-gone-evidence.js";

const KINDS: readonly GoneEvidence[] = ["no-output", "source-missing", "source-double-spent", "source-gone"];

describe("goneEvidenceCounts", () => {
  it("an agreed transaction: every kind of evidence counts", () => {
    expect(KINDS.filter((k) => goneEvidenceCounts(k, false))).toEqual(KINDS);
  });

  it("a completion voted before a txid is agreed: only the double-spent source (a chain fact), never a source merely detached or missing (review of 07aa630, finding 1)", () => {
    expect(KINDS.filter((k) => goneEvidenceCounts(k, true))).toEqual(["source-double-spent"]);
  });
});
