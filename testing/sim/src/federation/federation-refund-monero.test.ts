// Deposit-funded mints refunded in Monero (`npm run sim -- --evm-monero-refund`, refund-users.ts):
// the --evm --monero world plus users who pay the federation an XMR deposit, claim it by proof and
// spend it into a 0x03 output ("wXMR to <address>", a refund key and a Monero refund address), and
// never use the mint or race a late use of it against the refund (sent with t signatures when the
// EVM head is within a drawn window of the deadline: minted in time, or Expired). Checked: a refund
// paid exactly once on the Monero chain, to its address, for the mint less the payout fee, within
// the withdrawal bound; a mint used on the chain never paid back (at every block, bridge.ts
// afterBlock, and by its user at the end); the refund key's input 0x02 refused after the refund in
// Monero; conservation and the audit across the modules. Deliberate bugs (docs/simulator.md):
// bridge-refund-keeps-signed (the refund leaves the mint in Σ signed) and bridge-refund-first-vote
// (one "unused" vote pays the refund).
import { describe, expect, it } from "vitest";
import { runSimulationAsync } from "../simulator.js";
import type { SimResult } from "../simulator.js";
import { federationApplication } from "./app.js";
import type { BridgeBug } from "./bridge.js";
import { MONERO_ITEM_BYTES_MAX } from "./monero.js";

/** Per seed run: a bound on waiting on the loaded 2 cores, not a timing assertion. */
const RUN_TIMEOUT_MS = 600_000;

function run(seed: number, bridgeBug?: BridgeBug): Promise<SimResult> {
  return runSimulationAsync({
    seed,
    nodes: 4,
    byzantine: 1,
    itemBytesMax: MONERO_ITEM_BYTES_MAX,
    application: federationApplication({
      evm: true,
      monero: true,
      evmRefundUsers: true,
      ...(bridgeBug === undefined ? {} : { bridgeBug }),
    }),
  });
}

/**
 * N = 4, one Byzantine: seed 1 (a late use refused Expired and refunded), seed 2 (a late use minted
 * in time; a batch topped up from the fee fund, and a burn's payout confirmed without a tx key: paid
 * by a completion the Byzantine signer kept; before the fee top-up it was seed 2 that had a late use
 * refused Expired), seed 5 (both late uses minted: never refunded), seed 8 (two mints left unused,
 * both refunded), seed 19 (the first batch's transaction, 7 inputs, costs 6,188 piconero against its
 * payouts' 6,000: topped up from the fee fund; failed before, 6 liveness violations: the batch never
 * created).
 */
const SEEDS = [1, 2, 5, 8, 19];

describe("deposit-funded mints refunded in Monero (0x03, --evm-monero-refund)", () => {
  const totals: Record<string, number> = {};
  let runs = 0;
  for (const seed of SEEDS)
    it(
      `finds no violation at seed ${seed}`,
      async () => {
        const r = await run(seed);
        runs++;
        for (const [k, v] of Object.entries(r.application)) totals[k] = (totals[k] ?? 0) + v;
        expect(r.violations).toEqual([]);
      },
      RUN_TIMEOUT_MS,
    );

  it("paid each unused mint back once in Monero, never one used on the chain, and refused the second refund", () => {
    expect(runs).toBe(SEEDS.length);
    const at = (k: string): number => totals[k] ?? 0;
    console.log(`refunds in Monero, seeds ${SEEDS.join(", ")}: ${JSON.stringify(totals)}`);
    expect(at("evmRefundXmrOutputs")).toBeGreaterThanOrEqual(SEEDS.length);
    // Paid out (t unused votes), confirmed on the Monero chain and checked there, none still pending.
    expect(at("evmRefundXmrPaidOut")).toBeGreaterThan(0);
    expect(at("evmRefundXmrConfirmed")).toBe(at("evmRefundXmrPaidOut"));
    expect(at("evmRefundXmrPendingAtEnd")).toBe(0);
    // The refund key's input 0x02 tried after each refund in Monero, and refused each time.
    expect(at("evmRefundXmrSecondRefused")).toBe(at("evmRefundXmrPaidOut"));
    // The race: late uses minted in time (never refunded) and late uses refused Expired (refunded).
    expect(at("evmRefundXmrLateMinted")).toBeGreaterThan(0);
    expect(at("evmRefundXmrLateExpired")).toBeGreaterThan(0);
    // Seed 19: a batch costing more than its payouts' fees, paid with a top-up from the fee fund.
    expect(at("xmrFeeTopUps")).toBeGreaterThan(0);
  });
});

describe("the deliberate bugs of the refund in Monero are caught (docs/simulator.md)", () => {
  const search = async (bug: BridgeBug, pattern: RegExp) => {
    for (const [i, seed] of SEEDS.entries()) {
      const r = await run(seed, bug);
      const v = r.violations.find((x) => pattern.test(x));
      if (v !== undefined) return { seed, position: i + 1, violation: v };
    }
    return undefined;
  };

  it(
    "bridge-refund-keeps-signed (the refund in Monero leaves the mint in Σ signed) is caught by conservation",
    async () => {
      const found = await search("bridge-refund-keeps-signed", /liabilities/);
      expect(found, "bridge-refund-keeps-signed not caught").toBeDefined();
      console.log(
        `bridge-refund-keeps-signed: caught at seed ${found!.seed} (position ${found!.position}): ${found!.violation}`,
      );
    },
    RUN_TIMEOUT_MS * SEEDS.length,
  );

  it(
    "bridge-refund-first-vote (one unused vote pays the refund) is caught: a mint minted on the chain paid back",
    async () => {
      const found = await search("bridge-refund-first-vote", /paid_out and its deposit id is used|paid back/);
      expect(found, "bridge-refund-first-vote not caught").toBeDefined();
      console.log(
        `bridge-refund-first-vote: caught at seed ${found!.seed} (position ${found!.position}): ${found!.violation}`,
      );
    },
    RUN_TIMEOUT_MS * SEEDS.length,
  );
});
