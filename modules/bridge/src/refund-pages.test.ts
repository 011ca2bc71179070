// Threat model 12zf: decoy refundable (0x02) outputs naming a victim's public refund key must not hide
// the victim's own mint from `GET refunds/:refundKey` (what a wallet restored from its recovery
// phrase searches). Four guardians' processors in memory, as in expiry-attacks.test.ts; the client
// half's search is in client/bridge-client.test.ts.
import { describe, expect, it } from "vitest";
import { buildTransaction, fromHex, toHex, txidHex } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { NodeSigner, sha256 } from "@conclave/core-server";
import { faucetInput } from "@conclave/module-dummy";
import { REFUND_KEY_PAGE_ENTRIES, REFUND_KEY_PAGES_MAX } from "./api.js";
import { encodeBridgeItem, encodeMintOutput } from "./common.js";
import { BRIDGE, DUMMY, federation, testConfig } from "./federation-fixture.js";
import { BridgeState } from "./state.js";

const N = 4;
const VICTIM: `0x${string}` = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const ATTACKER: `0x${string}` = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const AMOUNT = 2n ** 41n;
const T0 = 1_000_000n;

interface Page {
  refundKey: string;
  page: number;
  mints: { txid: string; index: number; recipient: string; amount: string }[];
}

function withAgreedTime() {
  const fed = federation(testConfig(N));
  fed.block(
    [0, 1, 2, 3].map((from) => ({
      from,
      payload: encodeBridgeItem({ kind: "scanned", block: 20n, timestamp: T0 }),
    })),
  );
  /** GET /v1/modules/bridge/<path> at guardian g, as the API server calls the handler. */
  const get = (path: string, g = 0): unknown => {
    const parts = path.split("/");
    for (const e of fed.guardians[g]!.bridge.api) {
      const pattern = e.path.split("/");
      if (pattern.length !== parts.length) continue;
      const params: Record<string, string> = {};
      if (
        !pattern.every((p, i) =>
          p.startsWith(":") ? ((params[p.slice(1)] = parts[i]!), true) : p === parts[i],
        )
      )
        continue;
      return e.handle({ params, body: undefined, db: fed.mdb(g) });
    }
    throw new Error(`no route ${path}`);
  };
  return { ...fed, get };
}

/** `count` refundable outputs naming `refundKey`, funded by the faucet (testConfig's fee is 0). */
const mintTx = (refundKey: Uint8Array, count: number, recipient = ATTACKER): Transaction =>
  buildTransaction(
    [faucetInput(DUMMY, BigInt(count) * AMOUNT)],
    Array.from({ length: count }, () => ({
      module: BRIDGE,
      amount: AMOUNT,
      payload: encodeMintOutput(recipient, refundKey),
    })),
    [],
    sha256,
  );

/** A decoy transaction whose txid sorts before `txid` (the faucet nonce is random: a few tries). */
function decoysBefore(refundKey: Uint8Array, count: number, txid: string): Transaction {
  for (;;) {
    const tx = mintTx(refundKey, count);
    if (txidHex(tx, sha256) < txid) return tx;
  }
}

const codes = (out: { events: readonly { status: { state: string; error?: { code: string } } }[] }) =>
  out.events.map((e) => (e.status.state === "rejected" ? e.status.error!.code : e.status.state));

