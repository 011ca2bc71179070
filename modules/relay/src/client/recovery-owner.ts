// The relay client's recovery, the owner's side (RelayClient delegates here): the recovery store (the
// wallet's state, encrypted and versioned at every guardian), the shard set split among the holders
// (device, friends by the mailbox, offline copies, the federation's escrow), grown by re-keying, and
// the owner's view of and answer to release requests for the federation's shard.
import { json, parseJson, put } from "@conclave/core-client";
import type { ClientContext, ClientDb } from "@conclave/core-client";
import { fromHex, toHex } from "@conclave/core-common";
import { encodeQR } from "@paulmillr/qr";
import { ESCROW_WATCH_KIND } from "../escrow.js";
import type { PushSubscriptionJson, WatchTarget } from "../watch-common.js";
import { cancelRequests, depositFederationShard, escrowStatus, withdrawFederationShard } from "./escrow.js";
import type { CancelResult } from "./escrow.js";
import type { RelayKeys } from "./keys.js";
import type { LetterKind } from "./mailbox.js";
import {
  downloadRecords,
  mergeWrites,
  newestCopy,
  openRecovery,
  recoveryError,
  sealRecovery,
  signRecord,
  snapshotDigest,
  snapshotEntries,
  uploadRecord,
} from "./recovery.js";
import type { RecoveryRestoreResult, RecoveryStoreResult } from "./recovery.js";
import { encodeShard, setKeys, splitSecret, tombstone } from "./social.js";
import type { Holder, SendResult, SocialProgress, SocialRecord, SocialSetupResult } from "./types.js";
import { registerPush, registerWebhook, vapidKey } from "./watch.js";
import type { Registration } from "./watch.js";

/** What the owner side needs of the RelayClient: its wallet's keys and database, and its mailbox. */
export interface OwnerParts {
  readonly ctx: ClientContext;
  readonly db: ClientDb;
  readonly prefix: string;
  readonly federationId: string;
  readonly keys: RelayKeys;
  readonly n: number;
  readonly writeQuorum: number;
  /** Refuses a name that is no contact of this wallet. */
  contact(nameOrInbox: string): Promise<unknown>;
  send(to: string, text: string, kind: LetterKind): Promise<SendResult>;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Encrypts the wallet's state (recovery.ts: counters, operation log, pending work, claims,
 * subaddresses, withdrawals, contacts), padded to a size class, and stores it as a new version at
 * every guardian. At least f + 1 must store it.
 */
export async function storeRecovery(rc: OwnerParts): Promise<RecoveryStoreResult> {
  return rc.ctx.run(async () => storeLocked(rc, await snapshotEntries(rc.db, rc.prefix)));
}

/** What the wallet keeps of its last stored (or restored) record, under `<prefix>recovery`. */
interface LastRecord {
  readonly version: number;
  readonly storedBy: readonly number[];
  /** snapshotDigest of what it holds (absent for a restored record or one stored before digests). */
  readonly digest?: string;
  /** When this wallet stored it (ctx.now()); absent before, when the version is the time. */
  readonly storedAtMs?: number;
}

async function lastRecord(rc: OwnerParts): Promise<LastRecord | undefined> {
  const last = await rc.db.get(`${rc.prefix}recovery`);
  return last ? parseJson<LastRecord>(last) : undefined;
}

async function storeLocked(
  rc: OwnerParts,
  entries: readonly [string, Uint8Array][],
): Promise<RecoveryStoreResult> {
  const lastVersion = (await lastRecord(rc))?.version ?? 0;
  const now = rc.ctx.now();
  const version = Math.max(Math.floor(now), lastVersion + 1);
  const ciphertext = await sealRecovery(
    entries,
    rc.keys.recoveryKey,
    rc.keys.recoveryId,
    version,
    rc.ctx.random(24),
  );
  const record = signRecord(fromHex(rc.federationId), rc.keys.recoverySignSeed, version, ciphertext);
  const { storedBy, failedAt } = await uploadRecord(await rc.ctx.client(), record);
  if (storedBy.length < rc.writeQuorum)
    throw recoveryError(
      "not_stored",
      `only ${storedBy.length} guardians stored the recovery record, ${rc.writeQuorum} needed`,
      {
        failedAt,
      },
    );
  const kept: LastRecord = { version, storedBy, digest: snapshotDigest(entries), storedAtMs: now };
  await rc.db.write([put(`${rc.prefix}recovery`, json(kept))]);
  return { version, bytes: ciphertext.length, entries: entries.length, storedBy, failedAt };
}

/** Whether this wallet has a recovery record at the guardians (it stored or restored one). */
export async function hasRecoveryRecord(rc: OwnerParts): Promise<boolean> {
  return (await lastRecord(rc)) !== undefined;
}

/**
 * Stores the wallet's state again when it differs from what the last stored record holds, or when
 * that record was stored `maxAgeMs` ago or more (guardians evict records unwritten for 180 days);
 * otherwise writes nothing and returns undefined. A failed store leaves the last record's digest as
 * it was, so the next refresh tries again: the state itself is never touched.
 */
