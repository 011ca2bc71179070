// The README's walkthrough as a newcomer runs it: `npm start` (apps/guardiand/src/dev.ts) as its own
// process — monerod in regtest, a wallet-rpc per guardian and a demo wallet, the real key ceremony
// making the 3-of-4 multisig address, four guardian processes, a block mined every 2 s — then the
// CLI and `demo:pay` as separate processes: join with the printed invite, deposit to a subaddress
// with no tx key, claim a payment to the federation's address by txid + tx key, withdraw back to
// the demo wallet (check_tx_key proves it), list the withdrawal, read the guardians' reserves. Ctrl-C
// (SIGINT) must stop every process npm start started: none may be left holding the directory.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WalletRpc, parseXmr } from "@conclave/monero";
import { runConclave, runTsScript } from "../../cli/src/cli-test-harness.js";
import type { CliRun } from "../../cli/src/cli-test-harness.js";
import {
  SRC,
  demoState as demoStateOf,
  json,
  killProcessesUsing,
  processesUsing,
  startDev,
} from "./npm-start-harness.js";
import type { DevFederation } from "./npm-start-harness.js";

const root = mkdtempSync(join(tmpdir(), "conclave-npm-start-"));
const fedDir = join(root, "fed");
const alice = join(root, "alice");
let dev: DevFederation | undefined;
let out = "";
let invite = "";
let apiUrl = "";

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  return dev!.waitFor(what, timeoutMs, probe);
}

function tsx(script: string, args: readonly string[], timeoutMs = 120_000): Promise<CliRun> {
  return runTsScript(join(SRC, script), args, { timeoutMs });
}

const demoState = () => demoStateOf(fedDir);

beforeAll(async () => {
  dev = startDev(["--dir", fedDir, "--fresh", "--block-seconds", "2"]);
  await dev.ready(300_000);
  out = dev.output();
  invite = /conclave1:\S+/.exec(out)?.[0] ?? "";
  apiUrl = /API (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] ?? "";
}, 330_000);

afterAll(async () => {
  if (dev && dev.child.exitCode === null) await dev.stop(30_000);
  // Whatever is still there is a failure reported by the last test; don't leave it running.
  killProcessesUsing(root);
  rmSync(root, { recursive: true, force: true });
}, 60_000);

describe("the README walkthrough against `npm start` (separate processes, real monerod)", () => {
  it("npm start printed the invite code, the guardians' API URLs and the multisig deposit address", () => {
    expect(invite).toMatch(/^conclave1:/);
    expect(apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(out).toContain(demoState().federationAddress);
    expect(out).toMatch(/3-of-4 multisig deposit address/);
  });

  it("conclave join, then deposit to a subaddress with no tx key: the payment becomes notes", async () => {
    expect((await runConclave(["--data", alice, "join", invite])).code).toBe(0);
    const address = json<{ address: string }>(
      await runConclave(["--json", "--data", alice, "deposit", "--no-wait"]),
    ).address;
    expect(address).toMatch(/^8/);
    const paid = await tsx("demo-pay.ts", ["1.5", "--to", address, "--dir", fedDir]);
    expect(paid.code, paid.stderr).toBe(0);
    const balance = await waitFor("the subaddress deposit to become notes", 120_000, async () => {
      await runConclave(["--data", alice, "resume"]);
      const b = BigInt(
        json<{ balance: string }>(await runConclave(["--json", "--data", alice, "balance"])).balance,
      );
      return b > 0n ? b : undefined;
    });
    expect(balance).toBe(parseXmr("1.5"));
  }, 180_000);

  it("a payment to the federation's address is claimed with its txid and tx key", async () => {
    const paid = await tsx("demo-pay.ts", ["0.75", "--dir", fedDir]);
    expect(paid.code, paid.stderr).toBe(0);
    const txid = /txid\s+([0-9a-f]{64})/.exec(paid.stdout)?.[1];
    const txKey = /tx key\s+([0-9a-f]{64,})/.exec(paid.stdout)?.[1];
    expect(txid).toBeDefined();
    const r = json<{ amount: string }>(
      await runConclave(["--json", "--data", alice, "claim", "--txid", txid!, "--tx-key", txKey!], {
        timeoutMs: 150_000,
      }),
    );
    expect(BigInt(r.amount)).toBe(parseXmr("0.75"));
    const b = BigInt(
      json<{ balance: string }>(await runConclave(["--json", "--data", alice, "balance"])).balance,
    );
    expect(b).toBe(parseXmr("2.25"));
  }, 180_000);

  it("withdraw back to the demo wallet: confirmed, proven by check_tx_key, listed by `withdrawals`", async () => {
    const demo = new WalletRpc({ url: demoState().demoWalletRpcUrl });
    const demoAddress = (await demo.getAddress()).address;
    const amount = parseXmr("0.25");
    const r = json<{ moneroTxid: string; txKey: string; amount: string }>(
      await runConclave(["--json", "--data", alice, "withdraw", demoAddress, "0.25"], { timeoutMs: 200_000 }),
    );
    expect(BigInt(r.amount)).toBe(amount);
    const proof = await demo.checkTxKey({ txid: r.moneroTxid, txKey: r.txKey, address: demoAddress });
    expect(proof.received).toBe(amount);
    const listed = json<{ withdrawals: { state: string; moneroTxid?: string; txKey?: string }[] }>(
      await runConclave(["--json", "--data", alice, "withdrawals"]),
    ).withdrawals;
    expect(listed).toEqual([
      expect.objectContaining({ state: "confirmed", moneroTxid: r.moneroTxid, txKey: r.txKey }),
    ]);
  }, 240_000);

  it("the guardian's multisig wallet holds at least what the federation owes", async () => {
    const view = await waitFor("the reserves check to judge", 60_000, async () => {
      const v = (await (await fetch(`${apiUrl}/v1/modules/monero/reserves`)).json()) as {
        state: string;
        required: string;
        wallet?: { balance: string };
      };
      return v.state === "ok" || v.state === "short" ? v : undefined;
    });
    expect(view.state).toBe("ok");
    expect(BigInt(view.wallet!.balance)).toBeGreaterThanOrEqual(BigInt(view.required));
  }, 90_000);

  it("Ctrl-C (SIGINT) stops npm start and every process it started", async () => {
    const code = await dev!.stop(60_000);
    expect(code).toBe(0);
    expect(processesUsing(root)).toEqual([]);
  }, 90_000);
});
