// Backup and restore of the mint half's notes: a signed, encrypted snapshot stored at the guardians
// (`storeBackup`), and a scan that re-derives the blinded messages of note indexes past it and asks
// which were issued.
import { sha256 } from "@noble/hashes/sha2.js";
import { NoQuorumError, put, scanPrefix } from "@conclave/core-client";
import type { ClientDb, DbOp, FederationClient } from "@conclave/core-client";
import { ConclaveError, backupSigningBytes, fromHex, toHex } from "@conclave/core-common";
import type { BackupRecord } from "@conclave/core-common";
import { IssuedAnswerSchema, MINT_QUERY_ITEMS_MAX } from "../api.js";
import type { MintConfig } from "../common.js";
import { base64Decode, base64Encode } from "./base64.js";
import { BACKUP_NOTES_MAX, decodeSnapshot, decryptBackup, encodeSnapshot, encryptBackup } from "./backup.js";
import type { BackupSnapshot } from "./backup.js";
import { noMintError, parseMintConfig } from "./config.js";
import type { MintCrypto } from "./config.js";
import { MintKeys, NOTE_INDEX_MAX } from "./keys.js";
import { ISSUED_PATH, spentOf } from "./queries.js";
import { sumOf } from "./select.js";
import { K_BACKUP, K_COUNTER, P_OP, P_OUT, json, noteFromJson, notePut, parseJson } from "./store.js";
import type { BackupMeta, OutgoingRecord, OwnNote, PendingOp } from "./store.js";
import type { MintTransactions } from "./transactions.js";
import type { BackupResult, RestoreResult } from "./types.js";

/** Consecutive indexes that t guardians report not issued before a restore scan stops. */
export const RESTORE_GAP_DEFAULT = 100;

export interface RestoreOptions {
  readonly crypto: MintCrypto;
  readonly restoreGap?: number;
  readonly onWarning?: (message: string) => void;
  readonly now?: () => number;
}

export function signBackup(
  crypto: MintCrypto,
  keys: MintKeys,
  federationId: Uint8Array,
  version: number,
  ciphertext: Uint8Array,
): BackupRecord {
  const signer = crypto.ed25519Signer(keys.backupIdSeed);
  const signature = signer.sign(
    backupSigningBytes(sha256, federationId, signer.publicKey, version, ciphertext),
  );
  return {
    id: toHex(signer.publicKey),
    version,
    ciphertext: base64Encode(ciphertext),
    signature: toHex(signature),
  };
}

/** What a backup reads of the mint half. */
export interface BackupSource {
  readonly db: ClientDb;
  readonly txs: MintTransactions;
  readonly keys: MintKeys;
  readonly crypto: MintCrypto;
  readonly federationId: Uint8Array;
  readonly now: () => number;
}

/** Uploads the encrypted snapshot of every note the wallet holds or has handed out (under the lock). */
export async function storeBackup(client: FederationClient, s: BackupSource): Promise<BackupResult> {
  const snapshot = await snapshotOf(s);
  if (snapshot.notes.length > BACKUP_NOTES_MAX)
    throw new ConclaveError(
      "backup_too_large",
      `the wallet holds ${snapshot.notes.length} notes, a backup at most ${BACKUP_NOTES_MAX}: combine notes first`,
      { status: 400 },
    );
  const ciphertext = encryptBackup(
    s.keys.backupKey,
    s.federationId,
    encodeSnapshot(snapshot),
    s.crypto.random,
  );
  const lastRaw = await s.db.get(K_BACKUP);
  const last = lastRaw ? parseJson<BackupMeta>(lastRaw) : undefined;
  const atMs = s.now();
  const version = Math.max(atMs, (last?.version ?? 0) + 1);
  const record = signBackup(s.crypto, s.keys, s.federationId, version, ciphertext);
  const { storedBy } = await client.uploadBackup(record);
  await s.db.write([put(K_BACKUP, json({ version, notes: snapshot.notes.length, atMs }))]);
  return { version, notes: snapshot.notes.length, bytes: ciphertext.length, storedBy };
}

async function snapshotOf(s: BackupSource): Promise<BackupSnapshot> {
  const notes = await s.txs.loadNotes();
  for (const [, raw] of await scanPrefix(s.db, P_OUT))
    notes.push(...parseJson<OutgoingRecord>(raw).notes.map(noteFromJson));
  let nextIndex = await s.txs.readCounter();
  for (const [, raw] of await scanPrefix(s.db, P_OP)) {
    const op = parseJson<PendingOp>(raw);
    notes.push(...op.ownInputs.map(noteFromJson));
    // Its outputs may get issued after the backup: the restore scan must start below them.
    for (const o of op.outputs) nextIndex = Math.min(nextIndex, o.index);
  }
  return { nextIndex, notes };
}

// ---- restore -------------------------------------------------------------------------------------

