// The mailbox at one guardian: opaque items sealed to an inbox key, kept in an LMDB environment of
// the relay's own (DATA/db/modules/<instance>/mailbox), never in the consensus database. No consensus:
// a client writes the same item to k guardians and reads from several; each guardian's copy is its own.
//
//   items    inbox(32) | id(32)               -> expiresAtMs u64 | item      id = SHA-256(item)
//   expiry   expiresAtMs u64 | inbox | id     -> (empty)                     the hard-expiry order
//   inboxes  inbox(32)                        -> items u32 | bytes u32
//   tokens   inbox(32) | SHA-256(token)(32)   -> (empty)                     delivery tokens
//   meta     0x00                             -> items u32 | bytes u64
//
// An item is stored once per inbox however often it is sent (de-duplicated by hash), deleted when its
// recipient acknowledges it, and deleted at its hard expiry whatever happens. The guardian records
// no sender, no arrival time finer than the expiry, and sends no receipt.
import { open } from "lmdb";
import type { Database, RootDatabase } from "lmdb";
import { ConclaveError, InvalidRequestError, UnavailableError, toHex } from "@conclave/core-common";
import { sha256 } from "@conclave/core-server";

export interface MailboxLimits {
  /** Largest item (bytes). */
  readonly itemBytesMax: number;
  /** Items one inbox holds at most; beyond it, 507 until its owner acknowledges some. */
  readonly itemsPerInboxMax: number;
  /** Item bytes one inbox holds at most. */
  readonly inboxBytesMax: number;
  /** Delivery tokens one inbox may register. */
  readonly tokensPerInboxMax: number;
  /** Item bytes over all inboxes. */
  readonly storeBytesMax: number;
  /** Hard expiry: an item is deleted this long after it was first stored, read or not. */
  readonly itemTtlMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const DEFAULT_MAILBOX_LIMITS: MailboxLimits = {
  itemBytesMax: 8192,
  itemsPerInboxMax: 256,
  inboxBytesMax: 1024 * 1024,
  tokensPerInboxMax: 256,
  storeBytesMax: 1024 * 1024 * 1024,
  itemTtlMs: 14 * DAY_MS,
};

/** 507: the inbox (or the guardian's mailbox) is full; the recipient must read and acknowledge. */
export class InboxFullError extends ConclaveError {
  override readonly name = "InboxFullError";
  constructor(message: string, details: Record<string, unknown>) {
    super("inbox_full", message, { status: 507, details });
  }
}

/** 403: the inbox takes items only with a delivery token it registered. */
export class TokenRequiredError extends ConclaveError {
  override readonly name = "TokenRequiredError";
  constructor(message: string) {
    super("token_refused", message, { status: 403 });
  }
}

const TOTALS_KEY = Buffer.from([0]);

export interface StoredItem {
  readonly id: Uint8Array;
  readonly item: Uint8Array;
}

export class MailboxStore {
  private readonly items: Database<Buffer, Buffer>;
  private readonly expiry: Database<Buffer, Buffer>;
  private readonly inboxes: Database<Buffer, Buffer>;
  private readonly tokens: Database<Buffer, Buffer>;
  private readonly meta: Database<Buffer, Buffer>;
  private totalItems = 0;
  private totalBytes = 0;

  static open(path: string, limits: MailboxLimits, now: () => number): MailboxStore {
    const env = open<Buffer, Buffer>({ path, encoding: "binary", keyEncoding: "binary", maxDbs: 8 });
    return new MailboxStore(env, limits, now);
  }

