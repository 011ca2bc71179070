// The guardian's store of client backups, on a real LMDB environment in a temp dir.
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { backupSigningBytes, toHex } from "@conclave/core-common";
import type { BackupRecord } from "@conclave/core-common";
import { NodeSigner, NodeVerifier, sha256 } from "../node-crypto.js";
import { BackupStore, backupStorePath, DEFAULT_BACKUP_STORE_LIMITS } from "./backup-store.js";
import type { BackupStoreLimits } from "./backup-store.js";
import { LmdbConsensusStore } from "./lmdb-consensus-store.js";

const federationId = new Uint8Array(32).fill(9);
const owner = new NodeSigner(new Uint8Array(32).fill(1));
const stranger = new NodeSigner(new Uint8Array(32).fill(2));
const DAY_MS = 24 * 60 * 60 * 1000;

function record(version: number, bytes: Uint8Array, signer = owner, fed = federationId): BackupRecord {
  const message = backupSigningBytes(sha256, fed, owner.publicKey, version, bytes);
  return {
    id: toHex(owner.publicKey),
    version,
    ciphertext: Buffer.from(bytes).toString("base64"),
    signature: toHex(signer.sign(message)),
  };
}

/** A backup of `key`'s own, signed by it: what anyone can make for free with a fresh key. */
function backupOf(key: NodeSigner, version: number, bytes: Uint8Array): BackupRecord {
  return {
    id: toHex(key.publicKey),
    version,
    ciphertext: Buffer.from(bytes).toString("base64"),
    signature: toHex(key.sign(backupSigningBytes(sha256, federationId, key.publicKey, version, bytes))),
  };
}

const attackerKey = (i: number) => {
  const seed = new Uint8Array(32).fill(0xa0);
  new DataView(seed.buffer).setUint32(0, i);
  return new NodeSigner(seed);
};

let dir: string;
let store: BackupStore | undefined;
let clock = 1_000 * DAY_MS;
const now = () => clock;

