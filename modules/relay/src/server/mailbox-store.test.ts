// The mailbox store on real LMDB (a temporary directory): per-inbox bounds, de-duplication, the hard
// expiry with a clock the test moves, acknowledgement, and counts that survive a reopen.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_MAILBOX_LIMITS, InboxFullError, MailboxStore } from "./mailbox-store.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function store(limits: Partial<typeof DEFAULT_MAILBOX_LIMITS>, clock: { now: number }, dir?: string) {
  const path = dir ?? mkdtempSync(join(tmpdir(), "mailbox-"));
  if (!dir) dirs.push(path);
  return { path, s: MailboxStore.open(path, { ...DEFAULT_MAILBOX_LIMITS, ...limits }, () => clock.now) };
}

const inbox = (b: number) => new Uint8Array(32).fill(b);
const item = (b: number, bytes = 512) => new Uint8Array(bytes).fill(b);

describe("MailboxStore", () => {
  it("refuses an item beyond the inbox's item bound with 507 and keeps the others and other inboxes", async () => {
    const clock = { now: 1_000 };
    const { s } = store({ itemsPerInboxMax: 3 }, clock);
    for (let i = 1; i <= 3; i++) expect((await s.put(inbox(1), item(i))).stored).toBe(true);
    const full = s.put(inbox(1), item(4));
    await expect(full).rejects.toBeInstanceOf(InboxFullError);
    await expect(full).rejects.toMatchObject({ status: 507, code: "inbox_full" });
    expect(s.list(inbox(1), undefined, 10).items).toHaveLength(3);
    expect((await s.put(inbox(2), item(4))).stored).toBe(true);
    // The same item again is no new item, even in a full inbox.
    expect((await s.put(inbox(1), item(2))).stored).toBe(false);
    await s.close();
  });

  it("refuses an item above itemBytesMax and one beyond the inbox's bytes", async () => {
    const { s } = store({ inboxBytesMax: 1024 }, { now: 0 });
    await expect(s.put(inbox(1), item(1, 8193))).rejects.toMatchObject({ code: "invalid_request" });
    await s.put(inbox(1), item(1, 1024));
    await expect(s.put(inbox(1), item(2, 512))).rejects.toMatchObject({ code: "inbox_full" });
    await s.close();
  });

  it("serves nothing past the hard expiry and sweeps it, read or not", async () => {
    const clock = { now: 10_000 };
    const { s } = store({ itemTtlMs: 5_000 }, clock);
    await s.put(inbox(1), item(1));
    clock.now = 12_000;
    await s.put(inbox(1), item(2));
    clock.now = 15_000; // the first is due, the second not
    expect(s.list(inbox(1), undefined, 10).items.map((i) => i.item[0])).toEqual([2]);
    expect(await s.sweepExpired()).toBe(1);
    expect(s.usage).toEqual({ items: 1, bytes: 512 });
    clock.now = 17_000;
    expect(await s.sweepExpired()).toBe(1);
    expect(s.usage).toEqual({ items: 0, bytes: 0 });
    await s.close();
  });

  it("deletes acknowledged items only, pages in id order, and keeps its counts across a reopen", async () => {
    const clock = { now: 0 };
    const { s, path } = store({}, clock);
    const ids = [];
    for (let i = 1; i <= 5; i++) ids.push((await s.put(inbox(1), item(i))).id);
    const first = s.list(inbox(1), undefined, 2);
    expect(first.more).toBe(true);
    const rest = s.list(inbox(1), first.items[1]!.id, 10);
    expect([...first.items, ...rest.items]).toHaveLength(5);
    expect(await s.delete(inbox(1), [ids[0]!, ids[1]!, new Uint8Array(32)])).toBe(2);
    // Another inbox's owner cannot delete this inbox's items by naming their ids.
    expect(await s.delete(inbox(2), [ids[2]!])).toBe(0);
    await s.close();
    const reopened = store({}, clock, path).s;
    expect(reopened.usage).toEqual({ items: 3, bytes: 3 * 512 });
    expect(reopened.list(inbox(1), undefined, 10).items).toHaveLength(3);
    await reopened.close();
  });
});
