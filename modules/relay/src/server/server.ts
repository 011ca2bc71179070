// Server half of the relay module: wallet services every guardian runs on its own, with no consensus
// (docs/relay.md). It takes no part in transactions and has no consensus items; its state is this
// guardian's own, in LMDB environments under the module's data directory (ModuleContext.dataDir):
//   mailbox   items sealed to inbox keys (mailbox-store.ts)
//   recovery  encrypted, versioned, padded wallet state and social-recovery records (core-server's
//             BackupStore: one record per key, replaced only by a newer version signed by that key)
// Every input is bounded (bytes, items per inbox, tokens per inbox, requests per client network per
// window, per delivery token per window), and every refusal is a ConclaveError with a stable code.
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { join } from "node:path";
import {
  BackupRecordSchema,
  BackupStoredSchema,
  InvalidRequestError,
  NotFoundError,
  RateLimitedError,
  UnavailableError,
  fromHex,
  toHex,
} from "@conclave/core-common";
import type { BackupRecord, Verifier } from "@conclave/core-common";
import {
  BackupStore,
  DEFAULT_BACKUP_STORE_LIMITS,
  KeyedWatches,
  TokenBuckets,
  fail,
  sha256,
} from "@conclave/core-server";
import type {
  Audit,
  BackupStoreLimits,
  ModuleApiEndpoint,
  ModuleContext,
  ModuleResult,
  ServerModule,
  WatchFn,
  WatchSource,
} from "@conclave/core-server";
import {
  AckRequestSchema,
  AckResponseSchema,
  ChallengeRequestSchema,
  ChallengeResponseSchema,
  EmptyRequestSchema,
  FETCH_ITEMS_MAX,
  FetchRequestSchema,
  FetchResponseSchema,
  InboxParamsSchema,
  PutItemRequestSchema,
  PutItemResponseSchema,
  RECOVERY_CIPHERTEXT_BYTES_MAX,
  RELAY_KIND,
  RecoveryParamsSchema,
  TokensRequestSchema,
  TokensResponseSchema,
  authArgs,
  authSigningBytes,
} from "../common.js";
import type { AuthAction } from "../common.js";
import { Challenges } from "./challenges.js";
import type { ChallengeLimits } from "./challenges.js";
import { ESCROW_WATCH_KIND, EscrowParamsSchema } from "../escrow.js";
import { DEFAULT_ESCROW_LIMITS, EscrowStore } from "./escrow-store.js";
import type { EscrowLimits } from "./escrow-store.js";
import { DEFAULT_MAILBOX_LIMITS, MailboxStore, TokenRequiredError } from "./mailbox-store.js";
import type { MailboxLimits } from "./mailbox-store.js";
import { WatchSockets } from "./watch-socket.js";
import { DEFAULT_PUSH_LIMITS, PushRegistrations } from "./push.js";
import type { PushLimits, VapidKeys } from "./push.js";
import { RegistrationStore } from "./registration-store.js";
import { loadVapidKeys, watchEndpoints } from "./watch-routes.js";
import { escrowEndpoints, parse } from "./escrow-routes.js";

export interface RelayRateLimits {
  /** Mailbox items one client network may send per minute, sustained... */
  readonly itemsPerClientPerMinute: number;
  /** ...and at once. */
  readonly itemsBurstPerClient: number;
  /** Items one delivery token may carry per hour (at once or spread out). */
  readonly itemsPerTokenPerHour: number;
  /** Challenges and signed inbox requests one client network may make per minute (and at once). */
  readonly authPerClientPerMinute: number;
}

export interface RelayLimits extends MailboxLimits, ChallengeLimits, RelayRateLimits, EscrowLimits {
  readonly recovery: BackupStoreLimits;
  readonly push: PushLimits;
}

export const DEFAULT_RELAY_LIMITS: RelayLimits = {
  ...DEFAULT_MAILBOX_LIMITS,
  ...DEFAULT_ESCROW_LIMITS,
  challengeTtlMs: 60_000,
  challengesUsedMax: 100_000,
  itemsPerClientPerMinute: 60,
  itemsBurstPerClient: 120,
  itemsPerTokenPerHour: 120,
  authPerClientPerMinute: 120,
  recovery: DEFAULT_BACKUP_STORE_LIMITS,
  push: DEFAULT_PUSH_LIMITS,
};

