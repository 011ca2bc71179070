// This guardian's pieces of federation-held recovery shards (escrow.ts; docs/relay.md, "The
// federation's shard"). One deposit per shard set: the owner's key, this guardian's piece, the delay,
// a version (replaced only by a higher one signed by the same owner key; an empty piece withdraws it),
// and the release requests made for it, each with its own clock. No consensus: every guardian decides
// alone, on its own clock, and a client needs t pieces, so f guardians releasing early give nothing.
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { open } from "lmdb";
import type { Database, RootDatabase } from "lmdb";
import { CipherSuite, HkdfSha256 } from "@hpke/core";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  ConclaveError,
  InvalidRequestError,
  NotFoundError,
  UnavailableError,
  fromHex,
  toHex,
} from "@conclave/core-common";
import { sha256 } from "@conclave/core-server";
import { ESCROW_REQUESTS_MAX, cancelSigningBytes, depositSigningBytes, releaseInfo } from "../escrow.js";
import type { DepositRequest, EscrowStatus } from "../escrow.js";

export interface EscrowLimits {
  /** Shortest delay between a request and the release this guardian accepts from an owner. */
  readonly escrowDelayMsMin: number;
  /** Deposits this guardian keeps in all (each under 1 KiB). */
  readonly escrowDepositsMax: number;
}

export const DEFAULT_ESCROW_LIMITS: EscrowLimits = {
  escrowDelayMsMin: 24 * 60 * 60 * 1000,
  escrowDepositsMax: 200_000,
};

interface StoredRequest {
  requestId: string;
  tempKey: string;
  requestedAtMs: number;
  releaseAtMs: number;
  cancelled: boolean;
}

interface Deposit {
  owner: string;
  piece: string;
  delayMs: number;
  version: number;
  requests: StoredRequest[];
}

/** 425: the delay has not passed at this guardian yet (`releaseAtMs` says when it does). */
export class ReleasePendingError extends ConclaveError {
  override readonly name = "ReleasePendingError";
  constructor(releaseAtMs: number, now: number) {
    super("release_pending", `this guardian releases its piece at ${new Date(releaseAtMs).toISOString()}`, {
      status: 425,
      details: { releaseAtMs, retryAfterMs: Math.max(0, releaseAtMs - now) },
    });
  }
}

/** 410: the owner cancelled this request (or withdrew the deposit): nothing will be released for it. */
export class RequestCancelledError extends ConclaveError {
  override readonly name = "RequestCancelledError";
  constructor(message: string) {
    super("request_cancelled", message, { status: 410 });
  }
}

function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
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
}

function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.length);
  new Uint8Array(out).set(bytes);
  return out;
}

/** HPKE `enc | ciphertext` of a piece to a temporary Ed25519 key (its X25519 form), bound to the release. */
export async function sealPiece(
  tempKey: Uint8Array,
  setId: Uint8Array,
  requestId: Uint8Array,
  guardian: number,
  piece: Uint8Array,
): Promise<Uint8Array> {
  const s = new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Chacha20Poly1305(),
  });
  const recipientPublicKey = await s.kem.importKey(
    "raw",
    arrayBuffer(ed25519.utils.toMontgomery(tempKey)),
    true,
  );
  const { ct, enc } = await s.seal(
    { recipientPublicKey, info: releaseInfo(setId, requestId, guardian) },
    arrayBuffer(piece),
  );
  const out = new Uint8Array(enc.byteLength + ct.byteLength);
  out.set(new Uint8Array(enc), 0);
  out.set(new Uint8Array(ct), enc.byteLength);
  return out;
}

export class EscrowStore {
  private readonly deposits: Database<Buffer, Buffer>;
  private count: number;

  static open(path: string, limits: EscrowLimits, now: () => number): EscrowStore {
    return new EscrowStore(
      open<Buffer, Buffer>({ path, encoding: "binary", keyEncoding: "binary", maxDbs: 2 }),
      limits,
      now,
    );
  }

  private constructor(
    private readonly env: RootDatabase<Buffer, Buffer>,
    readonly limits: EscrowLimits,
    private readonly now: () => number,
  ) {
    this.deposits = env.openDB<Buffer, Buffer>({
      name: "deposits",
      encoding: "binary",
      keyEncoding: "binary",
    });
    this.count = this.deposits.getCount();
  }

  close(): Promise<void> {
    return this.env.close();
  }

  private get(setId: Uint8Array): Deposit | undefined {
    const raw = this.deposits.get(Buffer.from(setId));
    return raw ? (JSON.parse(raw.toString("utf8")) as Deposit) : undefined;
  }

  private async set(setId: Uint8Array, d: Deposit): Promise<void> {
    await this.deposits.put(Buffer.from(setId), Buffer.from(JSON.stringify(d), "utf8"));
  }

  private must(setId: Uint8Array): Deposit {
    const d = this.get(setId);
    if (!d) throw new NotFoundError(`this guardian holds no piece of shard set ${toHex(setId)}`);
    return d;
  }