function openStore(limits: BackupStoreLimits = DEFAULT_BACKUP_STORE_LIMITS): BackupStore {
  store = BackupStore.open(join(dir, "backups"), federationId, new NodeVerifier(), limits, now);
  return store;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "conclave-backups-"));
  clock = 1_000 * DAY_MS;
});
afterEach(async () => {
  await store?.close();
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe("BackupStore", () => {
  it("stores a signed backup, serves it back byte for byte, and keeps it across a reopen", async () => {
    const r = record(5, new Uint8Array([1, 2, 3, 250]));
    await expect(openStore().put(r)).resolves.toEqual({ stored: true, version: 5 });
    expect(store!.get(r.id)).toEqual(r);
    await store!.close();
    expect(openStore().get(r.id)).toEqual(r);
    expect(store!.usage).toEqual({ records: 1, bytes: 80 + 4 });
  });

  it("replaces a backup only with a higher version, answering stale_backup (409) otherwise", async () => {
    const s = openStore();
    await s.put(record(5, new Uint8Array([1])));
    await expect(s.put(record(5, new Uint8Array([2])))).rejects.toMatchObject({
      code: "stale_backup",
      status: 409,
    });
    await expect(s.put(record(4, new Uint8Array([3])))).rejects.toMatchObject({ code: "stale_backup" });
    expect(s.get(toHex(owner.publicKey))?.ciphertext).toBe(Buffer.from([1]).toString("base64"));
    await s.put(record(6, new Uint8Array([4])));
    expect(s.get(toHex(owner.publicKey))?.version).toBe(6);
    expect(s.usage.records).toBe(1);
  });

  it("refuses a record not signed by its id, or signed for another federation, and stores nothing", async () => {
    const s = openStore();
    await expect(s.put(record(1, new Uint8Array([1]), stranger))).rejects.toMatchObject({
      code: "invalid_request",
      details: { reason: "bad_signature" },
    });
    await expect(
      s.put(record(1, new Uint8Array([1]), owner, new Uint8Array(32).fill(8))),
    ).rejects.toMatchObject({ code: "invalid_request" });
    expect(s.get(toHex(owner.publicKey))).toBeUndefined();
  });

  it("refuses a new backup while full of recently written ones (unavailable, 503), evicting none of them", async () => {
    const s = openStore({
      recordsMax: 2,
      bytesMax: 1_000,
      staleAfterMs: 30 * DAY_MS,
      newKeysPerClientPerDay: 1_000,
      writeBytesPerClientPerHour: 1024 ** 3,
    });
    await s.put(backupOf(attackerKey(1), 1, new Uint8Array(8)));
    await s.put(backupOf(attackerKey(2), 1, new Uint8Array(8)));
    clock += 29 * DAY_MS;
    await expect(s.put(backupOf(attackerKey(3), 1, new Uint8Array(8)))).rejects.toMatchObject({
      code: "unavailable",
      status: 503,
    });
    expect(s.get(toHex(attackerKey(1).publicKey))).toBeDefined();
    expect(s.get(toHex(attackerKey(2).publicKey))).toBeDefined();
    expect(s.get(toHex(attackerKey(3).publicKey))).toBeUndefined();
    // Bytes too: a record that would take the store past bytesMax waits for stale room the same way.
    const bytesFull = openStoreAt("bytes", {
      recordsMax: 10,
      bytesMax: 200,
      staleAfterMs: 30 * DAY_MS,
      newKeysPerClientPerDay: 1_000,
      writeBytesPerClientPerHour: 1024 ** 3,
    });
    await bytesFull.put(backupOf(attackerKey(1), 1, new Uint8Array(100)));
    await expect(bytesFull.put(backupOf(attackerKey(2), 1, new Uint8Array(100)))).rejects.toMatchObject({
      code: "unavailable",
    });
    await bytesFull.close();
  });

  it("a flood of new keys fills the store but never evicts a backup its owner rewrites within staleAfterMs, whose larger rewrite is still accepted", async () => {
    const s = openStore({
      recordsMax: 20,
      bytesMax: 20 * 200,
      staleAfterMs: 30 * DAY_MS,
      newKeysPerClientPerDay: 1_000,
      writeBytesPerClientPerHour: 1024 ** 3,
    });
    await s.put(record(1, new Uint8Array(16)));
    // Attacker: more fresh keys than the store takes, each with a backup of its own, all rewritten
    // every 10 days to keep them fresh, for 120 days.
    const flooded: number[] = [];
    for (let round = 0; round < 12; round++) {
      let stored = 0;
      for (let i = 0; i < 25; i++) {
        const ok = await s
          .put(backupOf(attackerKey(i), 1 + round, new Uint8Array(100)))
          .then(() => true)
          .catch((e: unknown) => {
            expect(e).toMatchObject({ code: "unavailable" });
            return false;
          });
        if (ok) stored++;
      }
      flooded.push(stored);
      // The real owner rewrites its backup every 20 days (a wallet does when its notes change).
      if (round % 2 === 1) await s.put(record(2 + round, new Uint8Array(16 + round)));
      clock += 10 * DAY_MS;
    }
    expect(flooded).toEqual(Array<number>(12).fill(19));
    expect(s.usage.records).toBe(20);
    // The owner's backup is there, and a rewrite that needs more bytes than it had still goes in.
    expect(s.get(toHex(owner.publicKey))?.version).toBe(2 + 11);
    await expect(s.put(record(1_000, new Uint8Array(150)))).resolves.toEqual({
      stored: true,
      version: 1_000,
    });
    expect(s.get(toHex(owner.publicKey))?.ciphertext).toBe(
      Buffer.from(new Uint8Array(150)).toString("base64"),
    );
  });

  it("once a flood goes unrefreshed for staleAfterMs, a real user's new backup is accepted: the least recently written go first", async () => {
    const s = openStore({
      recordsMax: 10,
      bytesMax: 10_000,
      staleAfterMs: 30 * DAY_MS,
      newKeysPerClientPerDay: 1_000,
      writeBytesPerClientPerHour: 1024 ** 3,
    });
    for (let i = 0; i < 10; i++) {
      await s.put(backupOf(attackerKey(i), 1, new Uint8Array(32)));
      clock += 1000;
    }
    await expect(s.put(record(1, new Uint8Array(64)))).rejects.toMatchObject({ code: "unavailable" });
    clock += 30 * DAY_MS;
    // Attacker key 0 is rewritten just now: it is fresh again and no longer the oldest.
    await s.put(backupOf(attackerKey(0), 2, new Uint8Array(32)));
    await expect(s.put(record(1, new Uint8Array(64)))).resolves.toEqual({ stored: true, version: 1 });
    expect(s.get(toHex(owner.publicKey))?.version).toBe(1);
    expect(s.get(toHex(attackerKey(0).publicKey))?.version).toBe(2);
    expect(s.get(toHex(attackerKey(1).publicKey))).toBeUndefined();
    for (let i = 2; i < 10; i++) expect(s.get(toHex(attackerKey(i).publicKey))).toBeDefined();
    expect(s.usage).toEqual({ records: 10, bytes: 9 * (80 + 32) + 80 + 64 });
    // The counts survive a reopen, and the eviction order with them.
    await s.close();
    const reopened = openStore({
      recordsMax: 10,
      bytesMax: 10_000,
      staleAfterMs: 30 * DAY_MS,
      newKeysPerClientPerDay: 1_000,
      writeBytesPerClientPerHour: 1024 ** 3,
    });
    expect(reopened.usage).toEqual({ records: 10, bytes: 9 * (80 + 32) + 80 + 64 });
    await reopened.put(backupOf(stranger, 1, new Uint8Array(8)));
    expect(reopened.get(toHex(attackerKey(2).publicKey))).toBeUndefined();
    expect(reopened.get(toHex(attackerKey(3).publicKey))).toBeDefined();
  });

  it("admits newKeysPerClientPerDay new keys per client network (IPv4 address, IPv6 /48) per day; rewrites of held keys are not counted", async () => {
    const s = openStore({ ...DEFAULT_BACKUP_STORE_LIMITS, newKeysPerClientPerDay: 3 });
    const v6 = (n: number) => `2001:db8:7:${n}::/64`;
    for (let i = 0; i < 3; i++) await s.put(backupOf(attackerKey(i), 1, new Uint8Array(8)), v6(i));
    // A fourth key from another /64 of the same /48: refused, 429, with when to retry.
    await expect(s.put(backupOf(attackerKey(3), 1, new Uint8Array(8)), v6(99))).rejects.toMatchObject({
      code: "rate_limited",
      status: 429,
    });
    expect(s.get(toHex(attackerKey(3).publicKey))).toBeUndefined();
    // Rewrites of keys already held, and new keys from other networks, go on.
    await s.put(backupOf(attackerKey(0), 2, new Uint8Array(8)), v6(0));
    await s.put(record(1, new Uint8Array(8)), "192.0.2.1");
    await s.put(backupOf(attackerKey(4), 1, new Uint8Array(8)), "2001:db8:8:1::/64");
    // A day later the network's quota is back.
    clock += DAY_MS;
    await expect(s.put(backupOf(attackerKey(3), 1, new Uint8Array(8)), v6(99))).resolves.toMatchObject({
      stored: true,
    });
  });

  it("bounds the bytes each client network writes per hour (a page at least per write), answering 429 beyond", async () => {
    const s = openStore({ ...DEFAULT_BACKUP_STORE_LIMITS, writeBytesPerClientPerHour: 3 * 4096 });
    const net = "198.51.100.7";
    // Three small rewrites cost a page each: the hour's budget.
    for (let v = 1; v <= 3; v++) await s.put(record(v, new Uint8Array(10)), net);
    await expect(s.put(record(4, new Uint8Array(10)), net)).rejects.toMatchObject({
      code: "rate_limited",
      status: 429,
    });
    expect(s.get(toHex(owner.publicKey))?.version).toBe(3);
    // Another network is not held back; this one writes again once its budget refilled.
    await s.put(backupOf(attackerKey(1), 1, new Uint8Array(10)), "198.51.100.8");
    clock += 20 * 60 * 1000;
    await expect(s.put(record(4, new Uint8Array(10)), net)).resolves.toMatchObject({ stored: true });
  });

  it("keeps backups in an LMDB environment of their own: a flood leaves the consensus database's files as they were", async () => {
    const dataDir = join(dir, "db");
    const consensus = new LmdbConsensusStore(dataDir, 0, 4);
    const consensusFiles = () =>
      readdirSync(dataDir)
        .filter((f) => f.endsWith(".mdb"))
        .map((f) => [f, statSync(join(dataDir, f)).size] as const);
    const before = consensusFiles();
    store = BackupStore.open(backupStorePath(dataDir), federationId, new NodeVerifier(), undefined, now);
    for (let i = 0; i < 64; i++) await store.put(backupOf(attackerKey(i), 1, new Uint8Array(64 * 1024)));
    expect(consensusFiles()).toEqual(before);
    expect(consensus.root.getKeys().asArray).not.toContain("client-backups");
    expect(statSync(join(backupStorePath(dataDir), "data.mdb")).size).toBeGreaterThan(64 * 64 * 1024);
    await consensus.close();
  });

  it("refuses a ciphertext above BACKUP_CIPHERTEXT_BYTES_MAX (128 KiB) even past the API's schema", async () => {
    const s = openStore();
    await expect(s.put(record(1, new Uint8Array(128 * 1024 + 1)))).rejects.toMatchObject({
      code: "invalid_request",
    });
    await expect(s.put(record(1, new Uint8Array(128 * 1024)))).resolves.toMatchObject({ stored: true });
  });

  it("answers undefined for an id that is not 32 bytes of hex", () => {
    const s = openStore();
    expect(s.get("zz")).toBeUndefined();
    expect(s.get("AB".repeat(32))).toBeUndefined();
  });
});

function openStoreAt(name: string, limits: BackupStoreLimits): BackupStore {
  return BackupStore.open(join(dir, name), federationId, new NodeVerifier(), limits, now);
}