/** Sizes a recovery-store ciphertext may have: 1 KiB times a power of two, up to 64 KiB. */
export function isRecoveryBucket(bytes: number): boolean {
  for (let b = 1024; b <= RECOVERY_CIPHERTEXT_BYTES_MAX; b *= 2) if (bytes === b) return true;
  return false;
}

export interface RelayServerOptions {
  readonly limits?: Partial<RelayLimits>;
  /** Milliseconds since the epoch (expiry, challenges, rate limits); tests pass their own. */
  readonly now?: () => number;
  /**
   * Origins exempt from the outbound address checks (webhooks, push services), from this guardian's
   * own settings (guardian.local.json `outboundAllowedOrigins`): e.g. its operator's push gateway.
   */
  readonly outboundAllowedOrigins?: readonly string[];
  /** The VAPID subject (RFC 8292 2.1: mailto: or https:), guardian.local.json `vapidSubject`. */
  readonly vapidSubject?: string;
}

/**
 * Ed25519 verification with no key cache: inbox keys are anyone's to make, so a cache (as the
 * consensus verifier keeps for the guardians' few keys) would grow with every key a flood names.
 */
const uncachedVerifier: Verifier = {
  verify(publicKey, message, signature) {
    if (signature.length !== 64 || publicKey.length !== 32) return false;
    try {
      const key = createPublicKey({
        key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), publicKey]),
        format: "der",
        type: "spki",
      });
      return nodeVerify(null, message, key, signature);
    } catch {
      return false;
    }
  },
};

function base64url(text: string): Uint8Array {
  const bytes = new Uint8Array(Buffer.from(text, "base64url"));
  if (Buffer.from(bytes).toString("base64url") !== text)
    throw new InvalidRequestError("not canonical base64url (no padding, no stray bits)");
  return bytes;
}

export class RelayServerModule implements ServerModule {
  readonly kind = RELAY_KIND;
  readonly testOnly = false;
  readonly api: readonly ModuleApiEndpoint[];
  readonly limits: RelayLimits;
  private readonly now: () => number;
  private mailboxStore: MailboxStore | undefined;
  private recoveryStore: BackupStore | undefined;
  private escrowStore: EscrowStore | undefined;
  private registrationStore: RegistrationStore | undefined;
  private challenges: Challenges;
  private readonly itemBuckets: TokenBuckets;
  private readonly tokenBuckets: TokenBuckets;
  private readonly authBuckets: TokenBuckets;
  private self = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private log: ModuleContext["log"] = () => {};
  private watchFn: WatchFn | undefined;
  /** Watches over WebSocket at /v1/modules/relay/ws (watch-socket.ts). */
  readonly socket: WatchSockets;
  /** Webhook and Web Push registrations (push.ts). */
  readonly push: PushRegistrations;
  private vapid: VapidKeys | undefined;
  /**
   * The recovery-escrow watch: a shard set's release requests as this guardian holds them (the public
   * escrow status), told at once when a request is made or cancelled, so that the owner's devices,
   * registered for push or webhook, wake within the delay and can cancel (docs/relay.md).
   */
  readonly watchable: WatchSource;
  private readonly escrowWatches: KeyedWatches;

  constructor(
    readonly instanceId: number,
    options: RelayServerOptions = {},
  ) {
    this.limits = { ...DEFAULT_RELAY_LIMITS, ...options.limits };
    this.now = options.now ?? Date.now;
    this.challenges = new Challenges(this.limits, this.now);
    this.itemBuckets = new TokenBuckets({
      perSecond: this.limits.itemsPerClientPerMinute / 60,
      burst: this.limits.itemsBurstPerClient,
      now: this.now,
    });
    this.tokenBuckets = new TokenBuckets({
      perSecond: this.limits.itemsPerTokenPerHour / 3600,
      burst: this.limits.itemsPerTokenPerHour,
      now: this.now,
    });
    this.authBuckets = new TokenBuckets({
      perSecond: this.limits.authPerClientPerMinute / 60,
      burst: this.limits.authPerClientPerMinute,
      now: this.now,
    });
    this.socket = new WatchSockets(
      () => this.watchFn,
      (event, fields) => this.log(event, fields),
    );
    const watch = () => this.socket.source();
    this.push = new PushRegistrations({
      limits: { ...DEFAULT_PUSH_LIMITS, ...options.limits?.push },
      policy: { allowedOrigins: options.outboundAllowedOrigins ?? [] },
      vapid: () => this.vapidKeys,
      watch,
      guardian: () => this.self,
      now: this.now,
      log: (event, fields) => this.log(event, fields),
    });
    this.vapidSubject = options.vapidSubject ?? "mailto:relay@conclave.invalid";
    this.escrowWatches = new KeyedWatches({
      read: (keys) => Promise.resolve(new Map(keys.map((k) => [k, this.escrowState(k)] as const))),
      keysMax: this.limits.escrowDepositsMax,
      what: "shard sets",
      log: (event, fields) => this.log(event, fields),
    });
    this.watchable = {
      watchKinds: [ESCROW_WATCH_KIND],
      watch: (kind, key, listener) => {
        if (kind !== ESCROW_WATCH_KIND)
          throw new NotFoundError(`the relay offers no watch of kind "${kind}"`);
        parse(EscrowParamsSchema, { setId: key }, "recovery-escrow key (a shard set id)");
        return this.escrowWatches.watch(key, listener);
      },
    };
    this.api = [
      ...this.endpoints(),
      ...watchEndpoints(
        () => this.push,
        () => this.vapidKeys,
        watch,
        this.now,
      ),
    ];
  }

