// Webhooks and Web Push registrations at one guardian (no consensus; in memory while it runs, and in
// its own LMDB environment (registration-store.ts) so that a restart forgets none: reloaded at start,
// a webhook then told each watch's state now again, as at registration).
//
// Webhook: on every change of a watched state, a POST of {type:"state", registration, guardian, kind,
// key, state} to the client's URL, signed with Standard Webhooks headers (webhook-id, -timestamp,
// -signature: HMAC-SHA256 under the registration's secret, which this guardian generates and returns
// once). One delivery in flight per registration, in order; failures are retried with exponential
// back-off (retryMsMin, doubling, `attemptsMax` attempts), then that event is dropped; at most
// `queueMax` events wait (the oldest is dropped first).
// Web Push: on every change, one wake-up of constant content (WAKE_PAYLOAD, RFC 8291 aes128gcm with
// web-push, VAPID RFC 8292, Topic so that an undelivered wake-up is replaced): the push service
// learns that something changed for this subscription, never what. Changes while a wake-up is in
// flight make one more wake-up, not one each. 404/410 from the push service drops the registration.
// Cover wake-ups: every push registration is also woken at random times (a Poisson process of
// `coverWakeupsPerDay`: exponentially distributed gaps, drawn from a CSPRNG), through the same path as
// a real wake-up (same payload, headers, Topic, TTL, retries, 404/410 handling), so that the push
// service cannot tell from a wake-up's timing that something happened. Their cost is bounded: at most
// registrationsMax registrations get them, and at most `coverWakeupsPerMinuteMax` are sent per minute
// by the whole guardian (a due one over the cap is skipped and its next time drawn).
// Both: URLs are checked against SSRF (outbound.ts) at registration and at every delivery.
import { randomBytes } from "node:crypto";
import { ConclaveError, InvalidRequestError, NotFoundError, RateLimitedError } from "@conclave/core-common";
import type { WatchFn, WatchHandle, WatchState } from "@conclave/core-server";
import { TokenBuckets } from "@conclave/core-server";
import { p256 } from "@noble/curves/nist.js";
import { Webhook } from "standardwebhooks";
import webpush from "web-push";
import { WAKE_PAYLOAD, WAKE_TOPIC } from "../watch-common.js";
import type { PushSubscriptionJson, Registered, WatchTarget, WebhookBody } from "../watch-common.js";
import { checkDestination, postTo } from "./outbound.js";
import type { RegistrationStore, StoredRegistration } from "./registration-store.js";
import type { OutboundPolicy } from "./outbound.js";

export interface PushLimits {
  /** Live webhook and push registrations per client network. */
  readonly registrationsPerClientMax: number;
  /** Live registrations at this guardian in all. */
  readonly registrationsMax: number;
  /** New registrations per client network per hour (and at once). */
  readonly registrationsPerClientPerHour: number;
  /** Delivery attempts per event (webhooks) or wake-up (push). */
  readonly attemptsMax: number;
  /** First retry delay; it doubles. */
  readonly retryMsMin: number;
  /** Webhook events waiting per registration. */
  readonly queueMax: number;
  /** Deadline of one outbound request. */
  readonly outboundTimeoutMs: number;
  /** TTL of a wake-up at the push service (RFC 8030 5.2). */
  readonly pushTtlSeconds: number;
  /** Mean cover wake-ups per push registration per day (0: none). guardian.local.json `coverWakeupsPerDay`. */
  readonly coverWakeupsPerDay: number;
  /** Cover wake-ups this guardian sends per minute at most, over all registrations (and at once). */
  readonly coverWakeupsPerMinuteMax: number;
  /** How often due cover wake-ups are looked for. */
  readonly coverTickMs: number;
}

export const DEFAULT_PUSH_LIMITS: PushLimits = {
  registrationsPerClientMax: 16,
  registrationsMax: 10_000,
  registrationsPerClientPerHour: 60,
  attemptsMax: 6,
  retryMsMin: 1000,
  queueMax: 32,
  outboundTimeoutMs: 5000,
  pushTtlSeconds: 24 * 3600,
  // 4 a day: with 10,000 registrations ~28 a minute on average, under the cap.
  coverWakeupsPerDay: 4,
  coverWakeupsPerMinuteMax: 60,
  coverTickMs: 10_000,
};

