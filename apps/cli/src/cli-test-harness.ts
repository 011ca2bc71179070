// Runs the CLI as a child process, as a user's shell would: `node --import tsx main.ts ...`.
// Test-only (imported by *.test.ts).
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "main.ts");
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliRunOptions {
  readonly stdin?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Kill the run if it takes longer (a hang must fail the test, not time it out silently). */
  readonly timeoutMs?: number;
}

export function runConclave(args: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  return runTsScript(MAIN, args, options);
}

/** Any TypeScript entry point of the repository run the same way (`npm run demo:pay` is one). */
export function runTsScript(
  script: string,
  args: readonly string[],
  options: CliRunOptions = {},
): Promise<CliRun> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && k !== "CONCLAVE_WALLET_DIR" && k !== "CONCLAVE_MNEMONIC") env[k] = v;
  }
  Object.assign(env, options.env ?? {});
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  child.stdin.end(options.stdin ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
