// The heap of one process running seeds one after another, as a worker of parallel.ts does (the
// CLI's own entry, runSeed; N = 4, one Byzantine guardian, as `npm run sim -- --nodes 4
// --byzantine 1`): after each seed, two forced collections and the V8 heap in use; after the seeds
// listed, a heap snapshot to compare in Chrome DevTools (docs/simulator.md "Memory of the simulator
// process"). A returned seed should leave nothing behind but the bounded memo caches.
//   node --expose-gc --import tsx testing/sim/src/heap-probe.ts MODE SEEDS [SNAPSHOT_SEEDS [DIR]]
//   e.g. node --expose-gc --import tsx testing/sim/src/heap-probe.ts monero 20 5,20 /tmp
import { writeHeapSnapshot } from "node:v8";
import { SIM_MODES, runSeed } from "./run-seed.js";

const mode = SIM_MODES.find((m) => m === (process.argv[2] ?? "monero"));
if (mode === undefined) throw new Error(`MODE: one of ${SIM_MODES.join(", ")}`);
const seeds = Number(process.argv[3] ?? "10");
const snaps = new Set(
  (process.argv[4] ?? "")
    .split(",")
    .filter((s) => s !== "")
    .map(Number),
);
const dir = process.argv[5] ?? "/tmp";
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");
Error.stackTraceLimit = 0;
for (let seed = 1; seed <= seeds; seed++) {
  const r = await runSeed({ seed, nodes: 4, byzantine: 1 }, mode);
  await new Promise<void>((resolve) => setImmediate(resolve));
  gc();
  gc();
  const mb = process.memoryUsage().heapUsed / 1e6;
  console.log(
    `seed ${seed}: heights ${r.heights} violations ${r.violations.length} heap ${mb.toFixed(1)} MB`,
  );
  if (snaps.has(seed))
    console.log(`  snapshot ${writeHeapSnapshot(`${dir}/heap-${mode}-${seed}.heapsnapshot`)}`);
}