  private readonly vapidSubject: string;

  private get vapidKeys(): VapidKeys {
    if (!this.vapid) throw new UnavailableError("the relay module has not started yet");
    return this.vapid;
  }

  // ---- no consensus: the relay takes part in no transaction ----------------------------------------
  consensusProposal(): Uint8Array[] {
    return [];
  }
  processConsensusItem(): ModuleResult<void> {
    return fail("no_items", "the relay module has no consensus items");
  }
  processInput(): ModuleResult<never> {
    return fail("no_inputs", "the relay module takes no part in transactions");
  }
  processOutput(): ModuleResult<never> {
    return fail("no_outputs", "the relay module takes no part in transactions");
  }
  outputOutcome(): unknown {
    return undefined;
  }
  audit(): Audit {
    return { assets: 0n, liabilities: 0n };
  }

  metrics(): string {
    const m = this.mailboxStore?.usage ?? { items: 0, bytes: 0 };
    const r = this.recoveryStore?.usage ?? { records: 0, bytes: 0 };
    const i = `instance="${this.instanceId}"`;
    return [
      "# TYPE conclave_relay_mailbox_items gauge",
      `conclave_relay_mailbox_items{${i}} ${m.items}`,
      "# TYPE conclave_relay_mailbox_bytes gauge",
      `conclave_relay_mailbox_bytes{${i}} ${m.bytes}`,
      "# TYPE conclave_relay_recovery_records gauge",
      `conclave_relay_recovery_records{${i}} ${r.records}`,
      "# TYPE conclave_relay_recovery_bytes gauge",
      `conclave_relay_recovery_bytes{${i}} ${r.bytes}`,
      "# TYPE conclave_relay_watch_sockets gauge",
      `conclave_relay_watch_sockets{${i}} ${this.socket.sessions.size}`,
      "# TYPE conclave_relay_watch_socket_watches gauge",
      `conclave_relay_watch_socket_watches{${i}} ${this.socket.watchCount}`,
      "# TYPE conclave_relay_push_registrations gauge",
      `conclave_relay_push_registrations{${i}} ${this.push.size}`,
      "# TYPE conclave_relay_push_deliveries_total counter",
      ...Object.entries(this.push.counters).map(
        ([k, v]) => `conclave_relay_push_deliveries_total{${i},result="${k}"} ${v}`,
      ),
    ].join("\n");
  }

  start(context: ModuleContext): void {
    if (!context.dataDir || !context.federationId)
      throw new Error("the relay module needs the guardian's data directory and federation id");
    this.self = context.self;
    this.log = context.log;
    this.watchFn = context.watch;
    this.vapid = loadVapidKeys(context.dataDir, this.vapidSubject);
    this.mailboxStore = MailboxStore.open(join(context.dataDir, "mailbox"), this.limits, this.now);
    this.recoveryStore = BackupStore.open(
      join(context.dataDir, "recovery"),
      context.federationId,
      uncachedVerifier,
      this.limits.recovery,
      this.now,
    );
    this.escrowStore = EscrowStore.open(join(context.dataDir, "escrow"), this.limits, this.now);
    const registrations = RegistrationStore.open(join(context.dataDir, "registrations"));
    this.registrationStore = registrations;
    // After every module's start (the guardian starts them in one loop): a registration may watch a
    // kind another module offers, which that module serves once started.
    setImmediate(() => {
      if (this.registrationStore !== registrations) return;
      this.push.restore(registrations).then(
        (n) => this.log("watch.registrations-restored", { registrations: n }),
        (e: unknown) => this.log("watch.registrations-restore-failed", { error: String(e) }),
      );
    });
    this.sweepTimer = setInterval(() => {
      this.mailboxStore?.sweepExpired().then(
        (n) => n > 0 && this.log("mailbox.expired", { items: n }),
        (e: unknown) => this.log("mailbox.sweep-failed", { error: String(e) }),
      );
    }, 60_000);
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.push.close();
    await Promise.all([
      this.mailboxStore?.close(),
      this.recoveryStore?.close(),
      this.escrowStore?.close(),
      this.registrationStore?.close(),
    ]);
    this.registrationStore = undefined;
    this.mailboxStore = undefined;
    this.recoveryStore = undefined;
    this.escrowStore = undefined;
  }

