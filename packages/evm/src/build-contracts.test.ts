import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");

describe("the committed ABI module", () => {
  it("is byte for byte what scripts/build-contracts.mjs compiles from WrappedMonero.sol", async () => {
    // --check exits 1 when the generated file differs (execFile then rejects).
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(REPO_ROOT, "scripts/build-contracts.mjs"), "--check"],
      { cwd: REPO_ROOT },
    );
    expect(stdout).toContain("is up to date");
  });
});
