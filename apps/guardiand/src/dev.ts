// npm start: a local federation on 127.0.0.1. Each guardian is its own process with its own LMDB
// store; they set the federation up with the real key ceremony (no dealer), then run consensus and
// serve the client API. Prints the invite code and the API URLs. Ctrl-C stops every process.
//
//   npm start [-- --guardians 4 --dir .tmp/local-federation --fresh]
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { encodeInvite, encodeSetupCode, parseFederationConfig } from "@conclave/core-common";
import { hashAdminPassword } from "@conclave/core-server";
import { runConclaved, startGuardianFromDir, stopGuardian, waitConnected } from "./guardian-processes.js";
import type { GuardianProcess, StatusReply } from "./guardian-processes.js";
import { freePort } from "./local-federation.js";
import { inviteOf, setupInit } from "./setup-cli.js";

const { values } = parseArgs({
  options: {
    guardians: { type: "string", default: "4" },
    dir: { type: "string", default: ".tmp/local-federation" },
    fresh: { type: "boolean", default: false },
  },
});
const n = Number(values.guardians);
if (!Number.isInteger(n) || n < 1 || n > 16) {
  process.stderr.write("--guardians takes a whole number from 1 to 16\n");
  process.exit(2);
}
const root = resolve(values.dir);
if (values.fresh) rmSync(root, { recursive: true, force: true });
const dirs = Array.from({ length: n }, (_, i) => join(root, `guardian-${i}`));

const guardians: GuardianProcess[] = [];
let stopping = false;
async function stopAll(code: number): Promise<never> {
  stopping = true;
  await Promise.all(guardians.map((g) => stopGuardian(g)));
  process.exit(code);
}
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

async function ceremony(): Promise<void> {
  if (dirs.every((d) => existsSync(join(d, "federation.json")))) return;
  rmSync(root, { recursive: true, force: true });
  console.log(`Key ceremony: ${n} guardians exchange setup codes and run the DKG over TLS…`);
  const codes: string[] = [];
  for (let i = 0; i < n; i++) {
    const code = setupInit(
      dirs[i]!,
      `guardian-${i}`,
      `127.0.0.1:${await freePort()}`,
      `http://127.0.0.1:${await freePort()}`,
    );
    codes.push(encodeSetupCode(code));
  }
  const started = Date.now();
  await Promise.all(
    dirs.map(
      async (d) =>
        (
          await runConclaved([
            "setup",
            "run",
            "--data",
            d,
            "--codes",
            codes.join(","),
            "--federation-name",
            "local",
            "--environment",
            "dev",
            "--dummy-module",
            "--mint",
          ])
        ).done,
    ),
  );
  console.log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const d of dirs) {
    // Dev only: a fresh admin password per guardian, printed below; operators choose their own.
    const password = randomBytes(12).toString("base64url");
    writeFileSync(join(d, "admin-password.hash"), await hashAdminPassword(password), { mode: 0o600 });
    writeFileSync(join(d, "admin-password.dev.txt"), password, { mode: 0o600 });
  }
}

try {
  await ceremony();
  for (let i = 0; i < n; i++) guardians.push(await startGuardianFromDir(dirs[i]!, i));
  await waitConnected(guardians);
} catch (e) {
  process.stderr.write(
    `could not start the local federation: ${e instanceof Error ? e.message : String(e)}\n`,
  );
  await stopAll(1);
}

const config = parseFederationConfig(JSON.parse(readFileSync(join(dirs[0]!, "federation.json"), "utf8")));
const invite = encodeInvite(inviteOf(config));
console.log(
  `\nConclave local federation "${config.name}": ${n} guardians on 127.0.0.1, any ${n - Math.floor((n - 1) / 3)} can act`,
);
console.log(`\nInvite code (give it to users):\n  ${invite}\n`);
config.guardians.forEach((g, i) => {
  const dir = dirs[Number(g.name.replace("guardian-", ""))]!;
  const password = readFileSync(join(dir, "admin-password.dev.txt"), "utf8");
  console.log(
    `  ${g.name}: API ${g.api?.url}  admin password ${password}  (index ${i}, key ${g.publicKey.slice(0, 12)}…)`,
  );
});
const api = config.guardians[0]!.api?.url ?? "";
console.log(`\nTry:\n  curl ${api}/v1/status\n  curl ${api}/openapi.json\nCtrl-C stops every guardian.\n`);

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
}, 30_000);
for (const g of guardians) {
  void g.exited.then((code) => {
    if (stopping) return;
    console.log(`guardian ${g.index} exited (${code}); stopping the federation`);
    clearInterval(report);
    void stopAll(1);
  });
}
