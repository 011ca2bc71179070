// The guardian's store of client backups, on a real LMDB environment in a temp dir.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "lmdb";
import type { RootDatabase } from "lmdb";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { backupSigningBytes, toHex } from "@conclave/core-common";
import type { BackupRecord } from "@conclave/core-common";
import { NodeSigner, NodeVerifier, sha256 } from "../node-crypto.js";
import { BackupStore } from "./backup-store.js";

const federationId = new Uint8Array(32).fill(9);
const owner = new NodeSigner(new Uint8Array(32).fill(1));
const stranger = new NodeSigner(new Uint8Array(32).fill(2));

function record(version: number, bytes: Uint8Array, signer = owner, fed = federationId): BackupRecord {
  const message = backupSigningBytes(sha256, fed, owner.publicKey, version, bytes);
  return {
    id: toHex(owner.publicKey),
    version,
    ciphertext: Buffer.from(bytes).toString("base64"),
    signature: toHex(signer.sign(message)),
  };
}

let dir: string;
let root: RootDatabase<Buffer, string>;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "conclave-backups-"));
  root = open<Buffer, string>({ path: dir, encoding: "binary", maxDbs: 4 });
});
afterEach(async () => {
  await root.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("BackupStore", () => {
  it("stores a signed backup, serves it back byte for byte, and keeps it across a reopen", async () => {
    const store = new BackupStore(root, federationId, new NodeVerifier());
    const r = record(5, new Uint8Array([1, 2, 3, 250]));
    await expect(store.put(r)).resolves.toEqual({ stored: true, version: 5 });
    expect(store.get(r.id)).toEqual(r);
    await root.close();
    root = open<Buffer, string>({ path: dir, encoding: "binary", maxDbs: 4 });
    expect(new BackupStore(root, federationId, new NodeVerifier()).get(r.id)).toEqual(r);
  });

  it("replaces a backup only with a higher version, answering stale_backup (409) otherwise", async () => {
    const store = new BackupStore(root, federationId, new NodeVerifier());
    await store.put(record(5, new Uint8Array([1])));
    await expect(store.put(record(5, new Uint8Array([2])))).rejects.toMatchObject({
      code: "stale_backup",
      status: 409,
    });
    await expect(store.put(record(4, new Uint8Array([3])))).rejects.toMatchObject({ code: "stale_backup" });
    expect(store.get(toHex(owner.publicKey))?.ciphertext).toBe(Buffer.from([1]).toString("base64"));
    await store.put(record(6, new Uint8Array([4])));
    expect(store.get(toHex(owner.publicKey))?.version).toBe(6);
  });

  it("refuses a record not signed by its id, or signed for another federation, and stores nothing", async () => {
    const store = new BackupStore(root, federationId, new NodeVerifier());
    await expect(store.put(record(1, new Uint8Array([1]), stranger))).rejects.toMatchObject({
      code: "invalid_request",
      details: { reason: "bad_signature" },
    });
    await expect(
      store.put(record(1, new Uint8Array([1]), owner, new Uint8Array(32).fill(8))),
    ).rejects.toMatchObject({ code: "invalid_request" });
    expect(store.get(toHex(owner.publicKey))).toBeUndefined();
  });

  it("refuses new backups beyond its record and byte limits, and still replaces existing ones", async () => {
    const store = new BackupStore(root, federationId, new NodeVerifier(), { recordsMax: 1, bytesMax: 10 });
    await store.put(record(1, new Uint8Array(8)));
    await expect(store.put(record(2, new Uint8Array(11)))).rejects.toMatchObject({ code: "unavailable" });
    await expect(store.put(record(3, new Uint8Array(10)))).resolves.toMatchObject({ stored: true });
    const other = new NodeSigner(new Uint8Array(32).fill(3));
    const bytes = new Uint8Array([1]);
    const foreign: BackupRecord = {
      id: toHex(other.publicKey),
      version: 1,
      ciphertext: Buffer.from(bytes).toString("base64"),
      signature: toHex(other.sign(backupSigningBytes(sha256, federationId, other.publicKey, 1, bytes))),
    };
    await expect(store.put(foreign)).rejects.toMatchObject({ code: "unavailable" });
  });

  it("answers undefined for an id that is not 32 bytes of hex", () => {
    const store = new BackupStore(root, federationId, new NodeVerifier());
    expect(store.get("zz")).toBeUndefined();
    expect(store.get("AB".repeat(32))).toBeUndefined();
  });
});
