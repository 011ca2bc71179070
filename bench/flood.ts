// npm run bench:flood — does consensus keep committing while one client address floods
// POST /v1/transactions with expensive transactions? Real guardian processes on 127.0.0.1 (native
// blst), the dev federation with the mint.
//
// The flood: one address (127.0.0.1) sends, to every guardian, `--rate` requests per second (the
// default per-address request limit, 200/s) of transactions spending `--notes` well-formed fake
// notes (each a valid G1 point that is no federation signature, under its own spend key, with valid
// Ed25519 signatures: so that nothing cheaper than the pairing check can refuse them) into a dummy
// coin of the same amount (balanced). Transactions are signed before the flood starts and sent
// round robin.
//
// The probe: another address (127.0.0.2), one faucet transaction at a time, submit -> accepted,
// to each guardian in turn: the latency a client sees for a transaction to be ordered, committed and
// processed. Measured for `--seconds` without load, then for `--seconds` under the flood.
//
//   npm run bench:flood [-- --nodes 4 --seconds 20 --rate 200 --notes 200 --inflight 64 --control]
import { request } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { encodeTransaction, toHex, txidHex } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { NodeSigner, sha256 } from "@conclave/core-server";
import {
  DEV_MODULES_WITH_MINT,
  startGuardian,
  stopGuardian,
  waitConnected,
  writeLocalFederation,
} from "@conclave/guardiand";
import type { GuardianProcess } from "@conclave/guardiand";
import { buildTransaction, coinOutput, faucetInput } from "@conclave/module-dummy";
import { encodeMintInput, prepareNote } from "@conclave/module-mint";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "4" },
    seconds: { type: "string", default: "20" },
    rate: { type: "string", default: "200" },
    notes: { type: "string", default: "200" },
    inflight: { type: "string", default: "64" },
    "flood-txs": { type: "string", default: "64" },
    // Control: the same bodies with the transaction's last byte cut off, refused when decoded (400)
    // before any check: what the HTTP volume alone costs.
    control: { type: "boolean", default: false },
  },
});
const N = Number(values.nodes);
const SECONDS = Number(values.seconds);
const RATE = Number(values.rate);
const NOTES = Number(values.notes);
const INFLIGHT_MAX = Number(values.inflight);
const DUMMY = 0;
const MINT = 1;
const FLOODER = "127.0.0.1";
const PROBER = "127.0.0.2";
const PROBE_WAIT_MS = 30_000;
/** Probe submissions answered 429/503 and retried (after 100 ms). */
let probeRetries = 0;

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks, 100 per second on Linux
}

/** Measures the guardians' and this process's CPU over a phase, in cores (CPU seconds per second). */
function cpuMeter(guardians: readonly GuardianProcess[]): () => string {
  const pids = guardians.map((g) => g.child.pid!);
  const g0 = pids.map(cpuSeconds);
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const s = (performance.now() - t0) / 1000;
    const each = pids.map((pid, i) => (cpuSeconds(pid) - g0[i]!) / s);
    const self = process.cpuUsage(self0);
    return (
      `guardians' CPU ${each.map((c) => c.toFixed(2)).join(" + ")} cores, ` +
      `bench process (flooder and prober) ${((self.user + self.system) / 1e6 / s).toFixed(2)} cores`
    );
  };
}