  private constructor(
    private readonly env: RootDatabase<Buffer, Buffer>,
    readonly limits: MailboxLimits,
    private readonly now: () => number,
  ) {
    const binary = { encoding: "binary", keyEncoding: "binary" } as const;
    this.items = env.openDB<Buffer, Buffer>({ name: "items", ...binary });
    this.expiry = env.openDB<Buffer, Buffer>({ name: "expiry", ...binary });
    this.inboxes = env.openDB<Buffer, Buffer>({ name: "inboxes", ...binary });
    this.tokens = env.openDB<Buffer, Buffer>({ name: "tokens", ...binary });
    this.meta = env.openDB<Buffer, Buffer>({ name: "meta", ...binary });
    const t = this.meta.get(TOTALS_KEY);
    if (t) {
      this.totalItems = t.readUInt32BE(0);
      this.totalBytes = Number(t.readBigUInt64BE(4));
    }
  }

  get usage(): { readonly items: number; readonly bytes: number } {
    return { items: this.totalItems, bytes: this.totalBytes };
  }

  /** Whether the inbox registered delivery tokens (then every item needs one). */
  hasTokens(inbox: Uint8Array): boolean {
    for (const _ of this.tokens.getKeys({ start: Buffer.from(inbox), end: prefixEnd(inbox), limit: 1 }))
      return true;
    return false;
  }

  hasToken(inbox: Uint8Array, tokenHash: Uint8Array): boolean {
    return this.tokens.get(Buffer.concat([inbox, tokenHash])) !== undefined;
  }

  /** Stores `item` for `inbox` unless it holds it already; returns its id and whether it was new. */
  async put(inbox: Uint8Array, item: Uint8Array): Promise<{ id: Uint8Array; stored: boolean }> {
    if (item.length === 0 || item.length > this.limits.itemBytesMax)
      throw new InvalidRequestError(
        `an item is 1 to ${this.limits.itemBytesMax} bytes, this one ${item.length}`,
        {
          itemBytesMax: this.limits.itemBytesMax,
        },
      );
    const id = sha256(item);
    const key = Buffer.concat([inbox, id]);
    const expiresAt = Math.floor(this.now()) + this.limits.itemTtlMs;
    let stored = false;
    await this.env.transaction(() => {
      if (this.items.get(key) !== undefined) return;
      const counts = this.inboxCounts(inbox);
      if (
        counts.items + 1 > this.limits.itemsPerInboxMax ||
        counts.bytes + item.length > this.limits.inboxBytesMax
      )
        throw new InboxFullError(
          "this inbox is full at this guardian; its owner must read and acknowledge items first (other guardians may have room)",
          { itemsPerInboxMax: this.limits.itemsPerInboxMax, inboxBytesMax: this.limits.inboxBytesMax },
        );
      if (this.totalBytes + item.length > this.limits.storeBytesMax)
        throw new UnavailableError(
          "this guardian's mailbox storage is full; your other guardians may have room",
        );
      const value = Buffer.alloc(8 + item.length);
      value.writeBigUInt64BE(BigInt(expiresAt), 0);
      value.set(item, 8);
      void this.items.put(key, value);
      void this.expiry.put(expiryKey(expiresAt, inbox, id), Buffer.alloc(0));
      this.setInboxCounts(inbox, counts.items + 1, counts.bytes + item.length);
      this.setTotals(this.totalItems + 1, this.totalBytes + item.length);
      stored = true;
    });
    return { id, stored };
  }

  /** Up to `limit` unexpired items of `inbox` in id order, after `after`; `more` if others follow. */
  list(
    inbox: Uint8Array,
    after: Uint8Array | undefined,
    limit: number,
  ): { items: StoredItem[]; more: boolean } {
    const now = this.now();
    const start = after ? Buffer.concat([inbox, after, Buffer.from([0])]) : Buffer.from(inbox);
    const items: StoredItem[] = [];
    let more = false;
    for (const { key, value } of this.items.getRange({ start, end: prefixEnd(inbox) })) {
      if (Number(value.readBigUInt64BE(0)) <= now) continue;
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push({ id: new Uint8Array(key.subarray(32)), item: new Uint8Array(value.subarray(8)) });
    }
    return { items, more };
  }

