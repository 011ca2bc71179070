// The README's newcomer walkthrough, end to end, with the CLI as a process against four real
// guardian processes running the mint (and the dev faucet): alice joins with the invite, gets notes
// from the faucet, spends some to a note string; bob joins and reissues it; damaged strings and a
// second reissue are refused with nothing lost; alice restores from her recovery phrase alone.
//
// Amounts are multiples of the mint's smallest note, 2^20 piconero (MINT_PARAMS_XMR): 1.048576 XMR
// is 2^20 * 10^6 piconero.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeInvite } from "@conclave/core-common";
import {
  DEV_MODULES_WITH_MINT,
  startGuardian,
  stopGuardian,
  waitConnected,
  writeLocalFederation,
} from "../../guardiand/src/index.js";
import type { GuardianProcess } from "../../guardiand/src/index.js";
import { inviteOf } from "../../guardiand/src/setup-cli.js";
import { runConclave } from "./cli-test-harness.js";
import type { CliRun } from "./cli-test-harness.js";

let root: string;
let invite: string;
const guardians: GuardianProcess[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "conclave-cli-e2e-"));
  const files = await writeLocalFederation(
    join(root, "federation"),
    4,
    { heightsPerSession: 4 },
    DEV_MODULES_WITH_MINT,
  );
  invite = encodeInvite(inviteOf(files.config));
  const started = await Promise.allSettled([0, 1, 2, 3].map((i) => startGuardian(files, i)));
  for (const s of started) if (s.status === "fulfilled") guardians.push(s.value);
  const failed = started.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  await waitConnected(guardians);
});

afterAll(async () => {
  await Promise.all(guardians.map((g) => stopGuardian(g, "SIGKILL")));
  if (root) rmSync(root, { recursive: true, force: true });
});

const alice = () => join(root, "alice");
const bob = () => join(root, "bob");
const restored = () => join(root, "alice-restored");

async function conclave(dir: string, args: readonly string[], stdin?: string): Promise<CliRun> {
  return runConclave(["--data", dir, ...args], stdin === undefined ? {} : { stdin });
}

/** Runs a command that must succeed; on failure the assertion shows what it printed. */
async function ok(dir: string, args: readonly string[], stdin?: string): Promise<CliRun> {
  const r = await conclave(dir, args, stdin);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) as unknown });
  return r;
}

async function balanceOf(dir: string): Promise<string> {
  const r = await ok(dir, ["--json", "info"]);
  return (JSON.parse(r.stdout) as { balance: string }).balance;
}

let mnemonic: string;
let notes: string;

describe("newcomer walkthrough: two wallets, a payment, bad input, restore", () => {
  it("alice joins with the invite and is shown the federation and her recovery phrase once", async () => {
    const r = await ok(alice(), ["join", invite]);
    expect(r.stdout).toContain('Federation "local"');
    expect(r.stdout).toContain("Guardians: 4, any 3 of them must agree");
    expect(r.stdout).toContain("WRITE THESE WORDS DOWN NOW");
    const phrase = /Recovery phrase \(mnemonic\):\n\n {4}([a-z ]+)\n/.exec(r.stdout)?.[1];
    expect(phrase?.split(" ").length).toBeOneOf([12, 24]);
    mnemonic = phrase!;
    const info = await ok(alice(), ["info"]);
    expect(info.stdout).not.toContain(mnemonic.split(" ")[0]! + " " + mnemonic.split(" ")[1]!);
  });

  it("joining again into the same directory is refused with already_joined", async () => {
    const r = await conclave(alice(), ["join", invite]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error [already_joined]");
  });

  it("alice gets 1.048576 XMR of notes from the dev faucet", async () => {
    const r = await ok(alice(), ["dev-faucet", "1.048576"]);
    expect(r.stdout).toContain("1.048576 XMR (1048576000000p)");
    expect(await balanceOf(alice())).toBe("1048576000000");
  });

  it("alice spends 0.262144 XMR: the note string alone on stdout, the spend id on stderr", async () => {
    const r = await ok(alice(), ["spend", "0.262144"]);
    expect(r.stdout).toMatch(/^cnotes1[A-Za-z0-9_-]+\n$/);
    expect(r.stderr).toContain("Spend id: ");
    notes = r.stdout.trim();
    expect(await balanceOf(alice())).toBe("786432000000");
  });

  it("bob joins the same federation into his own directory", async () => {
    const r = await ok(bob(), ["join", invite]);
    expect(r.stdout).toContain('Federation "local"');
  });

  it("a truncated, a one-character-changed and a garbage note string each fail with exit 1 and nothing lost", async () => {
    const middle = Math.floor(notes.length / 2);
    const flipped = notes.slice(0, middle) + (notes[middle] === "A" ? "B" : "A") + notes.slice(middle + 1);
    const cases: [string, RegExp][] = [
      [notes.slice(0, notes.length - 12), /length|truncated|short|checksum/i],
      [flipped, /checksum/i],
      ["hello, here is your money", /must start with "cnotes1"/],
    ];
    for (const [bad, why] of cases) {
      const r = await conclave(bob(), ["reissue", bad]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^error \[malformed_notes\]: [^\n]+\n$/);
      expect(r.stderr).toMatch(why);
      expect(r.stderr).toContain("nothing was spent or lost");
    }
    expect(await balanceOf(bob())).toBe("0");
  });

  it("bob reissues the note string from stdin and receives 0.262144 XMR", async () => {
    const r = await ok(bob(), ["reissue", "-"], `${notes}\n`);
    expect(r.stdout).toContain("Received 0.262144 XMR (262144000000p)");
    expect(await balanceOf(bob())).toBe("262144000000");
  });

  it("reissuing the same note string a second time fails with a clear already-spent message", async () => {
    const r = await conclave(bob(), ["reissue", notes]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already (been )?spent/i);
    expect(r.stderr).not.toContain("    at ");
    expect(await balanceOf(bob())).toBe("262144000000");
  });

  it("both balances are right in `info`", async () => {
    const a = await ok(alice(), ["info"]);
    expect(a.stdout).toContain("Balance: 0.786432 XMR (786432000000p)");
    const b = await ok(bob(), ["info"]);
    expect(b.stdout).toContain("Balance: 0.262144 XMR (262144000000p)");
  });

  it("alice backs up, then restores into a fresh directory from her phrase alone (stdin) with the right balance", async () => {
    const backup = await ok(alice(), ["backup"]);
    expect(backup.stdout).toContain("stored by guardians");
    const r = await ok(restored(), ["restore", invite], `${mnemonic}\n`);
    expect(r.stdout).toContain("Restored");
    expect(r.stdout).toContain("0.786432 XMR (786432000000p)");
    expect(await balanceOf(restored())).toBe("786432000000");
  });
});
