// vitest globalSetup (vitest.config.ts): one regtest template cache per test run (template.ts).
// Templates are built lazily by the first file that needs one, so a run without regtest files
// builds nothing. A cache directory given in the environment is used as is and kept.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REGTEST_CACHE_ENV, regtestCacheDir } from "./template.js";

export default function setup(): () => void {
  if (regtestCacheDir() !== undefined) return () => {};
  const dir = mkdtempSync(join(tmpdir(), "conclave-regtest-cache-"));
  process.env[REGTEST_CACHE_ENV] = dir;
  return () => {
    rmSync(dir, { recursive: true, force: true });
  };
}