  /** The mailbox store (tests and the benchmark read its usage). */
  get mailbox(): MailboxStore {
    if (!this.mailboxStore) throw new UnavailableError("the relay module has not started yet");
    return this.mailboxStore;
  }

  private get recovery(): BackupStore {
    if (!this.recoveryStore) throw new UnavailableError("the relay module has not started yet");
    return this.recoveryStore;
  }

  private get escrow(): EscrowStore {
    if (!this.escrowStore) throw new UnavailableError("the relay module has not started yet");
    return this.escrowStore;
  }

  /** The federation-held shard's routes (escrow-routes.ts): every one limited per client network. */
  private escrowEndpoints(): ModuleApiEndpoint[] {
    return escrowEndpoints({
      instanceId: this.instanceId,
      self: () => this.self,
      escrow: () => this.escrow,
      limit: (client) => this.limit(this.authBuckets, client),
      log: (event, fields) => this.log(event, fields),
      changed: () => this.escrowChanged(),
    });
  }

  /** A shard set's escrow status at this guardian, for its watch ({ state: "none" }: no deposit here). */
  private escrowState(setId: string): Record<string, unknown> {
    if (!this.escrowStore) return { state: "none" };
    try {
      return { state: "held", ...this.escrowStore.status(fromHex(setId)) };
    } catch (e) {
      if (e instanceof NotFoundError) return { state: "none" };
      throw e;
    }
  }

  /** Tells the watchers of shard sets what changed (after a deposit, request or cancel). */
  private escrowChanged(): void {
    if (this.escrowWatches.size > 0) void this.escrowWatches.refresh();
  }

  private limit(buckets: TokenBuckets, key: string): void {
    const waitMs = buckets.take(key);
    if (waitMs > 0) throw new RateLimitedError(waitMs);
  }

  /** Checks the challenge and the inbox key's signature over this request, then burns the challenge. */
  private authorize(
    action: AuthAction,
    inbox: Uint8Array,
    body: { challenge: string; signature: string },
    args: readonly string[],
    client: string,
  ): void {
    this.limit(this.authBuckets, client);
    const challenge = fromHex(body.challenge);
    this.challenges.check(challenge);
    const message = authSigningBytes(
      sha256,
      action,
      this.instanceId,
      this.self,
      inbox,
      challenge,
      authArgs(args),
    );
    if (!uncachedVerifier.verify(inbox, message, fromHex(body.signature)))
      throw new InvalidRequestError(
        `the signature does not verify: sign the ${action} request with the inbox's key (this guardian's challenge, this guardian's index ${this.self})`,
        { reason: "bad_signature" },
      );
    this.challenges.use(challenge);
  }

