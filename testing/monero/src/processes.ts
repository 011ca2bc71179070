// Child processes for the regtest harness: started with their output in a log file (a pipe nobody
// reads would fill and block them), stopped by their own PID (SIGTERM, then SIGKILL after a grace
// period), never by name.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import { recordStarted } from "./started.js";

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process has exited (with its exit code or signal). */
  readonly exited: Promise<number | string>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** SIGTERM by PID, SIGKILL after `graceMs` (default 15 s); resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of its log, for error messages. */
  logTail(lines?: number): string;
}

export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  logFile: string,
): ManagedProcess {
  const fd = openSync(logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ["ignore", fd, fd] });
  } finally {
    closeSync(fd);
  }
  let exitedFlag = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once("error", (e) => {
      exitedFlag = true;
      resolve(`spawn error: ${e.message}`);
    });
    child.once("exit", (code, signal) => {
      exitedFlag = true;
      resolve(code ?? signal ?? "unknown");
    });
  });
  const pid = child.pid;
  if (pid === undefined) {
    throw new Error(
      `${name}: could not start ${command} (is it installed? see scripts/ensure-system-packages.mjs)`,
    );
  }
  let stopping: Promise<void> | undefined;
  const logTail = (lines = 20): string => {
    try {
      return readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  };
  const proc: ManagedProcess = {
    name,
    pid,
    logFile,
    exited,
    hasExited: () => exitedFlag,
    logTail,
    stop(graceMs = 15_000): Promise<void> {
      stopping ??= (async () => {
        if (exitedFlag) return;
        signalPid(pid, "SIGTERM");
        const timer = setTimeout(() => signalPid(pid, "SIGKILL"), graceMs);
        try {
          await exited;
        } finally {
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
  };
  // Recorded before anyone waits for it to be ready: stoppable by PID even if the set-up never
  // returns a handle (started.ts).
  recordStarted(proc, exited);
  return proc;
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (e) {
    // ESRCH: it is already gone, which is what we wanted.
    if (!(e instanceof Error && "code" in e && e.code === "ESRCH")) throw e;
  }
}

/** Ports for monerod and wallet-rpc command lines (core-server's: see its ports.ts). */
export { freePort } from "@conclave/core-server";

/**
 * Polls `probe` until it returns true; fails early if `process` exits, and after `timeoutMs`.
 * Errors thrown by the probe count as "not yet".
 */
export async function waitUntilReady(
  proc: ManagedProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (proc.hasExited()) {
      throw new Error(
        `${proc.name} exited before it was ready (exit ${await proc.exited}):\n${proc.logTail()}`,
      );
    }
    try {
      if (await probe()) return;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `; last error: ${lastError.message}` : "";
      throw new Error(`${proc.name} not ready within ${timeoutMs} ms${why}:\n${proc.logTail()}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
