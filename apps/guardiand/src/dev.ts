// npm start: a local federation on 127.0.0.1 — N guardian processes with embedded LMDB stores,
// linked by TLS, running consensus. Ctrl-C stops every process it started.
//
//   npm start [-- --guardians 4 --dir .tmp/local-federation --fresh]
import { existsSync, readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseFederationConfig } from "@conclave/core-common";
import { startGuardian, stopGuardian, waitConnected } from "./guardian-processes.js";
import type { GuardianProcess, StatusReply } from "./guardian-processes.js";
import { writeLocalFederation } from "./local-federation.js";
import type { LocalFederationFiles } from "./local-federation.js";

const { values } = parseArgs({
  options: {
    guardians: { type: "string", default: "4" },
    dir: { type: "string", default: ".tmp/local-federation" },
    fresh: { type: "boolean", default: false },
    "demo-items-per-second": { type: "string", default: "2" },
  },
});
const n = Number(values.guardians);
if (!Number.isInteger(n) || n < 1 || n > 64) {
  process.stderr.write("--guardians takes a whole number from 1 to 64\n");
  process.exit(2);
}
const dir = resolve(values.dir);
if (values.fresh) rmSync(dir, { recursive: true, force: true });

async function filesFor(): Promise<LocalFederationFiles> {
  const configPath = resolve(dir, "federation.json");
  if (existsSync(configPath)) {
    const config = parseFederationConfig(JSON.parse(readFileSync(configPath, "utf8")));
    if (config.guardians.length === n) {
      return {
        dir,
        configPath,
        config,
        secretPaths: config.guardians.map((_, i) => resolve(dir, `guardian-${i}.secret.json`)),
        dataDirs: config.guardians.map((_, i) => resolve(dir, `guardian-${i}-data`)),
      };
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return writeLocalFederation(dir, n, { heightsPerSession: 16 });
}

const files = await filesFor();
const guardians: GuardianProcess[] = [];
let stopping = false;
async function stopAll(code: number): Promise<never> {
  stopping = true;
  await Promise.all(guardians.map((g) => stopGuardian(g)));
  process.exit(code);
}
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

try {
  for (let i = 0; i < n; i++) guardians.push(await startGuardian(files, i));
  await waitConnected(guardians);
} catch (e) {
  process.stderr.write(`could not start the local federation: ${String(e)}\n`);
  await stopAll(1);
}

console.log(
  `Conclave local federation: ${n} guardians on 127.0.0.1 (tolerates ${Math.floor((n - 1) / 3)} faulty)`,
);
console.log(`  federation config: ${files.configPath}`);
files.config.guardians.forEach((g, i) => {
  console.log(
    `  guardian ${i}: key ${g.publicKey.slice(0, 16)}…  p2p 127.0.0.1:${g.p2p.port}  data ${files.dataDirs[i]}  pid ${guardians[i]!.child.pid}`,
  );
});
console.log("Submitting demo items; Ctrl-C stops every guardian.");

const rate = Number(values["demo-items-per-second"]);
let k = 0;
const demo =
  rate > 0
    ? setInterval(() => {
        const g = guardians[k++ % n]!;
        const item = Buffer.from(`demo item ${k} at ${new Date().toISOString()}`).toString("hex");
        void g.request({ cmd: "submit", items: [item] }).catch(() => {});
      }, 1000 / rate)
    : undefined;
const report = setInterval(() => {
  void Promise.all(guardians.map((g) => g.request<StatusReply>({ cmd: "status" }))).then(
    (s) => {
      const line = s.map(
        (x, i) => `g${i} h=${x.status.height} s=${x.status.sessionsSigned} peers=${x.connected}`,
      );
      console.log(`[${new Date().toISOString()}] ${line.join("  ")}`);
    },
    (e: unknown) => {
      if (!stopping) console.log(`status failed: ${String(e)}`);
    },
  );
}, 5000);
for (const g of guardians) {
  void g.exited.then((code) => {
    if (stopping) return;
    console.log(`guardian ${g.index} exited (${code}); stopping the federation`);
    if (demo) clearInterval(demo);
    clearInterval(report);
    void stopAll(1);
  });
}
