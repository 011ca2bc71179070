// A returned run leaves nothing of itself in the process (docs/simulator.md "Memory of the
// simulator process"): seeds are independent, so once a run has returned its result, its
// application (every simulated guardian's modules, the simulated chain, the checkers) is garbage.
// Found by heap snapshots: every MoneroServerModule started its monero-tx watch's real setInterval
// (tx-watch.ts), which nothing in a run stopped, so the timer list kept each module, and through
// it the whole run, for the rest of the process (25-55 MB a seed of the Monero worlds).
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { runSimulationAsync } from "../simulator.js";
import type { SimApplicationFactory } from "../application.js";
import { federationApplication } from "./app.js";
import type { FederationOptions } from "./app.js";
import { MONERO_ITEM_BYTES_MAX } from "./monero.js";

// A full collection on demand, in this test's process only (as node --expose-gc).
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Runs one seed; a weak reference to its application object (the whole simulated federation). */
async function runWeakly(seed: number, options: FederationOptions): Promise<WeakRef<object>> {
  let ref: WeakRef<object> | undefined;
  const factory = federationApplication(options);
  const application: SimApplicationFactory = (host) => {
    const app = factory(host);
    ref = new WeakRef(app);
    return app;
  };
  const r = await runSimulationAsync({
    seed,
    nodes: 4,
    byzantine: 1,
    itemBytesMax: MONERO_ITEM_BYTES_MAX,
    application,
  });
  expect(r.violations).toEqual([]);
  expect(r.application["xmrPaid"]).toBeGreaterThan(0);
  return ref!;
}

/** Collected: a WeakRef's target is kept to the end of the job that made it, so a turn first. */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  gc();
  return ref.deref() === undefined;
}

describe("a returned run is garbage", () => {
  // Seed 2, N = 4, one Byzantine guardian: honest monero modules (with crashes and restarts) and
  // a Byzantine payout participant's own module.
  it("the monero world: no module of the run is kept by a timer", async () => {
    const ref = await runWeakly(2, { monero: true });
    expect(await collected(ref)).toBe(true);
  }, 120_000);
});