  /** Stores (or replaces with a higher version by the same owner, or withdraws) a deposit. */
  async deposit(
    instance: number,
    self: number,
    setId: Uint8Array,
    r: DepositRequest,
  ): Promise<{ stored: boolean; version: number }> {
    const piece = fromHex(r.piece);
    const owner = fromHex(r.owner);
    const message = depositSigningBytes(sha256, instance, self, setId, r.version, r.delayMs, piece);
    if (!verifyEd25519(owner, message, fromHex(r.signature)))
      throw new InvalidRequestError(
        `the deposit's signature does not verify (sign it with the owner's key for guardian ${self})`,
        { reason: "bad_signature" },
      );
    if (r.piece !== "" && r.delayMs < this.limits.escrowDelayMsMin)
      throw new InvalidRequestError(
        `this guardian's shortest delay is ${this.limits.escrowDelayMsMin} ms, not ${r.delayMs}`,
        { reason: "delay_too_short", delayMsMin: this.limits.escrowDelayMsMin },
      );
    const old = this.get(setId);
    if (old) {
      if (old.owner !== r.owner)
        throw new ConclaveError("not_owner", "another key owns this shard set's deposit", { status: 409 });
      if (r.version <= old.version) return { stored: false, version: old.version };
    } else if (r.piece === "") {
      return { stored: false, version: 0 };
    } else if (this.count >= this.limits.escrowDepositsMax) {
      throw new UnavailableError("this guardian holds as many escrowed pieces as it can");
    }
    // A withdrawal keeps the owner and the version (so an old deposit cannot be replayed back in) and
    // drops the piece and every request.
    await this.set(setId, {
      owner: r.owner,
      piece: r.piece,
      delayMs: r.delayMs,
      version: r.version,
      requests: r.piece === "" ? [] : (old?.requests ?? []),
    });
    if (!old) this.count++;
    return { stored: true, version: r.version };
  }

  /** Starts this guardian's clock for a release to `tempKey` (idempotent per request id). */
  async request(
    setId: Uint8Array,
    requestId: string,
    tempKey: string,
  ): Promise<{ requestId: string; requestedAtMs: number; releaseAtMs: number }> {
    const d = this.must(setId);
    if (d.piece === "") throw new RequestCancelledError("the owner withdrew this shard set's piece");
    try {
      ed25519.utils.toMontgomery(fromHex(tempKey));
    } catch {
      throw new InvalidRequestError("the temporary key is not an Ed25519 public key");
    }
    const known = d.requests.find((q) => q.requestId === requestId);
    if (known) {
      if (known.tempKey !== tempKey)
        throw new InvalidRequestError("this request id was made with another temporary key");
      return { requestId, requestedAtMs: known.requestedAtMs, releaseAtMs: known.releaseAtMs };
    }
    const open = d.requests.filter((q) => !q.cancelled);
    if (open.length >= ESCROW_REQUESTS_MAX)
      throw new ConclaveError(
        "too_many_requests",
        `${ESCROW_REQUESTS_MAX} release requests for this shard set are open: the owner must cancel some first`,
        { status: 429 },
      );
    const now = this.now();
    const q: StoredRequest = {
      requestId,
      tempKey,
      requestedAtMs: now,
      releaseAtMs: now + d.delayMs,
      cancelled: false,
    };
    // Cancelled requests are kept (a bounded number) so that their ids cannot be reused.
    const cancelled = d.requests.filter((x) => x.cancelled).slice(-ESCROW_REQUESTS_MAX);
    await this.set(setId, { ...d, requests: [...cancelled, ...open, q] });
    return { requestId, requestedAtMs: q.requestedAtMs, releaseAtMs: q.releaseAtMs };
  }

  /** The owner's cancel of one request at this guardian (signed over instance, guardian, set, request). */
  async cancel(
    instance: number,
    self: number,
    setId: Uint8Array,
    requestId: string,
    signature: string,
  ): Promise<boolean> {
    const d = this.must(setId);
    const message = cancelSigningBytes(instance, self, setId, fromHex(requestId));
    if (!verifyEd25519(fromHex(d.owner), message, fromHex(signature)))
      throw new InvalidRequestError("the cancel's signature does not verify with the owner's key", {
        reason: "bad_signature",
      });
    const q = d.requests.find((x) => x.requestId === requestId);
    if (!q) throw new NotFoundError(`no release request ${requestId} for this shard set`);
    if (q.cancelled) return false;
    await this.set(setId, {
      ...d,
      requests: d.requests.map((x) => (x.requestId === requestId ? { ...x, cancelled: true } : x)),
    });
    return true;
  }

  /** The piece sealed to the request's temporary key, once its delay passed and if not cancelled. */
  async collect(self: number, setId: Uint8Array, requestId: string): Promise<Uint8Array> {
    const d = this.must(setId);
    if (d.piece === "") throw new RequestCancelledError("the owner withdrew this shard set's piece");
    const q = d.requests.find((x) => x.requestId === requestId);
    if (!q) throw new NotFoundError(`no release request ${requestId} for this shard set`);
    if (q.cancelled) throw new RequestCancelledError("the owner cancelled this release request");
    const now = this.now();
    if (now < q.releaseAtMs) throw new ReleasePendingError(q.releaseAtMs, now);
    return sealPiece(fromHex(q.tempKey), setId, fromHex(requestId), self, fromHex(d.piece));
  }

  /** Public: the owner key, delay, and every request's clock (what the owner needs to cancel). */
  status(setId: Uint8Array): EscrowStatus {
    const d = this.must(setId);
    return {
      owner: d.owner,
      version: d.version,
      delayMs: d.delayMs,
      withdrawn: d.piece === "",
      requests: d.requests.map((q) => ({
        requestId: q.requestId,
        requestedAtMs: q.requestedAtMs,
        releaseAtMs: q.releaseAtMs,
        cancelled: q.cancelled,
      })),
    };
  }
}
