// The bridge and the monero module in one federation (`npm run sim -- --evm --monero`): bridge
// users fund their wXMR mints by XMR deposits claimed by proof (txid + tx key) through the real
// claim intake, and a burn to a Monero address of the federation's network is handed to the monero
// module's payout queue (core ModuleLinks) and paid from the simulated multisig wallet; the paid
// user then claims its payout (whose change the federation's address received) as a deposit. The
// checkers cover it: conservation counts the payouts the bridge asked for (money.ts); each burn
// accepted as a payout is one payout of the monero module under its ref, for its amount less the
// fee, and the bridge asked for no other (bridge.ts checkPayouts); every payout paid at most once
// on the chain and nothing the federation sent credited (monero.ts); what the federation owes in
// XMR is on the chain (monero.ts reservesOnChain). Notes bridge users (bridge-users.ts) go through
// all three modules: XMR deposit -> e-cash notes -> a mint output funded by the notes -> wXMR -> a
// burn to their claim key -> notes -> a Monero withdrawal; half of them spend the deposit's notes
// into the mint output and a withdrawal at once (exactly one accepted: bridge.ts finish), their
// wallets crash mid-operation and resume. And the deliberate bugs bridge-burn-paid-twice and
// mint-forgets-spent (the notes spent twice, into wXMR and XMR) are caught.
import { describe, expect, it } from "vitest";
import { runSimulationAsync } from "../simulator.js";
import type { SimOptions, SimResult } from "../simulator.js";
import { federationApplication } from "./app.js";
import type { BridgeBug } from "./bridge.js";
import type { ModuleBug } from "./setup.js";
import { MONERO_ITEM_BYTES_MAX } from "./monero.js";

/**
 * Per seed run: seed 5 (454 heights) took over 120 s of wall time at load 35 on the shared 2 cores
 * (a bound on waiting, not a timing assertion).
 */
const RUN_TIMEOUT_MS = 600_000;

function run(o: SimOptions, bridgeBug?: BridgeBug, bug?: ModuleBug): Promise<SimResult> {
  return runSimulationAsync({
    ...o,
    itemBytesMax: MONERO_ITEM_BYTES_MAX,
    application: federationApplication({
      evm: true,
      monero: true,
      ...(bridgeBug === undefined ? {} : { bridgeBug }),
      ...(bug === undefined ? {} : { bug }),
    }),
  });
}

/**
 * N = 4: seeds whose users burn to a Monero address (a third of the burns) and are paid, with one
 * Byzantine guardian (seed 5) and none (seed 1), and seed 2 (one Byzantine: XMR-funded mints,
 * a refund, a claim); seed 3 (one Byzantine): two notes users' double spends, one won by the mint
 * output and one by the withdrawal, and a whole XMR -> notes -> wXMR -> notes -> XMR path.
 */
const PLAN: SimOptions[] = [
  { seed: 1, nodes: 4, byzantine: 0 },
  { seed: 5, nodes: 4, byzantine: 1 },
  { seed: 2, nodes: 4, byzantine: 1 },
  { seed: 3, nodes: 4, byzantine: 1 },
];

describe("the bridge and the monero module in one federation", () => {
  const totals: Record<string, number> = {};
  let runs = 0;
  for (const o of PLAN)
    it(
      `finds no violation at seed ${o.seed} (N = ${o.nodes}, Byzantine ${o.byzantine})`,
      async () => {
        const r = await run(o);
        runs++;
        for (const [k, v] of Object.entries(r.application))
          totals[k] = k.endsWith("Max") ? Math.max(totals[k] ?? 0, v) : (totals[k] ?? 0) + v;
        expect(r.violations).toEqual([]);
      },
      RUN_TIMEOUT_MS,
    );

  it("minted XMR deposits to wXMR, paid burns in Monero, and refused the paid users' claims of their payouts", () => {
    expect(runs).toBe(PLAN.length);
    const at = (k: string): number => totals[k] ?? 0;
    console.log(`bridge + monero, ${PLAN.length} seeds: ${JSON.stringify(totals)}`);
    // Deposits by proof minted to wXMR, and minted on the chain.
    expect(at("evmXmrFunded")).toBeGreaterThanOrEqual(PLAN.length);
    expect(at("evmMinted")).toBeGreaterThan(0);
    // Burns paid in Monero (confirmed), each claimed back as a deposit by its user, never credited.
    expect(at("evmBurnsPaidXmr")).toBeGreaterThan(0);
    expect(at("evmPayoutClaims")).toBe(at("evmBurnsPaidXmr"));
    expect(at("xmrPayoutClaim_credited") + at("xmrPayoutClaim_spent")).toBe(0);
    // The monero world's own withdrawals ran beside them.
    expect(at("xmrPaid")).toBeGreaterThan(0);
  });

  it("took XMR into notes, notes into wXMR, wXMR back into notes and notes out as XMR; of each double spend of notes exactly one spend was accepted", () => {
    expect(runs).toBe(PLAN.length);
    const at = (k: string): number => totals[k] ?? 0;
    // Every notes user's deposit by proof became notes; notes funded mint outputs (mint inputs into
    // the bridge's output), burns to the claim key were claimed into notes and withdrawn as Monero.
    expect(at("evmNotesUsers")).toBeGreaterThanOrEqual(PLAN.length);
    expect(at("evmNotesIssued")).toBe(at("evmNotesUsers"));
    expect(at("evmNotesFunded")).toBeGreaterThan(0);
    expect(at("evmNotesClaimed")).toBeGreaterThan(0);
    expect(at("evmNotesWithdrawnXmr")).toBe(at("evmNotesClaimed"));
    // Every notes user's payout confirmed within the bound here (none excused as still being made).
    expect(at("evmNotesPayoutsPendingAtEnd")).toBe(0);
    // The double spends: each decided, one winner; both winners seen; the winning withdrawals paid.
    expect(at("evmNotesRaces")).toBeGreaterThan(0);
    expect(at("evmNotesRaceMintWon") + at("evmNotesRaceWithdrawWon")).toBe(at("evmNotesRaces"));
    expect(at("evmNotesRaceMintWon")).toBeGreaterThan(0);
    expect(at("evmNotesRaceWithdrawWon")).toBeGreaterThan(0);
    expect(at("evmNotesRacePaid")).toBe(at("evmNotesRaceWithdrawWon"));
    // Their wallets crashed mid-operation and resumed from their disk (the liveness checker: every
    // notes user and both its wallets settled).
    expect(at("evmNotesWalletCrashes")).toBeGreaterThan(0);
  });
});

