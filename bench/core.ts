// npm run bench:core — the federation core end to end with real guardian processes on 127.0.0.1:
// HTTP submit -> accepted latency and transactions per second (test-only dummy module, faucet
// transactions), guardian RSS idle and under load, and a restarted guardian's catch-up speed.
//
//   npm run bench:core [-- --sizes 4,7 --seconds 10 --concurrency 64]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { encodeTransaction, txidHex } from "@conclave/core-common";
import { NodeSigner, sha256 } from "@conclave/core-server";
import { startGuardian, stopGuardian, waitConnected, writeLocalFederation } from "@conclave/guardiand";
import type { GuardianProcess, StatusReply } from "@conclave/guardiand";
import { buildTransaction, coinOutput, faucetInput } from "@conclave/module-dummy";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "4,7" },
    seconds: { type: "string", default: "10" },
    probes: { type: "string", default: "200" },
    concurrency: { type: "string", default: "64" },
  },
});
const owner = new NodeSigner(new Uint8Array(32).fill(3));

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

function newTx(): { hex: string; txid: string } {
  const tx = buildTransaction([faucetInput(0, 1000n)], [coinOutput(0, 1000n, owner.publicKey)], [], sha256);
  return { hex: Buffer.from(encodeTransaction(tx)).toString("hex"), txid: txidHex(tx, sha256) };
}

async function submitAndWait(api: string): Promise<number> {
  const { hex, txid } = newTx();
  const t0 = performance.now();
  const r = await fetch(`${api}/v1/transactions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ transaction: hex }),
  });
  if (r.status !== 202) throw new Error(`submit answered ${r.status}: ${await r.text()}`);
  await r.arrayBuffer();
  const w = await fetch(`${api}/v1/transactions/${txid}?wait=30000`);
  const body = (await w.json()) as { state: string };
  if (body.state !== "accepted") throw new Error(`transaction ended ${body.state}`);
  return performance.now() - t0;
}

const rssMb = async (gs: GuardianProcess[]) =>
  Math.max(
    ...(await Promise.all(gs.map((g) => g.request<StatusReply>({ cmd: "status" })))).map((s) => s.rssBytes),
  ) /
  2 ** 20;

async function benchSize(n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `conclave-bench-core-${n}-`));
  const files = await writeLocalFederation(dir, n, { heightsPerSession: 16 });
  const apis = files.config.guardians.map((g) => g.api!.url);
  const gs: GuardianProcess[] = [];
  try {
    gs.push(...(await Promise.all(files.config.guardians.map((_, i) => startGuardian(files, i)))));
    await waitConnected(gs);
    for (let i = 0; i < 20; i++) await submitAndWait(apis[i % n]!); // warm-up
    await new Promise((r) => setTimeout(r, 2000));
    const idle = await rssMb(gs);

    const single: number[] = [];
    for (let i = 0; i < Number(values.probes); i++) single.push(await submitAndWait(apis[i % n]!));

    const seconds = Number(values.seconds);
    const heightBefore = (await gs[0]!.request<StatusReply>({ cmd: "status" })).status.height;
    const end = performance.now() + seconds * 1000;
    const loaded: number[] = [];
    let peak = 0;
    const sampler = setInterval(() => void rssMb(gs).then((m) => (peak = Math.max(peak, m))), 1000);
    await Promise.all(
      Array.from({ length: Number(values.concurrency) }, async (_, w) => {
        for (let i = 0; performance.now() < end; i++) loaded.push(await submitAndWait(apis[(w + i) % n]!));
      }),
    );
    clearInterval(sampler);
    const tps = loaded.length / seconds;
    const heightsPerS =
      ((await gs[0]!.request<StatusReply>({ cmd: "status" })).status.height - heightBefore) / seconds;

    // Restart catch-up: stop the last guardian, let the others run sessions, restart and time it.
    const last = gs.pop()!;
    await stopGuardian(last, "SIGKILL");
    const missEnd = performance.now() + 10_000;
    await Promise.all(
      Array.from({ length: 32 }, async (_, w) => {
        for (let i = 0; performance.now() < missEnd; i++) await submitAndWait(apis[(w + i) % (n - 1)]!);
      }),
    );
    const target = (await gs[0]!.request<StatusReply>({ cmd: "status" })).status;
    const t0 = performance.now();
    const back = await startGuardian(files, n - 1);
    gs.push(back);
    let caught: StatusReply["status"];
    for (;;) {
      caught = (await back.request<StatusReply>({ cmd: "status" })).status;
      if (caught.height >= target.height) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const catchUpS = (performance.now() - t0) / 1000;
    console.log(
      `N=${n}: submit->accepted (one at a time) p50 ${percentile(single, 50).toFixed(1)} ms p99 ${percentile(single, 99).toFixed(1)} ms` +
        ` | ${Number(values.concurrency)} clients: ${tps.toFixed(0)} tx/s (${heightsPerS.toFixed(0)} heights/s), p50 ${percentile(loaded, 50).toFixed(1)} ms p99 ${percentile(loaded, 99).toFixed(1)} ms` +
        ` | RSS idle ${idle.toFixed(0)} MiB, under load ${peak.toFixed(0)} MiB` +
        ` | catch-up of ${target.sessionsSigned} sessions (${target.height} heights) in ${catchUpS.toFixed(2)} s (process start included): ${(target.sessionsSigned / catchUpS).toFixed(1)} sessions/s`,
    );
  } finally {
    await Promise.all(gs.map((g) => stopGuardian(g)));
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const n of values.sizes.split(",").map(Number)) await benchSize(n);
