// The relay module's client half: the mailbox (send to k of n guardians, read from all of them,
// acknowledge), contact cards, and (recovery.ts) the recovery store. It talks to each guardian alone:
// the relay has no consensus, so nothing here waits for t guardians to agree; instead the client
// compares what the guardians give it (de-duplicates by hash and message id, spots a guardian that
// drops or replays an item) and trusts only what opens with its keys.
//
// Keys in the client database (under the half's prefix m/<instance>/):
//   contact/<inbox hex>   the contact's card (JSON)
//   seen/<message id>     sentAtMs: letters already read (a guardian replaying one is caught)
//   cards                 {"labels": [...]} the labels of the cards this wallet handed out
import { ClientError, del, json, parseJson, put, scanPrefix } from "@conclave/core-client";
import type {
  ClientContext,
  ClientDb,
  ClientModule,
  ClientModuleInit,
  DbOp,
  FederationClient,
} from "@conclave/core-client";
import {
  encodeInvite,
  base64UrlDecode,
  base64UrlEncode,
  fromHex,
  toHex,
  utf8,
  faultTolerance,
} from "@conclave/core-common";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  AckResponseSchema,
  ChallengeResponseSchema,
  FetchResponseSchema,
  PutItemResponseSchema,
  RELAY_KIND,
  TokensResponseSchema,
  authArgs,
  authSigningBytes,
} from "../common.js";
import type { AuthAction } from "../common.js";
import { decodeCard, encodeCard, fingerprint, signCard } from "./contacts.js";
import type { ContactCard } from "./contacts.js";
import { deliverySecret, deliveryToken, relayKeys } from "./keys.js";
import type { RelayKeys } from "./keys.js";
import { LETTER_BODY_BYTES_MAX, MailboxFormatError, openItem, sealItem } from "./mailbox.js";
import type { Letter, LetterKind } from "./mailbox.js";
import { recoveryCovers } from "./recovery.js";
import type { RecoveryRestoreResult, RecoveryStoreResult } from "./recovery.js";
import type { CancelResult } from "./escrow.js";
import type { WatchTarget } from "../watch-common.js";
import { encodeQR } from "@paulmillr/qr";
import type { escrowStatus } from "./escrow.js";
import * as owner from "./recovery-owner.js";
import type { OwnerParts } from "./recovery-owner.js";
import type { Registration } from "./watch.js";
import type {
  ContactView,
  Holder,
  ReadResult,
  ReceivedLetter,
  SendResult,
  SocialProgress,
  SocialRecord,
  SocialSetupResult,
} from "./types.js";

/** Pages of one guardian's inbox read per `read` at most (32 items each). */
export const FETCH_PAGES_MAX = 8;
const DEFAULT_CARD = "default";

