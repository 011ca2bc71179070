// The relay's commands with the CLI as a process against four real guardian processes (mint, dev
// faucet and relay): contact cards exchanged and their fingerprints compared, a letter through the
// mailbox, social recovery set up 2-of-3 (device, a friend by the mailbox, a printed shard), a new
// device recovering from the friend's and the printed shard, the set grown to 3-of-5 (the old shards
// then recover nothing), and refusals: shards of two sets, a damaged shard, a phrase that is not the
// wallet's, a recovery into a directory that holds a wallet.
//
// Each CLI run is a fresh `node --import tsx` process; with six helpers' runs on two cores one took
// over 60 s (2026-12-06 16:40, load 20-25), so runs here get 110 s and each test makes few of them.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
let apiUrls: string[] = [];
const guardianUrls = (): string[] => apiUrls;
const guardians: GuardianProcess[] = [];
/** A valid BIP-39 phrase that is no wallet's here. */
const OTHER_PHRASE =
  "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "conclave-cli-relay-"));
  const files = await writeLocalFederation(join(root, "federation"), 4, { heightsPerSession: 4 }, [
    ...DEV_MODULES_WITH_MINT,
    { instanceId: 2, kind: "relay", config: {} },
  ]);
  invite = encodeInvite(inviteOf(files.config));
  apiUrls = files.config.guardians.map((g) => g.api!.url);
  const started = await Promise.allSettled([0, 1, 2, 3].map((i) => startGuardian(files, i, { quiet: true })));
  for (const s of started) if (s.status === "fulfilled") guardians.push(s.value);
  const failed = started.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  await waitConnected(guardians);
}, 180_000);

afterAll(async () => {
  await Promise.all(guardians.map((g) => stopGuardian(g, "SIGKILL")));
  if (root) rmSync(root, { recursive: true, force: true });
});

const dir = (name: string) => join(root, name);

function conclave(name: string, args: readonly string[], stdin?: string): Promise<CliRun> {
  return runConclave(["--data", dir(name), ...args], {
    timeoutMs: 110_000,
    ...(stdin === undefined ? {} : { stdin }),
  });
}

async function ok(name: string, args: readonly string[], stdin?: string): Promise<CliRun> {
  const r = await conclave(name, args, stdin);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) as unknown });
  return r;
}

async function json<T>(name: string, args: readonly string[], stdin?: string): Promise<T> {
  return JSON.parse((await ok(name, ["--json", ...args], stdin)).stdout) as T;
}

/** A refused command: exit 1 and the error code in its --json error. */
async function refused(name: string, args: readonly string[], stdin?: string): Promise<string> {
  const r = await conclave(name, ["--json", ...args], stdin);
  expect(r.code).toBe(1);
  return (JSON.parse(r.stderr.trim().split("\n").at(-1)!) as { error: { code: string } }).error.code;
}

interface Setup {
  threshold: number;
  total: number;
  friends: { contact: string; storedAt: number[]; error?: string }[];
  offline: { text: string; qr: string }[];
  revokedPrevious: boolean;
}
interface Letters {
  letters: { fromName?: string; kind: string; text: string }[];
}

let bobPhrase: string;
let aliceCard: string;
let oldSet: { offline: string; friend: string };

