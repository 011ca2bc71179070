// The federation core with real guardian processes on 127.0.0.1: transactions through the HTTP
// API, a guardian killed with SIGKILL, f and f+1 guardians down, and the key ceremony surviving a
// guardian restarted in the middle.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encodeSetupCode, encodeTransaction, txidHex } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { NodeSigner, sha256 } from "@conclave/core-server";
import { buildTransaction, coinOutput, faucetInput } from "@conclave/module-dummy";
import { runConclaved, startGuardian, stopGuardian, waitConnected } from "./guardian-processes.js";
import type { GuardianProcess } from "./guardian-processes.js";
import { freePort, writeLocalFederation } from "./local-federation.js";
import type { LocalFederationFiles } from "./local-federation.js";
import { setupInit } from "./setup-cli.js";

const started: GuardianProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(started.map((g) => stopGuardian(g, "SIGKILL")));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const alice = new NodeSigner(new Uint8Array(32).fill(7));

function faucetTx(amount: bigint): Transaction {
  return buildTransaction([faucetInput(0, amount)], [coinOutput(0, amount, alice.publicKey)], [], sha256);
}

async function http(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url, init);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

async function submit(
  api: string,
  tx: Transaction,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return http(`${api}/v1/transactions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ transaction: Buffer.from(encodeTransaction(tx)).toString("hex") }),
  });
}

async function txState(api: string, txid: string, waitMs = 0): Promise<string> {
  const r = await http(`${api}/v1/transactions/${txid}${waitMs ? `?wait=${waitMs}` : ""}`);
  return r.status === 200 ? String(r.body.state) : `http-${r.status}`;
}

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function federation(
  n: number,
): Promise<{ files: LocalFederationFiles; gs: GuardianProcess[]; apis: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "conclave-fed-"));
  dirs.push(dir);
  const files = await writeLocalFederation(dir, n, { heightsPerSession: 4 });
  const gs = await Promise.all(files.config.guardians.map((_, i) => startGuardian(files, i)));
  started.push(...gs);
  await waitConnected(gs);
  return { files, gs, apis: files.config.guardians.map((g) => g.api!.url) };
}

async function stateHash(g: GuardianProcess): Promise<{ stateHash: string; height: number }> {
  return g.request<{ stateHash: string; height: number }>({ cmd: "stateHash" });
}

describe("federation core with guardian processes", () => {
  it("accepts a transaction at every guardian; a SIGKILLed guardian restarts, catches up and its state hash equals the others'", async () => {
    const { files, gs, apis } = await federation(4);
    const tx = faucetTx(1_000n);
    const txid = txidHex(tx, sha256);
    expect((await submit(apis[1]!, tx)).status).toBe(202);
    for (const api of apis) expect(await txState(api, txid, 20_000)).toBe("accepted");
    // The guardian it was submitted to measured its latency; every guardian counts it accepted.
    const metrics = await (await fetch(`${apis[1]}/metrics`)).text();
    expect(metrics).toMatch(/^conclave_transaction_final_seconds_count 1$/m);
    expect(metrics).toMatch(/^conclave_transactions_total\{result="accepted"\} 1$/m);
    // The client backup store (its own LMDB environment) is open and counted: empty here.
    expect(metrics).toMatch(/^conclave_backups_records 0$/m);
    expect(metrics).toMatch(/^conclave_backups_bytes 0$/m);

    gs[2]!.child.kill("SIGKILL");
    await gs[2]!.exited;
    for (let k = 0; k < 6; k++) {
      const t = faucetTx(BigInt(10 + k));
      expect((await submit(apis[k % 2]!, t)).status).toBe(202);
      expect(await txState(apis[0]!, txidHex(t, sha256), 20_000)).toBe("accepted");
    }
    const restarted = await startGuardian(files, 2);
    started.push(restarted);
    const target = (await stateHash(gs[0]!)).height;
    await until(
      "the restarted guardian to catch up",
      async () => (await stateHash(restarted)).height >= target,
    );
    const hashes = await Promise.all([gs[0]!, gs[1]!, restarted, gs[3]!].map(stateHash));
    expect(new Set(hashes.map((h) => h.height)).size).toBe(1);
    expect(new Set(hashes.map((h) => h.stateHash)).size).toBe(1);
    expect(await txState(apis[2]!, txid)).toBe("accepted");
  });

  it("keeps accepting with f guardians down, stops with f+1 down, and resumes when they return", async () => {
    const { files, gs, apis } = await federation(4);
    gs[3]!.child.kill("SIGKILL");
    await gs[3]!.exited;
    const a = faucetTx(5n);
    expect((await submit(apis[0]!, a)).status).toBe(202);
    expect(await txState(apis[0]!, txidHex(a, sha256), 20_000)).toBe("accepted");

    gs[2]!.child.kill("SIGKILL");
    await gs[2]!.exited;
    const b = faucetTx(6n);
    expect((await submit(apis[0]!, b)).status).toBe(202);
    // Two of four cannot decide anything: the transaction stays proposed.
    expect(await txState(apis[0]!, txidHex(b, sha256), 3_000)).toBe("proposed");
    expect(await txState(apis[1]!, txidHex(b, sha256))).not.toBe("accepted");

    const back = await startGuardian(files, 2);
    started.push(back);
    expect(await txState(apis[0]!, txidHex(b, sha256), 30_000)).toBe("accepted");
    expect(await txState(apis[2]!, txidHex(b, sha256), 30_000)).toBe("accepted");
  });

  it("completes the key ceremony although one guardian is killed and restarted in the middle", async () => {
    const root = mkdtempSync(join(tmpdir(), "conclave-ceremony-procs-"));
    dirs.push(root);
    const n = 4;
    const data = Array.from({ length: n }, (_, i) => join(root, `g${i}`));
    const codes: string[] = [];
    for (let i = 0; i < n; i++) {
      codes.push(
        encodeSetupCode(
          setupInit(
            data[i]!,
            `g${i}`,
            `127.0.0.1:${await freePort()}`,
            `http://127.0.0.1:${await freePort()}`,
          ),
        ),
      );
    }
    const args = (d: string) => [
      "setup",
      "run",
      "--data",
      d,
      "--codes",
      codes.join(","),
      "--federation-name",
      "t",
      "--environment",
      "dev",
    ];
    // Guardian 3 starts first and is killed as soon as it has persisted its first ceremony step,
    // while the others have not even started: it must resume from its snapshot.
    const first = await runConclaved(args(data[3]!));
    await until(
      "guardian 3's ceremony snapshot",
      () => Promise.resolve(existsSync(join(data[3]!, "ceremony-dkg.json"))),
      30_000,
    );
    first.child.kill("SIGKILL");
    await first.done.catch(() => undefined);
    const snapshotBefore = readFileSync(join(data[3]!, "ceremony-dkg.json"), "utf8");
    expect(snapshotBefore.length).toBeGreaterThan(0);
    const runs = [0, 1, 2].map(async (i) => (await runConclaved(args(data[i]!))).done);
    const resumed = (await runConclaved(args(data[3]!))).done;
    const invites = await Promise.all([...runs, resumed]);
    expect(new Set(invites.map((s) => s.trim())).size).toBe(1);
    const configs = data.map((d) => readFileSync(join(d, "federation.json"), "utf8"));
    expect(new Set(configs).size).toBe(1);
    for (const d of data) expect(existsSync(join(d, "ceremony-dkg.json"))).toBe(false);
  });
});
