// Starts guardian daemons as separate OS processes on 127.0.0.1 and talks to them over the IPC
// control channel. Used by the benchmark, the process-level tests and the local federation.
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import type { LocalFederationFiles } from "./local-federation.js";

import { buildGuardianBundle } from "./build.js";

export interface GuardianProcess {
  readonly index: number;
  readonly child: ChildProcess;
  request<T>(body: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<number | null>;
}

export interface StartOptions {
  quiet?: boolean;
  /** Append the guardian's stdout and stderr to this file (created if missing). */
  logFile?: string;
  onLine?: (line: string) => void;
  durability?: "fsync" | "os-buffered";
  /** More arguments for `conclaved run` (e.g. `--web FILE`). */
  runArgs?: readonly string[];
}

/** A guardian of a dev federation made by writeLocalFederation (files named explicitly). */
export function startGuardian(
  files: LocalFederationFiles,
  index: number,
  options: StartOptions = {},
): Promise<GuardianProcess> {
  return startGuardianProcess(
    [
      "run",
      "--config",
      files.configPath,
      "--secret",
      files.secretPaths[index]!,
      "--data",
      files.dataDirs[index]!,
    ],
    index,
    options,
  );
}

/** A guardian whose data directory holds federation.json and guardian.secret.json (after a ceremony). */
export function startGuardianFromDir(
  dataDir: string,
  index: number,
  options: StartOptions = {},
): Promise<GuardianProcess> {
  return startGuardianProcess(["run", "--data", dataDir], index, options);
}

async function startGuardianProcess(
  args: readonly string[],
  index: number,
  options: StartOptions,
): Promise<GuardianProcess> {
  const child = fork(
    await buildGuardianBundle(),
    [
      ...args,
      "--ipc-control",
      ...(options.quiet === false ? [] : ["--quiet"]),
      ...(options.durability ? ["--durability", options.durability] : []),
      ...(options.runArgs ?? []),
    ],
    {
      // CONCLAVE_GUARDIAN_NODE_ARGS: extra Node flags for profiling, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
      execArgv: [
        "--enable-source-maps",
        ...(process.env["CONCLAVE_GUARDIAN_NODE_ARGS"]?.split(" ").filter((a) => a.length > 0) ?? []),
      ],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    },
  );
  let nextId = 1;
  const waiting = new Map<number, (v: Record<string, unknown>) => void>();
  child.on("message", (m: unknown) => {
    const msg = m as { id?: number };
    if (typeof msg.id === "number") waiting.get(msg.id)?.(msg);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let buffered = "";
  const log = options.logFile === undefined ? undefined : createWriteStream(options.logFile, { flags: "a" });
  if (log) {
    child.stderr?.on("data", (c: Buffer) => log.write(c));
    // 'close' comes after the last output; a log that cannot be written must not stop the caller.
    child.once("close", () => log.end());
    log.once("error", (e) =>
      process.stderr.write(`guardian ${index}: log ${options.logFile}: ${e.message}\n`),
    );
  }
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log?.write(chunk);
      buffered += chunk.toString("utf8");
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        options.onLine?.(line);
        if (line.includes('"guardian.ready"')) resolve();
      }
    };
    child.stdout?.on("data", onData);
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    void exited.then((code) =>
      reject(new Error(`guardian ${index} exited with ${code} before ready: ${stderr}`)),
    );
  });
  const proc: GuardianProcess = {
    index,
    child,
    exited,
    request<T>(body: Record<string, unknown>, timeoutMs = 120_000): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`guardian ${index}: no answer to ${String(body.cmd)} in ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, (v) => {
          clearTimeout(timer);
          waiting.delete(id);
          if (typeof v.error === "string") reject(new Error(v.error));
          else resolve(v as T);
        });
        const failed = (e: Error) => {
          clearTimeout(timer);
          waiting.delete(id);
          reject(new Error(`guardian ${index}: cannot send ${String(body.cmd)}: ${e.message}`));
        };
        // A guardian that exited (Ctrl-C reaches the whole process group) answers nothing: reject,
        // never throw from the ChildProcess's 'error' event.
        if (!child.connected) failed(new Error("its process has exited"));
        else child.send({ id, ...body }, (e) => (e ? failed(e) : undefined));
      });
    },
  };
  return ready.then(() => proc);
}

/** Runs `conclaved` with arguments to completion (e.g. `setup run`); resolves with its stdout. */
export async function runConclaved(
  args: readonly string[],
): Promise<{ done: Promise<string>; child: ChildProcess }> {
  const child = fork(await buildGuardianBundle(), [...args], {
    execArgv: ["--enable-source-maps"],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr?.on("data", (c: Buffer) => (err += c.toString("utf8")));
  const done = new Promise<string>((resolve, reject) => {
    child.once("exit", (code, signal) => {
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            `conclaved ${args.slice(0, 2).join(" ")} exited with ${code ?? signal}: ${err.slice(-2000)}`,
          ),
        );
    });
  });
  return { done, child };
}

export async function stopGuardian(p: GuardianProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill(signal);
  const timer = setTimeout(() => p.child.kill("SIGKILL"), 5_000);
  await p.exited;
  clearTimeout(timer);
}

export interface StatusReply {
  status: { height: number; round: number; sessionsSigned: number };
  connected: number;
  counters: Record<string, number>;
  rssBytes: number;
}

/** Waits until every guardian is linked to every other one. */
export async function waitConnected(ps: readonly GuardianProcess[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const statuses = await Promise.all(ps.map((p) => p.request<StatusReply>({ cmd: "status" })));
    if (statuses.every((s) => s.connected === ps.length - 1)) return;
    if (Date.now() > deadline) throw new Error(`guardians not all connected after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A guardian's answer to the IPC `audit` command (amounts as decimal strings). */
export interface AuditReply {
  audit: {
    assets: string;
    liabilities: string;
    modules: { instanceId: number; kind: string; assets: string; liabilities: string }[];
  };
}

/**
 * Every guardian's audit, asked again (every 100 ms, `tries` times) until `settled` holds for them
 * (default: all equal), since a guardian may be a block behind the others; the last answers otherwise.
 */
export async function guardianAudits(
  ps: readonly GuardianProcess[],
  settled: (replies: readonly AuditReply[]) => boolean = (rs) =>
    rs.every((r) => JSON.stringify(r.audit) === JSON.stringify(rs[0]?.audit)),
  tries = 50,
): Promise<AuditReply[]> {
  let replies: AuditReply[] = [];
  for (let i = 0; i < tries; i++) {
    replies = await Promise.all(ps.map((p) => p.request<AuditReply>({ cmd: "audit" })));
    if (settled(replies)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return replies;
}
