// The federation as a shard holder, client side (escrow.ts has the design and wire formats; docs/relay.md
// argues it). Browser-safe.
//
//   owner:      depositFederationShard (split t-of-n, one signed piece per guardian), withdraw on re-key,
//               escrowStatus / cancelRequests (a cancel signed per guardian and request)
//   new device: requestFederationShard (a temporary key, the same request at every guardian), then,
//               after the delay, collectFederationShard (t pieces open, combine, check the shard)
import { CipherSuite, HkdfSha256 } from "@hpke/core";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { combine, split } from "shamir-secret-sharing";
import { ClientError } from "@conclave/core-client";
import type { FederationClient } from "@conclave/core-client";
import {
  base64UrlDecode,
  base64UrlEncode,
  bytesEqual,
  concatBytes,
  fromHex,
  quorumThreshold,
  toHex,
} from "@conclave/core-common";
import { RELAY_KIND } from "../common.js";
import {
  CancelResponseSchema,
  CollectResponseSchema,
  DepositResponseSchema,
  ESCROW_PIECE_BYTES,
  EscrowStatusSchema,
  RequestResponseSchema,
  cancelSigningBytes,
  depositSigningBytes,
  releaseInfo,
} from "../escrow.js";
import type { EscrowStatus } from "../escrow.js";
import { SHARD_PREFIX, decodeShard } from "./social.js";

const escrowError = (code: string, message: string, details: Record<string, unknown> = {}) =>
  new ClientError(code, message, details);

const path = (setId: Uint8Array, action: string) =>
  `/v1/modules/${RELAY_KIND}/escrow/${toHex(setId)}/${action}`;

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The relay module's instance id in the federation's config (signatures are bound to it). */
export function relayInstance(client: FederationClient): number {
  const m = client.config.modules.find((x) => x.kind === RELAY_KIND);
  if (!m) throw escrowError("no_relay_module", "this federation runs no relay module");
  return m.instanceId;
}

type Failed = { readonly guardian: number; readonly error: string };

/** Splits a shard's text t-of-n into one piece per guardian (`set id | share`). */
export async function splitFederationShard(shardText: string, n: number): Promise<Uint8Array[]> {
  const shard = decodeShard(shardText);
  const d = base64UrlDecode(shardText.slice(SHARD_PREFIX.length));
  if (!d.ok) throw escrowError("bad_shard", "the federation's shard does not decode");
  const shares = await split(d.bytes, n, quorumThreshold(n));
  return shares.map((s) => concatBytes(shard.setId, s));
}

/**
 * Gives each guardian its piece, signed by the owner's key, with the delay before a release. At
 * least t guardians must keep one (else nobody could ever recover the shard).
 */
export async function depositFederationShard(
  client: FederationClient,
  ownerSeed: Uint8Array,
  setId: Uint8Array,
  shardText: string,
  delayMs: number,
  version: number,
): Promise<{ storedAt: number[]; failedAt: Failed[] }> {
  const n = client.config.guardians.length;
  const pieces = await splitFederationShard(shardText, n);
  const r = await postSigned(client, ownerSeed, setId, pieces, delayMs, version);
  if (r.storedAt.length < quorumThreshold(n))
    throw escrowError(
      "not_stored",
      `only ${r.storedAt.length} guardians kept their piece of the federation's shard, ${quorumThreshold(n)} needed`,
      { failedAt: r.failedAt },
    );
  return r;
}

/** Withdraws the pieces of a re-keyed set at every guardian (an empty piece, a higher version). */
export function withdrawFederationShard(
  client: FederationClient,
  ownerSeed: Uint8Array,
  setId: Uint8Array,
  version: number,
): Promise<{ storedAt: number[]; failedAt: Failed[] }> {
  const n = client.config.guardians.length;
  return postSigned(
    client,
    ownerSeed,
    setId,
    Array.from({ length: n }, () => new Uint8Array(0)),
    0,
    version,
  );
}

async function postSigned(
  client: FederationClient,
  ownerSeed: Uint8Array,
  setId: Uint8Array,
  pieces: readonly Uint8Array[],
  delayMs: number,
  version: number,
): Promise<{ storedAt: number[]; failedAt: Failed[] }> {
  const instance = relayInstance(client);
  const owner = toHex(ed25519.getPublicKey(ownerSeed));
  const answers = await Promise.all(
    pieces.map(async (piece, g) => {
      const message = depositSigningBytes(sha256, instance, g, setId, version, delayMs, piece);
      const body = {
        owner,
        piece: toHex(piece),
        delayMs,
        version,
        signature: toHex(ed25519.sign(message, ownerSeed)),
      };
      return (
        await client.postEach(path(setId, "deposit"), body, DepositResponseSchema, { guardians: [g] })
      )[0]!;
    }),
  );
  return {
    storedAt: answers.filter((a) => a.ok).map((a) => a.guardian),
    failedAt: answers.flatMap((a) => (a.ok ? [] : [{ guardian: a.guardian, error: a.error.message }])),
  };
}

