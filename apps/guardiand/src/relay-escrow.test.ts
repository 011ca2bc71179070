// The federation as a shard holder (docs/relay.md, "The federation's shard") at four guardian
// processes, one (BYZANTINE) behind a proxy that can release its piece at once or hand out a made-up
// one. The owner splits recovery 2-of-3 among the device, the federation and a printed copy; the
// federation's shard is split again 3-of-4 among the guardians, each releasing its piece, sealed to
// the requester's temporary key, only after its own delay and unless the owner cancelled.
//
// No timing assertions: a short delay is waited out by asking until the guardians answer otherwise.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FederationClient } from "@conclave/core-client";
import { fromHex, toHex } from "@conclave/core-common";
import { ed25519 } from "@noble/curves/ed25519.js";
import { cancelSigningBytes } from "@conclave/module-relay";
import { collectFederationShard, recoverSecret, requestFederationShard } from "@conclave/module-relay/client";
import type { CollectResult, FederationRequest, RelayClient } from "@conclave/module-relay/client";
import { BYZANTINE, RELAY, startRelayFederation } from "./relay-fixture.js";
import type { RelayFederation } from "./relay-fixture.js";

let fed: RelayFederation;
let client: FederationClient;
const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const secret = new TextEncoder().encode(
  "abandon ability able about above absent absorb abstract absurd abuse access accident",
);
const HOUR_MS = 60 * 60 * 1000;
/** Short enough to wait out in a test; every guardian's own clock decides. */
const SHORT_MS = 4000;
const CANCEL_WINDOW_MS = 30_000;

beforeAll(async () => {
  // The shortest delay a guardian accepts is a day by default; this federation allows any.
  fed = await startRelayFederation("relay-escrow-", { relayConfig: { escrowDelayMsMin: 0 } });
  client = await FederationClient.join(fed.invite);
}, 240_000);

afterAll(async () => {
  await fed?.stop();
});

async function ownerWith(delayMs: number): Promise<{ owner: RelayClient; printed: string; setId: string }> {
  const { relay } = await fed.wallet();
  const setup = await relay.socialSetup(secret, 2, [
    { kind: "device" },
    { kind: "federation", delayMs },
    { kind: "offline" },
  ]);
  expect(setup.federationAt).toEqual([0, 1, 2, 3]);
  return { owner: relay, printed: setup.offline[0]!.text, setId: setup.setId };
}

/** Asks for the pieces until no guardian says "not yet" (the delay passed at every one). */
async function collectAfterDelay(request: FederationRequest): Promise<CollectResult> {
  for (;;) {
    const r = await collectFederationShard(client, request);
    if (r.pending.length === 0) return r;
    await new Promise((done) => setTimeout(done, 500));
  }
}