  /** Deletes the named items of `inbox` (ids it does not hold are ignored); returns how many went. */
  async delete(inbox: Uint8Array, ids: readonly Uint8Array[]): Promise<number> {
    let deleted = 0;
    await this.env.transaction(() => {
      for (const id of ids) if (this.removeItem(inbox, id)) deleted++;
    });
    return deleted;
  }

  /** Deletes up to `max` items past their hard expiry; returns how many. */
  async sweepExpired(max = 1000): Promise<number> {
    const end = expiryKey(Math.floor(this.now()) + 1, new Uint8Array(32), new Uint8Array(32));
    const due: Buffer[] = [];
    for (const k of this.expiry.getKeys({ end, limit: max })) due.push(Buffer.from(k));
    if (due.length === 0) return 0;
    await this.env.transaction(() => {
      for (const k of due) this.removeItem(k.subarray(8, 40), k.subarray(40, 72));
    });
    return due.length;
  }

  async changeTokens(
    inbox: Uint8Array,
    add: readonly Uint8Array[],
    remove: readonly Uint8Array[],
  ): Promise<number> {
    let count = 0;
    await this.env.transaction(() => {
      for (const h of remove) void this.tokens.remove(Buffer.concat([inbox, h]));
      for (const h of add) void this.tokens.put(Buffer.concat([inbox, h]), Buffer.alloc(0));
      count = this.tokens.getKeysCount({ start: Buffer.from(inbox), end: prefixEnd(inbox) });
      if (count > this.limits.tokensPerInboxMax)
        throw new InvalidRequestError(
          `an inbox registers at most ${this.limits.tokensPerInboxMax} delivery tokens`,
          {
            tokensPerInboxMax: this.limits.tokensPerInboxMax,
          },
        );
    });
    return count;
  }

  async close(): Promise<void> {
    await this.env.close();
  }

  private removeItem(inbox: Uint8Array, id: Uint8Array): boolean {
    const key = Buffer.concat([inbox, id]);
    const v = this.items.get(key);
    if (v === undefined) return false;
    const bytes = v.length - 8;
    void this.items.remove(key);
    void this.expiry.remove(expiryKey(Number(v.readBigUInt64BE(0)), inbox, id));
    const counts = this.inboxCounts(inbox);
    this.setInboxCounts(inbox, counts.items - 1, counts.bytes - bytes);
    this.setTotals(this.totalItems - 1, this.totalBytes - bytes);
    return true;
  }

  private inboxCounts(inbox: Uint8Array): { items: number; bytes: number } {
    const v = this.inboxes.get(Buffer.from(inbox));
    return v ? { items: v.readUInt32BE(0), bytes: v.readUInt32BE(4) } : { items: 0, bytes: 0 };
  }

  private setInboxCounts(inbox: Uint8Array, items: number, bytes: number): void {
    if (items < 0 || bytes < 0) throw new Error(`mailbox counts of ${toHex(inbox)} went negative`);
    if (items === 0) {
      void this.inboxes.remove(Buffer.from(inbox));
      return;
    }
    const v = Buffer.alloc(8);
    v.writeUInt32BE(items, 0);
    v.writeUInt32BE(bytes, 4);
    void this.inboxes.put(Buffer.from(inbox), v);
  }

  private setTotals(items: number, bytes: number): void {
    this.totalItems = items;
    this.totalBytes = bytes;
    const t = Buffer.alloc(12);
    t.writeUInt32BE(items, 0);
    t.writeBigUInt64BE(BigInt(bytes), 4);
    void this.meta.put(TOTALS_KEY, t);
  }
}

function prefixEnd(prefix: Uint8Array): Buffer {
  return Buffer.concat([prefix, Buffer.alloc(65, 0xff)]);
}

function expiryKey(expiresAt: number, inbox: Uint8Array, id: Uint8Array): Buffer {
  const b = Buffer.alloc(8 + 64);
  b.writeBigUInt64BE(BigInt(expiresAt), 0);
  b.set(inbox, 8);
  b.set(id, 40);
  return b;
}