/** Every guardian's view of the deposit: its release requests and their clocks. */
export async function escrowStatus(
  client: FederationClient,
  setId: Uint8Array,
): Promise<{ statuses: { guardian: number; status: EscrowStatus }[]; failedAt: Failed[] }> {
  const answers = await client.postEach(path(setId, "status"), {}, EscrowStatusSchema);
  return {
    statuses: answers.flatMap((a) => (a.ok ? [{ guardian: a.guardian, status: a.value }] : [])),
    failedAt: answers.flatMap((a) => (a.ok ? [] : [{ guardian: a.guardian, error: a.error.message }])),
  };
}

export interface CancelResult {
  /** Requests cancelled now, by guardian. */
  readonly cancelled: readonly { readonly guardian: number; readonly requestId: string }[];
  readonly failedAt: readonly Failed[];
}

/**
 * The owner cancels every open release request of the set at every guardian (each cancel signed for
 * that guardian and that request). Enough cancels (f + 1 guardians) leave a requester fewer than t pieces.
 */
export async function cancelRequests(
  client: FederationClient,
  ownerSeed: Uint8Array,
  setId: Uint8Array,
): Promise<CancelResult> {
  const instance = relayInstance(client);
  const { statuses, failedAt } = await escrowStatus(client, setId);
  const cancelled: { guardian: number; requestId: string }[] = [];
  const failed: Failed[] = [...failedAt];
  await Promise.all(
    statuses.map(async ({ guardian, status }) => {
      for (const q of status.requests.filter((x) => !x.cancelled)) {
        const signature = toHex(
          ed25519.sign(cancelSigningBytes(instance, guardian, setId, fromHex(q.requestId)), ownerSeed),
        );
        const [a] = await client.postEach(
          path(setId, "cancel"),
          { requestId: q.requestId, signature },
          CancelResponseSchema,
          { guardians: [guardian] },
        );
        if (a!.ok) cancelled.push({ guardian, requestId: q.requestId });
        else failed.push({ guardian, error: a!.error.message });
      }
    }),
  );
  return { cancelled, failedAt: failed };
}

/** A recovering device's request: keep `tempSeed` secret until the pieces are collected. */
export interface FederationRequest {
  readonly setId: string;
  readonly requestId: string;
  readonly tempSeed: string;
  /** When each guardian that took the request releases its piece. */
  readonly releases: readonly { readonly guardian: number; readonly releaseAtMs: number }[];
  readonly failedAt: readonly Failed[];
}

/**
 * Asks every guardian for its piece of the set's federation shard (`setIdOrShard`: a shard of the set,
 * which names it, or the set id in hex), sealed to a fresh temporary key. Each guardian starts its own
 * delay; the owner can cancel meanwhile.
 */
export async function requestFederationShard(
  client: FederationClient,
  setIdOrShard: string,
  random: (bytes: number) => Uint8Array,
): Promise<FederationRequest> {
  const setId = /^[0-9a-f]{32}$/.test(setIdOrShard) ? fromHex(setIdOrShard) : decodeShard(setIdOrShard).setId;
  const tempSeed = random(32);
  const requestId = toHex(random(16));
  const tempKey = toHex(ed25519.getPublicKey(tempSeed));
  const answers = await client.postEach(
    path(setId, "request"),
    { requestId, tempKey },
    RequestResponseSchema,
  );
  return {
    setId: toHex(setId),
    requestId,
    tempSeed: toHex(tempSeed),
    releases: answers.flatMap((a) =>
      a.ok ? [{ guardian: a.guardian, releaseAtMs: a.value.releaseAtMs }] : [],
    ),
    failedAt: answers.flatMap((a) => (a.ok ? [] : [{ guardian: a.guardian, error: a.error.message }])),
  };
}

export interface CollectResult {
  /** The federation's shard, once t pieces combine to it. */
  readonly shard?: string;
  /** Guardians whose piece opened and belongs to the set. */
  readonly piecesFrom: readonly number[];
  /** Guardians still waiting for the delay (with when), or that refused because the owner cancelled. */
  readonly pending: readonly { readonly guardian: number; readonly releaseAtMs?: number }[];
  readonly cancelledAt: readonly number[];
  /** Guardians that served a piece that does not open, names another set, or does not fit the others. */
  readonly forgedAt: readonly number[];
  readonly failedAt: readonly Failed[];
}

