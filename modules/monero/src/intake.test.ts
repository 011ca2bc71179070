// Deposit intake at one guardian's API (issue 10, item 6; intake.ts): junk claims and address
// requests must not fill the budgets that consensus keeps per guardian and lock honest users out.
// Before: claims of random txids with well-formed proofs were queued and proposed (each stayed open
// claimExpiryBlocks), so openClaimsPerGuardianMax of them made the guardian answer 503 to every new
// claim; address requests with fresh keys used up the guardian's window budget for everyone.
import { describe, expect, it } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import { ConclaveError, encodeConsensusItem, toHex } from "@conclave/core-common";
import { FederationProcessor, MemoryKv, NodeSigner, NodeVerifier, sha256 } from "@conclave/core-server";
import { encodeAddress } from "@conclave/monero";
import { claimProof, subaddressRequestMessage } from "./common.js";
import type { MoneroConfig } from "./common.js";
import { parseMoneroConfig } from "./factory.js";
import {
  ADDRESS_REQUESTS_PER_CLIENT_PER_WINDOW_MAX,
  CLAIM_CHECKS_IN_FLIGHT_MAX,
  CLAIM_CHECKS_PER_CLIENT_PER_MINUTE_MAX,
} from "./intake.js";
import { MoneroServerModule } from "./server.js";
import type { ChainSource, TxLocation } from "./watcher.js";
import { ProofRefusedError } from "./watcher.js";

const MONERO = 2;
const N = 4;
const ADDRESS = encodeAddress({
  network: "mainnet",
  kind: "standard",
  publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(7)),
  publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(8)),
});
const CONFIG: MoneroConfig = parseMoneroConfig({
  network: "mainnet",
  address: ADDRESS,
  guardians: N,
  confirmations: 3,
  depositMinPiconero: "1000",
  openClaimsPerGuardianMax: 16,
  subaddressesPerGuardianPerWindowMax: 64,
});
const alice = new NodeSigner(new Uint8Array(32).fill(1));
const TX_KEY = Uint8Array.from([...new Uint8Array(31).fill(0x42), 0x01]);
const txidHex = (n: number) => n.toString(16).padStart(64, "0");
const claimBody = (txid: string, key = alice.publicKey) => ({
  txid,
  claimKey: toHex(key),
  proof: toHex(
    claimProof({ federationAddress: ADDRESS, txid: Buffer.from(txid, "hex"), txKey: TX_KEY, claimKey: key }),
  ),
});

/** This guardian's nodes: transactions it knows, what check_tx_proof answers for each. */
class Nodes implements ChainSource {
  readonly txs = new Map<string, { received: bigint; good?: boolean; refuse?: boolean }>();
  down = false;
  /** Calls of check_tx_proof held open until released (to fill the in-flight bound). */
  hold: (() => void)[] | undefined;
  calls = 0;
  height(): Promise<number> {
    return Promise.resolve(100);
  }
  transaction(txid: string): Promise<{ found: false } | TxLocation> {
    this.calls++;
    if (this.down) return Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:18081"));
    return Promise.resolve(this.txs.has(txid) ? { found: true, inPool: true } : { found: false });
  }
  /** check_tx_proof calls that fail as wallet-rpc 0.18 sometimes does for a transaction being mined. */
  flaky = 0;
  async proven(txid: string): Promise<{ good: boolean; received: bigint }> {
    this.calls++;
    if (this.flaky > 0) {
      this.flaky--;
      throw new Error("check_tx_proof failed: Failed to get transaction from daemon (code -1 UnknownError)");
    }
    const hold = this.hold;
    if (hold) await new Promise<void>((r) => hold.push(r));
    const tx = this.txs.get(txid)!;
    if (tx.refuse) throw new ProofRefusedError("Signature size mismatch with additional tx pubkeys");
    return { good: tx.good ?? true, received: tx.received };
  }
}

function guardian(config = CONFIG) {
  const nodes = new Nodes();
  const monero = new MoneroServerModule(MONERO, config, { chain: nodes, pollMs: 1000, autoPoll: false });
  monero.start({ self: 1, wake: () => {}, log: () => {} });
  const db = new MemoryKv();
  const p = new FederationProcessor([monero], { verifier: new NodeVerifier(), hash: sha256 });
  let height = 0;
  const read = () => p.moduleReadDb(db, MONERO);
  const endpoint = (path: string) => monero.api.find((e) => e.path === path && e.method === "POST")!;
  const post = (path: string, body: unknown, client = "192.0.2.7") =>
    // A synchronous throw becomes a rejection, as the core's HTTP server reports it.
    new Promise<unknown>((resolve) =>
      resolve(endpoint(path).handle({ params: {}, body, db: read(), client })),
    );
  const refusal = async (p: Promise<unknown>) => {
    const e = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ConclaveError);
    return e as ConclaveError;
  };
  /** Orders this guardian's proposal (and heights from three guardians, so one is agreed). */
  const order = () => {
    const own = monero.consensusProposal(read());
    const heights = [0, 2, 3].map((origin) => ({
      origin,
      items: [
        encodeConsensusItem({
          kind: "module",
          module: MONERO,
          payload: Uint8Array.from([0x01, 0, 0, 0, 0, 0, 0, 0, 100]),
        }),
      ],
    }));
    p.processBlock(db, height++, [
      ...heights,
      {
        origin: 1,
        items: own.map((payload) => encodeConsensusItem({ kind: "module", module: MONERO, payload })),
      },
    ]);
    return own.length;
  };
  return { nodes, monero, post, refusal, order, read };
}

