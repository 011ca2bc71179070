// The CLI as a separate process, as a shell runs it: exit codes, what goes to stdout and stderr,
// and no stack traces for mistakes a user makes. (No federation needed: these fail before the
// wallet would contact one.)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runConclave } from "./cli-test-harness.js";

const root = mkdtempSync(join(tmpdir(), "conclave-cli-process-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("conclave as a process", () => {
  it("--help prints the commands on stdout and exits 0", async () => {
    const r = await runConclave(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    for (const c of [
      "join",
      "info",
      "dev-faucet",
      "spend",
      "cancel",
      "reissue",
      "split",
      "combine",
      "validate",
    ]) {
      expect(r.stdout).toContain(`  ${c} `);
    }
  });

  it("a usage error exits 2 with one line on stderr, nothing on stdout and no stack trace", async () => {
    for (const args of [["spend", "1,5"], ["frobnicate"], ["info", "--nope"], ["split", "2^3"]]) {
      const r = await runConclave(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^error \[usage\]: [^\n]+\n$/);
      expect(r.stderr).not.toContain("    at ");
    }
  });

  it("an empty data directory (--data or $CONCLAVE_WALLET_DIR) says to run join first and exits 1", async () => {
    const viaFlag = await runConclave(["--data", join(root, "empty-a"), "info"]);
    expect(viaFlag.code).toBe(1);
    expect(viaFlag.stderr).toContain(`error [not_joined]: there is no wallet in ${join(root, "empty-a")}`);
    expect(viaFlag.stderr).toContain("conclave join <invite>");
    const viaEnv = await runConclave(["reissue", "-"], {
      env: { CONCLAVE_WALLET_DIR: join(root, "empty-b") },
      stdin: "cnotes1xyz\n",
    });
    expect(viaEnv.code).toBe(1);
    expect(viaEnv.stderr).toContain(`there is no wallet in ${join(root, "empty-b")}`);
  });

  it("the default data directory is ~/.conclave/wallet", async () => {
    const home = join(root, "home");
    const r = await runConclave(["info"], { env: { HOME: home } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`there is no wallet in ${join(home, ".conclave", "wallet")}`);
  });

  it("--json errors are one JSON line on stderr", async () => {
    const r = await runConclave(["--json", "--data", join(root, "empty-c"), "backup"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: "not_joined" } });
  });
});