describe("bridge: decoy refundable outputs naming a victim's refund key (threat model 12zf)", () => {
  it("lists the victim's mint first behind 16 decoys with smaller txids, and every guardian answers the same page", () => {
    const fed = withAgreedTime();
    const key = new NodeSigner(new Uint8Array(32).fill(0x61)).publicKey;
    const keyHex = toHex(key);
    const own = fed.block([], [mintTx(key, 1, VICTIM)]);
    expect(codes(own)).toEqual(["accepted"]);
    const victim = own.events[0]!.txid;
    // The key is public now (GET mints/:txid/:index names it): 16 decoys that sort before the victim.
    const decoys = fed.block([], [decoysBefore(key, 16, victim)]);
    expect(codes(decoys)).toEqual(["accepted"]);
    expect(decoys.events[0]!.txid < victim).toBe(true);

    const page = fed.get(`refunds/${keyHex}`) as Page;
    expect(page.mints.map((m) => m.txid)).toContain(victim);
    // Acceptance order: the victim's mint, accepted before its key was public, comes first.
    expect(page.mints[0]).toEqual({ txid: victim, index: 0, recipient: VICTIM, amount: AMOUNT.toString() });
    expect(page).toMatchObject({ refundKey: keyHex, page: 0 });
    expect(page.mints).toHaveLength(17);
    expect(page.mints.slice(1).every((m) => m.txid === decoys.events[0]!.txid)).toBe(true);
    for (let g = 1; g < N; g++) expect(fed.get(`refunds/${keyHex}`, g)).toEqual(page);
    expect(fed.get(`refunds/${keyHex}/page/0`)).toEqual(page);
    expect(fed.get(`refunds/${keyHex}/page/1`)).toEqual({ refundKey: keyHex, page: 1, mints: [] });
  });

  it("serves 300 entries as a full page of 256 (fixed once full) and a page of 44; pages past the last are empty, past 63 refused", () => {
    const fed = withAgreedTime();
    const key = new NodeSigner(new Uint8Array(32).fill(0x62)).publicKey;
    const keyHex = toHex(key);
    const victim = fed.block([], [mintTx(key, 1, VICTIM)]).events[0]!.txid;
    expect(codes(fed.block([], [decoysBefore(key, 200, victim)]))).toEqual(["accepted"]);
    const page0 = fed.get(`refunds/${keyHex}`) as Page;
    expect(page0.mints).toHaveLength(201);
    expect(codes(fed.block([], [mintTx(key, 99)]))).toEqual(["accepted"]);
    const full = fed.get(`refunds/${keyHex}`) as Page;
    expect(full.mints).toHaveLength(REFUND_KEY_PAGE_ENTRIES);
    expect(full.mints[0]!.txid).toBe(victim);
    expect(full.mints.slice(0, 201)).toEqual(page0.mints);
    const page1 = fed.get(`refunds/${keyHex}/page/1`) as Page;
    expect(page1.mints).toHaveLength(300 - REFUND_KEY_PAGE_ENTRIES);
    // More decoys change only the last page: a full page is what t guardians agree on for good.
    expect(codes(fed.block([], [mintTx(key, 5)]))).toEqual(["accepted"]);
    expect(fed.get(`refunds/${keyHex}`)).toEqual(full);
    expect((fed.get(`refunds/${keyHex}/page/1`) as Page).mints).toHaveLength(49);
    expect(fed.get(`refunds/${keyHex}/page/2`)).toEqual({ refundKey: keyHex, page: 2, mints: [] });
    expect(() => fed.get(`refunds/${keyHex}/page/${REFUND_KEY_PAGES_MAX}`)).toThrow(/at most 64 pages/);
    expect(() => fed.get(`refunds/${keyHex}/page/x`)).toThrow();
    expect(new BridgeState(fed.mdb()).refundKeyEntries(key)).toBe(305);
  });

  it(`bounds a key at ${REFUND_KEY_PAGES_MAX} pages: an output naming a full key is refused (refund_key_full), nothing stored; the victim's mint stays first`, () => {
    const fed = withAgreedTime();
    const key = new NodeSigner(new Uint8Array(32).fill(0x63)).publicKey;
    const keyHex = toHex(key);
    const other = new NodeSigner(new Uint8Array(32).fill(0x64)).publicKey;
    const victim = fed.block([], [mintTx(key, 1, VICTIM)]).events[0]!.txid;
    const max = REFUND_KEY_PAGES_MAX * REFUND_KEY_PAGE_ENTRIES;
    // The attacker fills the key: max − 1 decoys, 256 per transaction (a transaction is at most 48 KiB).
    let left = max - 1;
    while (left > 0) {
      const batch = [];
      for (let i = 0; i < 8 && left > 0; i++) {
        const count = Math.min(256, left);
        batch.push(mintTx(key, count));
        left -= count;
      }
      expect(codes(fed.block([], batch))).toEqual(batch.map(() => "accepted"));
    }
    for (let g = 0; g < N; g++) expect(new BridgeState(fed.mdb(g)).refundKeyEntries(key)).toBe(max);
    const totals = new BridgeState(fed.mdb()).totals();
    // One more naming that key is refused, with the bound named; the same output to another key goes in.
    const over = fed.block([], [mintTx(key, 1), mintTx(other, 1)]);
    expect(codes(over)).toEqual(["refund_key_full", "accepted"]);
    const refused = over.events[0]!.status;
    expect(refused.state === "rejected" && refused.error.message).toContain(`${max}`);
    expect(new BridgeState(fed.mdb()).mint(fromHex(over.events[0]!.txid), 0)).toBeUndefined();
    expect(new BridgeState(fed.mdb()).totals().signed).toBe(totals.signed + AMOUNT);
    expect(new BridgeState(fed.mdb()).refundKeyEntries(key)).toBe(max);
    expect((fed.get(`refunds/${keyHex}`) as Page).mints[0]!.txid).toBe(victim);
    const last = fed.get(`refunds/${keyHex}/page/${REFUND_KEY_PAGES_MAX - 1}`) as Page;
    expect(last.mints).toHaveLength(REFUND_KEY_PAGE_ENTRIES);
  }, 600_000);
});