describe("the federation's shard", () => {
  it("after the delay, t guardians release their pieces to the temporary key: the printed shard and the federation's recover the seed", async () => {
    fed.mode = "honest";
    const { printed } = await ownerWith(SHORT_MS);
    const request = await requestFederationShard(client, printed, random);
    expect(request.releases.map((r) => r.guardian)).toEqual([0, 1, 2, 3]);
    const r = await collectAfterDelay(request);
    expect(r.piecesFrom).toEqual([0, 1, 2, 3]);
    expect(r.shard).toBeDefined();
    const recovered = await recoverSecret(client, [printed, r.shard!]);
    expect(new TextDecoder().decode(recovered.secret)).toBe(new TextDecoder().decode(secret));
  }, 120_000);

  it("a recovery requested by someone else: the owner sees it, cancels within the delay, and nothing is released", async () => {
    fed.mode = "honest";
    // Long enough that the owner's cancel comes first even on a loaded machine; waited out below.
    const { owner, printed } = await ownerWith(CANCEL_WINDOW_MS);
    // The thief has the printed shard (it names the set) and asks for the federation's.
    const theft = await requestFederationShard(client, printed, random);
    const before = await collectFederationShard(client, theft);
    expect(before.shard).toBeUndefined();
    expect(before.pending.map((p) => p.guardian)).toEqual([0, 1, 2, 3]);
    const seen = await owner.recoveryRequests();
    expect(seen.statuses.map((s) => s.status.requests.map((q) => q.requestId))).toEqual(
      Array.from({ length: 4 }, () => [theft.requestId]),
    );
    const cancel = await owner.cancelRecoveryRequests();
    expect(cancel.cancelled.map((c) => c.guardian).sort()).toEqual([0, 1, 2, 3]);
    // Past the delay at every guardian, every guardian still refuses: the request was cancelled.
    const releaseAtMs = Math.max(...theft.releases.map((r) => r.releaseAtMs));
    await new Promise((done) => setTimeout(done, Math.max(0, releaseAtMs - Date.now()) + 500));
    const after = await collectFederationShard(client, theft);
    expect(after).toMatchObject({ cancelledAt: [0, 1, 2, 3], piecesFrom: [], pending: [] });
    expect(after.shard).toBeUndefined();
  }, 120_000);

  it("f guardians releasing early (ignoring the delay and the cancel) give f pieces: they recover nothing", async () => {
    const { owner, printed } = await ownerWith(HOUR_MS);
    fed.mode = "early-escrow";
    const theft = await requestFederationShard(client, printed, random);
    const r = await collectFederationShard(client, theft);
    expect(r.piecesFrom).toEqual([BYZANTINE]);
    expect(r.pending.map((p) => p.guardian)).toEqual([0, 1, 2]);
    expect(r.shard).toBeUndefined();
    // The owner's cancel stops the three honest guardians: the thief never gets t pieces.
    await owner.cancelRecoveryRequests();
    const after = await collectFederationShard(client, theft);
    expect(after.cancelledAt).toEqual([0, 1, 2]);
    expect(after.shard).toBeUndefined();
    fed.mode = "honest";
  }, 120_000);

  it("a forged piece is detected and named; the other three still give the shard", async () => {
    const { printed } = await ownerWith(SHORT_MS);
    fed.mode = "forge-escrow";
    const request = await requestFederationShard(client, printed, random);
    const r = await collectAfterDelay(request);
    fed.mode = "honest";
    expect(r.forgedAt).toEqual([BYZANTINE]);
    expect(r.piecesFrom).toEqual([0, 1, 2]);
    const recovered = await recoverSecret(client, [printed, r.shard!]);
    expect(new TextDecoder().decode(recovered.secret)).toBe(new TextDecoder().decode(secret));
  }, 120_000);

  it("a forged cancel and a replayed one (another request, another guardian) are refused; the request stays open", async () => {
    fed.mode = "honest";
    const { owner, printed, setId } = await ownerWith(HOUR_MS);
    const first = await requestFederationShard(client, printed, random);
    const second = await requestFederationShard(client, printed, random);
    const path = `escrow/${setId}/cancel`;
    // Forged: signed by a key that is not the owner's.
    const stranger = random(32);
    const forged = toHex(
      ed25519.sign(cancelSigningBytes(RELAY, 0, fromHex(setId), fromHex(first.requestId)), stranger),
    );
    const f = await fed.post(0, path, { requestId: first.requestId, signature: forged });
    expect(f.status).toBe(400);
    // The owner cancels the first request at guardian 0 only (signed for guardian 0 and that request)...
    const ownerCancel = toHex(
      ed25519.sign(
        cancelSigningBytes(RELAY, 0, fromHex(setId), fromHex(first.requestId)),
        owner.keys.inboxSeed,
      ),
    );
    expect((await fed.post(0, path, { requestId: first.requestId, signature: ownerCancel })).status).toBe(
      200,
    );
    // ...replayed against the second request, or at guardian 1: refused.
    expect((await fed.post(0, path, { requestId: second.requestId, signature: ownerCancel })).status).toBe(
      400,
    );
    expect((await fed.post(1, path, { requestId: first.requestId, signature: ownerCancel })).status).toBe(
      400,
    );
    const seen = await owner.recoveryRequests();
    const at = (g: number) => seen.statuses.find((s) => s.guardian === g)!.status.requests;
    expect(at(0).map((q) => [q.requestId, q.cancelled])).toEqual([
      [first.requestId, true],
      [second.requestId, false],
    ]);
    expect(at(1).every((q) => !q.cancelled)).toBe(true);
  }, 120_000);

  it("re-keying withdraws the old set's pieces: a request for the old set is refused, the old deposit cannot be replayed", async () => {
    fed.mode = "honest";
    const { owner, printed, setId } = await ownerWith(SHORT_MS);
    const replay = fed.escrowDeposits.get(setId);
    expect(replay?.["piece"]).toMatch(/^[0-9a-f]+$/);
    const grown = await owner.socialSetup(secret, 2, [
      { kind: "device" },
      { kind: "federation", delayMs: SHORT_MS },
      { kind: "offline" },
    ]);
    expect(grown.revokedPrevious).toBe(true);
    await expect(requestFederationShard(client, printed, random)).resolves.toMatchObject({ releases: [] });
    // The old deposit, signed by the owner, sent again (as a guardian's backup could): refused as stale.
    const again = await fed.post(BYZANTINE, `escrow/${setId}/deposit`, replay);
    expect(again).toMatchObject({ status: 200, body: { stored: false } });
    for (const g of [0, BYZANTINE]) {
      const status = await fed.post(g, `escrow/${setId}/status`, {});
      expect(status.body).toMatchObject({ withdrawn: true, requests: [] });
    }
  }, 120_000);
});
