// Processes the regtest harness starts are stopped by PID even when the set-up that started them
// never returned: a beforeAll that times out (vitest then ends the worker, and monerod, its child,
// used to keep running) or throws. started.ts records each process at spawn; vitest-setup.ts stops
// them after every file.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { startProcess } from "./processes.js";
import { ensureMoneroInstalled, makeTempDir, removeDir } from "./regtest.js";
import { allowStarts, startedProcesses, stopStartedProcesses } from "./started.js";

const SRC = fileURLToPath(new URL(".", import.meta.url));
const REPO = join(SRC, "../../..");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeDir(d);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** PIDs of processes whose command line mentions `text` (a test's own temporary directory). */
function pidsMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(text)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function runVitest(args: readonly string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, "node_modules/vitest/vitest.mjs"), ...args], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", () => resolve(output));
  });
}

describe("processes started by the regtest harness", () => {
  it("are recorded at spawn, stopped by PID by stopStartedProcesses, and none may start after it", async () => {
    const dir = makeTempDir("conclave-started-");
    dirs.push(dir);
    const proc = startProcess("sleeper", "sleep", ["300"], join(dir, "sleep.log"));
    expect(startedProcesses()).toContain(proc);
    await stopStartedProcesses("this test stopped them");
    expect(alive(proc.pid)).toBe(false);
    expect(startedProcesses()).toEqual([]);
    expect(() => startProcess("late", "sleep", ["301"], join(dir, "late.log"))).toThrow(
      /started after this test stopped them: killed/,
    );
    // SIGKILL is sent before the throw; the kernel may take a moment to end it.
    let late = pidsMentioning("sleep\u0000301");
    for (let i = 0; i < 50 && late.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      late = pidsMentioning("sleep\u0000301");
    }
    expect(late).toEqual([]);
    allowStarts();
  });

  it("a test file whose beforeAll times out while monerod starts leaves no process behind", async () => {
    ensureMoneroInstalled();
    const dir = makeTempDir("conclave-setup-timeout-");
    dirs.push(dir);
    const output = await runVitest(
      ["run", "--config", join(SRC, "fixtures/vitest.config.ts"), "setup-timeout.fixture.ts"],
      { CONCLAVE_FIXTURE_DIR: dir, NO_COLOR: "1" },
    );
    // The fixture did time out in its set-up, with monerod started (its log is in the directory).
    expect(output).toMatch(/Hook timed out in 1000ms/);
    expect(readdirSync(join(dir, "monerod"))).toContain("monerod.log");
    const left = pidsMentioning(dir);
    for (const pid of left) process.kill(pid, "SIGKILL"); // by PID, so that a failure leaks nothing
    expect(left).toEqual([]);
  }, 120_000);
});