/** A uniform number in [0, 1) from the CSPRNG (48 bits): cover times must not be predictable. */
export function secureRandom(): number {
  return randomBytes(6).readUIntBE(0, 6) / 2 ** 48;
}

export interface VapidKeys {
  readonly publicKey: string;
  readonly privateKey: string;
  readonly subject: string;
}

type Target =
  | { readonly kind: "webhook"; readonly url: string }
  | { readonly kind: "push"; readonly subscription: PushSubscriptionJson };

interface WebhookEvent {
  /** The webhook-id: the same on every retry, so the receiver can de-duplicate. */
  readonly msgId: string;
  readonly body: WebhookBody;
}

interface Registration {
  readonly id: string;
  readonly secret: string;
  readonly client: string;
  readonly target: Target;
  readonly expiresAtMs: number;
  readonly watches: readonly WatchTarget[];
  readonly handles: WatchHandle[];
  /** Webhook events waiting, in order. */
  readonly queue: WebhookEvent[];
  busy: boolean;
  /** Push: a change arrived while a wake-up was in flight. */
  again: boolean;
  /** Push: when its next cover wake-up is due (ms since the epoch; none when cover is off). */
  coverAtMs: number | undefined;
}

export interface PushCounters {
  delivered: number;
  failed: number;
  dropped: number;
  expired: number;
  /** Cover wake-ups started (each then counts as delivered, failed... as a real one). */
  cover: number;
  /** Cover wake-ups due but not sent: over coverWakeupsPerMinuteMax. */
  cover_skipped: number;
}

function b64urlBytes(text: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(text)) throw new InvalidRequestError(`${what}: base64url`);
  return new Uint8Array(Buffer.from(text, "base64url"));
}

/**
 * Refuses a push subscription whose keys cannot be encrypted to: p256dh must be an uncompressed P-256
 * point on the curve (65 bytes), auth 16 bytes (RFC 8291 3). A wrong key would make every wake-up
 * undecryptable, and the guardian would spend its work on nothing.
 */
export function checkPushKeys(sub: PushSubscriptionJson): void {
  const key = b64urlBytes(sub.keys.p256dh, "keys.p256dh");
  if (key.length !== 65 || key[0] !== 4)
    throw new InvalidRequestError("keys.p256dh: an uncompressed P-256 public key (65 bytes, 0x04...)", {
      reason: "bad_push_key",
    });
  try {
    p256.Point.fromBytes(key).assertValidity();
  } catch {
    throw new InvalidRequestError("keys.p256dh is not a point on P-256", { reason: "bad_push_key" });
  }
  if (b64urlBytes(sub.keys.auth, "keys.auth").length !== 16)
    throw new InvalidRequestError("keys.auth: 16 bytes (RFC 8291)", { reason: "bad_push_key" });
}

