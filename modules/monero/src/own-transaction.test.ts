// Invariant 7 in the consensus rules and the watchers (issue 10, item 1): nothing the federation's
// own wallet sent counts as money received. Four guardians' processors in memory (no monerod) and
// the watchers on fake chains; the real wallets are in own-transaction-regtest.test.ts.
//
// The attack: a payout's tx key (published in its outcome) proves the payout's change received at
// the federation's address, so a claim of the payout's txid passed check_tx_proof at every honest
// guardian and was credited. Now (a) consensus keeps every txid the federation agreed it sent
// (markOwnTransaction, called where t guardians vote a payout batch's txid) and refuses a claim or
// a subaddress attestation of it, and no attestation credits it; (b) each guardian's watcher asks its
// own nodes whether the federation's wallet sent the transaction and attests own_transaction.
import { describe, expect, it } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import { ConclaveError, encodeConsensusItem, toHex } from "@conclave/core-common";
import { FederationProcessor, MemoryKv, NodeSigner, NodeVerifier, sha256 } from "@conclave/core-server";
import { DummyServerModule, buildTransaction, coinOutput } from "@conclave/module-dummy";
import { encodeAddress } from "@conclave/monero";
import { depositInput } from "./client.js";
import { claimProof, encodeMoneroItem, subaddressRequestMessage } from "./common.js";
import type { MoneroConfig, MoneroItem, Verdict } from "./common.js";
import { parseMoneroConfig } from "./factory.js";
import { MoneroServerModule } from "./server.js";
import { markOwnTransaction } from "./state.js";
import { SubaddressWatcher } from "./watcher.js";
import type {
  ChainSource,
  IncomingToSubaddress,
  OwnTransactionCheck,
  SubaddressSource,
  TxLocation,
} from "./watcher.js";

const DUMMY = 0;
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
  claimExpiryBlocks: 10,
});
const alice = new NodeSigner(new Uint8Array(32).fill(1));
const bob = new NodeSigner(new Uint8Array(32).fill(2));
const txidOf = (n: number) => new Uint8Array(32).fill(n);
const TX_KEY = Uint8Array.from([...new Uint8Array(31).fill(0x42), 0x01]);
const proofOf = (txid: Uint8Array, claimKey: Uint8Array) =>
  claimProof({ federationAddress: ADDRESS, txid, txKey: TX_KEY, claimKey });
const valid = (amount: bigint, txHeight: number): Verdict => ({ valid: true, amount, txHeight });

function federation() {
  const guardians = Array.from({ length: N }, () => {
    const monero = new MoneroServerModule(MONERO, CONFIG);
    const dummy = new DummyServerModule(DUMMY, { faucetAmountMax: 10n ** 15n, feePerInput: 0n });
    const p = new FederationProcessor([dummy, monero], { verifier: new NodeVerifier(), hash: sha256 });
    monero.start({ self: 0, wake: () => {}, log: () => {} });
    return { db: new MemoryKv(), p, monero };
  });
  let height = 0;
  const block = (
    items: readonly { from: number; item: MoneroItem }[],
    txs: Parameters<typeof encodeConsensusItem>[0][] = [],
  ) => {
    const bundles = Array.from({ length: N }, (_, origin) => ({
      origin,
      items: items
        .filter((i) => i.from === origin)
        .map((i) =>
          encodeConsensusItem({ kind: "module", module: MONERO, payload: encodeMoneroItem(i.item) }),
        ),
    }));
    bundles[0]!.items.push(...txs.map(encodeConsensusItem));
    const results = guardians.map((g) => g.p.processBlock(g.db, height, bundles));
    height++;
    for (const r of results.slice(1)) expect(r.moduleItemErrors).toBe(results[0]!.moduleItemErrors);
    return results[0]!;
  };
  const mdb = (i = 0) => guardians[i]!.p.moduleReadDb(guardians[i]!.db, MONERO);
  const deposit = (txid: Uint8Array) => {
    const views = guardians.map((g, i) => g.monero.depositView(mdb(i), txid));
    for (const v of views.slice(1)) expect(v).toEqual(views[0]);
    return views[0]!;
  };
  /** What payouts.ts does at every guardian when t guardians vote a batch's txid. */
  const agreeSent = (txid: Uint8Array) => {
    for (const g of guardians) markOwnTransaction(g.p.moduleDb(g.db, MONERO), txid);
  };
  const heights = (h: number) =>
    block(guardians.map((_, from) => ({ from, item: { kind: "height" as const, height: h } })));
  const claim = (from: number, txid: Uint8Array, claimKey = alice.publicKey) =>
    block([{ from, item: { kind: "claim", txid, claimKey, proof: proofOf(txid, claimKey) } }]);
  const attest = (txid: Uint8Array, round: number, from: number[], verdict: Verdict) =>
    block(from.map((g) => ({ from: g, item: { kind: "attest" as const, txid, round, verdict } })));
  const audit = () => {
    const audits = guardians.map((g) => g.p.audit(g.db));
    for (const a of audits.slice(1)) expect(a).toEqual(audits[0]);
    return audits[0]!;
  };
  return { guardians, block, mdb, deposit, agreeSent, heights, claim, attest, audit };
}