function suite(): CipherSuite {
  return new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Chacha20Poly1305(),
  });
}

function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.length);
  new Uint8Array(out).set(bytes);
  return out;
}

async function openPiece(
  tempSeed: Uint8Array,
  sealed: Uint8Array,
  setId: Uint8Array,
  requestId: Uint8Array,
  guardian: number,
): Promise<Uint8Array | undefined> {
  try {
    const s = suite();
    const recipientKey = await s.kem.importKey(
      "raw",
      arrayBuffer(ed25519.utils.toMontgomerySecret(tempSeed)),
      false,
    );
    const plain = new Uint8Array(
      await s.open(
        {
          recipientKey,
          enc: arrayBuffer(sealed.subarray(0, 32)),
          info: releaseInfo(setId, requestId, guardian),
        },
        arrayBuffer(sealed.subarray(32)),
      ),
    );
    if (plain.length !== ESCROW_PIECE_BYTES || !bytesEqual(plain.subarray(0, 16), setId)) return undefined;
    return plain.subarray(16);
  } catch {
    return undefined;
  }
}

function* subsets(n: number, k: number, start = 0, acc: number[] = []): Generator<number[]> {
  if (acc.length === k) {
    yield acc.slice();
    return;
  }
  for (let i = start; i < n; i++) {
    acc.push(i);
    yield* subsets(n, k, i + 1, acc);
    acc.pop();
  }
}

/**
 * Collects the released pieces, opens each with the temporary key, and combines t of them into the
 * federation's shard: the result must decode (its checksum) as a shard of the set held by the
 * federation. With more than t pieces, a piece that does not fit the others is named as forged.
 */
export async function collectFederationShard(
  client: FederationClient,
  request: FederationRequest,
): Promise<CollectResult> {
  const setId = fromHex(request.setId);
  const requestId = fromHex(request.requestId);
  const tempSeed = fromHex(request.tempSeed);
  const t = quorumThreshold(client.config.guardians.length);
  const answers = await client.postEach(
    path(setId, "collect"),
    { requestId: request.requestId },
    CollectResponseSchema,
  );
  const pieces: { guardian: number; share: Uint8Array }[] = [];
  const pending: { guardian: number; releaseAtMs?: number }[] = [];
  const cancelledAt: number[] = [];
  const forgedAt: number[] = [];
  const failedAt: Failed[] = [];
  for (const a of answers) {
    if (!a.ok) {
      if (a.error.code === "release_pending") {
        const at = a.error.details["releaseAtMs"];
        pending.push(
          typeof at === "number" ? { guardian: a.guardian, releaseAtMs: at } : { guardian: a.guardian },
        );
      } else if (a.error.code === "request_cancelled") cancelledAt.push(a.guardian);
      else failedAt.push({ guardian: a.guardian, error: describe(a.error) });
      continue;
    }
    const d = base64UrlDecode(a.value.sealed);
    const share = d.ok ? await openPiece(tempSeed, d.bytes, setId, requestId, a.guardian) : undefined;
    if (share) pieces.push({ guardian: a.guardian, share });
    else forgedAt.push(a.guardian);
  }
  const result = { pending, cancelledAt, failedAt };
  const combined = await combinePieces(setId, pieces, t);
  return {
    ...result,
    ...(combined.shard === undefined ? {} : { shard: combined.shard }),
    piecesFrom: combined.fits,
    forgedAt: [...forgedAt, ...combined.forged].sort((a, b) => a - b),
  };
}

/**
 * Combines opened pieces (by guardian) into the set's federation shard: t of them must decode (the
 * shard's checksum) as the federation's shard of `setId`; pieces off that polynomial are `forged`.
 * Fewer than t pieces (what f guardians releasing early give) combine to nothing.
 */
export async function combinePieces(
  setId: Uint8Array,
  pieces: readonly { readonly guardian: number; readonly share: Uint8Array }[],
  t: number,
): Promise<{ shard?: string; fits: number[]; forged: number[] }> {
  if (pieces.length < t) return { fits: pieces.map((p) => p.guardian), forged: [] };
  for (const pick of subsets(pieces.length, t)) {
    const chosen = pick.map((i) => pieces[i]!);
    let bytes: Uint8Array;
    try {
      bytes = await combine(chosen.map((p) => p.share));
    } catch {
      continue; // two pieces with one x coordinate: a forgery among them
    }
    const text = SHARD_PREFIX + base64UrlEncode(bytes);
    let ok = false;
    try {
      const shard = decodeShard(text);
      ok = bytesEqual(shard.setId, setId) && shard.holder === "federation";
    } catch {
      ok = false;
    }
    if (!ok) continue;
    // Every other piece must lie on the same polynomial: t - 1 chosen ones and it give the same shard.
    const fits: number[] = [];
    const forged: number[] = [];
    for (const p of pieces) {
      if (chosen.includes(p)) {
        fits.push(p.guardian);
        continue;
      }
      const again = await combine([...chosen.slice(0, t - 1), p].map((x) => x.share)).catch(() => undefined);
      if (again && bytesEqual(again, bytes)) fits.push(p.guardian);
      else forged.push(p.guardian);
    }
    return { shard: text, fits: fits.sort((a, b) => a - b), forged };
  }
  // No t pieces give a shard of this set: at least one is forged (with exactly t, which one is unknown).
  return { fits: [], forged: pieces.map((p) => p.guardian) };
}