describe("claims are checked against the guardian's own nodes before they take a place in its budget", () => {
  it("claims of txids its node does not know are refused (404 unknown_transaction); after many, a real claim is still taken", async () => {
    const g = guardian();
    // Many more junk claims (random txids, well-formed proofs) than the guardian's budget of 16, from many clients.
    for (let i = 1; i <= 40; i++) {
      const e = await g.refusal(g.post("claims", claimBody(txidHex(i)), `198.51.100.${i}`));
      expect(e).toMatchObject({ code: "unknown_transaction", status: 404 });
    }
    expect(g.order()).toBe(0); // nothing proposed
    g.nodes.txs.set(txidHex(1000), { received: 5000n });
    expect(await g.post("claims", claimBody(txidHex(1000)))).toEqual({
      txid: txidHex(1000),
      state: "queued",
    });
    expect(g.order()).toBe(1);
    expect(g.monero.depositView(g.read(), Buffer.from(txidHex(1000), "hex"))).toMatchObject({
      state: "open",
      claimedBy: 1,
    });
  });

  it("a proof its wallet finds bad, a payment to another address and one below the minimum are refused (400, the verdict's code)", async () => {
    const g = guardian();
    g.nodes.txs.set(txidHex(1), { received: 5000n, good: false });
    g.nodes.txs.set(txidHex(2), { received: 5000n, refuse: true });
    g.nodes.txs.set(txidHex(3), { received: 0n });
    g.nodes.txs.set(txidHex(4), { received: 999n });
    const codes = [];
    for (const n of [1, 2, 3, 4]) codes.push((await g.refusal(g.post("claims", claimBody(txidHex(n))))).code);
    expect(codes).toEqual(["bad_proof", "bad_proof", "nothing_received", "below_minimum"]);
    expect(g.order()).toBe(0);
  });

  it("bounds what checking costs: per client per minute (429) and at once (503); a node that fails answers 503, nothing queued", async () => {
    const g = guardian();
    for (let i = 1; i <= CLAIM_CHECKS_PER_CLIENT_PER_MINUTE_MAX; i++)
      await g.refusal(g.post("claims", claimBody(txidHex(i)), "203.0.113.1"));
    const calls = g.nodes.calls;
    const e = await g.refusal(g.post("claims", claimBody(txidHex(999)), "203.0.113.1"));
    expect(e).toMatchObject({ code: "rate_limited", status: 429 });
    expect(g.nodes.calls).toBe(calls); // refused before any RPC
    // Another client is still served.
    g.nodes.txs.set(txidHex(500), { received: 5000n });
    expect(await g.post("claims", claimBody(txidHex(500)), "203.0.113.2")).toMatchObject({ state: "queued" });
    // At most CLAIM_CHECKS_IN_FLIGHT_MAX checks at once.
    g.nodes.hold = [];
    const held = [];
    for (let i = 0; i < CLAIM_CHECKS_IN_FLIGHT_MAX; i++) {
      g.nodes.txs.set(txidHex(600 + i), { received: 5000n });
      held.push(g.post("claims", claimBody(txidHex(600 + i)), `203.0.113.${10 + i}`));
    }
    await new Promise((r) => setTimeout(r, 10));
    g.nodes.txs.set(txidHex(700), { received: 5000n });
    expect(await g.refusal(g.post("claims", claimBody(txidHex(700)), "203.0.113.99"))).toMatchObject({
      status: 503,
    });
    for (const release of g.nodes.hold) release();
    g.nodes.hold = undefined;
    for (const h of held) expect(await h).toMatchObject({ state: "queued" });
    // The node is down: 503, and nothing is queued.
    g.nodes.down = true;
    g.nodes.txs.set(txidHex(800), { received: 5000n });
    const down = await g.refusal(g.post("claims", claimBody(txidHex(800)), "203.0.113.50"));
    expect(down).toMatchObject({ status: 503 });
    expect(down.message).toMatch(/could not check the claim/);
  });
});

describe("a transient wallet-rpc failure", () => {
  it("is asked again once (a transaction moving into a block), so the claim is still taken; twice in a row is 503", async () => {
    const g = guardian();
    g.nodes.txs.set(txidHex(1), { received: 5000n });
    g.nodes.flaky = 1;
    expect(await g.post("claims", claimBody(txidHex(1)))).toMatchObject({ state: "queued" });
    g.nodes.txs.set(txidHex(2), { received: 5000n });
    g.nodes.flaky = 2;
    expect(await g.refusal(g.post("claims", claimBody(txidHex(2))))).toMatchObject({ status: 503 });
  });
});

describe("subaddress requests are bounded per client", () => {
  const request = (seed: number) => {
    const secret = new Uint8Array(32).fill(seed);
    const key = ed25519.getPublicKey(secret);
    return {
      claimKey: toHex(key),
      signature: toHex(ed25519.sign(subaddressRequestMessage(ADDRESS, key), secret)),
    };
  };

  it("one client's fresh keys stop at its own bound (429) and cannot use up the guardian's window budget for another client", async () => {
    const g = guardian();
    g.order(); // an agreed height, so a window
    for (let i = 1; i <= ADDRESS_REQUESTS_PER_CLIENT_PER_WINDOW_MAX; i++)
      expect(await g.post("subaddresses", request(i), "198.51.100.1")).toMatchObject({ state: "queued" });
    const e = await g.refusal(g.post("subaddresses", request(200), "198.51.100.1"));
    expect(e).toMatchObject({ code: "too_many_address_requests", status: 429 });
    // The same key again is not a new request (it stays queued), and another client is served.
    expect(await g.post("subaddresses", request(1), "198.51.100.1")).toMatchObject({ state: "queued" });
    expect(await g.post("subaddresses", request(201), "198.51.100.2")).toMatchObject({ state: "queued" });
    g.order();
    expect(g.monero.subaddressView(g.read(), Buffer.from(request(201).claimKey, "hex")).state).toBe(
      "assigned",
    );
  });
});