// bridge-burn-paid-twice (bridge-byzantine.ts BurnPaidTwice, a wrapper): every burn to a Monero
// address is handed to the monero module's payout queue twice (its ref and a second ref). Caught by
// bridge.ts checkPayouts (a payout the bridge asked for no burn) and by conservation. Seeds-to-catch:
// the position of the first seed of PLAN that reports it.
describe("the deliberate bug of the two worlds together is caught (docs/simulator.md)", () => {
  it(
    "bridge-burn-paid-twice is caught",
    async () => {
      let found: { seed: number; position: number; violation: string } | undefined;
      for (const [i, o] of PLAN.entries()) {
        const r = await run(o, "bridge-burn-paid-twice");
        const v = r.violations.find((x) =>
          /for no burn it accepted as a payout .*: a burn paid twice/.test(x),
        );
        if (v !== undefined) {
          found = { seed: o.seed, position: i + 1, violation: v };
          break;
        }
      }
      expect(found, "bridge-burn-paid-twice not caught").toBeDefined();
      console.log(
        `bridge-burn-paid-twice: caught at seed ${found!.seed} (position ${found!.position}): ${found!.violation}`,
      );
    },
    RUN_TIMEOUT_MS,
  );

  // mint-forgets-spent (setup.ts: the mint accepts a note it already marked spent): a notes user's
  // double spend of one set of notes, into a mint output and into a withdrawal, is accepted twice:
  // wXMR and XMR for one value. Caught by the race checker (bridge.ts finish), beside money.ts's
  // "accepted note twice". Seeds-to-catch: the position of the first seed of PLAN with a double spend.
  it(
    "mint-forgets-spent lets a notes user's double spend into wXMR and XMR through, and is caught",
    async () => {
      let found: { seed: number; position: number; violation: string } | undefined;
      for (const [i, o] of PLAN.entries()) {
        const r = await run(o, undefined, "mint-forgets-spent");
        const v = r.violations.find((x) =>
          /one set of notes spent twice, into a mint output and into a withdrawal, both accepted/.test(x),
        );
        if (v !== undefined) {
          found = { seed: o.seed, position: i + 1, violation: v };
          break;
        }
      }
      expect(found, "mint-forgets-spent not caught by the notes race checker").toBeDefined();
      console.log(
        `mint-forgets-spent (notes race): caught at seed ${found!.seed} (position ${found!.position}): ${found!.violation}`,
      );
    },
    RUN_TIMEOUT_MS,
  );
});

// Seeds of the 20-seed sweep that failed on the simulator's own expectations (2026-12-07): 14 and 20,
// a notes user's wallet that took a guardian's deposit_not_credited or reserves_short refusal with
// the Byzantine guardian's spent_input as f + 1 rejections (wallets.ts NOT_YET); 11, a user whose burn
// is paid in Monero judged by the 60 s after the heal instead of the withdrawal bound (its payout
// queued behind two batches, submitted at 127 s: bridge-users.ts payoutPendingSince). Each failed
// before with 1 violation.
describe("seeds of the --evm --monero sweep", () => {
  for (const seed of [11, 14, 20])
    it(
      `finds no violation at seed ${seed} (N = 4, one Byzantine)`,
      async () => {
        const r = await run({ seed, nodes: 4, byzantine: 1 });
        expect(r.violations).toEqual([]);
        // The user paid in Monero at seed 11 got there (and tried the claim of its payout).
        if (seed === 11) expect(r.application["evmPayoutClaims"] ?? 0).toBeGreaterThan(0);
      },
      RUN_TIMEOUT_MS,
    );
});
