// Test-only helpers for the tests that run `npm start` (apps/guardiand/src/dev.ts) as its own
// process, as a newcomer does: start it, read what it prints, find what it left running.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CliRun } from "../../cli/src/cli-test-harness.js";

export const SRC = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = join(SRC, "..", "..", "..");

/** Processes whose command line names `dir` (npm start's children, if any are left). */
export function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmd.includes(dir)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** SIGKILLs whatever still names `dir` (cleanup after a failed test). */
export function killProcessesUsing(dir: string): void {
  for (const pid of processesUsing(dir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `npm start` as a child process, with everything it printed so far. */
export interface DevFederation {
  readonly child: ChildProcess;
  /** stdout and stderr as they came. */
  output(): string;
  /** Asks `probe` every second until it returns a value; the error shows what npm start said. */
  waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T>;
  /** Resolves once npm start printed its instructions (the federation serves). */
  ready(timeoutMs: number): Promise<void>;
  /** SIGINT (Ctrl-C), then its exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export function startDev(args: readonly string[]): DevFederation {
  const child = spawn(process.execPath, ["--import", "tsx", join(SRC, "dev.ts"), ...args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr?.on("data", (c: Buffer) => (out += c.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const waitFor = async <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}\n--- npm start said:\n${out}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  return {
    child,
    output: () => out,
    waitFor,
    ready: async (timeoutMs) => {
      await waitFor("npm start to print its instructions", timeoutMs, () => {
        if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${out}`);
        return Promise.resolve(out.includes("Ctrl-C stops every guardian") ? true : undefined);
      });
    },
    stop: async (timeoutMs = 60_000) => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export function json<T>(r: CliRun): T {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export interface DemoState {
  daemonUrl: string;
  demoWalletRpcUrl: string;
  federationAddress: string;
}

export function demoState(fedDir: string): DemoState {
  return JSON.parse(readFileSync(join(fedDir, "monero.json"), "utf8")) as DemoState;
}

/** What npm start wrote to DIR/evm.json for its anvil (the bridge's chain). */
export interface EvmState {
  rpcUrl: string;
  chainId: number;
  contract: `0x${string}`;
  /** A funded dev account for the user, and its key (anvil's dev mnemonic). */
  account: `0x${string}`;
  privateKey: `0x${string}`;
}

export function evmState(fedDir: string): EvmState {
  return JSON.parse(readFileSync(join(fedDir, "evm.json"), "utf8")) as EvmState;
}

/** The CLI as a running process (from its sources, as runConclave), with its output so far. */
export interface RunningCli {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

export function startConclave(args: readonly string[]): RunningCli {
  const env = { ...process.env };
  delete env["CONCLAVE_WALLET_DIR"];
  delete env["CONCLAVE_MNEMONIC"];
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(REPO_ROOT, "apps", "cli", "src", "main.ts"), ...args],
    { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr?.on("data", (c: Buffer) => (err += c.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}
