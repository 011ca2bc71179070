// The client's view of a federation: it talks to every guardian and believes only what t = n - f of
// them agree on, or what it can verify itself (the federation config against the invite's id, a
// session against t guardian signatures). Up to f guardians may be down or lie without effect.
//
// Trust, per call:
//   join            the config must hash to the invite's federation id (the invite is what the user
//                   trusts); one guardian serving it is enough, a guardian serving another is reported.
//   submit          one guardian taking the transaction is enough to get it proposed; t guardians
//                   refusing it with the same code is a refusal.
//   awaitTransaction  t guardians must report the same final state (same outcomes, or same code).
//   session         t valid signatures of the federation's guardians over the served header.
//   queryConsensus  t guardians must answer the same value.
// Answers are counted per guardian address from the invite: the client trusts the invite's URLs to
// reach distinct guardians (use https so that nobody on the way can answer for them).
import type { z } from "zod";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  ConfigError,
  DEFAULT_TRANSACTION_LIMITS,
  InvalidRequestError,
  canonicalJson,
  decodeTransaction,
  federationId,
  fromHex,
  parseFederationConfig,
  toHex,
  txidHex,
} from "@conclave/core-common";
import { BACKUP_REQUEST_BYTES_MAX, BackupRecordSchema, BackupStoredSchema } from "@conclave/core-common";
import type { BackupRecord, BackupStored, FederationConfig } from "@conclave/core-common";
import {
  BadResponseError,
  FederationMismatchError,
  NoQuorumError,
  RequestAbortedError,
  SessionUnavailableError,
  asConclaveError,
  describeError,
} from "./errors.js";
import type { AnswerSummary } from "./errors.js";
import {
  decideAgreement,
  decideSubmit,
  describeStatus,
  finalStateKey,
  sameJson,
  summarize,
} from "./answers.js";
import type { GuardianInfo, GuardianStatusReport, SubmitResult, VerifiedSession } from "./answers.js";
import { decodeInviteCode } from "./invite.js";
import { clientLimits } from "./limits.js";
import type { ClientLimits } from "./limits.js";
import { fanOut, faultTolerance, groupAnswers, quorumThreshold } from "./quorum.js";
import type { Agreement, GuardianAnswer } from "./quorum.js";
import { sessionFromView, verifySession } from "./session-verify.js";
import type { SessionTrust, SignedSession } from "./session-verify.js";
import { GuardianHttp, backoffMs, sleep } from "./transport.js";
import type { FetchFn } from "./transport.js";
import {
  FederationViewSchema,
  GuardianStatusViewSchema,
  SessionViewSchema,
  TxStatusViewSchema,
  TxidSchema,
} from "./wire.js";
import type { FinalTxStatus, TxStatusView } from "./wire.js";

export { sameJson } from "./answers.js";
export type { GuardianInfo, GuardianStatusReport, SubmitResult, VerifiedSession } from "./answers.js";

export interface ClientOptions {
  readonly limits?: Partial<ClientLimits>;
  /** Defaults to the global fetch (Node 20+, browsers). */
  readonly fetch?: FetchFn;
  /** Uniform in [0, 1), for backoff jitter. */
  readonly random?: () => number;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface AwaitOptions extends CallOptions {
  /**
   * Whether the t guardians must also report the same outcomes (default true). Modules whose
   * outcomes differ per guardian (the mint: each guardian's own blind signature share) set it to
   * false: then t guardians agree on the state, height and fee, and each guardian's outcomes are in
   * `answers`, to be checked one by one (e.g. each share against that guardian's public key share).
   */
  readonly agreeOnOutcomes?: boolean;
  /** Give up after this long (default and maximum in the client limits). */
  readonly timeoutMs?: number;
}

/** A session is checked on its own (its header and t signatures): see session-verify.ts. */
export type SessionOptions = CallOptions;

export class FederationClient {
  /** Hex of the federation id the invite named and the config hashes to. */
  readonly federationId: string;
  /** The federation config, as served by the guardians and checked against the invite's id. */
  readonly config: FederationConfig;
  /** Guardians in federation order, reached at the invite's addresses. */
  readonly guardians: readonly GuardianInfo[];
  readonly n: number;
  /** Guardians that may be down or lie. */
  readonly f: number;
  /** Same answers needed: n - f. */
  readonly t: number;
  /** What each guardian answered when joining (a guardian serving another federation is named). */
  readonly joinAnswers: readonly AnswerSummary[];
  readonly limits: ClientLimits;
  private readonly http: readonly GuardianHttp[];
  private readonly random: () => number;
  private readonly trust: SessionTrust;

