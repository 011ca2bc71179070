// Every quantity the client spends on talking to guardians, named with its unit last. A slow,
// down or lying guardian can make the client wait at most these bounds, never forever.

export interface TransportLimits {
  /** One attempt of one request, from sending it to the last byte of the answer. */
  readonly requestTimeoutMs: number;
  /** Attempts after the first, for network errors, timeouts, 5xx and 429 (never for other 4xx). */
  readonly retriesMax: number;
  /** First backoff before a retry; it doubles per retry, with jitter, up to backoffMaxMs. */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Largest answer body read from a guardian; a larger one is cut off and refused. */
  readonly responseBytesMax: number;
}

export interface ClientLimits extends TransportLimits {
  /** Largest signed-session answer: a header (k block ids) and at most one signature per guardian. */
  readonly sessionResponseBytesMax: number;
  /** Guardians in one invite (the invite format allows 64). */
  readonly guardiansMax: number;
  /** Requests one call (submit, status, query, await) keeps in flight at once. */
  readonly requestsInFlightMax: number;
  /** Longest long-poll asked of a guardian (`?wait=`); guardians cap it too (60 s by default). */
  readonly pollWaitMsMax: number;
  /** Extra time a long-poll request gets beyond its wait before it counts as timed out. */
  readonly longPollMarginMs: number;
  /** Pause between two polls of one guardian that answered "not final yet". */
  readonly pollGapMs: number;
  /**
   * Pause before asking again a guardian whose final answer is not (yet) shared by t guardians:
   * outcomes can change after the transaction (a coin gets spent), so answers are refreshed.
   */
  readonly finalRecheckMs: number;
  /** awaitTransaction without a timeout waits this long... */
  readonly awaitTimeoutMsDefault: number;
  /** ...and never longer than this, whatever the caller asks. */
  readonly awaitTimeoutMsMax: number;
  /** Longest invite code accepted (64 guardians with long URLs fit well below it). */
  readonly inviteCodeCharsMax: number;
}

export const DEFAULT_CLIENT_LIMITS: ClientLimits = {
  requestTimeoutMs: 10_000,
  retriesMax: 3,
  backoffBaseMs: 100,
  backoffMaxMs: 2_000,
  responseBytesMax: 1024 * 1024,
  // 4,096 block ids (the config's most heights per session) and 64 signatures, as hex in JSON,
  // take under 300 KiB. A guardian serving more is skipped, not trusted.
  sessionResponseBytesMax: 512 * 1024,
  guardiansMax: 64,
  requestsInFlightMax: 64,
  pollWaitMsMax: 25_000,
  longPollMarginMs: 5_000,
  pollGapMs: 100,
  finalRecheckMs: 500,
  awaitTimeoutMsDefault: 60_000,
  awaitTimeoutMsMax: 3_600_000,
  inviteCodeCharsMax: 32 * 1024,
};

/** Merges overrides into the defaults and refuses limits that would make the client unbounded. */
export function clientLimits(overrides: Partial<ClientLimits> = {}): ClientLimits {
  const limits: ClientLimits = { ...DEFAULT_CLIENT_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    const zeroAllowed = name === "retriesMax" || name === "pollGapMs" || name === "backoffBaseMs";
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (!zeroAllowed && value === 0))
      throw new TypeError(
        `client limit ${name} must be a ${zeroAllowed ? "non-negative" : "positive"} number`,
      );
  }
  return limits;
}
