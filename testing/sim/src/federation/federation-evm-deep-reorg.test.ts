// The bridge and the monero module in one federation, with EVM reorgs deeper than the watchers'
// depth (evm-deep-reorg.ts, `npm run sim -- --evm-deep-reorg`): a mint left out of a fork, an
// accepted burn (paid in Monero where one is) left out of a fork, and an accepted burn moved up to
// the fork's new head at another block and log index. What the product promises (docs/bridge.md,
// threat model 12e, 12zd): nothing for such a reorg, except the accountant's rule (a node showing
// more wXMR than Σ signed − Σ burned halts the guardian). Checked: no false violation for what the
// federation cannot prevent; no deposit id minted twice, no mint the federation never signed, no
// burn transaction accepted under two keys (seeds 8 and 9 did before the bridge refused a moved
// burn, burn_moved), each payout paid once; the guardians' supply figures are the chain's and every
// guardian whose node shows too much wXMR halts: the deliberate bug bridge-supply-check-never-halts
// (the accountant judging its supply check without the burns) is caught by that checker.
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
      evmDeepReorg: true,
      ...(bridgeBug === undefined ? {} : { bridgeBug }),
    }),
  });
}

/** The file's seeds in order (the tests below): seeds-to-catch is a position in it. */
const SEEDS = [15, 96, 5, 9];

describe("EVM reorgs deeper than the watchers' depth (evm-deep-reorg.ts)", () => {
  it(
    "seed 11: two XMR users' batch starts 24 s after the heal and its Byzantine last signer withholds its completion until the next attempt: paid within the withdrawal bound from acceptance (before: a liveness violation at the fixed 60 s after the heal)",
    async () => {
      const r = await run(11);
      expect(r.violations).toEqual([]);
      expect(r.application["xmrPaid"] ?? 0).toBeGreaterThanOrEqual(2);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "seed 16: an XMR user that asks a guardian not yet at its withdrawal's height ('unknown_payout') asks again (before: the exception ended the simulator process)",
    async () => {
      const r = await run(16);
      expect(r.violations).toEqual([]);
      expect(r.application["xmrPaid"] ?? 0).toBeGreaterThan(0);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "seed 15: a burn paid in Monero is taken out of the chain; the guardian whose node shows the wXMR back halts; a mint taken out; a burn moved",
    async () => {
      const r = await run(15);
      expect(r.violations).toEqual([]);
      const at = (k: string): number => r.application[k] ?? 0;
      expect(at("evmDeepBurnsDroppedPaid")).toBe(1);
      expect(at("evmDeepHalts")).toBeGreaterThan(0);
      expect(at("evmDeepMintsDropped")).toBe(1);
      expect(at("evmDeepBurnsMoved")).toBe(1);
      console.log(`evm deep reorgs, seed 15: ${JSON.stringify(r.application)}`);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "seed 96: a mint and an accepted burn of part of it both taken out, the mint then returned: the books go below zero (Σ signed − Σ burned = −261) and the guardians halt, the rule at work, not a violation (before: the checker could not read a negative figure and counted the halts as violations)",
    async () => {
      const r = await run(96);
      expect(r.violations).toEqual([]);
      const at = (k: string): number => r.application[k] ?? 0;
      expect(at("evmDeepBurnsDropped") + at("evmDeepBurnsDroppedPaid")).toBeGreaterThan(0);
      expect(at("evmDeepMintsDropped")).toBeGreaterThan(0);
      expect(at("evmDeepHalts")).toBeGreaterThan(0);
    },
    RUN_TIMEOUT_MS,
  );

  // Seeds 8 and 9 found the bug (burn_moved). Since wallets stopped crashing mid-operation after the
  // heal (2026-12-07) seed 8 moves no burn any more; seed 5 moves one, with the other figures below
  // (seeds 1..40 of this world: 0 violations; a burn moved with all of them in 5, 9, 16, 17, 38).
  for (const seed of [5, 9])
    it(
      `seed ${seed}: an accepted burn moved to another block and log index is not accepted again (before burn_moved: accepted twice)`,
      async () => {
        const r = await run(seed);
        expect(r.violations).toEqual([]);
        const at = (k: string): number => r.application[k] ?? 0;
        expect(at("evmDeepBurnsMoved")).toBe(1);
        expect(at("evmDeepBurnsDropped")).toBe(1);
        expect(at("evmDeepMintsDropped")).toBe(1);
        // The dropped mint's signatures were sent again before their deadline: minted once more.
        expect(at("evmDeepMintsResent")).toBe(1);
        expect(at("evmDeepMintsLost")).toBe(0);
      },
      RUN_TIMEOUT_MS,
    );

  it(
    "the deliberate bug bridge-supply-check-never-halts (the accountant judges its supply check against Σ signed alone) is caught: a guardian whose node shows the wXMR of a burn taken out keeps signing",
    async () => {
      let found: { seed: number; position: number; violation: string } | undefined;
      for (const [i, seed] of SEEDS.entries()) {
        const r = await run(seed, "bridge-supply-check-never-halts");
        const v = r.violations.find((x) =>
          /its supply check \(wXMR supply \d+ after EVM block \d+, Σ burned \d+ then\) was judged without a halt/.test(
            x,
          ),
        );
        if (v !== undefined) {
          found = { seed, position: i + 1, violation: v };
          // The halt the real rule makes (the seed's test above: evmDeepHalts > 0) never came.
          expect(r.application["evmDeepHalts"] ?? 0).toBe(0);
          break;
        }
      }
      expect(found, "bridge-supply-check-never-halts not caught").toBeDefined();
      console.log(
        `bridge-supply-check-never-halts: caught at seed ${found!.seed} (position ${found!.position}): ${found!.violation}`,
      );
    },
    RUN_TIMEOUT_MS * SEEDS.length,
  );

  it(
    "a replay gives the same trace and figures",
    async () => {
      const [a, b] = [await run(9), await run(9)];
      expect(a.traceHash).toBe(b.traceHash);
      expect(a.application).toEqual(b.application);
    },
    RUN_TIMEOUT_MS * 2,
  );
});
