// The recovery store and social recovery at four guardian processes (each with its own LMDB), one of
// them behind a proxy that can serve forged or old records. The wallet's state is encrypted, padded
// and versioned at every guardian, and a wallet restored from the same root gets it back from the
// newest version that verifies; a seed split 2-of-3 among the device, a friend (through the mailbox)
// and a printed copy comes back from any two shards; growing to 3-of-5 makes the old shards useless.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { base64Decode, fromHex, toHex } from "@conclave/core-common";
import { FederationClient, json, put } from "@conclave/core-client";
import type { ClientCore } from "@conclave/core-client";
import {
  decodeShard,
  encodeShard,
  recoverSecret,
  sealRecovery,
  signRecord,
  snapshotEntries,
} from "@conclave/module-relay/client";
import { BYZANTINE, startRelayFederation } from "./relay-fixture.js";
import type { RelayFederation } from "./relay-fixture.js";

let fed: RelayFederation;

beforeAll(async () => {
  fed = await startRelayFederation("relay-recovery-");
}, 120_000);

afterAll(async () => {
  await fed?.stop();
});

/** Some of what a real wallet holds: the mint's counter, an op-log entry, a claim, a subaddress. */
async function someState(core: ClientCore, next: number): Promise<void> {
  const db = core.db;
  await db.write([
    put("counter", json({ next })),
    put("claim-counter", json({ next: 3 })),
    put(
      `oplog/0000000001-aa`,
      json({ id: "0000000001-aa", module: "mint", state: "pending", meta: { txid: "ab".repeat(32) } }),
    ),
    put(`claim/${"cd".repeat(32)}`, json({ txid: "cd".repeat(32), state: "waiting" })),
    put("subaddr/7", json({ index: 7, address: "8Bxyz" })),
    put("note/40/00ff", new Uint8Array(85)),
  ]);
}

describe("the recovery store", () => {
  it("restores a wallet's counters, operation log, claims, subaddresses and contacts into a new device from the same root", async () => {
    fed.mode = "honest";
    const root = new Uint8Array(randomBytes(32));
    const old = await fed.wallet(root);
    await someState(old.core, 41);
    const friend = await fed.wallet();
    await old.relay.addContact((await friend.relay.card("carol")).text);
    const stored = await old.relay.storeRecovery();
    expect(stored.storedBy).toEqual([0, 1, 2, 3]);
    expect([1024, 2048, 4096]).toContain(stored.bytes);

    const fresh = await fed.wallet(root);
    await fresh.core.db.write([put("counter", json({ next: 5 }))]);
    const restored = await fresh.relay.restoreRecovery();
    expect(restored).toMatchObject({ version: stored.version, from: [0, 1, 2, 3], older: [], forged: [] });
    const get = async (k: string): Promise<unknown> => {
      const v = await fresh.core.db.get(k);
      return v && (JSON.parse(new TextDecoder().decode(v)) as unknown);
    };
    expect(await get("counter")).toEqual({ next: 41 });
    expect(await get("claim-counter")).toEqual({ next: 3 });
    expect(await get("oplog/0000000001-aa")).toMatchObject({ state: "pending" });
    expect(await get(`claim/${"cd".repeat(32)}`)).toMatchObject({ state: "waiting" });
    expect(await get("subaddr/7")).toMatchObject({ index: 7 });
    // Notes are the mint backup's business, not the recovery store's.
    expect(await fresh.core.db.get("note/40/00ff")).toBeUndefined();
    expect((await fresh.relay.contacts()).map((c) => c.name)).toEqual(["carol"]);
  });

  it("keeps the newest version that verifies when one guardian serves an old one or a forged one", async () => {
    fed.mode = "honest";
    const root = new Uint8Array(randomBytes(32));
    const w = await fed.wallet(root);
    await someState(w.core, 10);
    await w.relay.storeRecovery();
    await w.relay.restoreRecovery(); // the proxy now holds version 1 as guardian 3's answer
    await someState(w.core, 20);
    const v2 = await w.relay.storeRecovery();
    fed.mode = "old-recovery";
    try {
      const other = await fed.wallet(root);
      const r = await other.relay.restoreRecovery();
      expect(r).toMatchObject({ version: v2.version, from: [0, 1, 2], older: [BYZANTINE], forged: [] });
      expect(JSON.parse(new TextDecoder().decode(await other.core.db.get("counter")))).toEqual({
        next: 20,
      });
      fed.mode = "forge-recovery";
      const third = await fed.wallet(root);
      const f = await third.relay.restoreRecovery();
      expect(f).toMatchObject({ version: v2.version, from: [0, 1, 2], forged: [BYZANTINE] });
    } finally {
      fed.mode = "honest";
    }
  });

  it("refuses an unpadded ciphertext, an older version and a record signed by another key", async () => {
    const w = await fed.wallet();
    const fid = fromHex((await FederationClient.join(fed.invite)).federationId);
    const seed = w.relay.keys.recoverySignSeed;
    const entries = await snapshotEntries(w.core.db, "m/1/");
    const good = signRecord(
      fid,
      seed,
      5,
      await sealRecovery(entries, w.relay.keys.recoveryKey, w.relay.keys.recoveryId, 5, new Uint8Array(24)),
    );
    expect(await fed.post(0, "recovery", good)).toMatchObject({
      status: 200,
      body: { stored: true, version: 5 },
    });
    const odd = signRecord(fid, seed, 6, new Uint8Array(1000));
    expect(await fed.post(0, "recovery", odd)).toMatchObject({
      status: 400,
      body: { message: /padded to 1 KiB/ },
    });
    const older = signRecord(fid, seed, 4, new Uint8Array(1024));
    expect(await fed.post(0, "recovery", older)).toMatchObject({
      status: 409,
      body: { code: "stale_backup" },
    });
    const stolen = { ...signRecord(fid, new Uint8Array(32).fill(1), 7, new Uint8Array(1024)), id: good.id };
    expect(await fed.post(0, "recovery", stolen)).toMatchObject({
      status: 400,
      body: { message: /signature does not verify/ },
    });
    const served = await fed.post(0, `recovery/${good.id}/read`, {});
    const bytes = base64Decode(served.body["ciphertext"] as string);
    expect(bytes.ok && bytes.bytes.length).toBe(1024);
  });
});

