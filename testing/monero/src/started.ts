// Every process the regtest harness starts (processes.ts) is recorded here from the moment it is
// spawned, before anything waits for it to be ready, so that a test file can stop them all by PID
// even when its set-up threw or timed out. A timed-out beforeAll leaves its set-up running: vitest
// runs the afterAll hooks and then ends the worker with SIGTERM, and monerod and the wallet-rpcs,
// children of that worker, kept running (seen after each timed-out set-up, docs/benchmarks.md "Suite
// time"). vitest-setup.ts (vitest setupFiles) calls stopStartedProcesses after every file.
// No imports beyond node: the setup file loads this in every test file.

/** What this file needs of a started process (processes.ts's ManagedProcess). */
export interface StartedProcess {
  readonly name: string;
  readonly pid: number;
  hasExited(): boolean;
  stop(graceMs?: number): Promise<void>;
}

const started = new Set<StartedProcess>();
let refusing: string | undefined;

/** Records `proc` until it exits; throws (and kills it) after stopStartedProcesses. */
export function recordStarted(proc: StartedProcess, exited: Promise<unknown>): void {
  if (refusing !== undefined) {
    killPid(proc.pid);
    throw new Error(`${proc.name} (pid ${proc.pid}) started after ${refusing}: killed`);
  }
  started.add(proc);
  void exited.then(() => started.delete(proc));
}

/** The processes started and not exited yet. */
export function startedProcesses(): readonly StartedProcess[] {
  return [...started].filter((p) => !p.hasExited());
}

/**
 * Stops every recorded process by PID (SIGTERM, SIGKILL after `graceMs`) and, until
 * allowStarts(), refuses new ones: a set-up still running after its beforeAll timed out would
 * otherwise start the next process after this.
 */
export async function stopStartedProcesses(reason: string, graceMs = 10_000): Promise<void> {
  refusing = reason;
  await Promise.allSettled(startedProcesses().map((p) => p.stop(graceMs)));
}

/** Lets processes start again (the setup file calls it before each file). */
export function allowStarts(): void {
  refusing = undefined;
}

/** SIGKILL by PID to every recorded process, synchronously (for process "exit"). */
export function killStartedSync(): void {
  for (const p of startedProcesses()) killPid(p.pid);
}

function killPid(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // ESRCH: already gone.
  }
}
