// TEST ONLY: a guardian that misbehaves as the last signer of a payout, so that tests with real
// guardian processes and real monerod can show what the payout rounds do about it (issue 10, items
// 2 and 3). It signs honestly up to the last signature, which completes the transaction; it keeps
// that completed set (and logs it, so a test can broadcast it later, as the attacker would) and then,
// by mode:
//   silent   proposes nothing (withholds the transaction),
//   accuse   proposes a Fault against the previous signer's set,
//   garbage  proposes bytes that are no transaction set as its final set.
// A module built with it is test-only (MoneroServerModule.testOnly): a production federation refuses
// to start it, as it refuses the dummy module (core-server guardian.ts).
import { toHex } from "@conclave/core-common";
import type { ByzantineLastSigner, PayoutResult } from "./payout-watcher.js";
import type { PayoutDuty } from "./payouts.js";

export const BYZANTINE_PAYOUT_MODES = ["silent", "accuse", "garbage"] as const;
export type ByzantinePayoutMode = (typeof BYZANTINE_PAYOUT_MODES)[number];

export class KeepingLastSigner implements ByzantineLastSigner {
  /** The completed sets it kept (hex), newest last. */
  readonly kept: string[] = [];

  constructor(readonly mode: ByzantinePayoutMode) {}

  lastSigned(
    duty: PayoutDuty,
    completed: string,
    log: (event: string, fields: Record<string, unknown>) => void,
  ): PayoutResult | undefined {
    this.kept.push(completed);
    if (duty.kind !== "sign") return undefined;
    log("byzantine_kept", { mode: this.mode, batch: duty.batch, attempt: duty.attempt, txset: completed });
    switch (this.mode) {
      case "silent":
        return undefined;
      case "accuse":
        return { kind: "fault", slot: duty.slot - 1 };
      case "garbage":
        return {
          kind: "blob",
          slot: duty.slot,
          blob: new TextEncoder().encode(`garbage ${toHex(new Uint8Array(4))}`),
        };
    }
  }
}