const relayError = (code: string, message: string, details: Record<string, unknown> = {}) =>
  new ClientError(code, message, details);

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class RelayClient implements ClientModule {
  readonly kind = RELAY_KIND;
  readonly instanceId: number;
  readonly keys: RelayKeys;
  private readonly ctx: ClientContext;
  private readonly db: ClientDb;
  private readonly prefix: string;
  private readonly federationId: string;
  /** The federation's guardians: n of them, f of which may be faulty. */
  readonly n: number;
  /** The guardians' API URLs (those the federation config names), for contact cards. */
  private readonly guardianUrls: readonly string[];

  constructor(init: ClientModuleInit) {
    this.instanceId = init.instanceId;
    this.keys = relayKeys(init.secret);
    this.ctx = init.context;
    this.db = init.db;
    this.prefix = init.keyPrefix;
    this.federationId = init.federationId;
    this.n = init.federation.guardians.length;
    // All of them in federation order, or none: a card's i-th URL is guardian i (delivery tokens differ
    // per guardian), so a list with a gap would send each token to the wrong guardian.
    const urls = init.federation.guardians.flatMap((g) => (g.api ? [g.api.url] : []));
    this.guardianUrls = urls.length === this.n ? urls : [];
  }

  /** Guardians that must hold an item for a send to count: f + 1, so that one of them is honest. */
  get writeQuorum(): number {
    return faultTolerance(this.n) + 1;
  }

  private path(rest: string): string {
    return `/v1/modules/${RELAY_KIND}/${rest}`;
  }

  // ---- contacts ---------------------------------------------------------------------------------

  /** This wallet's contact card (for `label`: one per contact lets the owner revoke one alone). */
  async card(
    name: string,
    options: { label?: string; address?: string } = {},
  ): Promise<{ name: string; label: string; text: string; fingerprint: string; qr: string }> {
    const label = options.label ?? DEFAULT_CARD;
    const body = {
      v: 1 as const,
      name,
      inbox: toHex(this.keys.inbox),
      federationId: this.federationId,
      delivery: toHex(deliverySecret(this.keys.deliveryRoot, label)),
      ...(options.address === undefined ? {} : { address: options.address }),
      ...(this.guardianUrls.length === 0 ? {} : { guardians: [...this.guardianUrls] }),
    };
    await this.rememberLabel(label);
    const text = encodeCard(signCard(body, this.keys.inboxSeed));
    const qr = encodeQR(text, "ascii", { ecc: "low" });
    return { name, label, text, fingerprint: fingerprint(body.inbox), qr };
  }

  /** Adds (or replaces) a contact from its card's text, after checking the card's signature. */
  async addContact(text: string): Promise<ContactView> {
    const card = decodeCard(text);
    if (card.inbox === toHex(this.keys.inbox)) throw relayError("own_card", "that is this wallet's own card");
    await this.db.write([put(`${this.prefix}contact/${card.inbox}`, json(card))]);
    return view(card);
  }

  async contacts(): Promise<ContactView[]> {
    return (await scanPrefix(this.db, `${this.prefix}contact/`)).map(([, v]) =>
      view(parseJson<ContactCard>(v)),
    );
  }

  private async contact(nameOrInbox: string): Promise<ContactCard> {
    const all = (await scanPrefix(this.db, `${this.prefix}contact/`)).map(([, v]) =>
      parseJson<ContactCard>(v),
    );
    const found = all.filter((c) => c.name === nameOrInbox || c.inbox === nameOrInbox);
    if (found.length === 1) return found[0]!;
    if (found.length > 1)
      throw relayError(
        "ambiguous_contact",
        `${found.length} contacts are named ${nameOrInbox}: use the inbox id`,
      );
    throw relayError("unknown_contact", `no contact ${nameOrInbox}: add their card first (contact add)`, {});
  }

  private async rememberLabel(label: string): Promise<void> {
    const raw = await this.db.get(`${this.prefix}cards`);
    const labels = raw ? parseJson<{ labels: string[] }>(raw).labels : [];
    if (!labels.includes(label))
      await this.db.write([put(`${this.prefix}cards`, json({ labels: [...labels, label] }))]);
  }

  // ---- mailbox: sending --------------------------------------------------------------------------

  /**
   * Seals `text` to the contact's inbox (the sender inside the ciphertext) and writes the same item to
   * every guardian, each with its own delivery token. At least f + 1 guardians must store it.
   */
  async send(to: string, text: string, kind: LetterKind = "text"): Promise<SendResult> {
    const card = await this.contact(to);
    const body = utf8.encode(text);
    if (body.length > LETTER_BODY_BYTES_MAX)
      throw relayError(
        "letter_too_large",
        `a letter carries at most ${LETTER_BODY_BYTES_MAX} bytes, this one ${body.length}`,
      );
    const { client, n } = await this.inboxFederation(card);
    const writeQuorum = faultTolerance(n) + 1;
    const guardians = Array.from({ length: n }, (_, g) => g);
    const letter: Letter = {
      sender: this.keys.inbox,
      messageId: this.ctx.random(16),
      sentAtMs: this.ctx.now(),
      kind,
      writtenTo: guardians,
      body,
    };
    const item = await sealItem(fromHex(card.inbox), this.keys.inboxSeed, letter);
    const delivery = fromHex(card.delivery);
    const answers = await Promise.all(
      guardians.map(async (g) => {
        const r = await client.postEach(
          this.path(`inbox/${card.inbox}/items`),
          { token: toHex(deliveryToken(delivery, g)), item: b64url(item) },
          PutItemResponseSchema,
          { guardians: [g] },
        );
        return r[0]!;
      }),
    );
    const itemId = toHex(sha256(item));
    const storedAt = answers.filter((a) => a.ok && a.value.id === itemId).map((a) => a.guardian);
    const failedAt = answers.flatMap((a) =>
      a.ok
        ? a.value.id === itemId
          ? []
          : [{ guardian: a.guardian, error: "answered with another item id" }]
        : [{ guardian: a.guardian, error: a.error.message }],
    );
    if (storedAt.length < writeQuorum)
      throw relayError(
        "not_delivered",
        `only ${storedAt.length} guardians stored the item, ${writeQuorum} needed`,
        { failedAt },
      );
    return { itemId, messageId: toHex(letter.messageId), storedAt, failedAt };
  }

  /**
   * The guardians that hold a contact's inbox: this federation's, or, for a contact at another
   * federation, those its card names. The card is signed by the contact's inbox key, and the other
   * federation is joined as this wallet joins its own: its config must hash to the card's federation
   * id (so the URLs cannot stand in for another federation's guardians) and run a relay module.
   */
  private async inboxFederation(card: ContactCard): Promise<{ client: FederationClient; n: number }> {
    if (card.federationId === this.federationId) return { client: await this.ctx.client(), n: this.n };
    const urls = card.guardians ?? [];
    if (urls.length === 0)
      throw relayError(
        "other_federation",
        "this contact's inbox is at another federation and its card names no guardians to reach it",
      );
    const invite = encodeInvite({
      federationId: card.federationId,
      name: `inbox of ${card.name}`.slice(0, 64),
      guardians: urls.map((api, g) => ({ name: `guardian ${g}`, api })),
    });
    let client: FederationClient;
    try {
      client = await this.ctx.otherFederation(invite);
    } catch (e) {
      throw relayError(
        "other_federation_unreachable",
        `the guardians on ${card.name}'s card did not serve federation ${card.federationId.slice(0, 16)}…: ${describe(e)}`,
      );
    }
    if (!client.config.modules.some((m) => m.kind === RELAY_KIND))
      throw relayError(
        "other_federation_no_relay",
        `${card.name}'s federation runs no relay module: its guardians keep no mailboxes`,
      );
    return { client, n: client.n };
  }

  // ---- mailbox: reading --------------------------------------------------------------------------

  private async signed<T>(
    client: FederationClient,
    g: number,
    action: AuthAction,
    rest: string,
    args: readonly string[],
    body: Record<string, unknown>,
    schema: Parameters<FederationClient["postEach"]>[2] & { parse(v: unknown): T },
  ): Promise<T> {
    const [c] = await client.postEach(this.path("challenge"), {}, ChallengeResponseSchema, {
      guardians: [g],
    });
    if (!c!.ok) throw c!.error;
    const challenge = fromHex(c!.value.challenge);
    const message = authSigningBytes(
      sha256,
      action,
      this.instanceId,
      g,
      this.keys.inbox,
      challenge,
      authArgs(args),
    );
    const signature = toHex(ed25519.sign(message, this.keys.inboxSeed));
    const [a] = await client.postEach(
      this.path(`inbox/${toHex(this.keys.inbox)}/${rest}`),
      { ...body, challenge: c!.value.challenge, signature },
      schema,
      { guardians: [g] },
    );
    if (!a!.ok) throw a!.error;
    return a!.value as T;
  }

  /** Registers this wallet's cards' delivery tokens at every guardian (then only card holders can write). */
  async registerTokens(): Promise<{ readonly registeredAt: readonly number[]; readonly tokens: number }> {
    const raw = await this.db.get(`${this.prefix}cards`);
    const labels = raw ? parseJson<{ labels: string[] }>(raw).labels : [DEFAULT_CARD];
    const client = await this.ctx.client();
    const registeredAt: number[] = [];
    let tokens = 0;
    await Promise.all(
      Array.from({ length: this.n }, async (_, g) => {
        const add = labels.map((l) =>
          toHex(sha256(deliveryToken(deliverySecret(this.keys.deliveryRoot, l), g))),
        );
        try {
          const r = await this.signed(
            client,
            g,
            "tokens",
            "tokens",
            [...add, "|"],
            { add, remove: [] },
            TokensResponseSchema,
          );
          registeredAt.push(g);
          tokens = r.tokens;
        } catch (e) {
          this.ctx.warn(`guardian ${g} did not register the delivery tokens: ${describe(e)}`);
        }
      }),
    );
    return { registeredAt: registeredAt.sort((a, b) => a - b), tokens };
  }

  /**
   * Reads the inbox at every guardian, opens what opens, de-duplicates (by item hash and message id),
   * notes which guardians lack a letter its sender wrote to them and which serve one already read,
   * then acknowledges everything it got at the guardians that served it (they delete it).
   */
  async read(): Promise<ReadResult> {
    return this.ctx.run(async () => {
      const client = await this.ctx.client();
      const failedAt: { guardian: number; error: string }[] = [];
      const served = new Map<string, { item: Uint8Array; guardians: number[] }>();
      await Promise.all(
        Array.from({ length: this.n }, async (_, g) => {
          try {
            let after: string | undefined;
            for (let page = 0; page < FETCH_PAGES_MAX; page++) {
              const r = await this.signed(
                client,
                g,
                "fetch",
                "fetch",
                [after ?? ""],
                after === undefined ? {} : { after },
                FetchResponseSchema,
              );
              for (const it of r.items) {
                const bytes = fromB64url(it.item);
                // The id is the item's hash: a guardian cannot pass one item off as another.
                const id = toHex(sha256(bytes));
                const entry = served.get(id) ?? { item: bytes, guardians: [] };
                if (!entry.guardians.includes(g)) entry.guardians.push(g);
                served.set(id, entry);
                after = it.id;
              }
              if (!r.more || r.items.length === 0) break;
            }
          } catch (e) {
            failedAt.push({ guardian: g, error: describe(e) });
          }
        }),
      );
      const contacts = new Map(
        (await scanPrefix(this.db, `${this.prefix}contact/`)).map(([, v]) => {
          const c = parseJson<ContactCard>(v);
          return [c.inbox, c.name] as const;
        }),
      );
      const unreadable = new Map<number, number>();
      const byMessage = new Map<string, { letter: Letter; guardians: Set<number> }>();
      const toAck = new Map<number, string[]>();
      for (const [id, { item, guardians }] of served) {
        for (const g of guardians) toAck.set(g, [...(toAck.get(g) ?? []), id]);
        let letter: Letter;
        try {
          letter = await openItem(this.keys.inboxSeed, item);
        } catch (e) {
          if (!(e instanceof MailboxFormatError)) throw e;
          for (const g of guardians) unreadable.set(g, (unreadable.get(g) ?? 0) + 1);
          continue;
        }
        const mid = toHex(letter.messageId);
        const entry = byMessage.get(mid) ?? { letter, guardians: new Set<number>() };
        for (const g of guardians) entry.guardians.add(g);
        byMessage.set(mid, entry);
      }
      const letters: ReceivedLetter[] = [];
      const replayed: { messageId: string; guardians: number[] }[] = [];
      const ops: DbOp[] = [];
      for (const [mid, { letter, guardians }] of byMessage) {
        const found = [...guardians].sort((a, b) => a - b);
        if ((await this.db.get(`${this.prefix}seen/${mid}`)) !== undefined) {
          replayed.push({ messageId: mid, guardians: found });
          continue;
        }
        ops.push(put(`${this.prefix}seen/${mid}`, json({ sentAtMs: letter.sentAtMs })));
        const from = toHex(letter.sender);
        const name = contacts.get(from);
        letters.push({
          messageId: mid,
          from,
          ...(name === undefined ? {} : { fromName: name }),
          sentAtMs: letter.sentAtMs,
          kind: letter.kind,
          text: utf8.decode(letter.body),
          foundAt: found,
          missingAt: letter.writtenTo.filter(
            (g) => g < this.n && !guardians.has(g) && !failedAt.some((f) => f.guardian === g),
          ),
        });
      }
      // Remember what was read before deleting it anywhere: a crash between the two leaves items that
      // the next read recognises as read (and deletes), never letters lost unread.
      await this.db.write(ops);
      await Promise.all(
        [...toAck].map(async ([g, ids]) => {
          for (let i = 0; i < ids.length; i += 64) {
            const chunk = ids.slice(i, i + 64);
            try {
              await this.signed(client, g, "ack", "ack", chunk, { ids: chunk }, AckResponseSchema);
            } catch (e) {
              this.ctx.warn(`guardian ${g} did not delete ${chunk.length} read items: ${describe(e)}`);
            }
          }
        }),
      );
      letters.sort((a, b) => a.sentAtMs - b.sentAtMs || (a.messageId < b.messageId ? -1 : 1));
      return {
        letters,
        replayed,
        unreadable: [...unreadable].map(([guardian, items]) => ({ guardian, items })),
        failedAt,
      };
    });
  }

  // ---- recovery store (recovery-owner.ts) -------------------------------------------------------

  /**
   * Encrypts the wallet's state (recovery.ts: counters, operation log, pending work, claims,
   * subaddresses, withdrawals, contacts), padded to a size class, and stores it as a new version at
   * every guardian. At least f + 1 must store it.
   */
  storeRecovery(): Promise<RecoveryStoreResult> {
    return owner.storeRecovery(this.owner());
  }

  /**
   * Fetches every guardian's copy of this wallet's recovery record, keeps the newest version that
   * verifies and decrypts, and merges it into the wallet (counters only go up; nothing the wallet
   * holds is overwritten). Run `resume` afterwards to finish restored pending work.
   */
  restoreRecovery(): Promise<RecoveryRestoreResult> {
    return owner.restoreRecovery(this.owner());
  }

  /**
   * Stores the recovery record again if the wallet's state differs from what it holds or it is
   * `maxAgeMs` old or more; otherwise writes nothing (undefined). RecoveryKeeper calls it.
   */
  refreshRecovery(maxAgeMs: number): Promise<RecoveryStoreResult | undefined> {
    return owner.refreshRecovery(this.owner(), maxAgeMs);
  }

  /** Whether this wallet stored (or restored) a recovery record. */
  hasRecoveryRecord(): Promise<boolean> {
    return owner.hasRecoveryRecord(this.owner());
  }

  /** Whether a database write of these keys changes what the recovery record holds. */
  recoveryCovers(keys: readonly string[]): boolean {
    return keys.some((k) => recoveryCovers(k, this.prefix));
  }

  // ---- social recovery (recovery-owner.ts) ---------------------------------------------------------

  private owner(): OwnerParts {
    return {
      ctx: this.ctx,
      db: this.db,
      prefix: this.prefix,
      federationId: this.federationId,
      keys: this.keys,
      n: this.n,
      writeQuorum: this.writeQuorum,
      contact: (nameOrInbox) => this.contact(nameOrInbox),
      send: (to, text, kind) => this.send(to, text, kind),
    };
  }

  /**
   * Splits a fresh data key among `holders` (t of them recover), stores `secret` (the wallet's
   * mnemonic) encrypted under it at every guardian, keeps the device's shard here, sends each
   * friend's shard to their inbox (a `shard` letter) and returns the offline shards as text and QR
   * code. A set made before is re-keyed: its record at the guardians becomes a tombstone, so its
   * shards recover nothing any more.
   */
  socialSetup(
    secret: Uint8Array,
    threshold: number,
    holders: readonly Holder[],
    options: { readonly onProgress?: (p: SocialProgress) => void } = {},
  ): Promise<SocialSetupResult> {
    return owner.socialSetup(this.owner(), secret, threshold, holders, options);
  }

  /**
   * Grows the current shard set: its holders plus `added`, `threshold` of them recover (2-of-3 to
   * 3-of-5). Re-keys (socialSetup): the old set's shards recover nothing afterwards.
   */
  socialAdd(
    secret: Uint8Array,
    threshold: number,
    added: readonly Holder[],
    options: { readonly onProgress?: (p: SocialProgress) => void } = {},
  ): Promise<SocialSetupResult> {
    return owner.socialAdd(this.owner(), secret, threshold, added, options);
  }

  /** Release requests for the current set's federation shard, as every guardian sees them. */
  recoveryRequests(): Promise<Awaited<ReturnType<typeof escrowStatus>>> {
    return owner.recoveryRequests(this.owner());
  }

  /** Cancels every open release request of the current set's federation shard, at every guardian. */
  cancelRecoveryRequests(): Promise<CancelResult> {
    return owner.cancelRecoveryRequests(this.owner());
  }

  /** The watch of the current set's release requests (kind recovery-escrow, key the set id). */
  recoveryWatch(): Promise<WatchTarget> {
    return owner.recoveryWatch(this.owner());
  }

  /**
   * Has every guardian wake this device when anyone asks the federation for its shard (or the owner
   * cancels): a webhook, or one push subscription per guardian made with that guardian's VAPID key.
   * The wake-up says nothing; the device then reads recoveryRequests() and cancels what it did not
   * ask for, within the delay. Registrations live ttlSeconds (at most 7 days): renew them.
   */
  alertRecoveryRequests(
    to: Parameters<typeof owner.alertRecoveryRequests>[1],
    ttlSeconds?: number,
  ): Promise<Registration[]> {
    return owner.alertRecoveryRequests(this.owner(), to, ttlSeconds);
  }

  /** The current shard set: its id, t, n and holders (undefined: none set up). */
  socialSet(): Promise<SocialRecord | undefined> {
    return owner.socialSet(this.owner());
  }

  /** This device's shard of the current set (to show alongside others when recovering). */
  deviceShard(): Promise<string | undefined> {
    return owner.deviceShard(this.owner());
  }

  /** Forgets read-message ids older than `olderThanMs` (past the guardians' hard expiry nothing replays). */
  async pruneSeen(olderThanMs: number): Promise<number> {
    const cutoff = this.ctx.now() - olderThanMs;
    const old = (await scanPrefix(this.db, `${this.prefix}seen/`)).filter(
      ([, v]) => parseJson<{ sentAtMs: number }>(v).sentAtMs < cutoff,
    );
    await this.db.write(old.map(([k]) => del(k)));
    return old.length;
  }
}

function view(card: ContactCard): ContactView {
  return {
    name: card.name,
    inbox: card.inbox,
    fingerprint: fingerprint(card.inbox),
    ...(card.address === undefined ? {} : { address: card.address }),
  };
}

export const b64url = base64UrlEncode;

/** Decodes base64url the guardian's schema already checked (so a failure here is a broken invariant). */
export function fromB64url(text: string): Uint8Array {
  const r = base64UrlDecode(text);
  if (!r.ok) throw relayError("bad_answer", `a guardian sent bad base64url at ${r.position}`);
  return r.bytes;
}

/** The relay half's factory (for walletFactories). */
export const relayClientFactory = {
  kind: RELAY_KIND,
  init: (init: ClientModuleInit): RelayClient => new RelayClient(init),
};
