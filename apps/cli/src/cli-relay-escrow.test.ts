// The requester's side of the federation's shard with the CLI as a process against four real guardian
// processes (relay with escrowDelayMsMin 0, so that a short delay can be waited out): a wallet whose
// recovery set has the federation as one holder is recovered on a fresh device from the printed shard
// and the federation's (`recovery recover --federation --wait`, with progress); a stranger holding the
// printed shard asks for the federation's (`recovery recover --federation`, ends "pending", exit 75),
// the owner sees the request (`recovery requests`) and cancels it (`recovery cancel`) within the delay,
// and the stranger's next run is refused (request_cancelled) with nothing recovered.
//
// No timing assertions: the delay is waited out by the CLI itself (it asks again when the release is
// due). Each CLI run is a fresh `node --import tsx` process; runs get 110 s (cli-relay.test.ts).
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeInvite } from "@conclave/core-common";
import {
  DEV_MODULES_WITH_MINT,
  startGuardian,
  stopGuardian,
  waitConnected,
  writeLocalFederation,
} from "../../guardiand/src/index.js";
import type { GuardianProcess } from "../../guardiand/src/index.js";
import { inviteOf } from "../../guardiand/src/setup-cli.js";
import { runConclave } from "./cli-test-harness.js";
import type { CliRun } from "./cli-test-harness.js";
import { EXIT_PENDING } from "./errors.js";
import { REQUEST_FILE } from "./federation-shard.js";

let root: string;
let invite: string;
const guardians: GuardianProcess[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "conclave-cli-escrow-"));
  const files = await writeLocalFederation(join(root, "federation"), 4, { heightsPerSession: 4 }, [
    ...DEV_MODULES_WITH_MINT,
    // A day is the shortest delay a guardian accepts by default; this federation allows seconds.
    { instanceId: 2, kind: "relay", config: { escrowDelayMsMin: 0 } },
  ]);
  invite = encodeInvite(inviteOf(files.config));
  const started = await Promise.allSettled([0, 1, 2, 3].map((i) => startGuardian(files, i, { quiet: true })));
  for (const s of started) if (s.status === "fulfilled") guardians.push(s.value);
  const failed = started.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  await waitConnected(guardians);
}, 180_000);

afterAll(async () => {
  await Promise.all(guardians.map((g) => stopGuardian(g, "SIGKILL")));
  if (root) rmSync(root, { recursive: true, force: true });
});

const dir = (name: string) => join(root, name);

function conclave(name: string, args: readonly string[], stdin?: string): Promise<CliRun> {
  return runConclave(["--data", dir(name), ...args], {
    timeoutMs: 110_000,
    ...(stdin === undefined ? {} : { stdin }),
  });
}

async function json<T>(name: string, args: readonly string[], stdin?: string): Promise<T> {
  const r = await conclave(name, ["--json", ...args], stdin);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) as unknown });
  return JSON.parse(r.stdout) as T;
}

interface Setup {
  setId: string;
  threshold: number;
  total: number;
  federationAt: number[];
  offline: { text: string }[];
}

/** A wallet that splits recovery 2-of-3: its device, the federation (after `delay`) and a printed copy. */
async function owner(name: string, delay: string): Promise<{ phrase: string; set: Setup }> {
  const phrase = (await json<{ mnemonic: string }>(name, ["join", invite])).mnemonic;
  const set = await json<Setup>(
    name,
    ["recovery", "setup", "-t", "2", "--offline", "1", "--federation-delay", delay],
    phrase,
  );
  expect(set).toMatchObject({ threshold: 2, total: 3, federationAt: [0, 1, 2, 3] });
  return { phrase, set };
}

describe("conclave recovery recover --federation against four guardian processes", () => {
  it("a stranger's request ends pending; the owner sees it and cancels it within the delay; the stranger's next run is refused", async () => {
    const dave = await owner("dave", "1h");
    const printed = dave.set.offline[0]!.text;
    const first = await conclave("thief", ["--json", "recovery", "recover", invite, printed, "--federation"]);
    expect(first.code).toBe(EXIT_PENDING);
    const pending = JSON.parse(first.stdout) as {
      status: string;
      setId: string;
      requestId: string;
      released: number;
      needed: number;
      readyAtMs: number;
    };
    expect(pending).toMatchObject({ status: "pending", setId: dave.set.setId, released: 0, needed: 3 });
    expect(pending.readyAtMs).toBeGreaterThan(Date.now());
    // The temporary key stays on the requesting device, readable by its user only.
    expect(statSync(join(dir("thief"), REQUEST_FILE)).mode & 0o777).toBe(0o600);

    const seen = await json<{
      statuses: { guardian: number; status: { requests: { requestId: string; cancelled: boolean }[] } }[];
    }>("dave", ["recovery", "requests"]);
    expect(seen.statuses.map((s) => s.status.requests.map((q) => [q.requestId, q.cancelled]))).toEqual(
      Array.from({ length: 4 }, () => [[pending.requestId, false]]),
    );
    const cancel = await json<{ cancelled: { guardian: number }[] }>("dave", ["recovery", "cancel"]);
    expect(cancel.cancelled.map((c) => c.guardian).sort()).toEqual([0, 1, 2, 3]);

    const again = await conclave("thief", [
      "--json",
      "recovery",
      "recover",
      invite,
      printed,
      "--federation",
      "--wait",
    ]);
    expect(again.code).toBe(1);
    const error = (JSON.parse(again.stderr.trim().split("\n").at(-1)!) as { error: { code: string } }).error;
    expect(error.code).toBe("request_cancelled");
    // Nothing recovered, and the dead request is forgotten (the directory holds nothing).
    expect(again.stdout).not.toContain(dave.phrase);
    expect(existsSync(join(dir("thief"), REQUEST_FILE))).toBe(false);
  }, 480_000);

  it("a fresh device recovers carol's wallet from the printed shard and the federation's, waiting out the delay with progress", async () => {
    const carol = await owner("carol", "20s");
    const printed = carol.set.offline[0]!.text;
    const r = await conclave("carol-new", ["recovery", "recover", invite, printed, "--federation", "--wait"]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) as unknown });
    expect(r.stderr).toContain("Asked guardians 0, 1, 2, 3 for the federation's shard");
    expect(r.stderr).toMatch(/The federation's shard: 0 of 3 pieces released; ready in \d+ s \(at /);
    expect(r.stderr).toMatch(/The federation's shard: pieces from guardians (\d, ){2,3}\d combined/);
    expect(r.stdout).toContain(`    ${carol.phrase}\n`);
    expect(existsSync(join(dir("carol-new"), REQUEST_FILE))).toBe(false);
    // The directory now holds carol's wallet.
    const info = await json<{ federationId: string }>("carol-new", ["info"]);
    expect(info.federationId).toMatch(/^[0-9a-f]{64}$/);
  }, 480_000);
});
