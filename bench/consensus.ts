// npm run bench:consensus — real guardian processes on 127.0.0.1 (TLS links, LMDB, fsync'd
// commits), not the simulator. Prints commit latency p50/p99 and items per second for N = 4, 7,
// 10, 16, with batches of one item and of many items, then the simulator's speed.
//
//   npm run bench:consensus [-- --sizes 4,7 --seconds 5]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startGuardian, stopGuardian, waitConnected, writeLocalFederation } from "@conclave/guardiand";
import type { GuardianProcess, StatusReply } from "@conclave/guardiand";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "4,7,10,16" },
    seconds: { type: "string", default: "5" },
    probes: { type: "string", default: "200" },
    "item-bytes": { type: "string", default: "100" },
    durability: { type: "string", default: "fsync,os-buffered" },
  },
});
const sizes = values.sizes.split(",").map(Number);
const seconds = Number(values.seconds);
const probes = Number(values.probes);
const itemBytes = Number(values["item-bytes"]);
const durabilities = values.durability.split(",").map((d) => {
  if (d !== "fsync" && d !== "os-buffered") throw new Error(`unknown durability ${d}`);
  return d;
});

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const ms = (x: number) => x.toFixed(2);

interface LoadReply {
  elapsedMs: number;
  committedItems: number;
  submitted: number;
  refused: number;
  latencies: number[];
}

async function benchSize(n: number, durability: "fsync" | "os-buffered"): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `conclave-bench-${n}-`));
  const files = await writeLocalFederation(dir, n, { heightsPerSession: 16 });
  const guardians: GuardianProcess[] = [];
  try {
    guardians.push(
      ...(await Promise.all(files.config.guardians.map((_, i) => startGuardian(files, i, { durability })))),
    );
    await waitConnected(guardians);
    // Warm up (JIT, TLS sessions, LMDB pages).
    await guardians[0]!.request({ cmd: "probe", count: 20, itemBytes });

    // Batches of one: one item in flight at a time, submitted at a rotating guardian.
    const single: number[] = [];
    const perGuardian = Math.ceil(probes / n);
    for (const g of guardians) {
      const r = await g.request<{ latencies: number[] }>({ cmd: "probe", count: perGuardian, itemBytes });
      single.push(...r.latencies);
    }
    const singleRate = 1000 / (single.reduce((a, b) => a + b, 0) / single.length);

    // Many items, offered at 10,000 items/s in total (the target rate): latency under that load.
    const perGuardianPerSecond = Math.ceil(10_000 / n);
    const steady = await Promise.all(
      guardians.map((g) =>
        g.request<LoadReply>({
          cmd: "load",
          durationMs: seconds * 1000,
          itemBytes,
          itemsPerBatch: perGuardianPerSecond,
          itemsPerSecond: perGuardianPerSecond,
          intervalMs: 10,
        }),
      ),
    );
    const steadyRate = steady[0]!.committedItems / (steady[0]!.elapsedMs / 1000);
    const offeredRate = steady.reduce((a, l) => a + l.submitted / (l.elapsedMs / 1000), 0);
    const steadyLat = steady.flatMap((l) => l.latencies);
    // Many items, saturating but closed-loop: every guardian keeps up to 4,096 own items queued and
    // tops up every 5 ms; what gets committed is the ceiling.
    const loads = await Promise.all(
      guardians.map((g) =>
        g.request<LoadReply>({
          cmd: "load",
          durationMs: seconds * 1000,
          itemBytes,
          itemsPerBatch: 200,
          intervalMs: 2,
        }),
      ),
    );
    const committed = loads[0]!.committedItems;
    const rate = committed / (loads[0]!.elapsedMs / 1000);
    const loadLat = loads.flatMap((l) => l.latencies);
    const status = await Promise.all(guardians.map((g) => g.request<StatusReply>({ cmd: "status" })));
    const rssMb = Math.max(...status.map((s) => s.rssBytes)) / 2 ** 20;
    const heights = status[0]!.status.height;
    console.log(
      `N=${String(n).padStart(2)} ${durability.padEnd(11)}  batch=1: p50 ${ms(percentile(single, 50))} ms  p99 ${ms(percentile(single, 99))} ms  (${singleRate.toFixed(0)} items/s, ${single.length} samples)` +
        `\n      at 10k items/s asked (${offeredRate.toFixed(0)} offered): ${steadyRate.toFixed(0)} items/s committed, latency p50 ${ms(percentile(steadyLat, 50))} ms  p99 ${ms(percentile(steadyLat, 99))} ms` +
        `\n      saturated: ${rate.toFixed(0)} items/s committed (queueing latency p50 ${ms(percentile(loadLat, 50))} ms)` +
        `  |  ${heights} heights, max RSS ${rssMb.toFixed(0)} MiB, refused ${loads.reduce((a, l) => a + l.refused, 0)}`,
    );
  } finally {
    await Promise.all(guardians.map((g) => stopGuardian(g)));
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  `consensus benchmark: ${itemBytes}-byte items, ${seconds} s of load per size, ${probes} single-item probes`,
);
for (const n of sizes) for (const d of durabilities) await benchSize(n, d);