export async function refreshRecovery(
  rc: OwnerParts,
  maxAgeMs: number,
): Promise<RecoveryStoreResult | undefined> {
  return rc.ctx.run(async () => {
    const entries = await snapshotEntries(rc.db, rc.prefix);
    const last = await lastRecord(rc);
    if (last?.digest === snapshotDigest(entries)) {
      const age = rc.ctx.now() - (last.storedAtMs ?? last.version);
      if (age < maxAgeMs) return undefined;
    }
    return storeLocked(rc, entries);
  });
}

/**
 * Fetches every guardian's copy of this wallet's recovery record, keeps the newest version that
 * verifies and decrypts, and merges it into the wallet (counters only go up; nothing the wallet
 * holds is overwritten). Run `resume` afterwards to finish restored pending work.
 */
export async function restoreRecovery(rc: OwnerParts): Promise<RecoveryRestoreResult> {
  return rc.ctx.run(async () => {
    const copies = await downloadRecords(await rc.ctx.client(), toHex(rc.keys.recoveryId));
    const best = await newestCopy(fromHex(rc.federationId), copies, (ciphertext, version) =>
      openRecovery(ciphertext, rc.keys.recoveryKey, rc.keys.recoveryId, version),
    );
    if (!best)
      throw recoveryError(
        "no_recovery_record",
        "no guardian holds a recovery record of this wallet that verifies",
        {},
      );
    const ops = await mergeWrites(rc.db, best.value);
    await rc.db.write([
      ...ops,
      put(`${rc.prefix}recovery`, json({ version: best.version, storedBy: best.from })),
    ]);
    return {
      version: best.version,
      from: best.from,
      older: best.older,
      forged: best.forged,
      restored: ops.length,
    };
  });
}

/**
 * Splits a fresh data key among `holders` (t of them recover), stores `secret` (the wallet's
 * mnemonic) encrypted under it at every guardian, keeps the device's shard here, sends each
 * friend's shard to their inbox (a `shard` letter) and returns the offline shards as text and QR
 * code. A set made before is re-keyed: its record at the guardians becomes a tombstone, so its
 * shards recover nothing any more.
 */
export async function socialSetup(
  rc: OwnerParts,
  secret: Uint8Array,
  threshold: number,
  holders: readonly Holder[],
  options: { readonly onProgress?: (p: SocialProgress) => void } = {},
): Promise<SocialSetupResult> {
  const progress = options.onProgress ?? (() => {});
  const kinds = holders.map((h) => h.kind);
  const devices = kinds.filter((k) => k === "device").length;
  if (devices > 1) throw recoveryError("bad_holders", "one device shard at most");
  if (kinds.filter((k) => k === "federation").length > 1)
    throw recoveryError("bad_holders", "one federation shard at most");
  for (const h of holders) if (h.kind === "friend") await rc.contact(h.contact);
  const fed = fromHex(rc.federationId);
  const version = Math.floor(rc.ctx.now());
  const set = await splitSecret(fed, secret, threshold, kinds, (n) => rc.ctx.random(n), version);
  progress({ step: "split", threshold, total: holders.length });
  const client = await rc.ctx.client();
  const { storedBy, failedAt } = await uploadRecord(client, set.record);
  if (storedBy.length < rc.writeQuorum)
    throw recoveryError(
      "not_stored",
      `only ${storedBy.length} guardians stored the shard set's record, ${rc.writeQuorum} needed`,
      {
        failedAt,
      },
    );
  progress({ step: "stored", guardians: storedBy });
  const texts = set.shards.map(encodeShard);
  let federationAt: number[] | undefined;
  const fi = holders.findIndex((h) => h.kind === "federation");
  const fh = holders[fi];
  if (fh?.kind === "federation") {
    federationAt = (
      await depositFederationShard(client, rc.keys.inboxSeed, set.setId, texts[fi]!, fh.delayMs, version)
    ).storedAt;
    progress({ step: "federation", guardians: federationAt });
  }
  const previous = await rc.db.get(`${rc.prefix}social`);
  let revokedPrevious = false;
  if (previous) {
    const p = parseJson<SocialRecord>(previous);
    const dead = await tombstone(
      fed,
      fromHex(p.signSeed),
      fromHex(p.key),
      Math.max(version, p.version + 1),
      (n) => rc.ctx.random(n),
    );
    revokedPrevious = (await uploadRecord(client, dead)).storedBy.length >= rc.writeQuorum;
    if (p.holders?.some((h) => h.kind === "federation")) {
      const w = await withdrawFederationShard(
        client,
        rc.keys.inboxSeed,
        fromHex(p.setId),
        Math.max(version, p.version + 1),
      );
      revokedPrevious &&= w.storedAt.length >= rc.writeQuorum;
    }
    progress({ step: "revoked", previousSetId: p.setId, ok: revokedPrevious });
    if (!revokedPrevious)
      rc.ctx.warn(
        "the previous shard set's record could not be replaced at enough guardians: run setup again",
      );
  }
  const keys = setKeys(set.dataKey);
  const record: SocialRecord = {
    setId: toHex(set.setId),
    threshold,
    total: holders.length,
    version,
    signSeed: toHex(keys.signSeed),
    key: toHex(keys.key),
    ...(devices === 1 ? { deviceShard: texts[kinds.indexOf("device")]! } : {}),
    holders,
  };
  await rc.db.write([put(`${rc.prefix}social`, json(record))]);
  const friends: SocialSetupResult["friends"][number][] = [];
  for (const [i, h] of holders.entries()) {
    if (h.kind !== "friend") continue;
    try {
      const sent = await rc.send(h.contact, texts[i]!, "shard");
      friends.push({ contact: h.contact, storedAt: sent.storedAt });
      progress({ step: "friend", contact: h.contact, ok: true });
    } catch (e) {
      friends.push({ contact: h.contact, storedAt: [], error: describe(e) });
      progress({ step: "friend", contact: h.contact, ok: false });
    }
  }
  const offline = holders.flatMap((h, i) =>
    h.kind === "offline" ? [{ text: texts[i]!, qr: encodeQR(texts[i]!, "ascii", { ecc: "medium" }) }] : [],
  );
  return {
    setId: record.setId,
    threshold,
    total: holders.length,
    storedBy,
    friends,
    offline,
    revokedPrevious,
    ...(federationAt === undefined ? {} : { federationAt }),
  };
}

