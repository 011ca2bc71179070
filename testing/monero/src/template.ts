// Regtest set-ups built once per test run and copied per test file. Making a regtest federation's
// wallets and mining its first blocks costs minutes on a loaded machine (docs/benchmarks.md, "Suite
// time"), and every regtest file did the same work. With REGTEST_CACHE_ENV naming a directory (the
// vitest globalSetup, vitest-global-setup.ts, makes one per run and removes it after), the first file
// that asks for a set-up builds it there (monerod stopped cleanly, wallets closed: the directory is
// the chain and the wallet files), and every file copies it into its own directory and starts its
// own monerod and wallet-rpcs on the copy: chains and wallets stay independent per file. Without
// the variable (benchmarks, npm start) nothing is cached and callers build as before.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

/** The environment variable naming the run's cache directory. */
export const REGTEST_CACHE_ENV = "CONCLAVE_REGTEST_CACHE";

const COMPLETE_MARKER = ".complete";
const LOCK_WAIT_MS_MAX = 20 * 60_000;
const LOCK_POLL_MS = 250;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The run's cache directory, if there is one. */
export function regtestCacheDir(): string | undefined {
  const dir = process.env[REGTEST_CACHE_ENV];
  return dir !== undefined && dir !== "" ? dir : undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but is not ours; ESRCH: gone.
    return e instanceof Error && "code" in e && e.code === "EPERM";
  }
}

/**
 * Holds `lockDir` (mkdir is atomic) while `f` runs. Test files may run in parallel worker processes:
 * one builds, the others wait. A lock whose holder (pid in the directory) has died is taken over.
 */
async function withLock<T>(lockDir: string, f: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS_MAX;
  const pidFile = join(lockDir, "pid");
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(pidFile, String(process.pid));
      break;
    } catch (e) {
      if (!(e instanceof Error && "code" in e && e.code === "EEXIST")) throw e;
    }
    let holder: number | undefined;
    try {
      holder = Number(readFileSync(pidFile, "utf8"));
    } catch {
      holder = undefined; // between its mkdir and its write: wait
    }
    if (holder !== undefined && Number.isInteger(holder) && holder > 0 && !processAlive(holder)) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`${lockDir}: held by pid ${holder} for ${LOCK_WAIT_MS_MAX} ms`);
    await sleep(LOCK_POLL_MS);
  }
  try {
    return await f();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/**
 * With a run cache: makes sure the template `name` exists (calling `build(templateDir)` once per run
 * to fill an empty directory; `build` must leave no process running on it), then copies it into
 * `into` (logs left out) and returns true. Without a run cache: returns false and does nothing.
 */
export async function copyFromTemplate(
  name: string,
  build: (templateDir: string) => Promise<void>,
  into: string,
): Promise<boolean> {
  const cache = regtestCacheDir();
  if (cache === undefined) return false;
  if (!/^[a-z0-9-]+$/.test(name))
    throw new Error(`template name ${name}: lower-case letters, digits, dashes`);
  mkdirSync(cache, { recursive: true });
  const template = join(cache, name);
  await withLock(join(cache, `${name}.lock`), async () => {
    if (existsSync(join(template, COMPLETE_MARKER))) return;
    rmSync(template, { recursive: true, force: true });
    mkdirSync(template);
    await build(template);
    writeFileSync(join(template, COMPLETE_MARKER), new Date().toISOString());
  });
  mkdirSync(into, { recursive: true });
  cpSync(template, into, {
    recursive: true,
    filter: (src) => {
      const b = basename(src);
      return b !== COMPLETE_MARKER && !b.endsWith(".log") && b !== "lock.mdb";
    },
  });
  return true;
}
