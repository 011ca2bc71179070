// The whole federation with the monero module and XMR note users (xmr-notes.ts, the `moneroNotes`
// world, `npm run sim -- --monero-notes`): users ask for a deposit subaddress through an honest
// guardian's API, pay it on the simulated chain, and once the deposit is credited and spendable an
// e-cash wallet spends it into mint notes, which it then reissues, gives and turns into coins like
// any other notes. Byzantine guardians send false subaddress sightings (twice what the chain pays, t
// times in one bundle). The money checkers cover it: subaddress deposits credited only if really
// paid by someone else, at most what the chain pays, once (monero.ts afterBlock), and conservation
// (money.ts: the monero input is a deposit, the notes liabilities). And the deliberate bug
// monero-sighting-per-message is caught.
import { describe, expect, it } from "vitest";
import { runSimulationAsync } from "../simulator.js";
import type { SimOptions, SimResult } from "../simulator.js";
import { federationApplication } from "./app.js";
import { MONERO_ITEM_BYTES_MAX } from "./monero.js";
import type { MoneroBug } from "./monero.js";

function run(o: SimOptions, moneroBug?: MoneroBug): Promise<SimResult> {
  return runSimulationAsync({
    ...o,
    itemBytesMax: MONERO_ITEM_BYTES_MAX,
    application: federationApplication({
      monero: true,
      moneroNotes: true,
      ...(moneroBug === undefined ? {} : { moneroBug }),
    }),
  });
}

/** N = 4, one Byzantine guardian (seeds 1, 2) and none (seed 3). */
const PLAN: SimOptions[] = [
  { seed: 1, nodes: 4, byzantine: 1 },
  { seed: 2, nodes: 4, byzantine: 1 },
  { seed: 3, nodes: 4, byzantine: 0 },
];

describe("XMR deposits by subaddress into e-cash notes", () => {
  const totals: Record<string, number> = {};
  let runs = 0;
  for (const o of PLAN)
    it(`finds no violation at seed ${o.seed} (N = ${o.nodes}, Byzantine ${o.byzantine})`, async () => {
      const r = await run(o);
      runs++;
      for (const [k, v] of Object.entries(r.application))
        totals[k] = k.endsWith("Max") ? Math.max(totals[k] ?? 0, v) : (totals[k] ?? 0) + v;
      expect(r.violations).toEqual([]);
    });

  it("paid subaddresses, had the deposits credited, spent them into notes, and the Byzantine sightings were sent", () => {
    expect(runs).toBe(PLAN.length);
    const at = (k: string): number => totals[k] ?? 0;
    console.log(`XMR note users, ${PLAN.length} seeds: ${JSON.stringify(totals)}`);
    expect(at("xmrSubDeposits")).toBeGreaterThanOrEqual(PLAN.length);
    // Every note user finished (a liveness violation above otherwise): each credit went into notes.
    expect(at("xmrSubIntoNotes")).toBe(at("xmrSubDeposits"));
    expect(at("xmrSubCredited")).toBe(at("xmrSubDeposits"));
    expect(at("xmrByzFalseSightings")).toBeGreaterThan(0);
    expect(at("notesIssued")).toBeGreaterThan(0);
  });

  // monero-sighting-per-message (monero.ts PerMessageSightings, a wrapper): a guardian's repeated
  // subaddress sighting is booked as another guardian's, so a Byzantine sighting of twice the amount
  // sent t times credits the deposit at twice what the chain pays. Seeds-to-catch: the first seed
  // of PLAN with a Byzantine guardian that reports it.
  it("monero-sighting-per-message is caught by the deposit checker", async () => {
    let found: { seed: number; violation: string } | undefined;
    for (const o of PLAN.filter((p) => (p.byzantine ?? 0) > 0)) {
      const r = await run(o, "monero-sighting-per-message");
      const v = r.violations.find((x) => /credited \d+, the chain pays \d+/.test(x));
      if (v !== undefined) {
        found = { seed: o.seed, violation: v };
        break;
      }
    }
    expect(found, "monero-sighting-per-message not caught").toBeDefined();
    console.log(`monero-sighting-per-message: caught at seed ${found!.seed}: ${found!.violation}`);
  });
});