/**
 * Grows the current shard set: its holders plus `added`, `threshold` of them recover (2-of-3 to
 * 3-of-5). Re-keys (socialSetup): the old set's shards recover nothing afterwards.
 */
export async function socialAdd(
  rc: OwnerParts,
  secret: Uint8Array,
  threshold: number,
  added: readonly Holder[],
  options: { readonly onProgress?: (p: SocialProgress) => void } = {},
): Promise<SocialSetupResult> {
  const raw = await rc.db.get(`${rc.prefix}social`);
  if (!raw) throw recoveryError("no_shard_set", "this wallet has no shard set yet: set one up first");
  const holders = parseJson<SocialRecord>(raw).holders;
  if (!holders)
    throw recoveryError("no_shard_set", "the shard set predates the holders list: set up a new one");
  return socialSetup(rc, secret, threshold, [...holders, ...added], options);
}

/** Release requests for the current set's federation shard, as every guardian sees them. */
export async function recoveryRequests(rc: OwnerParts): Promise<Awaited<ReturnType<typeof escrowStatus>>> {
  const set = await socialSet(rc);
  if (!set) throw recoveryError("no_shard_set", "this wallet has no shard set");
  return escrowStatus(await rc.ctx.client(), fromHex(set.setId));
}

/** Cancels every open release request of the current set's federation shard, at every guardian. */
export async function cancelRecoveryRequests(rc: OwnerParts): Promise<CancelResult> {
  const set = await socialSet(rc);
  if (!set) throw recoveryError("no_shard_set", "this wallet has no shard set");
  return cancelRequests(await rc.ctx.client(), rc.keys.inboxSeed, fromHex(set.setId));
}

/** The watch of the current set's release requests (kind recovery-escrow, key the set id). */
export async function recoveryWatch(rc: OwnerParts): Promise<WatchTarget> {
  const set = await socialSet(rc);
  if (!set) throw recoveryError("no_shard_set", "this wallet has no shard set");
  return { kind: ESCROW_WATCH_KIND, key: set.setId };
}

/**
 * Has every guardian wake this device when anyone asks the federation for its shard (or the owner
 * cancels): a webhook, or one push subscription per guardian made with that guardian's VAPID key.
 * The wake-up says nothing; the device then reads recoveryRequests() and cancels what it did not
 * ask for, within the delay. Registrations live ttlSeconds (at most 7 days): renew them.
 */
export async function alertRecoveryRequests(
  rc: OwnerParts,
  to:
    | { readonly webhook: string }
    | {
        readonly push: (
          guardian: number,
          vapidKey: string,
        ) => PushSubscriptionJson | Promise<PushSubscriptionJson>;
      },
  ttlSeconds?: number,
): Promise<Registration[]> {
  const target = await recoveryWatch(rc);
  const client = await rc.ctx.client();
  const all = Array.from({ length: rc.n }, (_, g) => g);
  if ("webhook" in to)
    return registerWebhook(client, to.webhook, [target], {
      spreadKey: new Uint8Array(32),
      copies: rc.n,
      ...(ttlSeconds ? { ttlSeconds } : {}),
    });
  return Promise.all(
    all.map(async (g) =>
      registerPush(client, g, await to.push(g, await vapidKey(client, g)), [target], ttlSeconds),
    ),
  );
}

/** The current shard set: its id, t, n and holders (undefined: none set up). */
export async function socialSet(rc: OwnerParts): Promise<SocialRecord | undefined> {
  const raw = await rc.db.get(`${rc.prefix}social`);
  return raw ? parseJson<SocialRecord>(raw) : undefined;
}

/** This device's shard of the current set (to show alongside others when recovering). */
export async function deviceShard(rc: OwnerParts): Promise<string | undefined> {
  const raw = await rc.db.get(`${rc.prefix}social`);
  return raw ? parseJson<SocialRecord>(raw).deviceShard : undefined;
}