export interface Restored {
  readonly notes: OwnNote[];
  readonly nextIndex: number;
  readonly fromBackup: number;
  readonly fromScan: number;
  readonly spentDropped: number;
  readonly backupVersion?: number;
  readonly backupNotes: number;
  readonly phasesMs: { readonly backup: number; readonly spent: number; readonly scan: number };
}

/** Restores notes from the backup and the scan; pure reads, the caller writes the result. */
export class Restorer {
  private reachable: readonly number[] = [];
  private readonly federationId: Uint8Array;

  constructor(
    private readonly client: FederationClient,
    private readonly config: MintConfig,
    private readonly keys: MintKeys,
    private readonly options: RestoreOptions,
  ) {
    this.federationId = fromHex(client.federationId);
  }

  async run(): Promise<Restored> {
    const now = this.options.now ?? Date.now;
    const t0 = now();
    const backup = await this.newestBackup();
    const backupMs = now() - t0;
    const start = backup?.snapshot.nextIndex ?? 0;
    // The backup's spent check and the scan past it are independent: run them together.
    const timed = async <T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> => {
      const t = now();
      const value = await f();
      return { value, ms: now() - t };
    };
    const [spent, scan] = await Promise.all([
      timed(() =>
        spentOf(this.client, backup ? backup.snapshot.notes.map((n) => toHex(n.nonce)) : [], this.reachable),
      ),
      timed(async () => {
        const found = await this.scan(start);
        const spentFound = await spentOf(
          this.client,
          found.notes.map((n) => toHex(n.nonce)),
        );
        return { ...found, unspent: found.notes.filter((_, i) => !spentFound[i]) };
      }),
    ]);
    const notes = backup ? backup.snapshot.notes.filter((_, i) => !spent.value[i]) : [];
    const fromBackup = notes.length;
    // A note both in the backup and found by the scan cannot happen (the scan starts past the
    // backup's indexes), but a set keeps the restore idempotent whatever the backup says.
    const seen = new Set(notes.map((n) => toHex(n.nonce)));
    for (const n of scan.value.unspent) if (!seen.has(toHex(n.nonce))) notes.push(n);
    return {
      notes,
      nextIndex: Math.max(start, scan.value.highest + 1),
      fromBackup,
      fromScan: notes.length - fromBackup,
      spentDropped: (backup?.snapshot.notes.length ?? 0) - fromBackup,
      backupNotes: backup?.snapshot.notes.length ?? 0,
      phasesMs: { backup: backupMs, spent: spent.ms, scan: scan.ms },
      ...(backup ? { backupVersion: backup.version } : {}),
    };
  }

  /** The highest version whose signature verifies and that decrypts, among every guardian's copy. */
  private async newestBackup(): Promise<{ version: number; snapshot: BackupSnapshot } | undefined> {
    const signer = this.options.crypto.ed25519Signer(this.keys.backupIdSeed);
    const id = toHex(signer.publicKey);
    const answers = await this.client.downloadBackups(id);
    // Guardians that answered (a backup, or "none here"): the spent queries go to them first.
    this.reachable = answers.filter((a) => a.ok || a.error.status < 500).map((a) => a.guardian);
    let best: { version: number; snapshot: BackupSnapshot } | undefined;
    const tried = new Set<string>();
    for (const a of answers) {
      if (!a.ok) continue;
      const r = a.value;
      if (best && r.version <= best.version) continue;
      const key = `${r.version}:${r.signature}`;
      if (tried.has(key)) continue;
      tried.add(key);
      const decoded = base64Decode(r.ciphertext);
      if (!decoded.ok) continue;
      const ciphertext = decoded.bytes;
      const message = backupSigningBytes(sha256, this.federationId, signer.publicKey, r.version, ciphertext);
      if (!this.options.crypto.ed25519Verify(signer.publicKey, message, fromHex(r.signature))) continue;
      const plaintext = decryptBackup(this.keys.backupKey, this.federationId, ciphertext);
      const snapshot = plaintext && decodeSnapshot(plaintext);
      if (snapshot) best = { version: r.version, snapshot };
    }
    return best;
  }

