// Single-use challenges a client signs with its inbox key to read or change its inbox at this guardian
// (no accounts, no passwords). Stateless to issue: a challenge is `issuedAtMs u64 | nonce(16) |
// HMAC-SHA256(key, issuedAtMs | nonce)[0..16]` under a key this process made at start, so a flood of
// challenge requests costs the guardian no memory. Only *used* challenges are remembered, until they
// expire, so that a signed request cannot be replayed; that set is bounded too.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { ConclaveError, UnavailableError } from "@conclave/core-common";

export const CHALLENGE_BYTES = 40;

export interface ChallengeLimits {
  /** How long a challenge may be used after it was issued. */
  readonly challengeTtlMs: number;
  /** Used challenges remembered at once (each until it expires); beyond it, 503. */
  readonly challengesUsedMax: number;
}

/** 401: the challenge is not one this guardian issued, has expired, or was used already. */
export class BadChallengeError extends ConclaveError {
  override readonly name = "BadChallengeError";
  constructor(reason: string) {
    super("bad_challenge", `${reason}: ask this guardian for a new challenge and sign it`, { status: 401 });
  }
}

export class Challenges {
  private readonly key = randomBytes(32);
  /** Used challenges (hex) and when they expire. */
  private readonly used = new Map<string, number>();

  constructor(
    private readonly limits: ChallengeLimits,
    private readonly now: () => number,
  ) {}

  issue(): { challenge: Uint8Array; expiresAtMs: number } {
    const issuedAt = Math.floor(this.now());
    const body = Buffer.alloc(24);
    body.writeBigUInt64BE(BigInt(issuedAt), 0);
    randomBytes(16).copy(body, 8);
    const challenge = Buffer.concat([body, this.mac(body)]);
    return { challenge: new Uint8Array(challenge), expiresAtMs: issuedAt + this.limits.challengeTtlMs };
  }

  /** Throws BadChallengeError unless `challenge` is this process's, unexpired and unused. */
  check(challenge: Uint8Array): void {
    const c = Buffer.from(challenge);
    if (c.length !== CHALLENGE_BYTES || !timingSafeEqual(this.mac(c.subarray(0, 24)), c.subarray(24)))
      throw new BadChallengeError("this guardian did not issue that challenge (or it restarted since)");
    if (Number(c.readBigUInt64BE(0)) + this.limits.challengeTtlMs <= this.now())
      throw new BadChallengeError("the challenge has expired");
    if (this.used.has(c.toString("hex"))) throw new BadChallengeError("the challenge was used already");
  }

  /** Marks a checked challenge used (after its signature verified: a forgery does not burn it). */
  use(challenge: Uint8Array): void {
    const now = this.now();
    if (this.used.size >= this.limits.challengesUsedMax) {
      for (const [k, expires] of this.used) if (expires <= now) this.used.delete(k);
      if (this.used.size >= this.limits.challengesUsedMax)
        throw new UnavailableError("this guardian is answering too many inbox requests; retry in a minute");
    }
    const c = Buffer.from(challenge);
    this.used.set(c.toString("hex"), Number(c.readBigUInt64BE(0)) + this.limits.challengeTtlMs);
  }

  private mac(body: Buffer): Buffer {
    return createHmac("sha256", this.key).update(body).digest().subarray(0, 16);
  }
}