  private constructor(init: {
    federationId: string;
    config: FederationConfig;
    guardians: readonly GuardianInfo[];
    http: readonly GuardianHttp[];
    joinAnswers: readonly AnswerSummary[];
    limits: ClientLimits;
    random: () => number;
  }) {
    this.federationId = init.federationId;
    this.config = init.config;
    this.guardians = init.guardians;
    this.http = init.http;
    this.joinAnswers = init.joinAnswers;
    this.limits = init.limits;
    this.random = init.random;
    this.n = init.guardians.length;
    this.f = faultTolerance(this.n);
    this.t = quorumThreshold(this.n);
    this.trust = {
      federationId: fromHex(init.federationId),
      publicKeys: init.config.guardians.map((g) => fromHex(g.publicKey)),
      heightsPerSession: init.config.consensus.heightsPerSession,
      threshold: this.t,
    };
  }

  /**
   * Joins the federation an invite code names: asks every guardian for the federation config and
   * keeps the one that hashes to the invite's federation id (served by the most guardians, if some
   * differ in what the id does not cover: names, addresses, timeouts). Guardians are then reached at
   * the invite's addresses, never at addresses from the config.
   */
  static async join(
    inviteCode: string,
    options: ClientOptions & CallOptions = {},
  ): Promise<FederationClient> {
    const limits = clientLimits(options.limits);
    const invite = decodeInviteCode(inviteCode, limits.inviteCodeCharsMax);
    if (invite.guardians.length > limits.guardiansMax)
      throw new ConfigError(
        `the invite names ${invite.guardians.length} guardians, at most ${limits.guardiansMax}`,
      );
    const random = options.random ?? Math.random;
    const guardians = invite.guardians.map((g, index) => ({ index, name: g.name, url: g.api }));
    const http = guardians.map(
      (g) => new GuardianHttp(g.url, { limits, random, ...(options.fetch ? { fetch: options.fetch } : {}) }),
    );
    const n = guardians.length;
    const t = quorumThreshold(n);
    const wanted = invite.federationId;

    const served = async (g: number, signal: AbortSignal) => {
      const h = http[g]!;
      const view = await h.get("/v1/federation", FederationViewSchema, { signal });
      let config: FederationConfig;
      try {
        config = parseFederationConfig(view.config);
      } catch (e) {
        throw new BadResponseError(h.baseUrl, e instanceof Error ? e.message : String(e));
      }
      const id = toHex(federationId(config, sha256));
      if (id !== wanted) throw new BadResponseError(h.baseUrl, `it serves federation ${id}, not ${wanted}`);
      if (config.guardians.length !== n)
        throw new BadResponseError(
          h.baseUrl,
          `its config has ${config.guardians.length} guardians, the invite ${n}`,
        );
      return { config, key: canonicalJson(config) };
    };
    const sameConfig = (a: { key: string }, b: { key: string }) => a.key === b.key;
    const { answers } = await fanOut(
      guardians.map((g) => g.index),
      served,
      (answers, pending) =>
        (groupAnswers(answers, sameConfig)[0]?.guardians.length ?? 0) >= t || pending === 0
          ? true
          : undefined,
      {
        concurrency: limits.requestsInFlightMax,
        abortRestOnDecision: true,
        what: "joining the federation",
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    const summary = summarize(guardians, answers, () => "served the federation config");
    const best = groupAnswers(answers, sameConfig)[0];
    if (!best) throw new FederationMismatchError(wanted, summary);
    return new FederationClient({
      federationId: wanted,
      config: best.value.config,
      guardians,
      http,
      joinAnswers: summary,
      limits,
      random,
    });
  }

  private all(): number[] {
    return this.guardians.map((g) => g.index);
  }

  private fanOutOptions(what: string, abortRestOnDecision: boolean, signal: AbortSignal | undefined) {
    return {
      concurrency: this.limits.requestsInFlightMax,
      abortRestOnDecision,
      what,
      ...(signal ? { signal } : {}),
    };
  }

  /**
   * Sends a transaction (canonical bytes) to every guardian at once. Resolves as soon as one
   * guardian took it and no t guardians can refuse it any more; throws the refusal (e.g. a
   * TransactionRejectedError with code spent_input) when t guardians refuse it with one code, and a
   * NoQuorumError naming every answer when no guardian took it.
   */
  async submitTransaction(txBytes: Uint8Array, options: CallOptions = {}): Promise<SubmitResult> {
    if (txBytes.length > DEFAULT_TRANSACTION_LIMITS.txBytesMax)
      throw new InvalidRequestError(
        `a transaction is at most ${DEFAULT_TRANSACTION_LIMITS.txBytesMax} bytes, this one ${txBytes.length}`,
      );
    let txid: string;
    try {
      txid = txidHex(decodeTransaction(txBytes), sha256);
    } catch (e) {
      throw new InvalidRequestError(
        `not a valid transaction encoding: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const body = { transaction: toHex(txBytes) };
    const { decision, answers } = await fanOut(
      this.all(),
      async (g, signal) => {
        const h = this.http[g]!;
        const s = await h.post("/v1/transactions", body, TxStatusViewSchema, { signal });
        if (s.txid !== txid)
          throw new BadResponseError(h.baseUrl, `it answered for transaction ${s.txid}, not ${txid}`);
        return s;
      },
      (answers, pending) => decideSubmit(answers, pending, this.t),
      // The transaction should reach every guardian, even after the outcome is clear.
      this.fanOutOptions(`submitting transaction ${txid}`, false, options.signal),
    );
    if (decision?.kind === "refused") throw decision.error;
    if (decision?.kind === "taken") {
      const acceptedBy = answers.filter((a) => a.ok && a.value.state !== "rejected").map((a) => a.guardian);
      return { txid, acceptedBy: acceptedBy.sort((a, b) => a - b), answers };
    }
    throw new NoQuorumError(
      `no guardian took transaction ${txid}`,
      this.t,
      summarize(this.guardians, answers, describeStatus),
    );
  }

  /**
   * Waits until t guardians report the same final state of a transaction: accepted with the same
   * height, fee and outcomes, or rejected with the same code. Long-polls every guardian; a guardian
   * that is down, slow or lying just does not count. Throws NoQuorumError at the timeout.
   * An outcome is null while its module has none yet (agreed on as such); ask again later for it.
   */
  async awaitTransaction(
    txid: string,
    options: AwaitOptions = {},
  ): Promise<Agreement<FinalTxStatus, TxStatusView>> {
    if (!TxidSchema.safeParse(txid).success)
      throw new InvalidRequestError("a transaction id is 64 lowercase hex characters");
    const timeoutMs = Math.min(
      options.timeoutMs ?? this.limits.awaitTimeoutMsDefault,
      this.limits.awaitTimeoutMsMax,
    );
    const deadline = Date.now() + timeoutMs;
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const signal = controller.signal;
    const latest: (GuardianAnswer<TxStatusView> | undefined)[] = [];
    const finals: (FinalTxStatus | undefined)[] = [];
    let agreement: Agreement<FinalTxStatus, TxStatusView> | undefined;

    const check = () => {
      const finalAnswers = finals.flatMap((value, guardian) =>
        value ? [{ guardian, ok: true as const, value }] : [],
      );
      const withOutcomes = options.agreeOnOutcomes ?? true;
      const top = groupAnswers(
        finalAnswers,
        (a, b) => finalStateKey(a, withOutcomes) === finalStateKey(b, withOutcomes),
      )[0];
      if (!top || top.guardians.length < this.t || agreement) return;
      agreement = {
        value: top.value,
        agreedBy: [...top.guardians].sort((a, b) => a - b),
        answers: latest.filter((a) => a !== undefined),
      };
      controller.abort();
    };

    const watch = async (g: number): Promise<void> => {
      const h = this.http[g]!;
      let failures = 0;
      while (!signal.aborted) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) return;
        // Once final here, only refresh (outcomes may still change, e.g. a coin gets spent).
        const wait = finals[g] ? 0 : Math.ceil(Math.min(this.limits.pollWaitMsMax, remaining));
        try {
          const s = await h.get(
            `/v1/transactions/${txid}${wait > 0 ? `?wait=${wait}` : ""}`,
            TxStatusViewSchema,
            {
              signal,
              timeoutMs: wait > 0 ? wait + this.limits.longPollMarginMs : this.limits.requestTimeoutMs,
            },
          );
          if (s.txid !== txid) throw new BadResponseError(h.baseUrl, `it answered for transaction ${s.txid}`);
          failures = 0;
          latest[g] = { guardian: g, ok: true, value: s };
          if (s.state !== "proposed") {
            finals[g] = s;
            check();
            await sleep(this.limits.finalRecheckMs, signal);
          } else await sleep(this.limits.pollGapMs, signal);
        } catch (e) {
          if (signal.aborted) return;
          const error = asConclaveError(e);
          latest[g] = { guardian: g, ok: false, error };
          // not_found: this guardian has not seen the transaction yet; it will once consensus decides it.
          const pause =
            error.code === "not_found"
              ? this.limits.pollGapMs
              : backoffMs(failures++, this.limits, this.random);
          await sleep(pause, signal);
        }
      }
    };

    try {
      // One long-poll per guardian (at most guardiansMax), for as long as the wait lasts.
      await Promise.all(this.all().map((g) => watch(g)));
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    }
    if (agreement) return agreement;
    if (options.signal?.aborted) throw new RequestAbortedError(`waiting for transaction ${txid}`);
    const answers = this.guardians.map((g): AnswerSummary => {
      const final = finals[g.index];
      const last = latest[g.index];
      const answer = final
        ? describeStatus(final)
        : last === undefined
          ? "no answer"
          : last.ok
            ? describeStatus(last.value)
            : describeError(last.error);
      return { guardian: g.index, url: g.url, answer };
    });
    throw new NoQuorumError(
      `no final state of transaction ${txid} reported by enough guardians within ${timeoutMs} ms`,
      this.t,
      answers,
    );
  }

  /** Every guardian's own status (not agreed on: each reports itself), and which ones answered. */
  async status(options: CallOptions = {}): Promise<readonly GuardianStatusReport[]> {
    const { answers } = await fanOut(
      this.all(),
      (g, signal) => this.http[g]!.get("/v1/status", GuardianStatusViewSchema, { signal }),
      () => undefined,
      this.fanOutOptions("asking for the guardians' status", false, options.signal),
    );
    return this.guardians.map((g): GuardianStatusReport => {
      const a = answers.find((x) => x.guardian === g.index);
      if (a?.ok) return { ...g, reachable: true, status: a.value };
      return { ...g, reachable: false, error: a?.error ?? asConclaveError(new Error("no answer")) };
    });
  }

  /**
   * A signed session's header, verified here: asks guardians one after another until one serves a
   * copy with t valid guardian signatures over the hash of its block ids (the blocks themselves are
   * not public). Guardians whose copy does not verify
   * are skipped and named in `skipped`.
   */
  async session(index: number, options: SessionOptions = {}): Promise<VerifiedSession> {
    if (!Number.isSafeInteger(index) || index < 0)
      throw new InvalidRequestError(`a session index is a whole number from 0, got ${index}`);
    const skipped: AnswerSummary[] = [];
    for (const g of this.guardians) {
      if (options.signal?.aborted) throw new RequestAbortedError(`fetching session ${index}`);
      const skip = (answer: string) => skipped.push({ guardian: g.index, url: g.url, answer });
      let signed: SignedSession;
      try {
        const view = await this.http[g.index]!.get(`/v1/sessions/${index}`, SessionViewSchema, {
          responseBytesMax: this.limits.sessionResponseBytesMax,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        signed = sessionFromView(view);
      } catch (e) {
        if (options.signal?.aborted) throw new RequestAbortedError(`fetching session ${index}`);
        skip(describeError(asConclaveError(e)));
        continue;
      }
      const check = verifySession(this.trust, signed, index);
      if (!check.ok) {
        skip(`served a session that does not verify: ${check.reason}`);
        continue;
      }
      return { ...signed, servedBy: g.index, signers: check.signers, skipped };
    }
    throw new SessionUnavailableError(index, skipped);
  }

  /** One guardian's own view of a transaction (not agreed on: for per-guardian outcomes). */
  async transactionAt(guardian: number, txid: string, options: CallOptions = {}): Promise<TxStatusView> {
    if (!TxidSchema.safeParse(txid).success)
      throw new InvalidRequestError("a transaction id is 64 lowercase hex characters");
    const h = this.guardianHttp(guardian);
    const s = await h.get(`/v1/transactions/${txid}`, TxStatusViewSchema, this.signalOption(options));
    if (s.txid !== txid) throw new BadResponseError(h.baseUrl, `it answered for transaction ${s.txid}`);
    return s;
  }

  /**
   * POSTs `body` to `path` at every guardian (or the given ones) and returns every answer, each
   * validated by `schema`: for per-guardian answers the caller checks one by one (blind signature
   * shares). Waits for all of them, each bounded by the request timeout.
   */
  async postEach<T>(
    path: string,
    body: unknown,
    schema: z.ZodType<T>,
    options: CallOptions & { readonly guardians?: readonly number[] } = {},
  ): Promise<readonly GuardianAnswer<T>[]> {
    return this.each(`POST ${path}`, path, options, (g, signal) =>
      this.http[g]!.post(path, body, schema, { signal }),
    );
  }

  /**
   * GETs `path` from every guardian (or the given ones) and returns every answer, each validated by
   * `schema`: for per-guardian answers the caller checks one by one (each guardian's own signature
   * of a wXMR mint). Waits for all of them, each bounded by the request timeout.
   */
  async getEach<T>(
    path: string,
    schema: z.ZodType<T>,
    options: CallOptions & { readonly guardians?: readonly number[] } = {},
  ): Promise<readonly GuardianAnswer<T>[]> {
    return this.each(`GET ${path}`, path, options, (g, signal) =>
      this.http[g]!.get(path, schema, { signal }),
    );
  }

  /** One request to every guardian (or the given ones); every answer, in guardian order. */
  private async each<T>(
    label: string,
    path: string,
    options: CallOptions & { readonly guardians?: readonly number[] },
    request: (guardian: number, signal: AbortSignal) => Promise<T>,
  ): Promise<readonly GuardianAnswer<T>[]> {
    checkApiPath(path);
    const targets = options.guardians ?? this.all();
    for (const g of targets) this.guardianHttp(g);
    const { answers } = await fanOut(
      targets,
      request,
      () => undefined,
      this.fanOutOptions(label, false, options.signal),
    );
    return [...answers].sort((a, b) => a.guardian - b.guardian);
  }

  /** POSTs `body` to `path` at every guardian and returns the value t of them agree on. */
  async postConsensus<T>(
    path: string,
    body: unknown,
    schema: z.ZodType<T>,
    equal: (a: T, b: T) => boolean = sameJson,
    options: CallOptions = {},
  ): Promise<Agreement<T>> {
    return this.agreeOn(
      "POST",
      path,
      (g, signal) => this.http[g]!.post(path, body, schema, { signal }),
      equal,
      options,
    );
  }

  /**
   * Stores an encrypted backup at every guardian (core-common backup.ts). At least t must store
   * it, or this throws a NoQuorumError naming each guardian's answer; returns who stored it.
   */
  async uploadBackup(
    record: BackupRecord,
    options: CallOptions = {},
  ): Promise<{ storedBy: readonly number[]; answers: readonly GuardianAnswer<BackupStored>[] }> {
    const parsed = BackupRecordSchema.safeParse(record);
    if (!parsed.success) throw new InvalidRequestError(`not a valid backup record: ${parsed.error.message}`);
    const answers = await this.postEach("/v1/backups", record, BackupStoredSchema, options);
    const storedBy = answers.filter((a) => a.ok).map((a) => a.guardian);
    if (storedBy.length < this.t)
      throw new NoQuorumError(
        `only ${storedBy.length} guardians stored the backup, ${this.t} needed`,
        this.t,
        summarize(this.guardians, answers, (v) => `stored version ${v.version}`),
      );
    return { storedBy, answers };
  }

  /**
   * Every guardian's copy of the backup named `id` (hex). Not agreed on: the caller checks each
   * record's signature and decrypts it, and keeps the highest version it can read.
   */
  async downloadBackups(
    id: string,
    options: CallOptions = {},
  ): Promise<readonly GuardianAnswer<BackupRecord>[]> {
    if (!/^[0-9a-f]{64}$/.test(id))
      throw new InvalidRequestError("a backup id is 64 lowercase hex characters");
    const { answers } = await fanOut(
      this.all(),
      async (g, signal) => {
        const h = this.http[g]!;
        const r = await h.get(`/v1/backups/${id}`, BackupRecordSchema, {
          signal,
          responseBytesMax: BACKUP_REQUEST_BYTES_MAX,
        });
        if (r.id !== id) throw new BadResponseError(h.baseUrl, `it answered with backup ${r.id}`);
        return r;
      },
      () => undefined,
      this.fanOutOptions(`downloading backup ${id}`, false, options.signal),
    );
    return [...answers].sort((a, b) => a.guardian - b.guardian);
  }

  /** Asks every guardian (`task`) and returns the value t of them agree on, or throws NoQuorumError. */
  private async agreeOn<T>(
    method: "GET" | "POST",
    path: string,
    task: (guardian: number, signal: AbortSignal) => Promise<T>,
    equal: (a: T, b: T) => boolean,
    options: CallOptions,
  ): Promise<Agreement<T>> {
    checkApiPath(path);
    const { decision, answers } = await fanOut(
      this.all(),
      task,
      (answers, pending) => decideAgreement(answers, pending, this.t, equal),
      this.fanOutOptions(`${method} ${path}`, true, options.signal),
    );
    const agreed = decision?.agreed;
    if (agreed)
      return { value: agreed.value, agreedBy: [...agreed.guardians].sort((a, b) => a - b), answers };
    throw new NoQuorumError(
      `no ${this.t} guardians gave the same answer to ${method} ${path}`,
      this.t,
      summarize(this.guardians, answers, (v) => canonicalJson(v).slice(0, 300)),
    );
  }

  private guardianHttp(guardian: number): GuardianHttp {
    const h = this.http[guardian];
    if (!h) throw new InvalidRequestError(`no guardian ${guardian}; this federation has ${this.n}`);
    return h;
  }

  private signalOption(options: CallOptions): { signal?: AbortSignal } {
    return options.signal ? { signal: options.signal } : {};
  }

  /**
   * GETs `path` from every guardian and returns the value t of them agree on (by `equal`, JSON
   * equality by default). Stops asking once t agree, or once no value can reach t any more.
   */
  async queryConsensus<T>(
    path: string,
    schema: z.ZodType<T>,
    equal: (a: T, b: T) => boolean = sameJson,
    options: CallOptions = {},
  ): Promise<Agreement<T>> {
    return this.agreeOn(
      "GET",
      path,
      (g, signal) => this.http[g]!.get(path, schema, { signal }),
      equal,
      options,
    );
  }
}

function checkApiPath(path: string): void {
  if (!path.startsWith("/v1/"))
    throw new InvalidRequestError(`an API path starts with /v1/, got ${path.slice(0, 64)}`);
}
