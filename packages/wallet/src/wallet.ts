// The wallet: notes of one federation's mint in a client database, moved by transactions that are
// written down before they are sent, so that a crash at any point loses nothing.
//
// Every transaction goes through one path (`execute`):
//   1. prepare: pick inputs, reserve note indexes, build and sign the transaction; ONE atomic write
//      stores the pending operation (transaction bytes, inputs, outputs with their note indexes),
//      advances the note counter and removes the input notes from the spendable set;
//   2. submit the same bytes to every guardian (a resubmission after a crash gets the final state);
//   3. await the state t guardians agree on (outcomes are per guardian: each its own share);
//   4. accepted: combine each new note from t guardian shares (a share that does not verify against
//      its guardian's public key share is dropped and the guardian named in `warnings`), unblind,
//      verify; ONE atomic write stores the notes and deletes the pending operation. Fewer than t good
//      shares: the operation stays pending and `resume()` asks again.
//      rejected: the inputs go back to the wallet, except those t guardians report spent.
// Network trouble leaves the operation pending; `resume()` (also run by `open`) continues it.
//
// A Monero deposit (claimDeposit) first goes through a claim: written down with its claim index,
// posted to every guardian, watched until t guardians agree it is credited and confirmed; then the
// deposit input and the new notes take the same `execute` path (kind "deposit").
//
// A Monero withdrawal (withdraw) is one transaction of kind "withdraw": own notes in, the change as
// fresh notes (outputs 0..k-1) and the payout output last (output k); once accepted, its outcome is
// watched outside the lock until t guardians agree it is confirmed.
import { sha256 } from "@noble/hashes/sha2.js";
import {
  BadResponseError,
  FederationClient,
  NoQuorumError,
  decodeInviteCode,
  sleep,
} from "@conclave/core-client";
import type { ClientOptions, GuardianAnswer, TxStatusView } from "@conclave/core-client";
import {
  ConclaveError,
  TransactionRejectedError,
  backupSigningBytes,
  buildTransaction,
  decodeSealed,
  encodeTransaction,
  formatXmr,
  fromHex,
  parseFederationConfig,
  toHex,
  txidHex,
} from "@conclave/core-common";
import type { BackupRecord, FederationConfig, Signer, TxInput, TxOutput } from "@conclave/core-common";
import type { Rng } from "@conclave/core-common/threshold";
import type { KeyedNote } from "@conclave/core-common/tbs";
import { encodeDummyInput } from "@conclave/module-dummy/browser";
import {
  IssuedAnswerSchema,
  MINT_QUERY_ITEMS_MAX,
  MintOutputOutcomeSchema,
  SpentAnswerSchema,
  denominationAmount,
  encodeMintInput,
  encodeMintOutput,
  mintConfigSchema,
} from "@conclave/module-mint/browser";
import type { DenominationKey, MintConfig } from "@conclave/module-mint/browser";
import {
  ClaimAnswerSchema,
  DepositViewSchema,
  MONERO_KIND,
  sealClaim as sealMoneroClaim,
  PayoutStatusSchema,
  PayoutTermsSchema,
  TxKeyHexSchema,
  claimProof,
  depositInput,
  encodePayoutOutput,
  isCanonicalTxKey,
} from "@conclave/module-monero/browser";
import type { PayoutStatus, PayoutTerms } from "@conclave/module-monero/browser";
import type { DepositView } from "@conclave/module-monero/browser";
import {
  SubaddressAnswerSchema,
  SubaddressSeenViewSchema,
  SubaddressViewSchema,
  subaddressDepositInput,
  subaddressRequestMessage,
} from "@conclave/module-monero/browser";
import type {
  SubaddressDepositView,
  SubaddressSeenView,
  SubaddressView,
} from "@conclave/module-monero/browser";
import { z } from "zod";
import { base64Decode, base64Encode } from "./base64.js";
import { BACKUP_NOTES_MAX, decodeSnapshot, decryptBackup, encodeSnapshot, encryptBackup } from "./backup.js";
import type { BackupSnapshot } from "./backup.js";
import type { WalletCrypto } from "./crypto.js";
import type { ClientDb, DbOp } from "./db.js";
import { del, put, scanPrefix } from "./db.js";
import { WalletError, assert } from "./errors.js";
import { NOTE_INDEX_MAX, WalletKeys, federationRoot } from "./keys.js";
import { NOTES_PER_STRING_MAX, decodeNoteString, encodeNoteString } from "./note-string.js";
import { SEALED_CLAIMS_PATH } from "./relay.js";
import type { BearerNote } from "./note-string.js";
import {
  coverValue,
  decompose,
  holdingsOf,
  planCombine,
  planOutputs,
  representable,
  selectExact,
  sumOf,
  without,
} from "./select.js";
import type { ReissuePlan } from "./select.js";
import {
  K_BACKUP,
  K_CLAIM_COUNTER,
  K_COUNTER,
  P_CLAIM,
  P_SUBADDR,
  K_SCHEMA,
  K_WALLET,
  P_NOTE,
  P_OP,
  P_OUT,
  P_WITHDRAWAL,
  SCHEMA_VERSION,
  decodeNote,
  json,
  noteFromJson,
  noteKey,
  notePut,
  noteToJson,
  parseJson,
} from "./store.js";
import type {
  BackupMeta,
  ClaimRecord,
  ForeignNoteJson,
  OutgoingRecord,
  OwnNote,
  PendingKind,
  PendingOp,
  SubaddressRecord,
  WalletRecord,
  WithdrawalRecord,
} from "./store.js";
import type {
  BackupResult,
  ClaimDepositOptions,
  ClaimDepositResult,
  DenominationHolding,
  DepositProgress,
  DepositAddressOptions,
  DepositAddressResult,
  DepositProof,
  ReceiveDepositsOptions,
  ReceiveDepositsResult,
  RelayResult,
  ReissueResult,
  RestoreResult,
  SealClaimRequest,
  SealClaimResult,
  SpendResult,
  SubaddressDepositProgress,
  ValidateResult,
  WalletApi,
  WithdrawalInfo,
  WalletInfo,
  WithdrawOptions,
  WithdrawProgress,
  WithdrawResult,
} from "./types.js";

/** Most inputs the wallet puts in one transaction (a signed input is ~160 bytes; 48 KiB per tx). */
export const INPUTS_PER_TX_MAX = 128;
/** Most outputs per transaction, whatever the mint allows (an output is ~63 bytes). */
export const OUTPUTS_PER_TX_MAX = 128;
/** Consecutive indexes that t guardians report not issued before a restore scan stops. */
export const RESTORE_GAP_DEFAULT = 100;
/** Spent queries in flight at once during a restore. */
const QUERIES_IN_FLIGHT_MAX = 10;
/** Derived notes kept between preparing and settling (those of refused transactions are dropped here). */
const PREPARED_CACHE_MAX = 4096;
/** Guardians' refusals meaning a note of the string is not the federation's. */
const FORGED_NOTE_CODES = new Set(["invalid_note", "malformed_note", "unknown_denomination"]);
const SPENT_PATH = "/v1/modules/mint/notes/spent";
const ISSUED_PATH = "/v1/modules/mint/notes/issued";
/** Rounds of reissuing one operation may take (splitting into many notes takes several). */
const ROUNDS_MAX = 64;
const CLAIMS_PATH = "/v1/modules/monero/claims";
const depositPath = (txid: string) => `/v1/modules/monero/deposits/${txid}`;
const SUBADDRESSES_PATH = "/v1/modules/monero/subaddresses";
const subaddressPath = (claimKey: string) => `${SUBADDRESSES_PATH}/${claimKey}`;
const subaddressSeenPath = (claimKey: string) => `${SUBADDRESSES_PATH}/${claimKey}/seen`;
const payoutPath = (txid: string, index: number) => `/v1/modules/monero/payouts/${txid}/${index}`;
const PAYOUT_TERMS_PATH = "/v1/modules/monero/payouts/terms";
/** How long a deposit claim waits for the federation by default (confirmations take 20 min on mainnet). */
export const DEPOSIT_WAIT_MS_DEFAULT = 6 * 60 * 60 * 1000;
/** Confirmed withdrawals listed by info() (all are kept: `withdrawals()` lists them all). */
const INFO_CONFIRMED_WITHDRAWALS_MAX = 10;
/** How long `withdraw` waits for the payout to be confirmed unless told otherwise. */
export const WITHDRAW_WAIT_MS_DEFAULT = 6 * 60 * 60 * 1000;
/** A claim not ordered yet (or released by another claim's rejection) is posted again this often. */
const CLAIM_REPOST_MS = 15_000;

export interface WalletHooks {
  /** Test hook: runs once the operation is written down, before its transaction is first sent. */
  readonly beforeSubmit?: (txid: string) => void | Promise<void>;
  /** Test hook: runs after the guardians took a transaction, before the wallet waits for it. */
  readonly afterSubmit?: (txid: string) => void | Promise<void>;
}

export interface WalletOptions {
  readonly crypto: WalletCrypto;
  /** Options of the client core (fetch, limits). */
  readonly client?: ClientOptions;
  /** How long one operation waits for t guardians to decide its transaction (default 60 s). */
  readonly awaitTimeoutMs?: number;
  readonly restoreGap?: number;
  readonly hooks?: WalletHooks;
  /** Where warnings go besides `Wallet.warnings` (a guardian sent a bad share...). */
  readonly onWarning?: (message: string) => void;
  readonly now?: () => number;
}

interface MintView {
  readonly instanceId: number;
  readonly config: MintConfig;
}

interface DummyView {
  readonly instanceId: number;
  readonly faucetAmountMax: bigint;
  readonly feePerInput: bigint;
}

const dummyConfigSchema = z.object({
  faucetAmountMax: z.string().regex(/^\d{1,20}$/),
  feePerInput: z.string().regex(/^\d{1,20}$/),
});

function mintOf(config: FederationConfig): MintView {
  const entry = config.modules.find((m) => m.kind === "mint");
  if (!entry)
    throw new ConclaveError("no_mint", "this federation runs no mint module: it cannot hold e-cash notes", {
      status: 400,
    });
  const parsed = mintConfigSchema.safeParse(entry.config);
  if (!parsed.success)
    throw new ConclaveError(
      "bad_mint_config",
      `the federation's mint config is invalid: ${parsed.error.message}`,
      {
        status: 502,
      },
    );
  const c = parsed.data;
  return {
    instanceId: entry.instanceId,
    config: {
      denominationsLog2: c.denominationsLog2,
      feePerInput: BigInt(c.feePerInput),
      notesPerTxMax: c.notesPerTxMax,
      keys: c.keys.map((k) => ({
        publicKey: fromHex(k.publicKey),
        publicKeyShares: k.publicKeyShares.map(fromHex),
      })),
    },
  };
}

/** The federation's Monero address (what address requests are signed for). */
function moneroAddressOf(config: FederationConfig): string | undefined {
  const address = config.modules.find((m) => m.kind === MONERO_KIND)?.config["address"];
  return typeof address === "string" ? address : undefined;
}

const sumBig = (xs: readonly bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);

function moneroOf(config: FederationConfig): { readonly instanceId: number } | undefined {
  const entry = config.modules.find((m) => m.kind === MONERO_KIND);
  return entry ? { instanceId: entry.instanceId } : undefined;
}

/** Two payout quotes agree when they charge the same (the agreed height and reports may move meanwhile). */
const sameTerms = (a: PayoutTerms, b: PayoutTerms): boolean =>
  a.minimum === b.minimum && a.fee === b.fee && a.feeRate === b.feeRate;

function dummyOf(config: FederationConfig): DummyView | undefined {
  const entry = config.modules.find((m) => m.kind === "dummy");
  if (!entry || config.environment !== "dev") return undefined;
  const parsed = dummyConfigSchema.safeParse(entry.config);
  if (!parsed.success) return undefined;
  return {
    instanceId: entry.instanceId,
    faucetAmountMax: BigInt(parsed.data.faucetAmountMax),
    feePerInput: BigInt(parsed.data.feePerInput),
  };
}

/** A note being issued to this wallet: everything re-derives from its index. */
interface PreparedNote {
  readonly index: number;
  readonly denominationLog2: number;
  readonly nonce: Uint8Array;
  readonly blindingKey: bigint;
  readonly blindedMessage: Uint8Array;
}

