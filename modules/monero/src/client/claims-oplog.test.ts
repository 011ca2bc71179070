// The Monero half's claims in the operation log, without monerod or running guardians: the wallet
// is opened on a federation config with the Monero module (written as a local federation is, keys
// dealt) whose guardians are not started, so that what happens before anything is sent shows.
// Crediting (the entry ended done, exactly once) and a refused claim (ended failed) need monerod:
// deposit-regtest.test.ts checks them.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeInvite, federationId, toHex } from "@conclave/core-common";
import type { FederationConfig } from "@conclave/core-common";
import { sha256 } from "@conclave/core-server";
import { MINT_PARAMS_XMR, writeLocalFederation } from "@conclave/guardiand";
import { encodeAddress } from "@conclave/monero";
import { MemoryClientDb, Wallet, nodeCrypto } from "@conclave/wallet-standard/node";
import { del, json, put } from "@conclave/core-client";
import { P_CLAIM } from "./store.js";
import type { ClaimRecord } from "./store.js";

let dir: string;
let config: FederationConfig;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "conclave-claims-oplog-"));
  const address = encodeAddress({
    network: "mainnet",
    kind: "standard",
    publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(7)),
    publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(8)),
  });
  const files = await writeLocalFederation(dir, 4, { heightsPerSession: 8 }, [
    { instanceId: 1, kind: "mint", config: MINT_PARAMS_XMR },
    {
      instanceId: 2,
      kind: "monero",
      config: { network: "mainnet", address, guardians: 4, confirmations: 3 },
    },
  ]);
  config = files.config;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A wallet of `config` in `db`, as `Wallet.join` writes it (the core's two records). */
async function openWallet(db: MemoryClientDb): Promise<Wallet> {
  if (!(await db.get("wallet"))) {
    const fid = toHex(federationId(config, sha256));
    const invite = encodeInvite({
      federationId: fid,
      name: config.name,
      guardians: config.guardians.map((g) => ({ name: g.name, api: g.api?.url ?? "" })),
    });
    await db.write([
      put("schema", json({ schema: 1 })),
      put("wallet", json({ federationId: fid, invite, config, root: "11".repeat(32), createdAtMs: 1 })),
    ]);
  }
  return Wallet.open(db, { crypto: nodeCrypto });
}

const txKey = "42".repeat(31) + "01";

describe("Monero claims in the operation log", () => {
  it("writes a claim's entry with the claim (pending, txid and guardian, never the tx key); a second seal reuses it", async () => {
    const db = new MemoryClientDb();
    const wallet = await openWallet(db);
    const txid = "ab".repeat(32);
    expect(await wallet.operations()).toEqual([]);
    const sealed = await wallet.sealClaim({ txid, txKey, guardian: 2 });
    expect(sealed.sealed.startsWith("csealed1")).toBe(true);
    const ops = await wallet.operations();
    expect(ops).toMatchObject([
      { module: "monero", kind: "claim", state: "pending", instanceId: 2, meta: { txid, sealedTo: 2 } },
    ]);
    expect(JSON.stringify(ops)).not.toContain(txKey);
    const claim = JSON.parse(new TextDecoder().decode(await db.get(P_CLAIM + txid))) as ClaimRecord;
    expect(claim.operationId).toBe(ops[0]!.id);
    // The same claim again (sealed to the same guardian): no second entry.
    await wallet.sealClaim({ txid, txKey, guardian: 2 });
    expect(await wallet.operations()).toHaveLength(1);
    // Sealed to another guardian: the same entry shows it.
    await wallet.sealClaim({ txid, txKey, guardian: 1 });
    expect(await wallet.operations()).toMatchObject([
      { id: ops[0]!.id, state: "pending", meta: { txid, sealedTo: 1 } },
    ]);
    // A corrected tx key replaces the claim: the old entry fails in that write, a new one is pending.
    const corrected = "43".repeat(31) + "01";
    await wallet.sealClaim({ txid, txKey: corrected, guardian: 1 });
    const after = await wallet.operations();
    expect(after).toMatchObject([
      {
        id: ops[0]!.id,
        state: "failed",
        error: { message: "replaced by a claim of the same txid with another tx key" },
      },
      { kind: "claim", state: "pending", meta: { txid, sealedTo: 1 } },
    ]);
    expect(JSON.stringify(after)).not.toContain(corrected);
    // Reopening does not post the claim (no resume for a waiting claim); the entry stays pending.
    const reopened = await openWallet(db);
    expect(reopened.warnings).toEqual([]);
    expect(await reopened.operations()).toMatchObject([
      { state: "failed" },
      { id: after[1]!.id, state: "pending" },
    ]);
  });

  it("lists a claim written before the log once resume backfills its entry, and the wallet still opens", async () => {
    const db = new MemoryClientDb();
    await openWallet(db);
    const txid = "cd".repeat(32);
    // A claim record as wallets wrote it before claims were logged (no operationId).
    const old: ClaimRecord = { txid, txKey, index: 0, createdAtMs: 5, sealedTo: 1 };
    await db.write([put(P_CLAIM + txid, json(old)), put("claim-counter", json({ next: 1 }))]);
    const wallet = await openWallet(db);
    expect(await wallet.operations()).toEqual([]);
    // Guardians unreachable: the claim stays pending (a warning), its entry is written.
    expect(await wallet.resume()).toBe(0);
    const ops = await wallet.operations();
    expect(ops).toMatchObject([
      { module: "monero", kind: "claim", state: "pending", meta: { txid, sealedTo: 1 } },
    ]);
    const claim = JSON.parse(new TextDecoder().decode(await db.get(P_CLAIM + txid))) as ClaimRecord;
    expect(claim).toEqual({ ...old, operationId: ops[0]!.id });
    // A second resume neither adds an entry nor closes it while the claim is there.
    await wallet.resume();
    expect(await wallet.operations()).toMatchObject([{ id: ops[0]!.id, state: "pending" }]);
  });

  it("closes a claim's entry failed when its claim is gone and no deposit transaction carries it", async () => {
    const db = new MemoryClientDb();
    const wallet = await openWallet(db);
    const txid = "ef".repeat(32);
    await wallet.sealClaim({ txid, txKey, guardian: 0 });
    const [entry] = await wallet.operations();
    await db.write([del(P_CLAIM + txid)]);
    await wallet.resume();
    expect(await wallet.operations()).toMatchObject([
      { id: entry!.id, state: "failed", error: { message: "its claim is gone from this wallet" } },
    ]);
  });
});
