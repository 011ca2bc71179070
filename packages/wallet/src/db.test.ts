import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { utf8 } from "@conclave/core-common";
import { MemoryClientDb, del, put, scanPrefix } from "./db.js";
import type { ClientDb } from "./db.js";
import { LmdbClientDb } from "./lmdb-db.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "conclave-wallet-db-"));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const text = (v: Uint8Array | undefined) => (v ? utf8.decode(v) : undefined);

const implementations: [string, () => ClientDb][] = [
  ["MemoryClientDb", () => new MemoryClientDb()],
  ["LmdbClientDb", () => LmdbClientDb.open(tempDir())],
];

describe.each(implementations)("%s", (_name, make) => {
  it("gets what was put, and nothing after a delete", async () => {
    const db = make();
    await db.write([put("a", utf8.encode("1"))]);
    expect(text(await db.get("a"))).toBe("1");
    expect(await db.get("b")).toBeUndefined();
    await db.write([del("a")]);
    expect(await db.get("a")).toBeUndefined();
    await db.close();
  });

  it("scans a key range in ascending order, end excluded, and by prefix", async () => {
    const db = make();
    await db.write(
      ["note/21/bb", "note/20/ff", "note/20/aa", "notf", "note/", "op/1"].map((k) => put(k, utf8.encode(k))),
    );
    expect((await db.range("note/20/", "note/21/")).map(([k]) => k)).toEqual(["note/20/aa", "note/20/ff"]);
    expect((await scanPrefix(db, "note/")).map(([k]) => k)).toEqual([
      "note/",
      "note/20/aa",
      "note/20/ff",
      "note/21/bb",
    ]);
    await db.close();
  });

  it("applies a write batch as a whole: puts and deletes together", async () => {
    const db = make();
    await db.write([put("x", utf8.encode("old")), put("y", utf8.encode("y"))]);
    await db.write([del("x"), put("z", utf8.encode("z")), put("y", utf8.encode("y2"))]);
    expect((await scanPrefix(db, "")).map(([k, v]) => `${k}=${text(v)}`)).toEqual(["y=y2", "z=z"]);
    await db.close();
  });

  it("applies nothing of a batch with an op that fails (a value on a detached buffer)", async () => {
    const db = make();
    await db.write([put("y", utf8.encode("y"))]);
    const detached = Uint8Array.of(1, 2, 3);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    await expect(
      (async () => db.write([del("y"), put("w", utf8.encode("w")), put("v", detached)]))(),
    ).rejects.toThrow(TypeError);
    expect((await scanPrefix(db, "")).map(([k, v]) => `${k}=${text(v)}`)).toEqual(["y=y"]);
    await db.close();
  });

  it("hands out copies: changing a returned value does not change the database", async () => {
    const db = make();
    await db.write([put("k", Uint8Array.of(1, 2, 3))]);
    const v = (await db.get("k"))!;
    v[0] = 9;
    expect([...(await db.get("k"))!]).toEqual([1, 2, 3]);
    await db.close();
  });
});

describe("LmdbClientDb durability", () => {
  it("keeps every acknowledged write across close and reopen", async () => {
    const dir = tempDir();
    const db = LmdbClientDb.open(dir);
    const ops = Array.from({ length: 500 }, (_, i) =>
      put(`note/${String(i).padStart(4, "0")}`, utf8.encode(`v${i}`)),
    );
    await db.write(ops);
    await db.write([del("note/0007"), put("counter", utf8.encode("500"))]);
    await db.close();
    const again = LmdbClientDb.open(dir);
    expect(text(await again.get("counter"))).toBe("500");
    expect(await again.get("note/0007")).toBeUndefined();
    expect(await scanPrefix(again, "note/")).toHaveLength(499);
    await again.close();
  });
});