  private endpoints(): ModuleApiEndpoint[] {
    return [
      ...this.escrowEndpoints(),
      {
        method: "POST",
        path: "challenge",
        summary: "A single-use challenge to sign with an inbox key (valid for challengeTtlMs)",
        body: ChallengeRequestSchema,
        response: ChallengeResponseSchema,
        handle: ({ body, client = "unknown" }) => {
          parse(ChallengeRequestSchema, body, "body");
          this.limit(this.authBuckets, client);
          const c = this.challenges.issue();
          return { challenge: toHex(c.challenge), expiresAtMs: c.expiresAtMs };
        },
      },
      {
        method: "POST",
        path: "inbox/:inbox/items",
        summary: "Store an item sealed to the inbox's key (de-duplicated by hash; no receipt)",
        params: InboxParamsSchema,
        body: PutItemRequestSchema,
        response: PutItemResponseSchema,
        handle: async ({ params, body, client = "unknown" }) => {
          // The cheapest checks first: a flooding network is refused before anything is parsed.
          this.limit(this.itemBuckets, client);
          const inbox = fromHex(parse(InboxParamsSchema, params, "path").inbox);
          const b = parse(PutItemRequestSchema, body, "body");
          const item = base64url(b.item);
          if (this.mailbox.hasTokens(inbox)) {
            if (b.token === undefined)
              throw new TokenRequiredError(
                "this inbox takes items only with a delivery token from its owner's contact card",
              );
            const tokenHash = sha256(fromHex(b.token));
            if (!this.mailbox.hasToken(inbox, tokenHash))
              throw new TokenRequiredError(
                "this delivery token is not registered for this inbox (revoked, or for another guardian)",
              );
            this.limit(this.tokenBuckets, `${toHex(inbox)}:${toHex(tokenHash)}`);
          }
          const r = await this.mailbox.put(inbox, item);
          return { id: toHex(r.id), stored: r.stored };
        },
      },
      {
        method: "POST",
        path: "inbox/:inbox/fetch",
        summary: "The inbox's items, in id order, for a signature by the inbox key over a challenge",
        params: InboxParamsSchema,
        body: FetchRequestSchema,
        response: FetchResponseSchema,
        handle: ({ params, body, client = "unknown" }) => {
          const inbox = fromHex(parse(InboxParamsSchema, params, "path").inbox);
          const b = parse(FetchRequestSchema, body, "body");
          this.authorize("fetch", inbox, b, [b.after ?? ""], client);
          const page = this.mailbox.list(
            inbox,
            b.after === undefined ? undefined : fromHex(b.after),
            FETCH_ITEMS_MAX,
          );
          return {
            items: page.items.map((i) => ({
              id: toHex(i.id),
              item: Buffer.from(i.item).toString("base64url"),
            })),
            more: page.more,
          };
        },
      },
      {
        method: "POST",
        path: "inbox/:inbox/ack",
        summary: "Delete items the inbox's owner has read (signed by the inbox key)",
        params: InboxParamsSchema,
        body: AckRequestSchema,
        response: AckResponseSchema,
        handle: async ({ params, body, client = "unknown" }) => {
          const inbox = fromHex(parse(InboxParamsSchema, params, "path").inbox);
          const b = parse(AckRequestSchema, body, "body");
          this.authorize("ack", inbox, b, b.ids, client);
          return { deleted: await this.mailbox.delete(inbox, b.ids.map(fromHex)) };
        },
      },
      {
        method: "POST",
        path: "inbox/:inbox/tokens",
        summary: "Register or revoke delivery-token hashes (an inbox with any takes items only with one)",
        params: InboxParamsSchema,
        body: TokensRequestSchema,
        response: TokensResponseSchema,
        handle: async ({ params, body, client = "unknown" }) => {
          const inbox = fromHex(parse(InboxParamsSchema, params, "path").inbox);
          const b = parse(TokensRequestSchema, body, "body");
          this.authorize("tokens", inbox, b, [...b.add, "|", ...b.remove], client);
          return {
            tokens: await this.mailbox.changeTokens(inbox, b.add.map(fromHex), b.remove.map(fromHex)),
          };
        },
      },
      {
        method: "POST",
        path: "recovery",
        summary:
          "Store a padded, encrypted recovery record (replaced only by a newer version signed by its key)",
        body: BackupRecordSchema,
        response: BackupStoredSchema,
        handle: ({ body, client = "unknown" }) => {
          const record: BackupRecord = parse(BackupRecordSchema, body, "body");
          const bytes = Math.floor((record.ciphertext.replace(/=+$/, "").length * 3) / 4);
          if (!isRecoveryBucket(bytes))
            throw new InvalidRequestError(
              `a recovery ciphertext is padded to 1 KiB times a power of two, up to ${RECOVERY_CIPHERTEXT_BYTES_MAX} bytes; this one is ${bytes}`,
            );
          return this.recovery.put(record, client);
        },
      },
      {
        method: "POST",
        path: "recovery/:id/read",
        summary: "This guardian's copy of a recovery record (the client keeps the newest that authenticates)",
        params: RecoveryParamsSchema,
        body: EmptyRequestSchema,
        response: BackupRecordSchema,
        handle: ({ params, body }) => {
          const { id } = parse(RecoveryParamsSchema, params, "path");
          parse(EmptyRequestSchema, body, "body");
          const r = this.recovery.get(id);
          if (!r) throw new NotFoundError(`this guardian holds no recovery record ${id}`);
          return r;
        },
      },
    ];
  }
}
