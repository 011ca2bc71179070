#!/usr/bin/env node
// Makes sure the system programs that the tests and `npm start` drive are installed: checks that each
// binary is on PATH, and if some are missing installs their Debian packages with apt-get (as root),
// or exits 1 telling the user the exact command to run. Plain Node, no dependencies, so it runs
// before `npm ci` has finished and on a fresh machine. It only looks at PATH when everything is
// present, so it costs a few milliseconds.
//
//   node scripts/ensure-system-packages.mjs            # every group below
//   node scripts/ensure-system-packages.mjs monero     # only these groups
//
// Importable too: `import { ensureSystemPackages } from "./ensure-system-packages.mjs"`.

import { spawnSync } from "node:child_process";
import console from "node:console";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/**
 * Group name -> the binaries it needs, each with the Debian package that ships it. Add a group
 * (for example `chromium: { chromium: "chromium" }`) and it is checked and installed the same way.
 * @type {Record<string, Record<string, string>>}
 */
export const SYSTEM_PACKAGES = {
  monero: {
    monerod: "monero",
    "monero-wallet-rpc": "monero",
    "monero-wallet-cli": "monero",
  },
  chromium: {
    chromium: "chromium",
  },
};

/**
 * The absolute path of an executable on PATH, or undefined.
 * @param {string} binary
 * @param {string} [pathEnv]
 * @returns {string | undefined}
 */
export function findOnPath(binary, pathEnv = process.env.PATH ?? "") {
  for (const dir of pathEnv.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, binary);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * The binaries of the chosen groups that are not on PATH, with their Debian packages.
 * @param {readonly string[]} groups
 * @returns {{ binary: string, pkg: string }[]}
 */
export function missingBinaries(groups) {
  /** @type {{ binary: string, pkg: string }[]} */
  const missing = [];
  for (const group of groups) {
    const table = SYSTEM_PACKAGES[group];
    if (table === undefined) {
      throw new Error(
        `unknown system package group "${group}" (known: ${Object.keys(SYSTEM_PACKAGES).join(", ")})`,
      );
    }
    for (const [binary, pkg] of Object.entries(table)) {
      if (findOnPath(binary) === undefined) missing.push({ binary, pkg });
    }
  }
  return missing;
}

/**
 * @param {string} command
 * @param {string[]} args
 */
function run(command, args) {
  console.error(`ensure-system-packages: ${command} ${args.join(" ")}`);
  const r = spawnSync(command, args, {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (r.error) throw new Error(`${command} could not be started: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${r.status ?? r.signal})`);
}

/**
 * Checks the groups' binaries; installs the missing packages when root; throws with the command to
 * run otherwise. Returns the packages it installed (empty when everything was present).
 * @param {readonly string[]} [groups]
 * @returns {string[]}
 */
export function ensureSystemPackages(groups = Object.keys(SYSTEM_PACKAGES)) {
  const missing = missingBinaries(groups);
  if (missing.length === 0) return [];
  const packages = [...new Set(missing.map((m) => m.pkg))];
  const what = missing.map((m) => m.binary).join(", ");
  const command = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(" ")}`;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot) {
    throw new Error(`missing on PATH: ${what}. Install them as root:\n  sudo sh -c '${command}'`);
  }
  if (findOnPath("apt-get") === undefined) {
    throw new Error(`missing on PATH: ${what}, and apt-get is not available: install ${packages.join(" ")}`);
  }
  run("apt-get", ["update"]);
  run("apt-get", ["install", "-y", "--no-install-recommends", ...packages]);
  const still = missingBinaries(groups);
  if (still.length > 0) {
    throw new Error(
      `still missing after installing ${packages.join(" ")}: ${still.map((m) => m.binary).join(", ")}`,
    );
  }
  return packages;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const groups = process.argv.slice(2);
  try {
    const installed = ensureSystemPackages(groups.length > 0 ? groups : undefined);
    if (installed.length > 0) console.error(`ensure-system-packages: installed ${installed.join(" ")}`);
  } catch (e) {
    console.error(`ensure-system-packages: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