export class PushRegistrations {
  private readonly registrations = new Map<string, Registration>();
  private readonly perClient = new Map<string, number>();
  private readonly buckets: TokenBuckets;
  private readonly coverBucket: TokenBuckets;
  private readonly coverTimer: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  private store: RegistrationStore | undefined;
  readonly counters: PushCounters = {
    delivered: 0,
    failed: 0,
    dropped: 0,
    expired: 0,
    cover: 0,
    cover_skipped: 0,
  };
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly options: {
      readonly limits: PushLimits;
      readonly policy: OutboundPolicy;
      readonly vapid: () => VapidKeys;
      readonly watch: () => WatchFn;
      readonly guardian: () => number;
      readonly now: () => number;
      readonly log: (event: string, fields: Record<string, unknown>) => void;
      /** Uniform in [0, 1) (cover wake-up times); default secureRandom. Tests pass their own. */
      readonly random?: () => number;
      /** false: no timer looks for due cover wake-ups (tests call coverTick). Default true. */
      readonly coverTimer?: boolean;
    },
  ) {
    const l = options.limits;
    this.buckets = new TokenBuckets({
      perSecond: l.registrationsPerClientPerHour / 3600,
      burst: l.registrationsPerClientPerHour,
      now: options.now,
    });
    this.sweep = setInterval(() => this.expire(), 60_000);
    this.sweep.unref();
    this.coverBucket = new TokenBuckets({
      perSecond: Math.max(l.coverWakeupsPerMinuteMax, 1) / 60,
      burst: Math.max(l.coverWakeupsPerMinuteMax, 1),
      now: options.now,
    });
    if (l.coverWakeupsPerDay > 0 && options.coverTimer !== false) {
      this.coverTimer = setInterval(() => this.coverTick(), l.coverTickMs);
      this.coverTimer.unref();
    }
  }

  /** When the next cover wake-up after `from` is due: an exponentially distributed gap. */
  private nextCoverAt(from: number): number | undefined {
    const perDay = this.options.limits.coverWakeupsPerDay;
    if (!(perDay > 0) || !(this.options.limits.coverWakeupsPerMinuteMax > 0)) return undefined;
    const u = (this.options.random ?? secureRandom)();
    return from - Math.log(1 - u) * (86_400_000 / perDay);
  }

  /**
   * Starts the cover wake-ups now due (each registration's next one drawn at once), within the
   * guardian's per-minute cap. Runs every coverTickMs; tests call it with their own clock.
   */
  coverTick(): void {
    if (this.closed) return;
    const now = this.options.now();
    for (const r of [...this.registrations.values()]) {
      if (r.coverAtMs === undefined || r.coverAtMs > now || r.expiresAtMs <= now) continue;
      r.coverAtMs = this.nextCoverAt(now);
      if (this.coverBucket.take("cover") > 0) {
        this.counters.cover_skipped++;
        continue;
      }
      this.counters.cover++;
      this.wake(r);
    }
  }

  /** When a push registration's next cover wake-up is due (tests). */
  coverDueAt(id: string): number | undefined {
    return this.registrations.get(id)?.coverAtMs;
  }

  get size(): number {
    return this.registrations.size;
  }

  has(id: string): boolean {
    return this.registrations.has(id);
  }

  /** Registers a webhook (its URL checked now, and at every delivery); sends each watch's current state. */
  async webhook(
    client: string,
    url: string,
    watches: readonly WatchTarget[],
    ttlSeconds: number,
  ): Promise<Registered> {
    this.admit(client);
    await checkDestination(url, this.options.policy);
    const r = this.add(client, { kind: "webhook", url }, watches, ttlSeconds);
    await this.persist(r);
    this.sendCurrent(r);
    return { id: r.id, secret: r.secret, expiresAtMs: r.expiresAtMs };
  }

  /** NUT-17's rule for webhooks too: the state now first (what the guardian knows), then changes. */
  private sendCurrent(r: Registration): void {
    r.handles.forEach((h, i) => {
      h.current().then(
        (s) => s && this.changed(r, r.watches[i]!, s),
        (e: unknown) => this.options.log("watch.source-failed", { error: String(e) }),
      );
    });
  }

  /** Writes a new registration to the store (if any); undoes it if the write fails. */
  private async persist(r: Registration): Promise<void> {
    if (!this.store) return;
    try {
      await this.store.put({
        id: r.id,
        secret: r.secret,
        client: r.client,
        target: r.target,
        watches: r.watches.map((w) => ({ kind: w.kind, key: w.key })),
        expiresAtMs: r.expiresAtMs,
      });
    } catch (e) {
      this.remove(r);
      throw e;
    }
  }

  /**
   * Keeps registrations in `store` from now on and runs again the live ones it holds (after a
   * restart). An expired one, one over the bounds, or one whose watch its source now refuses is
   * deleted. Returns how many run again.
   */
  async restore(store: RegistrationStore): Promise<number> {
    this.store = store;
    const { records, damaged } = store.all();
    if (damaged.length > 0) this.options.log("watch.registrations-damaged", { ids: damaged });
    let restored = 0;
    for (const rec of records) {
      const reason = this.restoreOne(rec);
      if (reason === undefined) {
        restored++;
        continue;
      }
      this.options.log("watch.registration-dropped", { registration: rec.id, reason });
      await store.delete(rec.id);
    }
    for (const id of damaged) await store.delete(id);
    return restored;
  }

  private restoreOne(rec: StoredRegistration): string | undefined {
    const l = this.options.limits;
    if (rec.expiresAtMs <= this.options.now()) return "expired";
    if (this.registrations.has(rec.id)) return "duplicate";
    if ((this.perClient.get(rec.client) ?? 0) >= l.registrationsPerClientMax) return "client bound";
    if (this.registrations.size >= l.registrationsMax) return "guardian bound";
    let r: Registration;
    try {
      r = this.add(rec.client, rec.target, rec.watches, 0, {
        id: rec.id,
        secret: rec.secret,
        expiresAtMs: rec.expiresAtMs,
      });
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
    if (r.target.kind === "webhook") this.sendCurrent(r);
    return undefined;
  }

  /** Registers a push subscription (keys and endpoint checked); wake-ups follow changes only. */
  async push(
    client: string,
    subscription: PushSubscriptionJson,
    watches: readonly WatchTarget[],
    ttlSeconds: number,
  ): Promise<Registered> {
    this.admit(client);
    checkPushKeys(subscription);
    await checkDestination(subscription.endpoint, this.options.policy);
    const r = this.add(client, { kind: "push", subscription }, watches, ttlSeconds);
    await this.persist(r);
    return { id: r.id, secret: r.secret, expiresAtMs: r.expiresAtMs };
  }

  delete(id: string, secret: string): boolean {
    const r = this.registrations.get(id);
    if (!r) return false;
    if (r.secret !== secret) throw new NotFoundError(`no registration ${id} with this secret`);
    this.remove(r);
    return true;
  }

  private admit(client: string): void {
    const l = this.options.limits;
    if ((this.perClient.get(client) ?? 0) >= l.registrationsPerClientMax)
      throw new ConclaveError(
        "too_many_registrations",
        `at most ${l.registrationsPerClientMax} live registrations per client network; delete one or let it expire`,
        { status: 429, details: { limit: l.registrationsPerClientMax } },
      );
    if (this.registrations.size >= l.registrationsMax)
      throw new ConclaveError(
        "too_many_registrations",
        "this guardian holds all the registrations it can; use another guardian",
        {
          status: 503,
        },
      );
    const waitMs = this.buckets.take(client);
    if (waitMs > 0) throw new RateLimitedError(waitMs);
  }

  private add(
    client: string,
    target: Target,
    watches: readonly WatchTarget[],
    ttlSeconds: number,
    stored?: { readonly id: string; readonly secret: string; readonly expiresAtMs: number },
  ): Registration {
    const r: Registration = {
      id: stored?.id ?? randomBytes(16).toString("hex"),
      secret: stored?.secret ?? `whsec_${randomBytes(32).toString("base64")}`,
      client,
      target,
      expiresAtMs: stored?.expiresAtMs ?? this.options.now() + ttlSeconds * 1000,
      watches,
      handles: [],
      queue: [],
      busy: false,
      again: false,
      coverAtMs: target.kind === "push" ? this.nextCoverAt(this.options.now()) : undefined,
    };
    const watch = this.options.watch();
    try {
      for (const w of watches) r.handles.push(watch(w.kind, w.key, (s) => this.changed(r, w, s)));
    } catch (e) {
      for (const h of r.handles) h.unsubscribe();
      throw e;
    }
    this.registrations.set(r.id, r);
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
    return r;
  }

  private remove(r: Registration, forget = true): void {
    if (!this.registrations.delete(r.id)) return;
    for (const h of r.handles) h.unsubscribe();
    if (forget && this.store)
      this.store
        .delete(r.id)
        .catch((e: unknown) =>
          this.options.log("watch.registration-delete-failed", { registration: r.id, error: String(e) }),
        );
    const n = (this.perClient.get(r.client) ?? 1) - 1;
    if (n > 0) this.perClient.set(r.client, n);
    else this.perClient.delete(r.client);
  }

  private expire(): void {
    const now = this.options.now();
    for (const r of [...this.registrations.values()])
      if (r.expiresAtMs <= now) {
        this.remove(r);
        this.counters.expired++;
      }
  }

  private changed(r: Registration, w: WatchTarget, state: WatchState): void {
    if (this.closed || !this.registrations.has(r.id)) return;
    if (r.target.kind === "push") {
      this.wake(r);
      return;
    }
    r.queue.push({
      msgId: `msg_${randomBytes(12).toString("hex")}`,
      body: {
        type: "state",
        registration: r.id,
        guardian: this.options.guardian(),
        kind: w.kind,
        key: w.key,
        state: { ...state },
      },
    });
    if (r.queue.length > this.options.limits.queueMax) {
      r.queue.shift();
      this.counters.dropped++;
    }
    if (!r.busy) void this.deliver(r, r.queue.shift(), 1);
  }

  /** A push registration's wake-up, real or cover: one path, so the two cannot be told apart. */
  private wake(r: Registration): void {
    if (r.busy) r.again = true;
    else void this.deliver(r, undefined, 1);
  }

  private later(ms: number, f: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      f();
    }, ms);
    this.timers.add(t);
  }

  /** One attempt; on failure a retry after back-off; then the next event. Never throws. */
  private async deliver(r: Registration, event: WebhookEvent | undefined, attempt: number): Promise<void> {
    if (this.closed || !this.registrations.has(r.id)) return;
    if (r.target.kind === "webhook" && !event) return;
    r.busy = true;
    r.again = false;
    let status = 0;
    try {
      status =
        r.target.kind === "push"
          ? await this.sendWake(r.target.subscription)
          : await this.sendWebhook(r, r.target.url, event!);
    } catch (e) {
      this.options.log("watch.delivery-failed", {
        registration: r.id,
        error: e instanceof Error ? e.message : String(e),
      });
    }
    const l = this.options.limits;
    if (status >= 200 && status < 300) this.counters.delivered++;
    else if (r.target.kind === "push" && (status === 404 || status === 410)) {
      // RFC 8030 7.3: the subscription is gone; wake-ups to it are wasted.
      this.counters.expired++;
      this.options.log("watch.push-expired", { registration: r.id, status });
      this.remove(r);
      return;
    } else {
      this.counters.failed++;
      const retryable =
        status === 0 || status === 408 || status === 429 || status >= 500 || r.target.kind === "webhook";
      if (retryable && attempt < l.attemptsMax) {
        this.later(l.retryMsMin * 2 ** (attempt - 1), () => void this.deliver(r, event, attempt + 1));
        return;
      }
      this.counters.dropped++;
    }
    r.busy = false;
    if (r.target.kind === "push") {
      if (r.again) void this.deliver(r, undefined, 1);
    } else if (r.queue.length > 0) void this.deliver(r, r.queue.shift(), 1);
  }

  private async sendWebhook(r: Registration, url: string, event: WebhookEvent): Promise<number> {
    const body = JSON.stringify(event.body);
    const msgId = event.msgId;
    const at = new Date(this.options.now());
    const signature = new Webhook(r.secret).sign(msgId, at, body);
    const answer = await postTo(
      url,
      this.options.policy,
      {
        "content-type": "application/json",
        "webhook-id": msgId,
        "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": signature,
      },
      Buffer.from(body),
      { timeoutMs: this.options.limits.outboundTimeoutMs },
    );
    return answer.status;
  }

  private async sendWake(subscription: PushSubscriptionJson): Promise<number> {
    const vapid = this.options.vapid();
    // web-push builds the request (RFC 8291 encryption, RFC 8292 VAPID header); outbound.ts sends it,
    // so that the endpoint is checked and pinned like any other request this guardian makes.
    const details = webpush.generateRequestDetails(
      { endpoint: subscription.endpoint, keys: subscription.keys },
      WAKE_PAYLOAD,
      {
        vapidDetails: vapid,
        TTL: this.options.limits.pushTtlSeconds,
        urgency: "high",
        topic: WAKE_TOPIC,
        contentEncoding: "aes128gcm",
      },
    );
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(details.headers)) headers[k] = String(v);
    const answer = await postTo(details.endpoint, this.options.policy, headers, details.body, {
      timeoutMs: this.options.limits.outboundTimeoutMs,
    });
    return answer.status;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweep);
    if (this.coverTimer) clearInterval(this.coverTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    // Closing is not deleting: the store keeps them for the next start.
    for (const r of [...this.registrations.values()]) this.remove(r, false);
    this.store = undefined;
  }
}
