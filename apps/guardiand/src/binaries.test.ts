// The programs as a user and an operator get them: `conclave` and `conclaved` built to plain
// JavaScript by scripts/build-binaries.mjs (what `npm ci` runs through the root `prepare` script)
// and run through their `bin` entries in node_modules/.bin, with no TypeScript loader. The guardian
// runs from a copy of apps/guardiand/dist outside the repository whose node_modules holds only the
// packages dist/package.json names (what an operator installs): four such guardians serve a
// federation, and the built CLI joins it, takes notes from the dev faucet and reads its balance.
import { execFile, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeInvite } from "@conclave/core-common";
import { DEV_MODULES_WITH_MINT, writeLocalFederation } from "./local-federation.js";
import { inviteOf } from "./setup-cli.js";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const BIN = join(REPO_ROOT, "node_modules", ".bin");
const run = promisify(execFile);

let root: string;
let operator: string;
let invite: string;
const guardians: ChildProcess[] = [];

/** The environment of a user's shell: no loader flags inherited from the test runner. */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env["NODE_OPTIONS"];
  delete env["CONCLAVE_WALLET_DIR"];
  delete env["CONCLAVE_MNEMONIC"];
  return env;
}

/** Runs an installed bin by its path (its `#!/usr/bin/env node` line picks plain node). */
async function bin(name: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return run(join(BIN, name), [...args], { cwd: root, env: userEnv(), timeout: 60_000 });
}

/** Starts `node conclaved.mjs run ...` from the operator's copy; resolves once it logs ready. */
function startOperatorGuardian(args: readonly string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(operator, "conclaved.mjs"), "run", ...args], {
    cwd: operator,
    env: userEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  guardians.push(child);
  let out = "";
  let err = "";
  child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString("utf8");
      if (out.includes('"guardian.ready"')) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`guardian exited ${code} before ready: ${err}`)));
  });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "conclave-binaries-"));
  await run(process.execPath, [join(REPO_ROOT, "scripts", "build-binaries.mjs")], {
    cwd: REPO_ROOT,
    env: userEnv(),
  });
  // The operator's install: dist/ alone plus the runtime packages its package.json names (linked
  // from this checkout instead of downloaded; nothing else is reachable from that directory).
  operator = join(root, "operator");
  cpSync(join(REPO_ROOT, "apps", "guardiand", "dist"), operator, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(operator, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  for (const name of Object.keys(pkg.dependencies)) {
    mkdirSync(dirname(join(operator, "node_modules", name)), { recursive: true });
    symlinkSync(join(REPO_ROOT, "node_modules", name), join(operator, "node_modules", name));
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(
    guardians.map(
      (g) =>
        new Promise<void>((resolve) => {
          if (g.exitCode !== null || g.signalCode !== null) return resolve();
          g.once("exit", () => resolve());
          g.kill("SIGKILL");
        }),
    ),
  );
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("the built binaries (no tsx)", () => {
  it("`conclave --help` and `conclaved --help` run through node_modules/.bin", async () => {
    const cli = await bin("conclave", ["--help"]);
    expect(cli.stdout).toContain("Usage: conclave [--data <dir>] [--json] <command>");
    const daemon = await bin("conclaved", ["--help"]);
    expect(daemon.stdout).toContain("conclaved run --data DIR");
  });

  it("the operator's dist/ needs only the packages its package.json names", () => {
    const pkg = JSON.parse(readFileSync(join(operator, "package.json"), "utf8")) as {
      bin: Record<string, string>;
      dependencies: Record<string, string>;
    };
    expect(pkg.bin).toEqual({ conclaved: "conclaved.mjs" });
    expect(Object.keys(pkg.dependencies).sort()).toEqual(["@chainsafe/blst", "lmdb"]);
    expect(readFileSync(join(operator, "conclaved.mjs"), "utf8")).not.toMatch(/from ["']tsx/);
  });

  it("four guardians run from the operator's copy; the built CLI joins, takes faucet notes, reads them", async () => {
    const files = await writeLocalFederation(
      join(root, "federation"),
      4,
      { heightsPerSession: 4 },
      DEV_MODULES_WITH_MINT,
    );
    invite = encodeInvite(inviteOf(files.config));
    await Promise.all(
      [0, 1, 2, 3].map((i) =>
        startOperatorGuardian([
          "--config",
          files.configPath,
          "--secret",
          files.secretPaths[i]!,
          "--data",
          files.dataDirs[i]!,
          "--quiet",
        ]),
      ),
    );
    const alice = join(root, "alice");
    const joined = await bin("conclave", ["--data", alice, "join", invite]);
    expect(joined.stdout).toContain('Federation "local"');
    await bin("conclave", ["--data", alice, "dev-faucet", "1.048576"]);
    const info = JSON.parse((await bin("conclave", ["--data", alice, "--json", "info"])).stdout) as {
      balance: string;
    };
    expect(BigInt(info.balance)).toBe(1_048_576_000_000n);
  }, 120_000);
});