describe("consensus: a txid the federation agreed it sent is never a deposit", () => {
  it("refuses a claim of it at ordering (own_transaction), at every guardian alike; nothing opens", () => {
    const f = federation();
    f.heights(100);
    f.agreeSent(txidOf(9));
    const r = f.claim(1, txidOf(9));
    expect(r.moduleItemErrors).toBe(1);
    expect(f.deposit(txidOf(9))).toMatchObject({ state: "unclaimed", round: 0 });
    // Another txid is claimed as before.
    expect(f.claim(1, txidOf(10)).moduleItemErrors).toBe(0);
    expect(f.deposit(txidOf(10)).state).toBe("open");
  });

  it("a claim ordered before the txid was agreed is closed own_transaction by the next attestation: even t valid verdicts never credit it", () => {
    const f = federation();
    f.heights(100);
    f.claim(3, txidOf(9), bob.publicKey);
    expect(f.deposit(txidOf(9)).state).toBe("open");
    f.agreeSent(txidOf(9));
    f.attest(txidOf(9), 1, [0, 1, 2, 3], valid(998_000n, 90));
    const d = f.deposit(txidOf(9));
    expect(d).toMatchObject({ state: "rejected", closedReason: "own_transaction" });
    expect(d.amount).toBeUndefined();
    // Nothing to spend: the deposit input is refused, the audit holds no asset for it.
    const tx = buildTransaction(
      [depositInput(MONERO, 998_000n, txidOf(9))],
      [coinOutput(DUMMY, 998_000n, bob.publicKey)],
      [bob],
      sha256,
    );
    const r = f.block([], [{ kind: "transaction", tx }]);
    expect(r.events[0]!.status).toMatchObject({ state: "rejected", error: { code: "deposit_rejected" } });
    expect(f.audit().modules.find((m) => m.instanceId === MONERO)!.audit).toEqual({
      assets: 0n,
      liabilities: 0n,
    });
    // And it cannot be claimed again.
    expect(f.claim(1, txidOf(9)).moduleItemErrors).toBe(1);
  });

  it("t own_transaction verdicts reject a claim the state does not know as the federation's (a transaction no payout round agreed)", () => {
    const f = federation();
    f.heights(100);
    f.claim(3, txidOf(9), bob.publicKey);
    f.attest(txidOf(9), 1, [3], valid(998_000n, 90)); // the Byzantine guardian says valid
    f.attest(txidOf(9), 1, [0, 1, 2], { valid: false, reason: "own_transaction" });
    expect(f.deposit(txidOf(9))).toMatchObject({ state: "rejected", closedReason: "own_transaction" });
  });

  it("refuses a subaddress attestation of it (a payout to one of the federation's own subaddresses)", () => {
    const f = federation();
    f.heights(100);
    const key = ed25519.getPublicKey(new Uint8Array(32).fill(5));
    const signature = ed25519.sign(subaddressRequestMessage(ADDRESS, key), new Uint8Array(32).fill(5));
    f.block([{ from: 0, item: { kind: "address_request", claimKey: key, signature } }]);
    f.agreeSent(txidOf(9));
    const seen = {
      kind: "subaddress_seen" as const,
      txid: txidOf(9),
      index: 1,
      amount: 250_000n,
      txHeight: 90,
    };
    const r = f.block([0, 1, 2, 3].map((from) => ({ from, item: seen })));
    expect(r.moduleItemErrors).toBe(4);
    expect(f.guardians[0]!.monero.subaddressView(f.mdb(), key).deposits).toEqual([]);
    // Another transaction to the same subaddress is credited as before.
    f.block([0, 1, 2].map((from) => ({ from, item: { ...seen, txid: txidOf(10) } })));
    expect(f.guardians[0]!.monero.subaddressView(f.mdb(), key).deposits).toMatchObject([
      { state: "credited" },
    ]);
  });

  it("the API refuses a claim of it with own_transaction (400), saying why", async () => {
    const f = federation();
    f.heights(100);
    f.agreeSent(txidOf(9));
    const post = f.guardians[0]!.monero.api.find((e) => e.path === "claims")!;
    let error: unknown;
    try {
      await post.handle({
        params: {},
        db: f.mdb(),
        body: {
          txid: toHex(txidOf(9)),
          claimKey: toHex(alice.publicKey),
          proof: toHex(proofOf(txidOf(9), alice.publicKey)),
        },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConclaveError);
    expect(error).toMatchObject({ code: "own_transaction", status: 400 });
    expect((error as Error).message).toMatch(/sent by the federation itself/);
  });
});

/** One guardian's nodes: a transaction the federation's wallet sent (own) or a user's deposit. */
class FakeChain implements ChainSource {
  height_ = 100;
  readonly txs = new Map<string, { location: TxLocation; own: OwnTransactionCheck; received: bigint }>();
  ownChecks = 0;
  height(): Promise<number> {
    return Promise.resolve(this.height_);
  }
  transaction(txid: string): Promise<{ found: false } | TxLocation> {
    return Promise.resolve(this.txs.get(txid)?.location ?? { found: false });
  }
  /** The payout's tx key proves its change received: the proof is good. */
  proven(txid: string): Promise<{ good: boolean; received: bigint }> {
    return Promise.resolve({ good: true, received: this.txs.get(txid)?.received ?? 0n });
  }
  ownTransaction(txid: string): Promise<OwnTransactionCheck> {
    this.ownChecks++;
    return Promise.resolve(this.txs.get(txid)?.own ?? { own: false });
  }
}

describe("the watcher asks its own nodes whether the federation sent a transaction", () => {
  const watching = () => {
    const chain = new FakeChain();
    const logs: string[] = [];
    const monero = new MoneroServerModule(MONERO, CONFIG, { chain, pollMs: 1000, autoPoll: false });
    monero.start({ self: 1, wake: () => {}, log: (event) => logs.push(event) });
    const db = new MemoryKv();
    const p = new FederationProcessor([monero], { verifier: new NodeVerifier(), hash: sha256 });
    let height = 0;
    const round = (others: { from: number; item: MoneroItem }[] = []) => {
      const own = monero.consensusProposal(p.moduleReadDb(db, MONERO));
      const bundles = Array.from({ length: N }, (_, origin) => ({
        origin,
        items: [
          ...(origin === 1 ? own : []),
          ...others.filter((o) => o.from === origin).map((o) => encodeMoneroItem(o.item)),
        ].map((payload) => encodeConsensusItem({ kind: "module", module: MONERO, payload })),
      }));
      p.processBlock(db, height++, bundles);
    };
    const view = (txid: Uint8Array) => monero.depositView(p.moduleReadDb(db, MONERO), txid);
    return { chain, monero, round, view, logs };
  };

  it("attests own_transaction for a claim of a transaction its wallet sent (a good proof of the change), valid for a user's deposit", async () => {
    const w = watching();
    const mined = { found: true as const, inPool: false as const, blockHeight: 90 };
    w.chain.txs.set(toHex(txidOf(9)), {
      location: mined,
      own: { own: true, by: "key_image" },
      received: 998_000n,
    });
    w.chain.txs.set(toHex(txidOf(10)), { location: mined, own: { own: false }, received: 5_000n });
    const heights = [0, 2, 3].map((from) => ({ from, item: { kind: "height" as const, height: 100 } }));
    const claims = [9, 10].map((n) => ({
      from: 3,
      item: {
        kind: "claim" as const,
        txid: txidOf(n),
        claimKey: bob.publicKey,
        proof: proofOf(txidOf(n), bob.publicKey),
      },
    }));
    w.round([...heights, ...claims]);
    w.round(); // the watcher learns the claims it must attest
    await w.monero.chainWatcher!.poll();
    w.round();
    expect(w.view(txidOf(9)).attestations).toEqual([{ guardian: 1, verdict: "own_transaction" }]);
    expect(w.view(txidOf(10)).attestations).toEqual([
      { guardian: 1, verdict: "valid", amount: "5000", txHeight: 90 },
    ]);
    expect(w.logs).toContain("own_transaction_claimed");
  });
});

/** One guardian's share of the wallet, for the subaddress watcher. */
class FakeSubaddresses implements SubaddressSource {
  transfers: IncomingToSubaddress[] = [];
  own = new Set<string>();
  subaddressCount(): Promise<number> {
    return Promise.resolve(10);
  }
  createSubaddresses(): Promise<number> {
    return Promise.resolve(10);
  }
  subaddresses(): Promise<Map<number, string>> {
    return Promise.resolve(new Map<number, string>());
  }
  incoming(): Promise<IncomingToSubaddress[]> {
    return Promise.resolve(this.transfers);
  }
  ownTransaction(txid: string): Promise<OwnTransactionCheck> {
    return Promise.resolve(this.own.has(txid) ? { own: true, by: "key_image" } : { own: false });
  }
}

describe("the subaddress watcher never attests a transfer of a transaction the federation's wallet sent", () => {
  it("sets aside one its wallet lists as sent, and one whose key images are the wallet's; attests a user's", async () => {
    const source = new FakeSubaddresses();
    const logs: { event: string; fields: Record<string, unknown> }[] = [];
    const w = new SubaddressWatcher(source, 3, 1000n, (event, fields) => logs.push({ event, fields }));
    w.setAssigned(5);
    source.transfers = [
      { txid: "aa".repeat(32), index: 1, amount: 250_000n, txHeight: 90, sent: true },
      { txid: "bb".repeat(32), index: 2, amount: 250_000n, txHeight: 90 },
      { txid: "cc".repeat(32), index: 3, amount: 7_000n, txHeight: 90 },
    ];
    source.own.add("bb".repeat(32));
    expect(await w.poll(100)).toBe(true);
    expect([...w.attestable()].map((d) => d.txid)).toEqual(["cc".repeat(32)]);
    expect(w.seenAt(1)).toEqual([]);
    expect(
      logs
        .filter((l) => l.event === "own_transaction_ignored")
        .map((l) => [l.fields["txid"], l.fields["by"]]),
    ).toEqual([
      ["aa".repeat(32), "wallet"],
      ["bb".repeat(32), "key_image"],
    ]);
    // Logged once, not at every poll.
    await w.poll(101);
    expect(logs.filter((l) => l.event === "own_transaction_ignored")).toHaveLength(2);
  });
});
