// The notes bridge users under EVM reorgs deeper than the watchers' depth (`npm run sim --
// --evm-deep-reorg-notes`, evm-deep-reorg.ts with `notesUsers`): the --evm-deep-reorg world plus the
// notes users of --evm --monero (XMR -> notes -> wXMR -> notes -> XMR, half of them double-spending
// their notes into the mint output and a withdrawal at once), the deep reorgs aimed at their
// transactions first: a notes-funded mint taken out (and sent again), a burn already claimed into
// notes taken out (the burner holds its wXMR again beside its notes: the accountant halts the
// guardians whose node shows it), a notes user's burn moved up. Checked as in every --evm --monero
// run: no note spent twice, exactly one of a double spend's two spends accepted, each payout paid
// once and within the withdrawal bound, supply within the books (beyond the burns taken out),
// conservation and the audit.
import { describe, expect, it } from "vitest";
import { runSimulationAsync } from "../simulator.js";
import type { SimResult } from "../simulator.js";
import { federationApplication } from "./app.js";
import { MONERO_ITEM_BYTES_MAX } from "./monero.js";

/** Per seed run: a bound on waiting on the loaded 2 cores, not a timing assertion. */
const RUN_TIMEOUT_MS = 600_000;

function run(seed: number): Promise<SimResult> {
  return runSimulationAsync({
    seed,
    nodes: 4,
    byzantine: 1,
    itemBytesMax: MONERO_ITEM_BYTES_MAX,
    application: federationApplication({ evm: true, monero: true, evmDeepReorg: "notes" }),
  });
}

describe("notes bridge users under deep EVM reorgs (--evm-deep-reorg-notes)", () => {
  it(
    "seed 4: a burn claimed into notes is taken out of the chain (the guardians whose nodes show the wXMR back halt), a notes user's double spend won by its mint output",
    async () => {
      const r = await run(4);
      expect(r.violations).toEqual([]);
      const at = (k: string): number => r.application[k] ?? 0;
      expect(at("evmNotesClaimed")).toBeGreaterThan(0);
      expect(at("evmDeepNotesClaimedDropped")).toBe(1);
      expect(at("evmDeepHalts")).toBeGreaterThan(0);
      expect(at("evmNotesRaces")).toBeGreaterThan(0);
      console.log(`evm deep reorgs with notes users, seed 4: ${JSON.stringify(r.application)}`);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "seed 2: a notes-funded mint taken out and a notes user's claimed burn taken out; the other notes user's returned mint refunded into notes and withdrawn as Monero",
    async () => {
      const r = await run(2);
      expect(r.violations).toEqual([]);
      const at = (k: string): number => r.application[k] ?? 0;
      expect(at("evmDeepNotesMintsDropped")).toBe(1);
      expect(at("evmDeepNotesClaimedDropped")).toBe(1);
      expect(at("evmNotesWithdrawnXmr") + at("evmNotesRefundWithdrawnXmr")).toBeGreaterThan(0);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    // Seed 10 (seed 6 until wallets stopped crashing mid-operation after the heal, 2026-12-07).
    "seed 10: a notes-funded mint (its double spend won by the mint output) taken out and sent again by its wallet",
    async () => {
      const r = await run(10);
      expect(r.violations).toEqual([]);
      const at = (k: string): number => r.application[k] ?? 0;
      expect(at("evmDeepNotesMintsDropped")).toBe(1);
      expect(at("evmDeepMintsResent")).toBe(1);
      expect(at("evmNotesRaceMintWon")).toBeGreaterThan(0);
    },
    RUN_TIMEOUT_MS,
  );
});