describe("conclave contact, inbox and recovery against four guardian processes", () => {
  it("alice and bob join", async () => {
    await ok("alice", ["join", invite]);
    bobPhrase = (await json<{ mnemonic: string }>("bob", ["join", invite])).mnemonic;
  }, 240_000);

  it("contact show prints the card, its QR code and the fingerprint; bob adds it from a file and sees the same fingerprint", async () => {
    const shown = await ok("alice", ["contact", "show", "--name", "alice"]);
    expect(shown.stdout).toContain("█"); // the QR code
    aliceCard = /\n(ccard1[A-Za-z0-9_-]+)\n/.exec(shown.stdout)![1]!;
    const fingerprint = /Fingerprint: ([0-9a-f]{4}(?: [0-9a-f]{4}){4})/.exec(shown.stdout)![1]!;
    writeFileSync(join(root, "alice.card"), aliceCard);
    const added = await json<{ name: string; fingerprint: string }>("bob", [
      "contact",
      "add",
      `@${join(root, "alice.card")}`,
    ]);
    expect(added).toMatchObject({ name: "alice", fingerprint });
  }, 240_000);

  it("alice adds bob's card from stdin and lists it; a card changed after signing is refused", async () => {
    const bobCard = await json<{ text: string }>("bob", ["contact", "show", "--name", "bob"]);
    await ok("alice", ["contact", "add", "-"], bobCard.text);
    expect((await ok("alice", ["contact", "list"])).stdout).toMatch(/^bob +[0-9a-f]{4} /m);
    const i = aliceCard.length - 6;
    const forged = aliceCard.slice(0, i) + (aliceCard[i] === "A" ? "B" : "A") + aliceCard.slice(i + 1);
    expect(await refused("bob", ["contact", "add", forged])).toBe("bad_card");
  }, 240_000);

  it("bob sends alice a letter; she reads it once", async () => {
    const sent = await ok("bob", ["inbox", "send", "alice", "lunch at noon?"]);
    expect(sent.stdout).toContain("Sent to alice: stored at guardians 0, 1, 2, 3");
    const read = await ok("alice", ["inbox", "read"]);
    expect(read.stdout).toContain("Reading the inbox at 4 guardians");
    expect(read.stdout).toMatch(/From bob at .*:\n {2}lunch at noon\?/);
    expect((await json<Letters>("alice", ["inbox", "read"])).letters).toEqual([]);
  }, 240_000);

  it("recovery setup refuses a phrase that is not the wallet's", async () => {
    expect(
      await refused("bob", ["recovery", "setup", "--friends", "alice", "--offline", "1"], OTHER_PHRASE),
    ).toBe("wrong_mnemonic");
  }, 240_000);

  it("bob sets up 2-of-3 recovery: his device, alice by the mailbox, a printed shard", async () => {
    const r = await ok(
      "bob",
      ["recovery", "setup", "-t", "2", "--friends", "alice", "--offline", "1"],
      bobPhrase,
    );
    expect(r.stdout).toContain("Stored at guardians 0, 1, 2, 3");
    expect(r.stdout).toContain("Sent alice a shard");
    expect(r.stdout).toContain("any 2 of 3 shards recover the wallet");
    const offline = /\n(cshard1[A-Za-z0-9_-]+)\n/.exec(r.stdout)?.[1];
    expect(offline).toBeDefined();
    const shard = (await json<Letters>("alice", ["inbox", "read"])).letters.find((l) => l.kind === "shard");
    expect(shard?.fromName).toBe("bob");
    oldSet = { offline: offline!, friend: shard!.text };
  }, 240_000);

  it("a new device recovers bob's wallet (phrase, notes, contacts) from alice's shard and the printed one", async () => {
    const r = await ok(
      "bob-new",
      ["recovery", "recover", invite, "-"],
      `${oldSet.friend}\n${oldSet.offline}\n`,
    );
    expect(r.stdout).toContain(`    ${bobPhrase}\n`);
    expect(r.stdout).toMatch(/Wallet state restored: \d+ entries/);
    // The restored wallet is bob's: it holds his contact (from the recovery store).
    expect((await ok("bob-new", ["contact", "list"])).stdout).toMatch(/^alice /m);
    expect(
      await refused("bob-new", ["recovery", "recover", invite, `${oldSet.friend},${oldSet.offline}`]),
    ).toBe("already_joined");
  }, 240_000);

  it("one shard is not enough; a damaged shard is refused", async () => {
    expect(await refused("x1", ["recovery", "recover", invite, oldSet.offline])).toBe("not_enough_shards");
    const i = 20;
    const damaged =
      oldSet.offline.slice(0, i) + (oldSet.offline[i] === "A" ? "B" : "A") + oldSet.offline.slice(i + 1);
    expect(await refused("x2", ["recovery", "recover", invite, `${oldSet.friend} ${damaged}`])).toBe(
      "bad_shard",
    );
  }, 240_000);

  let grown: Setup;
  it("growing to 3-of-5 re-keys: the old shards recover nothing; mixing the two sets is refused", async () => {
    grown = await json<Setup>("bob", ["recovery", "add", "-t", "3", "--offline", "2"], bobPhrase);
    expect(grown).toMatchObject({ threshold: 3, total: 5, revokedPrevious: true });
    expect(grown.offline).toHaveLength(3);
    expect(grown.friends.map((f) => [f.contact, f.error])).toEqual([["alice", undefined]]);
    expect(await refused("x3", ["recovery", "recover", invite, `${oldSet.friend} ${oldSet.offline}`])).toBe(
      "set_revoked",
    );
    expect(
      await refused("x4", ["recovery", "recover", invite, `${oldSet.offline} ${grown.offline[0]!.text}`]),
    ).toBe("mixed_shards");
  }, 240_000);

  it("three shards of the new set recover the wallet", async () => {
    const recovered = await json<{ mnemonic: string }>(
      "bob-3",
      ["recovery", "recover", invite, "-"],
      grown.offline.map((o) => o.text).join("\n"),
    );
    expect(recovered.mnemonic).toBe(bobPhrase);
  }, 240_000);

  it("the federation's shard from the command line: carol's set has one; a stranger's request shows in recovery requests and recovery cancel stops it", async () => {
    const carolPhrase = (await json<{ mnemonic: string }>("carol", ["join", invite])).mnemonic;
    const set = await json<{ setId: string; federationAt: number[] }>(
      "carol",
      ["recovery", "setup", "-t", "2", "--offline", "1", "--federation-delay-hours", "24"],
      carolPhrase,
    );
    expect(set.federationAt).toEqual([0, 1, 2, 3]);
    // A stranger (who found the printed shard: it names the set) asks every guardian for its piece.
    const requestId = randomBytes(16).toString("hex");
    const der = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" });
    const tempKey = der.subarray(der.length - 32).toString("hex");
    const urls = guardianUrls();
    const escrow = (g: number, what: string, body: unknown) =>
      fetch(`${urls[g]}/v1/modules/relay/escrow/${set.setId}/${what}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    for (const g of [0, 1, 2, 3])
      expect((await escrow(g, "request", { requestId, tempKey })).status).toBe(200);
    const seen = await json<{
      statuses: { guardian: number; status: { requests: { requestId: string; cancelled: boolean }[] } }[];
    }>("carol", ["recovery", "requests"]);
    expect(seen.statuses.map((s) => s.status.requests.map((q) => [q.requestId, q.cancelled]))).toEqual(
      Array.from({ length: 4 }, () => [[requestId, false]]),
    );
    const cancel = await json<{ cancelled: { guardian: number; requestId: string }[] }>("carol", [
      "recovery",
      "cancel",
    ]);
    expect(cancel.cancelled.map((c) => c.guardian).sort()).toEqual([0, 1, 2, 3]);
    // Nothing is released: every guardian answers 410 to the stranger, now and after any delay.
    for (const g of [0, 1, 2, 3]) expect((await escrow(g, "collect", { requestId })).status).toBe(410);
  }, 480_000);
});