/** Progress of waitFederationShard: how many pieces are out and when the t-th is due. */
export interface FederationWaitProgress {
  readonly step: "waiting";
  /** Pieces that opened and fit so far, and how many are needed (t). */
  readonly released: number;
  readonly needed: number;
  /** When t guardians will have released (the t-th earliest release time still possible); absent if unknown. */
  readonly readyAtMs?: number;
  readonly pending: CollectResult["pending"];
  readonly cancelledAt: readonly number[];
  readonly failedAt: readonly Failed[];
}

/**
 * When the t-th piece is due: the pieces already out count as now, then the pending guardians'
 * release times in order. Undefined if fewer than t can still come.
 */
export function federationReadyAtMs(r: CollectResult, t: number, nowMs: number): number | undefined {
  const times = [
    ...r.piecesFrom.map(() => nowMs),
    ...r.pending.flatMap((p) => (p.releaseAtMs === undefined ? [] : [p.releaseAtMs])).sort((a, b) => a - b),
  ];
  return times.length >= t ? Math.max(nowMs, times[t - 1]!) : undefined;
}

/** What waitFederationShard ends with: the shard, or (with `wait: false`) where the release stands. */
export type FederationWaitResult = CollectResult & {
  readonly needed: number;
  /** When t guardians will have released (absent once the shard is out, or if unknown). */
  readonly readyAtMs?: number;
};

/**
 * Collects the federation's shard, waiting out the guardians' delays: asks once, then (with `wait`,
 * the default) again when the t-th piece is due, at least every `pollMsMax` (so a guardian that comes
 * back is noticed); with `wait: false` it returns after the first answer, shard or not. Refuses with
 * `request_cancelled` once the owner cancelled at so many guardians that t pieces cannot come, and
 * with `federation_shard_unavailable` when fewer than t pieces can still come and no guardian that
 * could release says "not yet".
 */
export async function waitFederationShard(
  client: FederationClient,
  request: FederationRequest,
  options: {
    readonly wait?: boolean;
    readonly onProgress?: (p: FederationWaitProgress) => void;
    readonly pollMsMax?: number;
    readonly now?: () => number;
    readonly sleep?: (ms: number) => Promise<void>;
  } = {},
): Promise<FederationWaitResult> {
  const n = client.config.guardians.length;
  const t = quorumThreshold(n);
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  const pollMsMax = options.pollMsMax ?? 60_000;
  for (;;) {
    const r = await collectFederationShard(client, request);
    if (r.shard !== undefined) return { ...r, needed: t };
    if (n - r.cancelledAt.length < t)
      throw escrowError(
        "request_cancelled",
        `the owner cancelled this request at guardians ${r.cancelledAt.join(", ")}: the federation's shard will not be released to it`,
        { cancelledAt: r.cancelledAt },
      );
    if (r.pending.length === 0 && r.failedAt.length === 0)
      throw escrowError(
        "federation_shard_unavailable",
        `only ${r.piecesFrom.length} guardians released a piece that fits (${t} needed)`,
        { piecesFrom: r.piecesFrom, forgedAt: r.forgedAt, cancelledAt: r.cancelledAt },
      );
    const at = now();
    const readyAtMs = federationReadyAtMs(r, t, at);
    const result = { ...r, needed: t, ...(readyAtMs === undefined ? {} : { readyAtMs }) };
    if (options.wait === false) return result;
    options.onProgress?.({
      step: "waiting",
      released: r.piecesFrom.length,
      needed: t,
      ...(readyAtMs === undefined ? {} : { readyAtMs }),
      pending: r.pending,
      cancelledAt: r.cancelledAt,
      failedAt: r.failedAt,
    });
    // Wake just after the t-th release (each guardian's clock may be a little behind ours).
    const waitMs = readyAtMs === undefined ? pollMsMax : readyAtMs - at + 250;
    await sleep(Math.min(pollMsMax, Math.max(250, waitMs)));
  }
}