/** One HTTP request from a chosen source address; resolves with the status and body. */
function call(
  url: string,
  localAddress: string,
  method: "GET" | "POST",
  body?: string | Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        localAddress,
        headers: body === undefined ? {} : { "content-type": "application/json" },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const owner = new NodeSigner(new Uint8Array(32).fill(3));

/**
 * Probe: a faucet transaction from 127.0.0.2, submit -> accepted, in ms; NaN when it was not
 * accepted within PROBE_WAIT_MS (counted apart, never averaged in).
 */
async function probe(api: string): Promise<number> {
  const tx = buildTransaction(
    [faucetInput(DUMMY, 1000n)],
    [coinOutput(DUMMY, 1000n, owner.publicKey)],
    [],
    sha256,
  );
  const t0 = performance.now();
  const body = JSON.stringify({ transaction: toHex(encodeTransaction(tx)) });
  let r = await call(`${api}/v1/transactions`, PROBER, "POST", body);
  // A guardian whose checking budget for all clients is used up answers 503: the client retries,
  // and the wait counts in its latency.
  for (
    ;
    r.status === 503 || r.status === 429;
    r = await call(`${api}/v1/transactions`, PROBER, "POST", body)
  ) {
    probeRetries++;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (r.status !== 202) throw new Error(`probe submit answered ${r.status}: ${r.body}`);
  const w = await call(`${api}/v1/transactions/${txidHex(tx, sha256)}?wait=${PROBE_WAIT_MS}`, PROBER, "GET");
  const state = (JSON.parse(w.body) as { state: string }).state;
  if (state === "proposed") return NaN;
  if (state !== "accepted") throw new Error(`probe transaction ended ${state}`);
  return performance.now() - t0;
}

/** `count` balanced transactions of NOTES fake 2^0 notes each, signed by their spend keys. */
function floodTransactions(count: number): Buffer[] {
  const notes = Array.from({ length: NOTES }, () => prepareNote(0));
  const signers = notes.map((n) => new NodeSigner(n.spendSeed));
  const inputs = notes.map((n) => ({
    module: MINT,
    amount: 1n,
    // A valid G1 point (the note's own blinded message) where the federation's signature should be.
    payload: encodeMintInput({ denominationLog2: 0, spendKey: n.spendKey, signature: n.blindedMessage }),
  }));
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const tx: Transaction = buildTransaction(
      inputs,
      [coinOutput(DUMMY, BigInt(NOTES), owner.publicKey)],
      signers,
      sha256,
    );
    const hex = toHex(encodeTransaction(tx));
    out.push(Buffer.from(JSON.stringify({ transaction: values.control ? hex.slice(0, -2) : hex })));
  }
  return out;
}

async function probeFor(apis: readonly string[], seconds: number): Promise<number[]> {
  const end = performance.now() + seconds * 1000;
  const xs: number[] = [];
  for (let i = 0; performance.now() < end; i++) xs.push(await probe(apis[i % apis.length]!));
  return xs;
}

let flooding = true;

interface Flood {
  stop(): Promise<Map<string, number>>;
}

/** RATE requests per second to each guardian from 127.0.0.1, at most INFLIGHT_MAX pending each. */
function flood(apis: readonly string[], bodies: readonly Buffer[]): Flood {
  const answers = new Map<string, number>();
  const count = (k: string) => answers.set(k, (answers.get(k) ?? 0) + 1);
  const inflight = apis.map(() => 0);
  const pending = new Set<Promise<void>>();
  let next = 0;
  const tickMs = 50;
  const perTick = (RATE * tickMs) / 1000;
  let owed = 0;
  const timer = setInterval(() => {
    if (!flooding) return clearInterval(timer);
    owed += perTick;
    for (; owed >= 1; owed--) {
      for (const [g, api] of apis.entries()) {
        if (inflight[g]! >= INFLIGHT_MAX) {
          count("not sent (flooder's own in-flight cap)");
          continue;
        }
        inflight[g]!++;
        const p: Promise<void> = call(
          `${api}/v1/transactions`,
          FLOODER,
          "POST",
          bodies[next++ % bodies.length],
        )
          .then(
            (r) => {
              let code = "";
              try {
                code = (JSON.parse(r.body) as { code?: string }).code ?? "";
              } catch {
                // not JSON
              }
              count(`${r.status}${code ? ` ${code}` : ""}`);
            },
            (e: unknown) => {
              count(`error ${(e as Error).message}`);
            },
          )
          .finally(() => {
            inflight[g]!--;
            pending.delete(p);
          });
        pending.add(p);
      }
    }
  }, tickMs);
  return {
    async stop() {
      clearInterval(timer);
      // Answers still owed after 2 s are not waited for (a guardian far behind could take minutes).
      await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, 2000))]);
      if (pending.size > 0) answers.set("no answer yet when the phase ended", pending.size);
      return new Map(answers);
    },
  };
}

function line(what: string, all: readonly number[]): string {
  const xs = all.filter((x) => !Number.isNaN(x));
  const late = all.length - xs.length;
  return (
    `${what}: ${xs.length} probes accepted, commit latency p50 ${percentile(xs, 50).toFixed(1)} ms, ` +
    `p99 ${percentile(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms` +
    (late > 0 ? `; ${late} not accepted within ${PROBE_WAIT_MS / 1000} s` : "") +
    (probeRetries > 0 ? `; ${probeRetries} submissions retried after 429/503` : "")
  );
}

const dir = mkdtempSync(join(tmpdir(), "conclave-bench-flood-"));
const guardians: GuardianProcess[] = [];
try {
  const files = await writeLocalFederation(dir, N, { heightsPerSession: 16 }, DEV_MODULES_WITH_MINT);
  const apis = files.config.guardians.map((g) => g.api!.url);
  for (let i = 0; i < N; i++) guardians.push(await startGuardian(files, i, { quiet: true }));
  await waitConnected(guardians);
  console.log(
    `flood bench: ${N} guardians on 127.0.0.1, ${cpus().length} cores; flood ${RATE} req/s to each guardian ` +
      `from ${FLOODER}, ${NOTES} fake notes per transaction; probes from ${PROBER}`,
  );
  const t0 = performance.now();
  const bodies = floodTransactions(Number(values["flood-txs"]));
  console.log(
    `signed ${bodies.length} flood transactions (${bodies[0]!.length} bytes of JSON each) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  for (let i = 0; i < 20; i++) await probe(apis[i % N]!); // warm-up
  let cpu = cpuMeter(guardians);
  console.log(line("no load", await probeFor(apis, SECONDS)));
  console.log(`  ${cpu()}`);
  probeRetries = 0;
  const f = flood(apis, bodies);
  let loaded: number[];
  try {
    await new Promise((r) => setTimeout(r, 1000)); // let the flood reach its rate
    cpu = cpuMeter(guardians);
    loaded = await probeFor(apis, SECONDS);
  } finally {
    flooding = false;
  }
  const cpuLoaded = cpu();
  const answers = await f.stop();
  const what = values.control ? "undecodable copies of the flood transactions" : "the flood transactions";
  console.log(line(`one address flooding at ${RATE} req/s per guardian (${what})`, loaded));
  console.log(`  ${cpuLoaded}`);
  console.log(
    `flood answers: ${[...answers.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}: ${v}`)
      .join(", ")}`,
  );
} finally {
  await Promise.all(guardians.map((g) => stopGuardian(g)));
  rmSync(dir, { recursive: true, force: true });
}