  /** Notes issued to indexes from `start` on, until `gap` consecutive indexes were never issued. */
  private async scan(start: number): Promise<{ notes: OwnNote[]; highest: number }> {
    const gap = this.options.restoreGap ?? RESTORE_GAP_DEFAULT;
    const batchSize = Math.min(MINT_QUERY_ITEMS_MAX, Math.max(gap, 16));
    const notes: OwnNote[] = [];
    let highest = start - 1;
    let unissuedRun = 0;
    for (let from = start; unissuedRun < gap && from <= NOTE_INDEX_MAX; from += batchSize) {
      const indexes = Array.from(
        { length: Math.min(batchSize, NOTE_INDEX_MAX + 1 - from) },
        (_, i) => from + i,
      );
      const prepared = indexes.map((i) => this.prepare(i));
      const answers = await this.client.postEach(
        ISSUED_PATH,
        { blindedMessages: prepared.map((p) => toHex(p.blindedMessage)) },
        IssuedAnswerSchema,
      );
      const good = answers.filter((a) => a.ok && a.value.issued.length === indexes.length);
      if (good.length < this.client.t)
        throw new NoQuorumError(`asking which notes were issued (indexes ${from}..)`, this.client.t, []);
      for (let k = 0; k < indexes.length && unissuedRun < gap; k++) {
        const p = prepared[k]!;
        let unissued = 0;
        const reports: { guardian: number; denominationLog2: number; share: Uint8Array }[] = [];
        for (const a of good) {
          if (!a.ok) continue;
          const item = a.value.issued[k];
          if (item === null || item === undefined) unissued++;
          else
            reports.push({
              guardian: a.guardian,
              denominationLog2: item.denominationLog2,
              share: fromHex(item.blindShare),
            });
        }
        if (unissued >= this.client.t || reports.length === 0) {
          unissuedRun++;
          continue;
        }
        unissuedRun = 0;
        highest = p.index;
        const note = this.finish(p, reports);
        if (note) notes.push(note);
        else
          this.options.onWarning?.(
            `note index ${p.index} is reported issued but fewer than ${this.client.t} valid shares came back`,
          );
      }
    }
    return { notes, highest };
  }

  private prepare(index: number): {
    index: number;
    nonce: Uint8Array;
    blindingKey: bigint;
    blindedMessage: Uint8Array;
  } {
    const nonce = this.options.crypto.ed25519PublicKey(this.keys.spendSeed(index));
    const { blindingKey, blindedMessage } = this.options.crypto.tbs.blind(
      nonce,
      this.keys.blindingRng(index),
    );
    return { index, nonce, blindingKey, blindedMessage };
  }

  private finish(
    p: { index: number; nonce: Uint8Array; blindingKey: bigint; blindedMessage: Uint8Array },
    reports: readonly { guardian: number; denominationLog2: number; share: Uint8Array }[],
  ): OwnNote | undefined {
    const tbs = this.options.crypto.tbs;
    const t = this.client.t;
    for (const log2 of new Set(reports.map((r) => r.denominationLog2))) {
      const i = this.config.denominationsLog2.indexOf(log2);
      const key = this.config.keys[i];
      if (i < 0 || !key) continue;
      const shares = reports
        .filter((r) => r.denominationLog2 === log2)
        .map((r) => ({ guardian: r.guardian, share: r.share }));
      const attempt = (list: typeof shares) => {
        if (list.length < t) return undefined;
        const combined = tbs.combineBlindShares(t, list.slice(0, t));
        const sig = combined.ok ? tbs.unblind(combined.value, p.blindingKey) : combined;
        return sig.ok && tbs.verifyNote(key.publicKey, p.nonce, sig.value) ? sig.value : undefined;
      };
      const signature =
        attempt(shares) ??
        attempt(
          shares.filter((s) => {
            const pk = key.publicKeyShares[s.guardian];
            return pk !== undefined && tbs.verifyBlindShare(pk, p.blindedMessage, s.share);
          }),
        );
      if (signature) return { index: p.index, denominationLog2: log2, nonce: p.nonce, signature };
    }
    return undefined;
  }
}

/**
 * The notes a mnemonic's root holds at a federation: the newest backup it can read (minus notes
 * the guardians report spent), then every note issued to indexes past it; `ops` writes them (with
 * the note counter past them), for a new wallet's first write.
 */
export async function restoreNotes(
  client: FederationClient,
  root: Uint8Array,
  startedAtMs: number,
  options: RestoreOptions,
): Promise<{
  ops: DbOp[];
  result: Omit<RestoreResult, "elapsedMs" | "phasesMs">;
  phasesMs: Restored["phasesMs"];
}> {
  const entry = client.config.modules.find((m) => m.kind === "mint");
  if (!entry) throw noMintError();
  const restorer = new Restorer(client, parseMintConfig(entry.config), new MintKeys(root), options);
  const found = await restorer.run();
  const ops: DbOp[] = [...found.notes.map(notePut), put(K_COUNTER, json({ next: found.nextIndex }))];
  if (found.backupVersion !== undefined)
    ops.push(
      put(K_BACKUP, json({ version: found.backupVersion, notes: found.backupNotes, atMs: startedAtMs })),
    );
  return {
    ops,
    result: {
      notes: found.notes.length,
      amount: sumOf(found.notes.map((n) => n.denominationLog2)),
      fromBackup: found.fromBackup,
      fromScan: found.fromScan,
      spentDropped: found.spentDropped,
      ...(found.backupVersion !== undefined ? { backupVersion: found.backupVersion } : {}),
    },
    phasesMs: found.phasesMs,
  };
}