describe("social recovery", () => {
  const mnemonic = new TextEncoder().encode(
    "abandon ability able about above absent absorb abstract absurd abuse access accident account accuse",
  );

  it("splits 2-of-3 among the device, a friend (through the mailbox) and a printed copy; any two recover the seed", async () => {
    fed.mode = "honest";
    const alice = await fed.wallet();
    const bob = await fed.wallet();
    await alice.relay.addContact((await bob.relay.card("bob")).text);
    const setup = await alice.relay.socialSetup(mnemonic, 2, [
      { kind: "device" },
      { kind: "friend", contact: "bob" },
      { kind: "offline" },
    ]);
    expect(setup).toMatchObject({ threshold: 2, total: 3, storedBy: [0, 1, 2, 3], revokedPrevious: false });
    expect(setup.friends).toEqual([{ contact: "bob", storedAt: [0, 1, 2, 3] }]);
    expect(setup.offline).toHaveLength(1);
    expect(setup.offline[0]!.qr.split("\n").length).toBeGreaterThan(20);
    const letters = (await bob.relay.read()).letters;
    expect(letters.map((l) => l.kind)).toEqual(["shard"]);
    const friendShard = letters[0]!.text;
    const device = (await alice.relay.deviceShard())!;
    const printed = setup.offline[0]!.text;
    const client = await FederationClient.join(fed.invite);
    for (const pair of [
      [device, friendShard],
      [friendShard, printed],
      [printed, device],
    ]) {
      const r = await recoverSecret(client, pair);
      expect(new TextDecoder().decode(r.secret)).toBe(new TextDecoder().decode(mnemonic));
    }
    // A forged shard among three is named; the seed still comes back.
    const forged = decodeShard(printed);
    const share = forged.share.slice();
    share[3]! ^= 1;
    const r = await recoverSecret(client, [device, encodeShard({ ...forged, share }), friendShard]);
    expect(r.forged).toEqual([1]);
    expect(new TextDecoder().decode(r.secret)).toBe(new TextDecoder().decode(mnemonic));
  });

  it("grows from 2-of-3 to 3-of-5: the old shards recover nothing, three new ones recover the seed", async () => {
    const alice = await fed.wallet();
    const old = await alice.relay.socialSetup(mnemonic, 2, [
      { kind: "device" },
      { kind: "offline" },
      { kind: "offline" },
    ]);
    const oldShards = old.offline.map((o) => o.text);
    const grown = await alice.relay.socialSetup(mnemonic, 3, [
      { kind: "device" },
      { kind: "offline" },
      { kind: "offline" },
      { kind: "offline" },
      { kind: "offline" },
    ]);
    expect(grown.revokedPrevious).toBe(true);
    expect(grown.setId).not.toBe(old.setId);
    const client = await FederationClient.join(fed.invite);
    await expect(recoverSecret(client, oldShards)).rejects.toMatchObject({ code: "set_revoked" });
    const fresh = grown.offline.slice(1, 4).map((o) => o.text);
    expect(new TextDecoder().decode((await recoverSecret(client, fresh)).secret)).toBe(
      new TextDecoder().decode(mnemonic),
    );
    // A new shard mixed with an old one is refused as another set's.
    await expect(recoverSecret(client, [oldShards[0]!, ...fresh.slice(0, 2)])).rejects.toMatchObject({
      code: "mixed_shards",
    });
    expect(toHex(decodeShard(fresh[0]!).setId)).toBe(grown.setId);
  });
});

// Last: it uses up this address's new-key quota at guardian 1 for the rest of the file.
describe("recovery store floods", () => {
  it("refuses a flood of new recovery records from one address beyond 16 a day", async () => {
    const fid = fromHex((await FederationClient.join(fed.invite)).federationId);
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = signRecord(fid, new Uint8Array(randomBytes(32)), 1, new Uint8Array(1024));
      statuses.push((await fed.post(1, "recovery", r)).status);
    }
    // Guardian 1 took this address's earlier records in this file too: at most 16 new ones in all.
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(16);
    expect(statuses.slice(-4)).toEqual([429, 429, 429, 429]);
  });
});
