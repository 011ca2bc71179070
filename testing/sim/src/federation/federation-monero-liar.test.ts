// The whole federation with the monero module and XMR note users, one honest guardian of which has
// a monerod and wallet-rpc that lie (`--monero-lying-node`, federation/monero-liar.ts): a head far
// ahead or stuck, false fee estimates, phantom deposits by proof (claims an attacker posts at its
// API) and by subaddress, real deposits inflated or at a wrong depth, missing transfers, its own
// payouts denied, false reserves, garbage or refused payout steps, payouts reported mined when they
// are not or gone when they are mined, made-up spenders of the inputs, wrong tx keys. Its lies enter
// consensus only through the real module's code; the federation must treat it as one faulty
// guardian: every money checker of the monero world holds (no deposit credited unless really paid,
// no payout paid twice, assets >= liabilities, equal state hashes, withdrawals paid within the
// bound, agreed height and fee rate within the reports of the guardians whose nodes tell the truth).
import { describe, expect, it } from "vitest";
import { runSeed } from "../run-seed.js";
import type { SeedOptions } from "../run-seed.js";
import { runSimulationAsync } from "../simulator.js";
import { federationApplication } from "./app.js";
import { MONERO_ITEM_BYTES_MAX } from "./monero.js";

/**
 * N = 4 with no Byzantine guardian (the liar is the one fault f allows) and N = 7 with one (the
 * liar is the second). Seeds drawn so that every lie runs: 6 (payout steps lied about at a rate of
 * 0.6: garbage exports, refused imports, bad signatures, false submits, false refusals, spenders,
 * tx keys; phantom transfers), 7 (a stuck head, a refused create), 8 and 10 (phantom claims taken
 * into consensus, false submits), 12 (a head far ahead, false refusals), 19 (made-up spenders of a
 * payout's inputs); since the guardians import only the exports they can read (2026-12-07) the
 * worlds of these seeds changed, and 3 (transfers to a subaddress hidden) and 18 (refused creates)
 * joined; at N = 7: 1 and 2.
 */
const PLAN: SeedOptions[] = [
  ...[3, 6, 7, 8, 10, 12, 18, 19].map((seed) => ({ seed, nodes: 4, byzantine: 0 })),
  ...[1, 2].map((seed) => ({ seed, nodes: 7, byzantine: 1 })),
];

/** Every lie kind of monero-liar.ts, and what the users must still have done. */
const MUST_HAPPEN = [
  "xmrLiarHeadAhead",
  "xmrLiarHeadStuck",
  "xmrLiarFeeLies",
  "xmrLiarPhantomProofs",
  "xmrLiarPhantomClaimsTaken",
  "xmrLiarInflatedProofs",
  "xmrLiarWrongDepth",
  "xmrLiarPhantomTransfers",
  "xmrLiarInflatedTransfers",
  "xmrLiarMissingTransfers",
  "xmrLiarOwnDenied",
  "xmrLiarReservesLies",
  "xmrLiarGarbageExports",
  "xmrLiarRefusedImports",
  "xmrLiarRefusedCreates",
  "xmrLiarFalseRefusals",
  "xmrLiarBadSignatures",
  "xmrLiarFalseSubmits",
  "xmrLiarFalseMined",
  "xmrLiarFalseNotFound",
  "xmrLiarFalseGone",
  "xmrLiarFalseSpenders",
  "xmrLiarWrongTxKeys",
  "xmrLiarReservesChecks",
  "xmrCredited",
  "xmrPaid",
  "xmrSubCredited",
];

describe("the monero world with an honest guardian whose monerod and wallet-rpc lie", () => {
  const totals: Record<string, number> = {};
  let runs = 0;

  for (const o of PLAN)
    it(`finds no violation at seed ${o.seed} (N = ${o.nodes}, Byzantine ${o.byzantine})`, async () => {
      const r = await runSeed(o, "monero-lying-node");
      runs++;
      for (const [k, v] of Object.entries(r.application)) totals[k] = (totals[k] ?? 0) + v;
      expect(r.violations).toEqual([]);
      expect(r.application["xmrLiar"]).toBe(1);
    });

  it("ran every lie, and the users still deposited and were paid", () => {
    expect(runs).toBe(PLAN.length);
    console.log(`monero world with a lying node, ${runs} seeds: ${JSON.stringify(totals)}`);
    for (const k of MUST_HAPPEN) expect(totals[k] ?? 0, k).toBeGreaterThan(0);
    // The phantom claims its intake took into consensus are never credited (the deposit checker
    // says so too): open or expired at the end.
    expect((totals["xmrLiarPhantomClaim_credited"] ?? 0) + (totals["xmrLiarPhantomClaim_spent"] ?? 0)).toBe(
      0,
    );
    expect(totals["xmrLiarPhantomClaim_open"] ?? 0).toBeGreaterThan(0);
  });

  // Seed 37 (N = 4, no Byzantine; docs/simulator.md): the liar exports garbage in about half the
  // attempts. wallet-rpc's import takes the exports all or nothing, so every other participant's
  // import failed and the round's timeout blamed the honest guardian whose turn it was, never the
  // exporter: batch 1 still unpaid after 11 attempts (a liveness violation before). Each guardian now
  // imports only the exports it can read (payout-imports.ts importReadable).
  it("seed 37: a participant that exports garbage no longer holds the batch back (its export is skipped, it is passed over)", async () => {
    const r = await runSeed({ seed: 37, nodes: 4, byzantine: 0 }, "monero-lying-node");
    expect(r.violations).toEqual([]);
    expect(r.application["xmrLiarGarbageExports"] ?? 0).toBeGreaterThan(0);
    expect(r.application["xmrPaid"]).toBe(r.application["xmrWithdrawals"]);
  });

  it("draws no liar when the Byzantine guardians use up f (N = 4, one Byzantine)", async () => {
    const r = await runSeed({ seed: 1, nodes: 4, byzantine: 1 }, "monero-lying-node");
    expect(r.application["xmrLiar"] ?? 0).toBe(0);
    expect(r.violations).toEqual([]);
  });

  it("a deposit credited with one lying node's inflated amount is caught (deliberate bug monero-verdict-ignores-amount, seed 6, N = 4)", async () => {
    // Valid verdicts compared by their block alone: the liar's doubled amount, first in guardian
    // order, is credited with t - 1 honest verdicts of the real amount at the same height. The same
    // seed without the liar (--monero-notes) runs this bug with 0 violations: this world catches it.
    const r = await runSimulationAsync({
      seed: 6,
      nodes: 4,
      byzantine: 0,
      itemBytesMax: MONERO_ITEM_BYTES_MAX,
      application: federationApplication({
        monero: true,
        moneroNotes: true,
        moneroLyingNode: true,
        moneroBug: "monero-verdict-ignores-amount",
      }),
    });
    expect(r.violations.some((v) => /deposit \w+ index 0 credited \d+, the chain pays \d+/.test(v))).toBe(
      true,
    );
  });

  it("replays a seed exactly", async () => {
    const a = await runSeed({ seed: 8, nodes: 4, byzantine: 0 }, "monero-lying-node");
    const b = await runSeed({ seed: 8, nodes: 4, byzantine: 0 }, "monero-lying-node");
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.application).toEqual(a.application);
  });
});