/** A guardian refused for good: a 4xx that is not a rate limit (422: the transaction's own fault). */
function isRefusal(e: unknown): e is ConclaveError {
  return (
    e instanceof ConclaveError && e.status >= 400 && e.status < 500 && e.status !== 429 && e.status !== 499
  );
}

class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(f: () => Promise<T>): Promise<T> {
    const result = this.tail.then(f);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

async function inBatches<T, R>(
  items: readonly T[],
  size: number,
  concurrency: number,
  f: (batch: readonly T[]) => Promise<readonly R[]>,
): Promise<R[]> {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  const results: (readonly R[])[] = new Array<readonly R[]>(batches.length);
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const i = next++;
      results[i] = await f(batches[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
  return results.flat();
}

export class Wallet implements WalletApi {
  /** Recent warnings: guardians that sent shares that do not verify, operations left pending. */
  readonly warnings: string[] = [];
  private clientPromise: Promise<FederationClient> | undefined;
  private readonly mutex = new Mutex();
  /** Notes derived for transactions being prepared, until they settle (derivation costs ~1 ms each). */
  private readonly prepared = new Map<number, PreparedNote>();
  private readonly mint: MintView;
  private readonly dummy: DummyView | undefined;
  private readonly federationIdBytes: Uint8Array;
  private readonly now: () => number;

  private constructor(
    private readonly db: ClientDb,
    private readonly record: WalletRecord,
    private readonly config: FederationConfig,
    private readonly keys: WalletKeys,
    private readonly options: WalletOptions,
    client?: FederationClient,
  ) {
    this.mint = mintOf(config);
    this.dummy = dummyOf(config);
    this.federationIdBytes = fromHex(record.federationId);
    this.now = options.now ?? Date.now;
    if (client) this.clientPromise = Promise.resolve(client);
  }

  // ---- opening ---------------------------------------------------------------------------------

  /** Opens the wallet in `db` and finishes what a crash interrupted (errors stay in `warnings`). */
  static async open(db: ClientDb, options: WalletOptions): Promise<Wallet> {
    const schema = await db.get(K_SCHEMA);
    const raw = await db.get(K_WALLET);
    if (!schema || !raw)
      throw new WalletError("not_joined", "this database holds no wallet: join a federation first");
    const { schema: version } = parseJson<{ schema: number }>(schema);
    if (version !== SCHEMA_VERSION)
      throw new ConclaveError(
        "unsupported_schema",
        `the wallet database has schema ${version}; this wallet reads schema ${SCHEMA_VERSION}`,
        { status: 400 },
      );
    const record = parseJson<WalletRecord>(raw);
    const wallet = new Wallet(
      db,
      record,
      parseFederationConfig(record.config),
      new WalletKeys(fromHex(record.root)),
      options,
    );
    if ((await scanPrefix(db, P_OP)).length > 0) {
      try {
        await wallet.resume();
      } catch (e) {
        wallet.warn(`could not resume pending operations: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return wallet;
  }

  /** Joins the federation of `invite` in an empty database, with the keys of `mnemonic`. */
  static async join(db: ClientDb, invite: string, mnemonic: string, options: WalletOptions): Promise<Wallet> {
    if (await db.get(K_WALLET))
      throw new WalletError("already_joined", "this database already holds a wallet; use another directory");
    const client = await joinClient(invite, options);
    const root = await federationRoot(mnemonic, fromHex(client.federationId));
    return Wallet.create(db, invite, client, root, 0, options);
  }

  private static async create(
    db: ClientDb,
    invite: string,
    client: FederationClient,
    root: Uint8Array,
    nextIndex: number,
    options: WalletOptions,
    extra: readonly DbOp[] = [],
  ): Promise<Wallet> {
    const record: WalletRecord = {
      federationId: client.federationId,
      invite: invite.trim(),
      config: client.config,
      root: toHex(root),
      createdAtMs: (options.now ?? Date.now)(),
    };
    const wallet = new Wallet(db, record, client.config, new WalletKeys(root), options, client);
    await db.write([
      put(K_SCHEMA, json({ schema: SCHEMA_VERSION })),
      put(K_WALLET, json(record)),
      put(K_COUNTER, json({ next: nextIndex })),
      ...extra,
    ]);
    return wallet;
  }

  /**
   * A new wallet from the mnemonic alone: the newest backup this mnemonic can read (minus notes the
   * guardians report spent), then every note issued to indexes past it, found by re-deriving blinded
   * messages until `restoreGap` consecutive indexes were never issued.
   */
  static async restore(
    db: ClientDb,
    invite: string,
    mnemonic: string,
    options: WalletOptions,
  ): Promise<{ wallet: Wallet; result: RestoreResult }> {
    const started = (options.now ?? Date.now)();
    if (await db.get(K_WALLET))
      throw new WalletError(
        "already_joined",
        "this database already holds a wallet; restore into another directory",
      );
    const now = options.now ?? Date.now;
    const client = await joinClient(invite, options);
    const root = await federationRoot(mnemonic, fromHex(client.federationId));
    const joinMs = now() - started;
    const restorer = new Restorer(client, new WalletKeys(root), options);
    const found = await restorer.run();
    const writeStarted = now();
    const ops: DbOp[] = found.notes.map(notePut);
    if (found.backupVersion !== undefined)
      ops.push(
        put(K_BACKUP, json({ version: found.backupVersion, notes: found.backupNotes, atMs: started })),
      );
    const wallet = await Wallet.create(db, invite, client, root, found.nextIndex, options, ops);
    const result: RestoreResult = {
      notes: found.notes.length,
      amount: sumOf(found.notes.map((n) => n.denominationLog2)),
      fromBackup: found.fromBackup,
      fromScan: found.fromScan,
      spentDropped: found.spentDropped,
      ...(found.backupVersion !== undefined ? { backupVersion: found.backupVersion } : {}),
      elapsedMs: now() - started,
      phasesMs: { join: joinMs, ...found.phasesMs, write: now() - writeStarted },
    };
    return { wallet, result };
  }

  // ---- the API ---------------------------------------------------------------------------------

  info(): Promise<WalletInfo> {
    return this.mutex.run(async () => {
      const notes = await this.loadNotes();
      const counts = holdingsOf(notes.map((n) => n.denominationLog2));
      const holdings: DenominationHolding[] = [...counts.entries()]
        .sort(([a], [b]) => a - b)
        .map(([log2, count]) => ({
          denominationLog2: log2,
          amount: denominationAmount(log2).toString(),
          count,
        }));
      const outgoing = (await scanPrefix(this.db, P_OUT))
        .map(([, v]) => parseJson<OutgoingRecord>(v))
        .map((o) => ({ id: o.id, amount: BigInt(o.amount), createdAtMs: o.createdAtMs }))
        .sort((a, b) => a.createdAtMs - b.createdAtMs);
      const pending = await scanPrefix(this.db, P_OP);
      const claims = (await scanPrefix(this.db, P_CLAIM)).map(([, v]) => parseJson<ClaimRecord>(v));
      const allWithdrawals = await this.withdrawalRecords();
      const withdrawals = [
        ...allWithdrawals.filter((w) => w.state !== "confirmed"),
        ...allWithdrawals.filter((w) => w.state === "confirmed").slice(0, INFO_CONFIRMED_WITHDRAWALS_MAX),
      ]
        .sort((a, b) => b.createdAtMs - a.createdAtMs)
        .map(withdrawalInfoOf);
      const backupRaw = await this.db.get(K_BACKUP);
      const lastBackup = backupRaw ? parseJson<BackupMeta>(backupRaw) : undefined;
      const guardians = this.record.invite
        ? decodeInviteCode(this.record.invite, 64 * 1024).guardians.map((g, index) => ({
            index,
            name: g.name,
            url: g.api,
          }))
        : [];
      return {
        federationId: this.record.federationId,
        federationName: this.config.name,
        guardians,
        threshold: this.config.guardians.length - Math.floor((this.config.guardians.length - 1) / 3),
        balance: sumOf(notes.map((n) => n.denominationLog2)),
        notes: holdings,
        outgoing,
        pendingOperations: pending.length,
        feePerNote: this.mint.config.feePerInput,
        denominationsLog2: this.mint.config.denominationsLog2,
        ...(lastBackup ? { lastBackup } : {}),
        ...(claims.length > 0
          ? { pendingDeposits: claims.map((c) => ({ txid: c.txid, createdAtMs: c.createdAtMs })) }
          : {}),
        ...(withdrawals.length > 0 ? { withdrawals } : {}),
      };
    });
  }

  devFaucet(amount: bigint): Promise<ReissueResult> {
    return this.mutex.run(async () => {
      const dummy = this.dummy;
      if (!dummy)
        throw new WalletError(
          "not_dev_federation",
          "this federation has no test faucet (only dev federations run the test-only dummy module)",
        );
      this.checkAmount(amount);
      const notes = decompose(amount, this.mint.config.denominationsLog2).notes;
      const results: ReissueResult[] = [];
      let chunk: number[] = [];
      let chunkValue = 0n;
      const flush = async () => {
        if (chunk.length === 0) return;
        const faucet: TxInput = {
          module: dummy.instanceId,
          amount: chunkValue + dummy.feePerInput,
          payload: encodeDummyInput({ kind: "faucet", nonce: this.options.crypto.random(16) }),
        };
        const op = await this.prepare("faucet", { faucet: [faucet], outputs: chunk });
        results.push(await this.execute(op));
        chunk = [];
        chunkValue = 0n;
      };
      for (const log2 of notes) {
        const d = denominationAmount(log2);
        if (d + dummy.feePerInput > dummy.faucetAmountMax)
          throw new WalletError(
            "invalid_amount",
            `the faucet gives at most ${dummy.faucetAmountMax} per transaction`,
          );
        if (chunk.length >= this.outputsMax() || chunkValue + d + dummy.feePerInput > dummy.faucetAmountMax)
          await flush();
        chunk.push(log2);
        chunkValue += d;
      }
      await flush();
      return mergeResults(results);
    });
  }

  spend(amount: bigint): Promise<SpendResult> {
    return this.mutex.run(async () => {
      this.checkAmount(amount);
      for (let round = 0; round < ROUNDS_MAX; round++) {
        const notes = await this.loadNotes();
        const holdings = holdingsOf(notes.map((n) => n.denominationLog2));
        const exact = selectExact(holdings, amount);
        if (exact) return this.handOut(notes, exact, amount);
        await this.execute(await this.prepareChange(notes, amount));
      }
      throw new Error(`spend of ${amount} did not converge in ${ROUNDS_MAX} reissues`);
    });
  }

  cancel(spendId: string): Promise<ReissueResult> {
    return this.mutex.run(async () => {
      const raw = /^[0-9a-f]{1,64}$/.test(spendId) ? await this.db.get(P_OUT + spendId) : undefined;
      if (!raw)
        throw new WalletError("unknown_spend", `this wallet handed out no open spend with id ${spendId}`);
      const outgoing = parseJson<OutgoingRecord>(raw);
      const inputs = outgoing.notes.map(noteFromJson);
      const results: ReissueResult[] = [];
      // One transaction per chunk; the entry keeps the notes not yet taken back, so that a crash
      // between chunks leaves every note either in the entry or in a pending operation.
      const chunks = this.chunkInputs(inputs.map((n) => n.denominationLog2));
      let rest = outgoing.notes;
      for (const chunk of chunks) {
        const own = chunk.map((i) => inputs[i]!);
        const plan = this.plan(
          own.map((n) => n.denominationLog2),
          [],
        );
        const taken = new Set(own.map((n) => toHex(n.nonce)));
        rest = rest.filter((n) => !taken.has(n.nonce));
        results.push(
          await this.execute(
            await this.prepare("cancel", {
              own,
              outputs: plan.outputs,
              outgoing: { ...outgoing, notes: own.map(noteToJson) },
              outgoingRest: { ...outgoing, notes: rest },
            }),
          ),
        );
      }
      return mergeResults(results);
    });
  }

  reissue(notesText: string): Promise<ReissueResult> {
    return this.mutex.run(async () => {
      const decoded = decodeNoteString(notesText);
      if (decoded.federationId !== this.record.federationId)
        throw new WalletError(
          "wrong_federation",
          `these notes belong to federation ${decoded.federationId}, this wallet to ${this.record.federationId}`,
          { federationId: decoded.federationId },
        );
      const foreign = decoded.notes.map((n) => this.foreignNote(n));
      const seen = new Set<string>();
      foreign.forEach((n, i) => {
        if (seen.has(n.nonce))
          throw new WalletError("malformed_notes", `note ${i + 1} appears twice in the string`);
        seen.add(n.nonce);
      });
      const forged = (bad: readonly number[]) =>
        new WalletError(
          "invalid_note",
          `note${bad.length > 1 ? "s" : ""} ${bad.map((i) => i + 1).join(", ")} of the string ` +
            `do${bad.length > 1 ? "" : "es"} not carry the federation's signature (forged or altered); nothing was redeemed`,
          { notes: bad },
        );
      const chunks = this.chunkInputs(foreign.map((n) => n.denominationLog2));
      // A string that takes several transactions is checked here first, so that a forged note in a
      // later one cannot leave the string half redeemed. A one-transaction string is checked by
      // every guardian anyway (and refused whole): checking it here too would cost the receiver a
      // second multi-pairing on the latency path.
      if (chunks.length > 1) {
        const bad = this.badNotes(
          foreign.map((n) => ({ ...n, nonce: fromHex(n.nonce), signature: fromHex(n.signature) })),
        );
        if (bad.length > 0) throw forged(bad);
      }
      const results: ReissueResult[] = [];
      for (const chunk of chunks) {
        const inputs = chunk.map((i) => foreign[i]!);
        const plan = this.plan(
          inputs.map((n) => n.denominationLog2),
          [],
        );
        try {
          results.push(
            await this.execute(await this.prepare("reissue", { foreign: inputs, outputs: plan.outputs })),
          );
        } catch (e) {
          const input = e instanceof TransactionRejectedError ? e.details["input"] : undefined;
          if (
            chunks.length === 1 &&
            e instanceof TransactionRejectedError &&
            FORGED_NOTE_CODES.has(e.code) &&
            typeof input === "number"
          )
            throw forged([chunk[input] ?? input]);
          throw e;
        }
      }
      return mergeResults(results);
    });
  }

  split(denominationLog2: number, count: number): Promise<ReissueResult> {
    return this.mutex.run(async () => {
      if (!this.mint.config.denominationsLog2.includes(denominationLog2))
        throw new WalletError(
          "invalid_amount",
          `the mint has no denomination 2^${denominationLog2}; it has 2^k for k in [${this.mint.config.denominationsLog2.join(", ")}]`,
        );
      if (!Number.isSafeInteger(count) || count < 1 || count > 100_000)
        throw new WalletError("invalid_amount", `a note count is 1 to 100000, not ${count}`);
      const results: ReissueResult[] = [];
      for (let round = 0; round < ROUNDS_MAX * 4; round++) {
        const notes = await this.loadNotes();
        const holdings = holdingsOf(notes.map((n) => n.denominationLog2));
        const have = holdings.get(denominationLog2) ?? 0;
        if (have >= count) return mergeResults(results);
        const need = count - have;
        const others = new Map(holdings);
        others.delete(denominationLog2);
        const wantedValue = BigInt(need) * denominationAmount(denominationLog2);
        const fee = this.mint.config.feePerInput;
        const inputs =
          coverValue(others, wantedValue, fee, this.inputsMax()) ?? largestFirst(others, this.inputsMax());
        const plan = planOutputs(
          inputs,
          new Array<number>(need).fill(denominationLog2),
          fee,
          this.mint.config.denominationsLog2,
          this.outputsMax(),
        );
        if (!plan || !plan.outputs.includes(denominationLog2))
          throw new WalletError(
            "insufficient_funds",
            `not enough other notes to make ${count} notes of ${denominationAmount(denominationLog2)} (have ${have})`,
          );
        results.push(
          await this.execute(
            await this.prepare("split", { own: pickNotes(notes, inputs), outputs: plan.outputs }),
          ),
        );
      }
      throw new Error(`split did not converge in ${ROUNDS_MAX * 4} reissues`);
    });
  }

  combine(): Promise<ReissueResult> {
    return this.mutex.run(async () => {
      const results: ReissueResult[] = [];
      for (let round = 0; round < ROUNDS_MAX * 4; round++) {
        const notes = await this.loadNotes();
        const plan = planCombine(
          notes.map((n) => n.denominationLog2),
          this.mint.config.feePerInput,
          this.mint.config.denominationsLog2,
          this.inputsMax(),
          this.outputsMax(),
        );
        if (!plan) break;
        results.push(
          await this.execute(
            await this.prepare("combine", { own: pickNotes(notes, plan.inputs), outputs: plan.outputs }),
          ),
        );
      }
      return mergeResults(results);
    });
  }

  validate(notesText: string, options: { online?: boolean } = {}): Promise<ValidateResult> {
    return this.mutex.run(async () => {
      const decoded = decodeNoteString(notesText);
      if (decoded.federationId !== this.record.federationId)
        throw new WalletError(
          "wrong_federation",
          `these notes belong to federation ${decoded.federationId}, this wallet to ${this.record.federationId}`,
          { federationId: decoded.federationId },
        );
      const notes = decoded.notes.map((n) => ({
        denominationLog2: n.denominationLog2,
        nonce: this.options.crypto.ed25519PublicKey(n.spendSeed),
        signature: n.signature,
      }));
      const bad = new Set(this.badNotes(notes));
      const result: ValidateResult = {
        federationId: decoded.federationId,
        amount: sumOf(notes.map((n) => n.denominationLog2)),
        notes: notes.map((n, i) => ({
          denominationLog2: n.denominationLog2,
          nonce: toHex(n.nonce),
          valid: !bad.has(i),
        })),
      };
      if (!options.online) return result;
      const spent = await spentOf(
        await this.client(),
        notes.map((n) => toHex(n.nonce)),
      );
      return { ...result, spent };
    });
  }

  backup(): Promise<BackupResult> {
    return this.mutex.run(async () => {
      const client = await this.client();
      const snapshot = await this.snapshot();
      if (snapshot.notes.length > BACKUP_NOTES_MAX)
        throw new ConclaveError(
          "backup_too_large",
          `the wallet holds ${snapshot.notes.length} notes, a backup at most ${BACKUP_NOTES_MAX}: combine notes first`,
          { status: 400 },
        );
      const ciphertext = encryptBackup(
        this.keys.backupKey,
        this.federationIdBytes,
        encodeSnapshot(snapshot),
        this.options.crypto.random,
      );
      const lastRaw = await this.db.get(K_BACKUP);
      const last = lastRaw ? parseJson<BackupMeta>(lastRaw) : undefined;
      const atMs = this.now();
      const version = Math.max(atMs, (last?.version ?? 0) + 1);
      const record = signBackup(this.options.crypto, this.keys, this.federationIdBytes, version, ciphertext);
      const { storedBy } = await client.uploadBackup(record);
      await this.db.write([put(K_BACKUP, json({ version, notes: snapshot.notes.length, atMs }))]);
      return { version, notes: snapshot.notes.length, bytes: ciphertext.length, storedBy };
    });
  }

  resume(): Promise<number> {
    const operations = this.mutex.run(async () => {
      let finished = 0;
      for (const [, raw] of await scanPrefix(this.db, P_OP)) {
        const op = parseJson<PendingOp>(raw);
        try {
          await this.execute(op, true);
          finished++;
        } catch (e) {
          if (!(await this.db.get(P_OP + op.txid))) finished++;
          this.warn(`operation ${op.txid} (${op.kind}): ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      return finished;
    });
    return operations.then(
      async (finished) => finished + (await this.resumeClaims()) + (await this.resumeSubaddresses()),
    );
  }

  /** One look at each pending deposit claim: posted again, and turned into notes if spendable now. */
  private async resumeClaims(): Promise<number> {
    const monero = moneroOf(this.config);
    if (!monero) return 0;
    let finished = 0;
    for (const [, raw] of await scanPrefix(this.db, P_CLAIM)) {
      const claim = parseJson<ClaimRecord>(raw);
      try {
        const client = await this.client();
        if (claim.sealedTo === undefined) await this.postClaim(client, claim);
        const view = await this.depositView(client, claim.txid);
        if (view && this.claimOutcome(claim, view) === "spendable") {
          await this.issueDeposit(monero.instanceId, claim, view);
          finished++;
        }
      } catch (e) {
        if (!(await this.db.get(P_CLAIM + claim.txid))) finished++;
        this.warn(`deposit claim ${claim.txid}: ${errorText(e)}`);
      }
    }
    return finished;
  }

  close(): Promise<void> {
    return this.mutex.run(() => this.db.close());
  }

  // ---- Monero deposits -------------------------------------------------------------------------

  /**
   * Claims a deposit and waits for it outside the wallet's lock (it can take many blocks): only
   * writing the claim and issuing the notes take the lock.
   */
  async claimDeposit(proof: DepositProof, options: ClaimDepositOptions = {}): Promise<ClaimDepositResult> {
    const monero = this.moneroModule();
    const { txid, txKey } = checkDepositProof(proof);
    const claim = await this.mutex.run(() => this.recordClaim(txid, txKey));
    return this.awaitClaim(monero.instanceId, claim, options);
  }

  /**
   * Seals the claim to one guardian instead of posting it: the claim is written down first (claim key
   * index included, marked sealed so that nothing sends it in clear), then sealed for the relay.
   */
  async sealClaim(request: SealClaimRequest): Promise<SealClaimResult> {
    const monero = this.moneroModule();
    const { txid, txKey } = checkDepositProof(request);
    const n = this.config.guardians.length;
    const guardian = request.guardian ?? randomIndex(this.options.crypto.random, n);
    const entry = Number.isInteger(guardian) ? this.config.guardians[guardian] : undefined;
    if (!entry)
      throw new WalletError(
        "unknown_guardian",
        `guardian ${guardian} is not one of this federation's guardians (0 to ${n - 1}; \`conclave info\` lists them)`,
        { guardian, guardians: n },
      );
    const claim = await this.mutex.run(() => this.recordClaim(txid, txKey, guardian));
    const sealed = await sealMoneroClaim({
      guardianPublicKey: fromHex(entry.publicKey),
      guardian,
      federationId: this.federationIdBytes,
      instanceId: monero.instanceId,
      txid: fromHex(txid),
      claimKey: this.claimKeyOf(claim),
      proof: this.claimProofOf(claim),
    });
    return { txid, guardian, guardianName: entry.name, sealed };
  }

  async waitDeposit(txid: string, options: ClaimDepositOptions = {}): Promise<ClaimDepositResult> {
    const monero = this.moneroModule();
    const id = txid.trim().toLowerCase();
    const raw = /^[0-9a-f]{64}$/.test(id) ? await this.mutex.run(() => this.db.get(P_CLAIM + id)) : undefined;
    if (!raw)
      throw new WalletError(
        "unknown_claim",
        `this wallet has no pending claim of deposit ${txid.slice(0, 100)}: either it was turned into notes ` +
          "already (resume does that; see the balance) or it was never claimed here (claim it, or seal it, first)",
        { txid: txid.slice(0, 100) },
      );
    return this.awaitClaim(monero.instanceId, parseJson<ClaimRecord>(raw), options);
  }

  async relaySealed(sealed: string): Promise<RelayResult> {
    const s = decodeSealed(sealed);
    if (toHex(s.federationId) !== this.record.federationId)
      throw new WalletError(
        "wrong_federation",
        `this sealed claim is for federation ${toHex(s.federationId).slice(0, 16)}…, not this wallet's ` +
          `(${this.record.federationId.slice(0, 16)}…); relay it with --url <the guardian's API URL>`,
        { federationId: toHex(s.federationId) },
      );
    const client = await this.client();
    if (s.guardian >= client.guardians.length)
      throw new WalletError(
        "unknown_guardian",
        `this sealed claim is for guardian ${s.guardian}, which this federation does not have`,
        { guardian: s.guardian },
      );
    const [answer] = await client.postEach(SEALED_CLAIMS_PATH, { sealed }, ClaimAnswerSchema, {
      guardians: [s.guardian],
    });
    if (!answer) throw new Error("postEach answered for no guardian");
    if (!answer.ok) throw answer.error;
    return { txid: answer.value.txid, guardian: s.guardian, state: answer.value.state };
  }

  private moneroModule(): { readonly instanceId: number } {
    const monero = moneroOf(this.config);
    if (!monero)
      throw new WalletError(
        "no_monero_module",
        "this federation runs no Monero module: it takes no Monero deposits",
      );
    return monero;
  }

  /**
   * Waits for a recorded claim outside the wallet's lock (it can take many blocks), posting it in
   * clear unless it is sealed, then issues the notes (under the lock).
   */
  private async awaitClaim(
    instanceId: number,
    claim: ClaimRecord,
    options: ClaimDepositOptions,
  ): Promise<ClaimDepositResult> {
    const txid = claim.txid;
    const sealed = claim.sealedTo !== undefined;
    const report = progressReporter(options.onProgress);
    const client = await this.client();
    const pollMs = options.pollMs ?? 1000;
    const deadline = this.now() + (options.timeoutMs ?? DEPOSIT_WAIT_MS_DEFAULT);
    let postedAt = this.now();
    if (!sealed) {
      const taken = await this.postClaim(client, claim);
      report({
        txid,
        stage: "claimed",
        message: `claim taken by ${taken} of ${client.guardians.length} guardians`,
      });
    }
    let spendable: DepositView | undefined;
    while (!spendable) {
      const view = await this.depositView(client, txid);
      if (view) {
        const outcome = this.claimOutcome(claim, view);
        if (outcome === "spendable") {
          spendable = view;
          break;
        }
        if (!sealed && outcome === "repost" && this.now() - postedAt >= CLAIM_REPOST_MS) {
          postedAt = this.now();
          await this.postClaim(client, claim);
        }
        report(progressOf(view, claim, client.t));
      }
      if (this.now() >= deadline)
        throw new WalletError(
          "deposit_timeout",
          `deposit ${txid} is not spendable yet${view ? ` (${progressOf(view, claim, client.t).message})` : ""}; ` +
            (sealed
              ? `the claim stays pending: relay the sealed claim to guardian ${claim.sealedTo} if it has not arrived, then wait again`
              : "the claim stays pending: run the claim again (or resume) later"),
          { txid },
        );
      await sleep(pollMs);
    }
    report({ txid, stage: "issuing", message: "issuing notes" });
    const result = await this.issueDeposit(instanceId, claim, spendable);
    report({ txid, stage: "done", message: `received ${xmrText(result.amount)}`, amount: result.amount });
    return result;
  }

  /**
   * The claim of `txid`, written down with a fresh claim index unless one with this tx key exists
   * (then it continues). A corrected tx key gets a fresh claim key too: the federation may hold an
   * open claim of the old (wrong) key bound to the old claim key; once it is rejected, the txid is
   * released and the new claim, under another key, is posted again.
   */
  private async recordClaim(txid: string, txKey: string, sealedTo?: number): Promise<ClaimRecord> {
    const raw = await this.db.get(P_CLAIM + txid);
    if (raw) {
      const existing = parseJson<ClaimRecord>(raw);
      if (existing.txKey === txKey) {
        // Same claim (same key); sealed now, or claimed in clear after sealing: the latest choice counts.
        if (existing.sealedTo === sealedTo) return existing;
        const { sealedTo: _old, ...rest } = existing;
        const updated: ClaimRecord = sealedTo === undefined ? rest : { ...rest, sealedTo };
        await this.db.write([put(P_CLAIM + txid, json(updated))]);
        return updated;
      }
    }
    const counterRaw = await this.db.get(K_CLAIM_COUNTER);
    const index = counterRaw ? parseJson<{ next: number }>(counterRaw).next : 0;
    if (index > NOTE_INDEX_MAX) throw new Error("the wallet ran out of claim indexes");
    const claim: ClaimRecord = {
      txid,
      txKey,
      index,
      createdAtMs: this.now(),
      ...(sealedTo === undefined ? {} : { sealedTo }),
    };
    await this.db.write([put(K_CLAIM_COUNTER, json({ next: index + 1 })), put(P_CLAIM + txid, json(claim))]);
    return claim;
  }

  private claimKeyOf(claim: ClaimRecord): Uint8Array {
    return this.options.crypto.ed25519PublicKey(this.keys.claimSeed(claim.index));
  }

  /**
   * The claim's payment proof, made here from the tx key (which never leaves this wallet): Monero's
   * OutProofV2 of the txid to the federation's address for a message naming the claim key, so that a
   * guardian who sees it cannot claim the deposit for its own key. Deterministic: posting the claim
   * again sends the same bytes.
   */
  private claimProofOf(claim: ClaimRecord): Uint8Array {
    const federationAddress = moneroAddressOf(this.config);
    if (federationAddress === undefined)
      throw new WalletError(
        "no_monero_module",
        "this federation's config names no Monero address to prove a payment to",
      );
    return claimProof({
      federationAddress,
      txid: fromHex(claim.txid),
      txKey: fromHex(claim.txKey),
      claimKey: this.claimKeyOf(claim),
    });
  }

  /** Posts the claim to every guardian; returns how many took it (throws when none did). */
  private async postClaim(client: FederationClient, claim: ClaimRecord): Promise<number> {
    const body = {
      txid: claim.txid,
      claimKey: toHex(this.claimKeyOf(claim)),
      proof: toHex(this.claimProofOf(claim)),
    };
    const answers = await client.postEach(CLAIMS_PATH, body, ClaimAnswerSchema);
    const took = answers.filter((a) => a.ok).length;
    if (took > 0) return took;
    // Bound to another key already: what the deposit's state says next tells the user.
    if (answers.some((a) => !a.ok && a.error.code === "already_claimed")) return 0;
    const refusal = answers.find((a) => !a.ok && a.error.status === 400);
    if (refusal && !refusal.ok) {
      // The claim itself is wrong: nothing to resume.
      await this.dropClaim(claim);
      throw refusal.error;
    }
    throw new WalletError(
      "claim_not_taken",
      `no guardian took the claim of ${claim.txid} (${answers
        .map((a) => (a.ok ? "" : `guardian ${a.guardian}: ${a.error.message}`))
        .join("; ")}); it stays pending: run the claim again later`,
      { txid: claim.txid },
    );
  }

  /** The deposit's state as t guardians agree, or undefined while they do not (one is a block behind). */
  private async depositView(client: FederationClient, txid: string): Promise<DepositView | undefined> {
    try {
      return (await client.queryConsensus(depositPath(txid), DepositViewSchema)).value;
    } catch (e) {
      if (e instanceof NoQuorumError) return undefined;
      throw e;
    }
  }

  /**
   * What the agreed state means for this wallet's claim: spendable (issue the notes), wait, repost
   * (the claim is not ordered, or the txid was released); a deposit bound to another key or a
   * rejected claim of ours throws (and the claim is dropped).
   */
  private claimOutcome(claim: ClaimRecord, view: DepositView): "spendable" | "wait" | "repost" {
    const mine = view.claimKey === toHex(this.claimKeyOf(claim));
    switch (view.state) {
      case "unclaimed":
        return "repost";
      case "open":
        return mine ? "wait" : "repost";
      case "credited":
      case "spent":
        if (mine && view.state === "credited") return view.spendable ? "spendable" : "wait";
        this.forgetClaim(claim);
        throw new WalletError(
          "deposit_claimed",
          mine
            ? `deposit ${claim.txid} was already turned into notes with this wallet's key`
            : `deposit ${claim.txid} was claimed first by another key (someone else holding its tx key); ` +
                "this wallet cannot receive it",
          { txid: claim.txid, state: view.state },
        );
      case "rejected":
      case "expired":
        if (!mine) return "repost";
        this.forgetClaim(claim);
        throw new WalletError(
          "deposit_rejected",
          view.state === "expired"
            ? `the claim of ${claim.txid} expired: not enough guardians could verify it in time ` +
                "(is the transaction mined, and sent to the federation's address?); claim it again"
            : `the guardians refused the claim of ${claim.txid}: ${rejectionText(view.closedReason)}`,
          { txid: claim.txid, reason: view.closedReason ?? view.state },
        );
    }
  }

  private async dropClaim(claim: ClaimRecord): Promise<void> {
    await this.mutex.run(async () => {
      // Only this record (a newer claim of the txid, with another tx key, stays).
      const raw = await this.db.get(P_CLAIM + claim.txid);
      if (raw && parseJson<ClaimRecord>(raw).index === claim.index)
        await this.db.write([del(P_CLAIM + claim.txid)]);
    });
  }

  /** Drops a claim the federation settled against it, in the background of the error it throws. */
  private forgetClaim(claim: ClaimRecord): void {
    this.dropClaim(claim).catch((e: unknown) =>
      this.warn(`could not drop claim ${claim.txid}: ${errorText(e)}`),
    );
  }

  /** The notes a deposit of `amount` becomes in one transaction (the rest is dust). */
  private depositNotes(amount: bigint): { notes: number[]; dust: bigint } {
    const { notes, dust } = decompose(amount, this.mint.config.denominationsLog2);
    if (notes.length === 0 || notes.length > this.outputsMax())
      throw new WalletError(
        "invalid_amount",
        notes.length === 0
          ? `the deposit of ${amount} is below the smallest note`
          : `the deposit of ${amount} needs ${notes.length} notes, more than one transaction may issue (${this.outputsMax()})`,
        { amount: amount.toString() },
      );
    return { notes, dust };
  }

  /** One transaction: the deposit as input (signed by the claim key), fresh notes of its amount. */
  private issueDeposit(module: number, claim: ClaimRecord, view: DepositView): Promise<ClaimDepositResult> {
    return this.mutex.run(async () => {
      // Finished meanwhile (a concurrent call or resume).
      if (!(await this.db.get(P_CLAIM + claim.txid)))
        throw new WalletError("deposit_claimed", `deposit ${claim.txid} was already turned into notes`, {
          txid: claim.txid,
        });
      const amount = BigInt(view.amount ?? "0");
      const { notes, dust } = this.depositNotes(amount);
      const seed = this.keys.claimSeed(claim.index);
      const input = depositInput(module, amount, fromHex(claim.txid));
      const op = await this.prepare("deposit", {
        faucet: [input],
        signers: [this.options.crypto.ed25519Signer(seed, this.claimKeyOf(claim))],
        outputs: notes,
        claim,
      });
      const r = await this.execute(op);
      return { ...r, depositTxid: claim.txid, dust };
    });
  }

  // ---- Monero subaddress deposits --------------------------------------------------------------

  async depositAddress(options: DepositAddressOptions = {}): Promise<DepositAddressResult> {
    const monero = moneroOf(this.config);
    const federationAddress = moneroAddressOf(this.config);
    if (!monero || federationAddress === undefined)
      throw new WalletError(
        "no_monero_module",
        "this federation runs no Monero module: it takes no Monero deposits",
      );
    // A fresh claim key, written down before anyone sees it (the mnemonic re-derives it).
    const record = await this.mutex.run(async () => {
      const counterRaw = await this.db.get(K_CLAIM_COUNTER);
      const index = counterRaw ? parseJson<{ next: number }>(counterRaw).next : 0;
      if (index > NOTE_INDEX_MAX) throw new Error("the wallet ran out of claim indexes");
      const claimKey = toHex(this.options.crypto.ed25519PublicKey(this.keys.claimSeed(index)));
      const r: SubaddressRecord = { claimKey, index, createdAtMs: this.now() };
      await this.db.write([
        put(K_CLAIM_COUNTER, json({ next: index + 1 })),
        put(P_SUBADDR + claimKey, json(r)),
      ]);
      return r;
    });
    const client = await this.client();
    const seed = this.keys.claimSeed(record.index);
    const pub = fromHex(record.claimKey);
    const signature = this.options.crypto
      .ed25519Signer(seed, pub)
      .sign(subaddressRequestMessage(federationAddress, pub));
    const body = { claimKey: record.claimKey, signature: toHex(signature) };
    const post = async () => {
      const answers = await client.postEach(SUBADDRESSES_PATH, body, SubaddressAnswerSchema);
      if (answers.some((a) => a.ok)) return;
      const first = answers.find((a) => !a.ok);
      if (first && !first.ok) throw first.error;
    };
    await post();
    const pollMs = options.pollMs ?? 500;
    const deadline = this.now() + (options.timeoutMs ?? 120_000);
    let postedAt = this.now();
    for (;;) {
      const view = await this.subaddressView(client, record.claimKey);
      if (view?.state === "assigned" && view.address !== undefined && view.index !== undefined) {
        const done: SubaddressRecord = { ...record, address: view.address, subaddressIndex: view.index };
        await this.mutex.run(() => this.db.write([put(P_SUBADDR + record.claimKey, json(done))]));
        return { address: view.address, index: view.index, claimKey: record.claimKey };
      }
      if (this.now() >= deadline)
        throw new WalletError(
          "deposit_timeout",
          `t guardians did not agree on a deposit subaddress for claim key ${record.claimKey} in time` +
            (view ? ` (${view.state}${view.index === undefined ? "" : `, index ${view.index}`})` : "") +
            "; ask again later",
          { claimKey: record.claimKey },
        );
      if (view?.state === "unassigned" && this.now() - postedAt >= CLAIM_REPOST_MS) {
        postedAt = this.now();
        await post();
      }
      await sleep(pollMs);
    }
  }

  async receiveDeposits(
    address: string,
    options: ReceiveDepositsOptions = {},
  ): Promise<ReceiveDepositsResult> {
    const monero = moneroOf(this.config);
    if (!monero)
      throw new WalletError(
        "no_monero_module",
        "this federation runs no Monero module: it takes no Monero deposits",
      );
    const record = await this.subaddressRecord(address.trim());
    const client = await this.client();
    const report = progressReporter(options.onProgress);
    const pollMs = options.pollMs ?? 1000;
    const deadline = this.now() + (options.timeoutMs ?? DEPOSIT_WAIT_MS_DEFAULT);
    const issued: { txid: string; amount: bigint; dust: bigint }[] = [];
    for (;;) {
      const view = await this.subaddressView(client, record.claimKey);
      if (view) {
        const spendable = view.deposits.filter((d) => d.spendable);
        for (const d of spendable) {
          report({
            stage: "issuing",
            txid: d.txid,
            message: `issuing notes for ${xmrText(d.amount)} (${d.txid})`,
          });
          const r = await this.issueSubaddressDeposit(monero.instanceId, record, d);
          if (r) {
            issued.push({ txid: d.txid, amount: r.amount, dust: r.dust });
            report({
              stage: "done",
              txid: d.txid,
              amount: r.amount,
              message: `received ${xmrText(r.amount)}`,
            });
          }
        }
        if (issued.length > 0 && spendable.length === 0)
          return {
            address: record.address ?? address,
            deposits: issued,
            amount: sumBig(issued.map((d) => d.amount)),
          };
        if (spendable.length === 0) report(await this.subaddressProgress(client, record.claimKey, view));
      }
      if (this.now() >= deadline)
        throw new WalletError(
          "deposit_timeout",
          `no payment to ${address} became spendable in time; it stays watched: receive again (or resume) later`,
          { address },
        );
      await sleep(pollMs);
    }
  }

  private async subaddressRecord(address: string): Promise<SubaddressRecord> {
    for (const [, raw] of await scanPrefix(this.db, P_SUBADDR)) {
      const r = parseJson<SubaddressRecord>(raw);
      if (r.address === address) return r;
    }
    throw new WalletError(
      "unknown_address",
      `${address.slice(0, 120)} is not a deposit subaddress of this wallet (depositAddress makes one)`,
      { address: address.slice(0, 120) },
    );
  }

  /** The claim key's subaddress view as t guardians agree, or undefined while they do not. */
  private async subaddressView(
    client: FederationClient,
    claimKey: string,
  ): Promise<SubaddressView | undefined> {
    try {
      return (await client.queryConsensus(subaddressPath(claimKey), SubaddressViewSchema)).value;
    } catch (e) {
      if (e instanceof NoQuorumError) return undefined;
      throw e;
    }
  }

  /**
   * Progress of the newest payment: from the agreed state once t guardians attest it; before that
   * from what one guardian's own wallet sees (the pool, its node's confirmations): progress only.
   */
  private async subaddressProgress(
    client: FederationClient,
    claimKey: string,
    view: SubaddressView,
  ): Promise<SubaddressDepositProgress> {
    const required = view.confirmationsRequired;
    const pending = view.deposits.find((d) => d.state === "pending");
    const credited = view.deposits.find((d) => d.state === "credited");
    if (credited)
      return {
        stage: "confirming",
        txid: credited.txid,
        confirmations: credited.confirmations,
        confirmationsRequired: required,
        message: `credited ${xmrText(credited.amount)}: ${credited.confirmations} of ${required} confirmations at the agreed height`,
      };
    if (pending)
      return {
        stage: "verifying",
        txid: pending.txid,
        attestations: pending.attestations,
        attestationsRequired: view.attestationsRequired,
        confirmations: required,
        confirmationsRequired: required,
        message: `${required} of ${required} confirmations; ${pending.attestations} of ${view.attestationsRequired} guardians attested it`,
      };
    let seen: SubaddressSeenView | undefined;
    try {
      seen = (await client.queryConsensus(subaddressSeenPath(claimKey), SubaddressSeenViewSchema, () => true))
        .value;
    } catch (e) {
      if (!(e instanceof NoQuorumError)) throw e;
    }
    const known = new Set(view.deposits.map((d) => d.txid));
    const latest = seen?.seen.filter((t) => !known.has(t.txid)).at(-1);
    if (!latest) return { stage: "waiting", message: "waiting for a payment to the address" };
    const amount = BigInt(latest.amount);
    if (latest.txHeight === undefined)
      return {
        stage: "seen",
        txid: latest.txid,
        amount,
        message: `${xmrText(latest.amount)} seen in the pool`,
      };
    const k = Math.min(latest.confirmations, required);
    return {
      stage: "confirming",
      txid: latest.txid,
      amount,
      confirmations: k,
      confirmationsRequired: required,
      message: `${xmrText(latest.amount)}: ${k} of ${required} confirmations`,
    };
  }

  /** One transaction: the subaddress deposit as input (signed by its claim key), fresh notes of its amount. */
  private issueSubaddressDeposit(
    module: number,
    record: SubaddressRecord,
    d: SubaddressDepositView,
  ): Promise<(ReissueResult & { dust: bigint }) | undefined> {
    return this.mutex.run(async () => {
      const index = record.subaddressIndex;
      if (index === undefined) throw new Error("a subaddress record without its index");
      // Being issued already (a crash or a concurrent call): resume() finishes that one.
      for (const [, raw] of await scanPrefix(this.db, P_OP)) {
        const op = parseJson<PendingOp>(raw);
        if (op.subaddressDeposit?.txid === d.txid && op.subaddressDeposit.index === index) return undefined;
      }
      const amount = BigInt(d.amount ?? "0");
      const { notes, dust } = this.depositNotes(amount);
      const seed = this.keys.claimSeed(record.index);
      const op = await this.prepare("deposit", {
        faucet: [subaddressDepositInput(module, amount, fromHex(d.txid), index)],
        signers: [this.options.crypto.ed25519Signer(seed, fromHex(record.claimKey))],
        outputs: notes,
        subaddressDeposit: { txid: d.txid, index },
      });
      return { ...(await this.execute(op)), dust };
    });
  }

  /** One look at each deposit subaddress: what is spendable now becomes notes. */
  private async resumeSubaddresses(): Promise<number> {
    const monero = moneroOf(this.config);
    if (!monero) return 0;
    let finished = 0;
    for (const [, raw] of await scanPrefix(this.db, P_SUBADDR)) {
      const record = parseJson<SubaddressRecord>(raw);
      if (record.address === undefined) continue;
      try {
        const view = await this.subaddressView(await this.client(), record.claimKey);
        for (const d of view?.deposits.filter((x) => x.spendable) ?? [])
          if (await this.issueSubaddressDeposit(monero.instanceId, record, d)) finished++;
      } catch (e) {
        this.warn(`deposit subaddress ${record.address}: ${errorText(e)}`);
      }
    }
    return finished;
  }

  // ---- Monero withdrawals ----------------------------------------------------------------------

  /**
   * Pays `amount` to a Monero address: one transaction under the lock (notes in, change notes and
   * the payout output out), then the wait for the payout's confirmation outside it.
   */
  async withdraw(address: string, amount: bigint, options: WithdrawOptions = {}): Promise<WithdrawResult> {
    const monero = moneroOf(this.config);
    if (!monero)
      throw new WalletError("no_monero_module", "this federation runs no Monero module: it makes no payouts");
    const to = address.trim();
    try {
      encodePayoutOutput(to, 1n); // the address's form only: the fee comes with the quote below
    } catch (e) {
      throw new WalletError("invalid_address", `not a Monero address: ${errorText(e)}`, {
        address: to.slice(0, 120),
      });
    }
    const client = await this.client();
    let terms = await this.payoutTerms(client);
    if (typeof amount !== "bigint" || amount < terms.minimum)
      throw new WalletError(
        "invalid_amount",
        `the federation pays out at least ${terms.minimum} per withdrawal, not ${String(amount)}`,
        { amount: String(amount), minimum: terms.minimum.toString() },
      );
    // The fee is fixed when consensus orders the transaction: a rate that rose since the quote makes
    // the guardians refuse it (fee_too_low), the notes come back (settleRejected), and one retry at
    // the new quote follows. A rate that fell costs at most the difference (at most 10x is accepted).
    let sent: { result: ReissueResult; output: number } | undefined;
    for (let attempt = 0; !sent; attempt++) {
      const fee = terms.fee;
      try {
        sent = await this.mutex.run(async () => {
          const payload = encodePayoutOutput(to, fee);
          const op = await this.prepareWithdraw(monero.instanceId, to, amount, fee, payload);
          return { result: await this.execute(op), output: op.payout?.output ?? 0 };
        });
      } catch (e) {
        if (attempt > 0 || !(e instanceof ConclaveError) || e.code !== "fee_too_low") throw e;
        this.warn(`the Monero fee rate rose since the quote (${errorText(e)}): quoting again`);
        terms = await this.payoutTerms(client);
      }
    }
    const { result, output } = sent;
    const report = progressReporter(options.onProgress);
    const pollMs = options.pollMs ?? 1000;
    const deadline = this.now() + (options.timeoutMs ?? WITHDRAW_WAIT_MS_DEFAULT);
    for (;;) {
      const outcome = await this.payoutView(client, result.txid, output);
      if (outcome) {
        await this.noteWithdrawal(result.txid, outcome);
        report(withdrawProgressOf(result.txid, outcome));
        if (outcome.state === "confirmed" && outcome.moneroTxid)
          return {
            txid: result.txid,
            moneroTxid: outcome.moneroTxid,
            ...(outcome.txKey ? { txKey: outcome.txKey } : {}),
            amount,
            fee: result.fee,
            moneroFee: terms.fee,
            feeRate: terms.feeRate,
          };
      }
      if (this.now() >= deadline)
        throw new WalletError(
          "withdraw_timeout",
          `the payout of transaction ${result.txid} is not confirmed yet` +
            (outcome ? ` (${outcome.state})` : "") +
            `; the notes are spent and the federation goes on with it: GET ${payoutPath(result.txid, output)} shows it`,
          { txid: result.txid, output },
        );
      await sleep(pollMs);
    }
  }

  async withdrawals(options: { readonly refresh?: boolean } = {}): Promise<WithdrawalInfo[]> {
    if (options.refresh) {
      const client = await this.client();
      for (const w of await this.withdrawalRecords()) {
        if (w.state === "confirmed") continue;
        // Not accepted yet (its operation is pending: resume() resubmits it): nothing to ask.
        if (w.state === "submitting" && (await this.db.get(P_OP + w.txid))) continue;
        const outcome = await this.payoutView(client, w.txid, w.output);
        if (outcome) await this.noteWithdrawal(w.txid, outcome);
      }
    }
    return (await this.withdrawalRecords()).map(withdrawalInfoOf);
  }

  private async withdrawalRecords(): Promise<WithdrawalRecord[]> {
    return (await scanPrefix(this.db, P_WITHDRAWAL))
      .map(([, v]) => parseJson<WithdrawalRecord>(v))
      .sort((a, b) => b.createdAtMs - a.createdAtMs);
  }

  /** Saves what the guardians now say of a withdrawal's payout (only when it changed). */
  private async noteWithdrawal(txid: string, outcome: PayoutStatus): Promise<void> {
    await this.mutex.run(async () => {
      const raw = await this.db.get(P_WITHDRAWAL + txid);
      if (!raw) return;
      const w = parseJson<WithdrawalRecord>(raw);
      const next: WithdrawalRecord = {
        ...w,
        state: outcome.state,
        ...(outcome.moneroTxid ? { moneroTxid: outcome.moneroTxid } : {}),
        ...(outcome.txKey ? { txKey: outcome.txKey } : {}),
        updatedAtMs: this.now(),
      };
      if (next.state === w.state && next.moneroTxid === w.moneroTxid && next.txKey === w.txKey) return;
      await this.db.write([put(P_WITHDRAWAL + txid, json(next))]);
    });
  }

  /** Notes covering amount + the payout's Monero fee + the mint's fees; change notes first, the payout last. */
  private async prepareWithdraw(
    module: number,
    address: string,
    amount: bigint,
    moneroFee: bigint,
    payload: Uint8Array,
  ): Promise<PendingOp> {
    const fee = this.mint.config.feePerInput;
    const notes = await this.loadNotes();
    const holdings = holdingsOf(notes.map((n) => n.denominationLog2));
    const needed = amount + moneroFee;
    const inputs = coverValue(holdings, needed, fee, this.inputsMax());
    if (!inputs) {
      const balance = sumOf(notes.map((n) => n.denominationLog2));
      throw new WalletError(
        "insufficient_funds",
        `the wallet holds ${balance}; withdrawing ${amount} needs ${needed} (with the payout's Monero fee of ` +
          `${moneroFee} at the agreed fee rate) plus the mint's fee of ${fee} per note spent`,
        { balance: balance.toString(), amount: amount.toString(), moneroFee: moneroFee.toString() },
      );
    }
    const change = decompose(
      sumOf(inputs) - fee * BigInt(inputs.length) - needed,
      this.mint.config.denominationsLog2,
    );
    if (change.notes.length > this.outputsMax())
      throw new WalletError(
        "invalid_amount",
        `withdrawing ${amount} leaves change of ${change.notes.length} notes, more than one transaction may issue ` +
          `(${this.outputsMax()}): combine first`,
      );
    return this.prepare("withdraw", {
      own: pickNotes(notes, inputs),
      outputs: change.notes,
      extra: [{ module, amount, payload }],
      payout: { output: change.notes.length, address, amount: amount.toString() },
    });
  }

  /**
   * GET payouts/terms as t guardians agree: the minimum and the fee a payout pays now (consensus
   * state). Asked a few times when they disagree (one may be a block behind).
   */
  private async payoutTerms(
    client: FederationClient,
  ): Promise<{ minimum: bigint; fee: bigint; feeRate: number }> {
    let terms: PayoutTerms | undefined;
    for (let tries = 0; !terms; tries++) {
      try {
        terms = (await client.queryConsensus(PAYOUT_TERMS_PATH, PayoutTermsSchema, sameTerms)).value;
      } catch (e) {
        if (!(e instanceof NoQuorumError) || tries >= 4) throw e;
        await sleep(500);
      }
    }
    if (terms.fee === undefined)
      throw new WalletError(
        "fee_rate_unknown",
        "the guardians have not agreed on a Monero fee rate yet (their nodes report it when they start): retry in a minute",
        { reportedFeeRates: terms.reportedFeeRates },
      );
    return { minimum: BigInt(terms.minimum), fee: BigInt(terms.fee), feeRate: terms.feeRate };
  }

  /** The payout's outcome as t guardians agree, or undefined while they do not (one is a block behind). */
  private async payoutView(
    client: FederationClient,
    txid: string,
    output: number,
  ): Promise<PayoutStatus | undefined> {
    try {
      return (await client.queryConsensus(payoutPath(txid, output), PayoutStatusSchema)).value;
    } catch (e) {
      if (e instanceof NoQuorumError) return undefined;
      throw e;
    }
  }

  // ---- preparing transactions ------------------------------------------------------------------

  /** The mint counts notes per transaction on each side (inputs and outputs). */
  private inputsMax(): number {
    return Math.min(this.mint.config.notesPerTxMax, INPUTS_PER_TX_MAX);
  }

  private outputsMax(): number {
    return Math.min(this.mint.config.notesPerTxMax, OUTPUTS_PER_TX_MAX);
  }

  private checkAmount(amount: bigint): void {
    if (typeof amount !== "bigint" || !representable(amount, this.mint.config.denominationsLog2)) {
      const smallest = denominationAmount(Math.min(...this.mint.config.denominationsLog2));
      throw new WalletError(
        "invalid_amount",
        amount <= 0n
          ? `an amount must be positive, got ${amount}`
          : `${amount} is not a multiple of ${smallest}, the smallest note of this mint`,
        { amount: String(amount) },
      );
    }
  }

  /** Outputs for spending `inputs` (wanted notes, then change), or a clear error. */
  private plan(inputs: readonly number[], wanted: readonly number[]): ReissuePlan {
    const plan = planOutputs(
      inputs,
      wanted,
      this.mint.config.feePerInput,
      this.mint.config.denominationsLog2,
      this.outputsMax(),
    );
    if (!plan)
      throw new WalletError(
        "insufficient_funds",
        `notes worth ${sumOf(inputs)} do not pay the fee of ${this.mint.config.feePerInput} per note`,
      );
    return plan;
  }

  /** Splits inputs into transactions whose change fits in the mint's notes per transaction. */
  private chunkInputs(log2s: readonly number[]): number[][] {
    const chunks: number[][] = [];
    let chunk: number[] = [];
    const fits = (c: readonly number[]) =>
      c.length <= this.inputsMax() &&
      planOutputs(
        c.map((i) => log2s[i]!),
        [],
        this.mint.config.feePerInput,
        this.mint.config.denominationsLog2,
        this.outputsMax(),
      ) !== undefined;
    for (let i = 0; i < log2s.length; i++) {
      const next = [...chunk, i];
      if (chunk.length > 0 && !fits(next)) {
        chunks.push(chunk);
        chunk = [i];
      } else chunk = next;
    }
    if (chunk.length > 0) chunks.push(chunk);
    return chunks;
  }

  /** A reissue that makes `amount` payable with exact notes (the change stays in the wallet). */
  private prepareChange(notes: readonly OwnNote[], amount: bigint): Promise<PendingOp> {
    const fee = this.mint.config.feePerInput;
    const denoms = this.mint.config.denominationsLog2;
    const holdings = holdingsOf(notes.map((n) => n.denominationLog2));
    // Pay what exact notes can pay; split one note for the rest (fewest inputs, least fee)...
    const partial = greedyPartial(holdings, amount);
    const rest = amount - sumOf(partial);
    let inputs = coverValue(without(holdings, partial), rest, fee, this.inputsMax());
    let wanted = decompose(rest, denoms).notes;
    // ...or reissue enough notes into the whole amount.
    if (!inputs) {
      inputs = coverValue(holdings, amount, fee, this.inputsMax());
      wanted = decompose(amount, denoms).notes;
    }
    const plan = inputs && planOutputs(inputs, wanted, fee, denoms, this.outputsMax());
    if (!inputs || !plan) {
      const balance = sumOf(notes.map((n) => n.denominationLog2));
      throw new WalletError(
        "insufficient_funds",
        `the wallet holds ${balance}; spending ${amount} needs more (the mint charges ${fee} per note reissued for change)`,
        { balance: balance.toString(), amount: amount.toString() },
      );
    }
    return this.prepare("change", { own: pickNotes(notes, plan.inputs), outputs: plan.outputs });
  }

  private foreignNote(n: BearerNote): ForeignNoteJson {
    return {
      denominationLog2: n.denominationLog2,
      spendSeed: toHex(n.spendSeed),
      nonce: toHex(this.options.crypto.ed25519PublicKey(n.spendSeed)),
      signature: toHex(n.signature),
    };
  }

  private keyOf(log2: number): DenominationKey | undefined {
    const i = this.mint.config.denominationsLog2.indexOf(log2);
    return i < 0 ? undefined : this.mint.config.keys[i];
  }

  /**
   * Positions of notes that do not verify (unknown denomination included): one multi-pairing over
   * all of them (one Miller loop per denomination), then one by one only if it fails.
   */
  private badNotes(
    notes: readonly { denominationLog2: number; nonce: Uint8Array; signature: Uint8Array }[],
  ): number[] {
    const bad: number[] = [];
    const keyed: KeyedNote[] = [];
    const at: number[] = [];
    notes.forEach((n, i) => {
      const key = this.keyOf(n.denominationLog2);
      if (!key) bad.push(i);
      else {
        keyed.push({ publicKey: key.publicKey, nonce: n.nonce, signature: n.signature });
        at.push(i);
      }
    });
    for (const b of this.options.crypto.tbs.findBadKeyedNotes(keyed, this.options.crypto.random))
      bad.push(at[b]!);
    return bad.sort((a, b) => a - b);
  }

  private prepareNote(index: number, denominationLog2: number): PreparedNote {
    // Made when the transaction was prepared, asked again when it settles: derived once.
    const cached = this.prepared.get(index);
    if (cached && cached.denominationLog2 === denominationLog2) {
      this.prepared.delete(index);
      return cached;
    }
    const nonce = this.options.crypto.ed25519PublicKey(this.keys.spendSeed(index));
    const { blindingKey, blindedMessage } = this.options.crypto.tbs.blind(
      nonce,
      this.keys.blindingRng(index),
    );
    return { index, denominationLog2, nonce, blindingKey, blindedMessage };
  }

  private async readCounter(): Promise<number> {
    const raw = await this.db.get(K_COUNTER);
    assert(raw, "the wallet has no note counter");
    return parseJson<{ next: number }>(raw).next;
  }

  /**
   * Builds and signs a transaction and writes it down as a pending operation, together with the
   * advanced note counter and the removal of its inputs from the spendable notes (one atomic write).
   */
  private async prepare(
    kind: PendingKind,
    parts: {
      readonly own?: readonly OwnNote[];
      readonly foreign?: readonly ForeignNoteJson[];
      readonly faucet?: readonly TxInput[];
      /** Keys that sign the `faucet` inputs (a deposit's claim key), in their order. */
      readonly signers?: readonly Signer[];
      readonly outputs: readonly number[];
      /** Outputs of other modules, after the mint's (a payout): part of the signed transaction. */
      readonly extra?: readonly TxOutput[];
      /** A withdrawal: its payout output, kept in the operation. */
      readonly payout?: PendingOp["payout"];
      /** A deposit: its claim record is deleted in the same write, and kept in the operation. */
      readonly claim?: ClaimRecord;
      /** A subaddress deposit being spent (kept in the operation). */
      readonly subaddressDeposit?: PendingOp["subaddressDeposit"];
      readonly outgoing?: OutgoingRecord;
      /** For a cancel: what stays in the outgoing entry (deleted when nothing does). */
      readonly outgoingRest?: OutgoingRecord;
    },
  ): Promise<PendingOp> {
    const own = parts.own ?? [];
    const foreign = parts.foreign ?? [];
    const first = await this.readCounter();
    if (first + parts.outputs.length > NOTE_INDEX_MAX) throw new Error("the wallet ran out of note indexes");
    const faucet = parts.faucet ?? [];
    const prepared = parts.outputs.map((log2, i) => this.prepareNote(first + i, log2));
    if (this.prepared.size > PREPARED_CACHE_MAX) this.prepared.clear();
    for (const p of prepared) this.prepared.set(p.index, p);
    const mintModule = this.mint.instanceId;
    const inputs: TxInput[] = [...faucet];
    const signers: Signer[] = [...(parts.signers ?? [])];
    for (const n of own) {
      inputs.push({
        module: mintModule,
        amount: denominationAmount(n.denominationLog2),
        payload: encodeMintInput({
          denominationLog2: n.denominationLog2,
          spendKey: n.nonce,
          signature: n.signature,
        }),
      });
      signers.push(this.options.crypto.ed25519Signer(this.keys.spendSeed(n.index), n.nonce));
    }
    for (const n of foreign) {
      inputs.push({
        module: mintModule,
        amount: denominationAmount(n.denominationLog2),
        payload: encodeMintInput({
          denominationLog2: n.denominationLog2,
          spendKey: fromHex(n.nonce),
          signature: fromHex(n.signature),
        }),
      });
      signers.push(this.options.crypto.ed25519Signer(fromHex(n.spendSeed), fromHex(n.nonce)));
    }
    const outputs: TxOutput[] = prepared.map((p) => ({
      module: mintModule,
      amount: denominationAmount(p.denominationLog2),
      payload: encodeMintOutput({ denominationLog2: p.denominationLog2, blindedMessage: p.blindedMessage }),
    }));
    outputs.push(...(parts.extra ?? []));
    const tx = buildTransaction(inputs, outputs, signers, sha256, this.options.crypto.random(32));
    const op: PendingOp = {
      txid: txidHex(tx, sha256),
      kind,
      createdAtMs: this.now(),
      tx: toHex(encodeTransaction(tx)),
      ownInputs: own.map(noteToJson),
      foreignInputs: foreign,
      outputs: prepared.map((p, i) => ({ index: p.index, denominationLog2: p.denominationLog2, output: i })),
      ...(parts.outgoing ? { outgoing: parts.outgoing } : {}),
      ...(parts.claim ? { claim: parts.claim } : {}),
      ...(parts.payout ? { payout: parts.payout } : {}),
      ...(parts.subaddressDeposit ? { subaddressDeposit: parts.subaddressDeposit } : {}),
    };
    await this.db.write([
      put(K_COUNTER, json({ next: first + prepared.length })),
      put(P_OP + op.txid, json(op)),
      ...(parts.payout
        ? [put(P_WITHDRAWAL + op.txid, json(withdrawalRecordOf(op.txid, parts.payout, op.createdAtMs)))]
        : []),
      ...(parts.claim ? [del(P_CLAIM + parts.claim.txid)] : []),
      ...own.map((n) => del(noteKey(n.denominationLog2, n.nonce))),
      ...(parts.outgoingRest
        ? [
            parts.outgoingRest.notes.length > 0
              ? put(P_OUT + parts.outgoingRest.id, json(parts.outgoingRest))
              : del(P_OUT + parts.outgoingRest.id),
          ]
        : []),
    ]);
    return op;
  }

  // ---- running transactions --------------------------------------------------------------------

  /** Submits (or resubmits) a pending operation, waits for the federation, and settles it. */
  private async execute(op: PendingOp, resuming = false): Promise<ReissueResult> {
    const client = await this.client();
    if (!resuming) await this.options.hooks?.beforeSubmit?.(op.txid);
    try {
      await client.submitTransaction(fromHex(op.tx));
    } catch (e) {
      if (isRefusal(e)) return this.settleRejected(op, e);
      this.warn(`transaction ${op.txid} not submitted (${errorText(e)}); it stays pending for resume()`);
      throw e;
    }
    if (!resuming) await this.options.hooks?.afterSubmit?.(op.txid);
    const agreement = await client.awaitTransaction(op.txid, {
      agreeOnOutcomes: false,
      ...(this.options.awaitTimeoutMs !== undefined ? { timeoutMs: this.options.awaitTimeoutMs } : {}),
    });
    const state = agreement.value;
    if (state.state === "rejected")
      return this.settleRejected(
        op,
        new TransactionRejectedError(state.error.code, state.error.message, state.error.details ?? {}),
      );
    return this.settleAccepted(op, client, agreement.answers, BigInt(state.fee));
  }

  private async settleAccepted(
    op: PendingOp,
    client: FederationClient,
    answers: readonly GuardianAnswer<TxStatusView>[],
    fee: bigint,
  ): Promise<ReissueResult> {
    const outcomes = new Map<number, readonly unknown[]>();
    const take = (a: GuardianAnswer<TxStatusView>) => {
      if (a.ok && a.value.state === "accepted" && a.value.txid === op.txid)
        outcomes.set(a.guardian, a.value.outcomes);
    };
    answers.forEach(take);
    let notes = this.finishNotes(op, outcomes, client.t);
    if (!notes.done) {
      // Ask the guardians whose outcomes are missing (down when we waited, or slower than t others).
      const missing = client.guardians
        .map((g) => g.index)
        .filter((g) => !outcomes.has(g) || notes.badGuardians.has(g));
      const fetched = await Promise.allSettled(missing.map((g) => client.transactionAt(g, op.txid)));
      fetched.forEach((r, i) => {
        if (r.status === "fulfilled") take({ guardian: missing[i]!, ok: true, value: r.value });
      });
      notes = this.finishNotes(op, outcomes, client.t);
    }
    for (const g of notes.badGuardians)
      this.warn(
        `guardian ${g} sent blind signature shares that do not verify for transaction ${op.txid}; ignored`,
      );
    if (!notes.done)
      throw new NoQuorumError(
        `fewer than ${client.t} guardians sent valid blind signature shares for transaction ${op.txid} ` +
          `(it is accepted; resume() asks again)`,
        client.t,
        client.guardians.map((g) => ({
          guardian: g.index,
          url: g.url,
          answer: !outcomes.has(g.index)
            ? "no outcome"
            : notes.badGuardians.has(g.index)
              ? "shares that do not verify"
              : "valid shares",
        })),
      );
    const ops: DbOp[] = [...notes.notes.map(notePut), del(P_OP + op.txid)];
    await this.db.write(ops);
    const issued = sumOf(notes.notes.map((n) => n.denominationLog2));
    return { txid: op.txid, amount: issued, fee, notesIssued: notes.notes.length };
  }

  /**
   * The new notes from the guardians' outcomes: for each output, t shares combined without checking
   * first (then the notes of a denomination verified in one batch); only a note that does not verify
   * has its shares checked one by one against each guardian's public key share, naming the bad ones.
   */
  private finishNotes(
    op: PendingOp,
    outcomes: ReadonlyMap<number, readonly unknown[]>,
    t: number,
  ): { done: boolean; notes: OwnNote[]; badGuardians: Set<number> } {
    const tbs = this.options.crypto.tbs;
    const badGuardians = new Set<number>();
    const candidates: {
      p: PreparedNote;
      shares: { guardian: number; share: Uint8Array }[];
      signature?: Uint8Array;
    }[] = [];
    for (const out of op.outputs) {
      const p = this.prepareNote(out.index, out.denominationLog2);
      const shares: { guardian: number; share: Uint8Array }[] = [];
      for (const [guardian, list] of [...outcomes.entries()].sort(([a], [b]) => a - b)) {
        const parsed = MintOutputOutcomeSchema.safeParse(list[out.output]);
        if (!parsed.success || parsed.data.denominationLog2 !== out.denominationLog2) {
          if (list[out.output] !== null && list[out.output] !== undefined) badGuardians.add(guardian);
          continue;
        }
        shares.push({ guardian, share: fromHex(parsed.data.blindShare) });
      }
      candidates.push({ p, shares });
    }
    const rng: Rng = this.options.crypto.random;
    // Optimistic: combine the first t shares and verify all the resulting notes in one multi-pairing.
    const combinedAt: number[] = [];
    const keyed: KeyedNote[] = [];
    candidates.forEach((c, i) => {
      if (c.shares.length < t) return;
      const key = this.keyOf(c.p.denominationLog2);
      assert(key, `an output of an unknown denomination 2^${c.p.denominationLog2}`);
      const combined = tbs.combineBlindShares(t, c.shares.slice(0, t));
      const sig = combined.ok ? tbs.unblind(combined.value, c.p.blindingKey) : combined;
      if (!sig.ok) return;
      c.signature = sig.value;
      combinedAt.push(i);
      keyed.push({ publicKey: key.publicKey, nonce: c.p.nonce, signature: sig.value });
    });
    const verified = new Set<number>(combinedAt);
    for (const b of tbs.findBadKeyedNotes(keyed, rng)) verified.delete(combinedAt[b]!);
    // Pessimistic, for the rest: check every share, combine t good ones.
    candidates.forEach((c, i) => {
      if (verified.has(i)) return;
      const key = this.keyOf(c.p.denominationLog2);
      assert(key, "denomination checked above");
      const good = c.shares.filter((s) => {
        const pk = key.publicKeyShares[s.guardian];
        const ok = pk !== undefined && tbs.verifyBlindShare(pk, c.p.blindedMessage, s.share);
        if (!ok) badGuardians.add(s.guardian);
        return ok;
      });
      delete c.signature;
      if (good.length < t) return;
      const combined = tbs.combineBlindShares(t, good.slice(0, t));
      const sig = combined.ok ? tbs.unblind(combined.value, c.p.blindingKey) : combined;
      if (sig.ok && tbs.verifyNote(key.publicKey, c.p.nonce, sig.value)) {
        c.signature = sig.value;
        verified.add(i);
      }
    });
    const notes = candidates.flatMap((c, i) =>
      verified.has(i) && c.signature
        ? [
            {
              index: c.p.index,
              denominationLog2: c.p.denominationLog2,
              nonce: c.p.nonce,
              signature: c.signature,
            },
          ]
        : [],
    );
    return { done: notes.length === candidates.length, notes, badGuardians };
  }

  /**
   * The federation refused the transaction: nothing moved. Own inputs go back to the wallet (or to
   * the outgoing entry of a cancel), except inputs t guardians report spent when the refusal is a
   * spent input. Throws the refusal, with what happened to the notes.
   */
  private async settleRejected(op: PendingOp, error: ConclaveError): Promise<never> {
    const client = await this.client();
    const spentInput = error.code === "spent_input";
    const own = op.ownInputs.map(noteFromJson);
    let spentOwn = new Set<number>();
    let spentForeign = new Set<number>();
    // A cancel refused for a spent note closes the whole entry: its other notes are checked too.
    const restRaw =
      op.kind === "cancel" && op.outgoing ? await this.db.get(P_OUT + op.outgoing.id) : undefined;
    const rest = restRaw ? parseJson<OutgoingRecord>(restRaw) : undefined;
    const restNotes = spentInput && rest ? rest.notes.map(noteFromJson) : [];
    let restUnspent: OwnNote[] = [];
    if (spentInput) {
      // Unknown spent state keeps the operation pending (resume asks again): never guess.
      const spent = await spentOf(client, [
        ...op.ownInputs.map((n) => n.nonce),
        ...op.foreignInputs.map((n) => n.nonce),
        ...restNotes.map((n) => toHex(n.nonce)),
      ]);
      spentOwn = new Set(own.flatMap((_, i) => (spent[i] ? [i] : [])));
      spentForeign = new Set(op.foreignInputs.flatMap((_, i) => (spent[own.length + i] ? [i] : [])));
      const offset = own.length + op.foreignInputs.length;
      restUnspent = restNotes.filter((_, i) => !spent[offset + i]);
    }
    const ops: DbOp[] = [del(P_OP + op.txid)];
    // A refused withdrawal paid nothing: its record goes with it.
    if (op.payout) ops.push(del(P_WITHDRAWAL + op.txid));
    // A refused deposit transaction (not confirmed at a lagging guardian...): the claim goes back.
    if (op.claim && !spentInput) ops.push(put(P_CLAIM + op.claim.txid, json(op.claim)));
    let message = error.message;
    const details: Record<string, unknown> = { ...error.details, txid: op.txid };
    if (op.kind === "cancel" && op.outgoing) {
      if (spentInput) {
        const unspent = [...own.filter((_, i) => !spentOwn.has(i)), ...restUnspent];
        const total = own.length + restNotes.length;
        ops.push(...unspent.map(notePut), del(P_OUT + op.outgoing.id));
        message =
          `spend ${op.outgoing.id} was already redeemed by whoever received it (${total - unspent.length} of ` +
          `${total} notes spent); its outgoing entry is closed` +
          (unspent.length > 0 ? `, and the ${unspent.length} unspent notes are back in the wallet` : "");
      } else {
        // Back into the entry, next to the notes no chunk has taken yet.
        ops.push(
          put(
            P_OUT + op.outgoing.id,
            json({ ...op.outgoing, notes: [...(rest?.notes ?? []), ...op.outgoing.notes] }),
          ),
        );
      }
    } else {
      ops.push(...own.filter((_, i) => !spentOwn.has(i)).map(notePut));
      if (spentOwn.size > 0)
        message += `; ${spentOwn.size} of this wallet's notes are spent and were dropped`;
    }
    if (op.foreignInputs.length > 0 && spentInput) {
      const unspent = op.foreignInputs.filter((_, i) => !spentForeign.has(i));
      message =
        `${spentForeign.size} of the ${op.foreignInputs.length} notes were already redeemed (spent); nothing was received` +
        (unspent.length > 0 ? `; the ${unspent.length} unspent ones are in details.unspentNotes` : "");
      if (unspent.length > 0)
        details["unspentNotes"] = encodeNoteString({
          federationId: this.record.federationId,
          notes: unspent.slice(0, NOTES_PER_STRING_MAX).map((n) => ({
            denominationLog2: n.denominationLog2,
            spendSeed: fromHex(n.spendSeed),
            signature: fromHex(n.signature),
          })),
        });
    }
    await this.db.write(ops);
    throw error instanceof TransactionRejectedError
      ? new TransactionRejectedError(error.code, message, details)
      : error;
  }

  // ---- spending --------------------------------------------------------------------------------

  private async handOut(
    notes: readonly OwnNote[],
    log2s: readonly number[],
    amount: bigint,
  ): Promise<SpendResult> {
    const chosen = pickNotes(notes, log2s);
    if (chosen.length > NOTES_PER_STRING_MAX)
      throw new WalletError(
        "invalid_amount",
        `${amount} needs ${chosen.length} notes, a note string holds at most ${NOTES_PER_STRING_MAX}: combine first`,
      );
    const id = toHex(this.options.crypto.random(16));
    const outgoing: OutgoingRecord = {
      id,
      amount: amount.toString(),
      createdAtMs: this.now(),
      notes: chosen.map(noteToJson),
    };
    const text = encodeNoteString({
      federationId: this.record.federationId,
      notes: chosen.map((n) => ({
        denominationLog2: n.denominationLog2,
        spendSeed: this.keys.spendSeed(n.index),
        signature: n.signature,
      })),
    });
    await this.db.write([
      ...chosen.map((n) => del(noteKey(n.denominationLog2, n.nonce))),
      put(P_OUT + id, json(outgoing)),
    ]);
    return { id, amount, notes: text };
  }

  private async loadNotes(): Promise<OwnNote[]> {
    return (await scanPrefix(this.db, P_NOTE)).map(([, v]) => decodeNote(v));
  }

  /** What a backup holds: spendable and outgoing notes, and the first index no pending operation uses. */
  private async snapshot(): Promise<BackupSnapshot> {
    const notes = await this.loadNotes();
    for (const [, raw] of await scanPrefix(this.db, P_OUT))
      notes.push(...parseJson<OutgoingRecord>(raw).notes.map(noteFromJson));
    let nextIndex = await this.readCounter();
    for (const [, raw] of await scanPrefix(this.db, P_OP)) {
      const op = parseJson<PendingOp>(raw);
      notes.push(...op.ownInputs.map(noteFromJson));
      // Its outputs may get issued after the backup: the restore scan must start below them.
      for (const o of op.outputs) nextIndex = Math.min(nextIndex, o.index);
    }
    return { nextIndex, notes };
  }

  private client(): Promise<FederationClient> {
    this.clientPromise ??= joinClient(this.record.invite, this.options).then((c) => {
      if (c.federationId !== this.record.federationId)
        throw new BadResponseError("invite", `the stored invite names federation ${c.federationId}`);
      return c;
    });
    const p = this.clientPromise;
    // A failed join is retried at the next call (the guardians may have been unreachable).
    p.catch(() => {
      if (this.clientPromise === p) this.clientPromise = undefined;
    });
    return p;
  }

  private warn(message: string): void {
    this.warnings.push(message);
    if (this.warnings.length > 100) this.warnings.shift();
    this.options.onWarning?.(message);
  }
}

// ---- helpers -------------------------------------------------------------------------------------

/** A proof's txid and tx key in canonical form, or invalid_deposit_proof saying what is wrong. */
function checkDepositProof(proof: DepositProof): { readonly txid: string; readonly txKey: string } {
  const txid = proof.txid.trim().toLowerCase();
  const txKey = proof.txKey.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(txid))
    throw new WalletError("invalid_deposit_proof", "a Monero txid is 64 hex characters", {
      txid: proof.txid.slice(0, 100),
    });
  if (!TxKeyHexSchema.safeParse(txKey).success || !isCanonicalTxKey(fromHex(txKey)))
    throw new WalletError(
      "invalid_deposit_proof",
      "a tx key is 64 hex characters (several joined when the payment went to subaddresses); " +
        "get it from the sending wallet (get_tx_key, or `get_tx_key <txid>` in monero-wallet-cli)",
    );
  return { txid, txKey };
}

/** Uniform in [0, n) from secure random bytes (n <= 64 guardians: the modulo bias is below 2^-26). */
function randomIndex(random: (bytes: number) => Uint8Array, n: number): number {
  const b = random(4);
  return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) % n;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function joinClient(invite: string, options: WalletOptions): Promise<FederationClient> {
  // Backup downloads carry their own answer limit (core-client's downloadBackups).
  return FederationClient.join(invite.trim(), options.client ?? {});
}

function mergeResults(results: readonly ReissueResult[]): ReissueResult & { txids?: readonly string[] } {
  if (results.length === 0) return { txid: "", amount: 0n, fee: 0n, notesIssued: 0 };
  return {
    txid: results[results.length - 1]!.txid,
    amount: results.reduce((s, r) => s + r.amount, 0n),
    fee: results.reduce((s, r) => s + r.fee, 0n),
    notesIssued: results.reduce((s, r) => s + r.notesIssued, 0),
    ...(results.length > 1 ? { txids: results.map((r) => r.txid) } : {}),
  };
}

/** Concrete notes for a list of denominations. */
function pickNotes(notes: readonly OwnNote[], log2s: readonly number[]): OwnNote[] {
  const pool = new Map<number, OwnNote[]>();
  for (const n of notes) pool.set(n.denominationLog2, [...(pool.get(n.denominationLog2) ?? []), n]);
  return log2s.map((l) => {
    const n = pool.get(l)?.pop();
    assert(n, `no 2^${l} note left to pick`);
    return n;
  });
}

/** As many notes as fit in `amount`, largest first (the exact selection's greedy pass). */
function greedyPartial(holdings: ReadonlyMap<number, number>, amount: bigint): number[] {
  const out: number[] = [];
  let left = amount;
  for (const log2 of [...holdings.keys()].sort((a, b) => b - a)) {
    const d = denominationAmount(log2);
    for (let i = 0; i < (holdings.get(log2) ?? 0) && left >= d; i++) {
      out.push(log2);
      left -= d;
    }
  }
  return out;
}

function largestFirst(holdings: ReadonlyMap<number, number>, max: number): number[] {
  const out: number[] = [];
  for (const log2 of [...holdings.keys()].sort((a, b) => b - a))
    for (let i = 0; i < (holdings.get(log2) ?? 0) && out.length < max; i++) out.push(log2);
  return out;
}

/** Which notes (by nonce hex) t guardians report spent, in batches of the mint's query limit. */
/**
 * Which notes (by nonce hex) t guardians report spent, in batches of the mint's query limit. With
 * `preferred` guardians (known reachable), each batch first goes to t of them only and is taken if
 * all t give the same answer (t agreeing answers, the quorum rule, with a quarter fewer requests
 * for n = 4); any failure or disagreement asks every guardian.
 */
async function spentOf(
  client: FederationClient,
  nonces: readonly string[],
  preferred: readonly number[] = [],
): Promise<boolean[]> {
  if (nonces.length === 0) return [];
  const targets = preferred.slice(0, client.t);
  return inBatches(nonces, MINT_QUERY_ITEMS_MAX, QUERIES_IN_FLIGHT_MAX, async (batch) => {
    const body = { nonces: batch };
    if (targets.length === client.t) {
      const answers = await client.postEach(SPENT_PATH, body, SpentAnswerSchema, { guardians: targets });
      const values = answers.flatMap((a) =>
        a.ok && a.value.spent.length === batch.length ? [a.value.spent] : [],
      );
      const first = values[0];
      if (first && values.length === client.t && values.every((v) => v.every((x, i) => x === first[i])))
        return first;
    }
    const { value } = await client.postConsensus(SPENT_PATH, body, SpentAnswerSchema);
    if (value.spent.length !== batch.length)
      throw new NoQuorumError(
        `the guardians answered ${value.spent.length} spent flags for ${batch.length} notes`,
        client.t,
        [],
      );
    return value.spent;
  });
}

function signBackup(
  crypto: WalletCrypto,
  keys: WalletKeys,
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

// ---- restore -------------------------------------------------------------------------------------

interface Restored {
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
class Restorer {
  private readonly mint: MintView;
  private reachable: readonly number[] = [];
  private readonly federationId: Uint8Array;

  constructor(
    private readonly client: FederationClient,
    private readonly keys: WalletKeys,
    private readonly options: WalletOptions,
  ) {
    this.mint = mintOf(client.config);
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
      const i = this.mint.config.denominationsLog2.indexOf(log2);
      const key = this.mint.config.keys[i];
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

function rejectionText(reason: string | undefined): string {
  switch (reason) {
    case "nothing_received":
      return "the transaction pays nothing to the federation's address with this tx key (a wrong tx key, or a payment to another address)";
    case "below_minimum":
      return "the deposit is below the federation's minimum";
    case "bad_proof":
      return "the payment proof does not hold for this transaction, the federation's address and this claim key (a wrong tx key, or a proof copied from someone else's claim)";
    case "own_transaction":
      return "the federation sent this transaction itself (a payout): its change, or a payment to one of its own addresses, is not a deposit";
    default:
      return reason ?? "refused";
  }
}

/** The progress a deposit view means, in words. */
function progressOf(view: DepositView, claim: ClaimRecord, t: number): DepositProgress {
  const base = { txid: claim.txid };
  switch (view.state) {
    case "unclaimed":
      return { ...base, stage: "waiting", message: "waiting for the claim to be ordered" };
    case "open":
      return {
        ...base,
        stage: "verifying",
        message: `verifying: ${view.attestations.length} of ${t} guardians checked it against their nodes`,
        attestations: view.attestations.length,
        attestationsRequired: view.attestationsRequired,
      };
    default:
      return {
        ...base,
        stage: "confirming",
        message: `confirmations ${view.confirmations}/${view.confirmationsRequired}`,
        confirmations: view.confirmations,
        confirmationsRequired: view.confirmationsRequired,
        ...(view.amount === undefined ? {} : { amount: BigInt(view.amount) }),
      };
  }
}

/** The progress a payout outcome means, in words. */
/** An amount in progress messages: "1.5 XMR" (piconero as a decimal string or a bigint). */
function xmrText(piconero: bigint | string | undefined): string {
  if (piconero === undefined) return "?";
  try {
    return `${formatXmr(BigInt(piconero))} XMR`;
  } catch {
    return `${String(piconero)} piconero`;
  }
}

function withdrawalRecordOf(
  txid: string,
  payout: NonNullable<PendingOp["payout"]>,
  atMs: number,
): WithdrawalRecord {
  return {
    txid,
    output: payout.output,
    address: payout.address,
    amount: payout.amount,
    state: "submitting",
    createdAtMs: atMs,
    updatedAtMs: atMs,
  };
}

function withdrawalInfoOf(w: WithdrawalRecord): WithdrawalInfo {
  return {
    txid: w.txid,
    address: w.address,
    amount: BigInt(w.amount),
    state: w.state,
    ...(w.moneroTxid ? { moneroTxid: w.moneroTxid } : {}),
    ...(w.txKey ? { txKey: w.txKey } : {}),
    createdAtMs: w.createdAtMs,
    updatedAtMs: w.updatedAtMs,
  };
}

function withdrawProgressOf(txid: string, outcome: PayoutStatus): WithdrawProgress {
  const base = {
    txid,
    stage: outcome.state,
    ...(outcome.moneroTxid ? { moneroTxid: outcome.moneroTxid } : {}),
  };
  switch (outcome.state) {
    case "queued":
      return { ...base, message: "queued for the next Monero transaction" };
    case "signing":
      return {
        ...base,
        message: `the guardians' wallets are signing` + (outcome.round ? ` (${outcome.round})` : ""),
      };
    case "submitted":
      return {
        ...base,
        message:
          `submitted as Monero transaction ${outcome.moneroTxid ?? "?"}` +
          (outcome.confirmations !== undefined ? `, ${outcome.confirmations} confirmations` : ""),
        ...(outcome.confirmations !== undefined ? { confirmations: outcome.confirmations } : {}),
      };
    case "confirmed":
      return {
        ...base,
        message: `confirmed in Monero transaction ${outcome.moneroTxid ?? "?"}`,
        ...(outcome.confirmations !== undefined ? { confirmations: outcome.confirmations } : {}),
      };
  }
}

/** Calls `onProgress` only when what it would say changes (deposit and withdrawal progress alike). */
function progressReporter<P extends { readonly stage: string; readonly message: string }>(
  onProgress: ((p: P) => void) | undefined,
): (p: P) => void {
  let last = "";
  return (p) => {
    const key = `${p.stage}|${p.message}`;
    if (key === last) return;
    last = key;
    onProgress?.(p);
  };
}
