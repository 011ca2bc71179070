// Subaddress deposits' consensus rules with four guardians' processors in memory (no monerod): the
// same ordered blocks at every guardian, the same state. The watcher's subaddress half runs on a fake
// wallet here; the real wallets are in subaddress-regtest.test.ts.
import { describe, expect, it } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import { CodecError, ConclaveError, encodeConsensusItem, toHex } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { FederationProcessor, MemoryKv, NodeSigner, NodeVerifier, sha256 } from "@conclave/core-server";
import type { ModuleContext } from "@conclave/core-server";
import { DummyServerModule, buildTransaction, coinOutput } from "@conclave/module-dummy";
import { encodeAddress } from "@conclave/monero";
import { depositInput, subaddressDepositInput } from "./client.js";
import {
  claimProof,
  decodeMoneroInput,
  decodeMoneroItem,
  encodeMoneroItem,
  encodeSubaddressDepositInput,
  subaddressRequestMessage,
} from "./common.js";
import type { MoneroConfig, MoneroItem } from "./common.js";
import { parseMoneroConfig } from "./factory.js";
import { MoneroServerModule } from "./server.js";
import { MoneroState } from "./state.js";
import type { IncomingToSubaddress, SubaddressSource } from "./watcher.js";
import { SubaddressWatcher } from "./watcher.js";

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
  openClaimsPerGuardianMax: 3,
  subaddressesMax: 5,
  subaddressesPerGuardianPerWindowMax: 2,
  subaddressWindowBlocks: 10,
});

const alice = new NodeSigner(new Uint8Array(32).fill(1));
const bob = new NodeSigner(new Uint8Array(32).fill(2));
const carol = new NodeSigner(new Uint8Array(32).fill(3));
const txidOf = (n: number) => new Uint8Array(32).fill(n);

const request = (signer: NodeSigner, address = ADDRESS): MoneroItem => ({
  kind: "address_request",
  claimKey: signer.publicKey,
  signature: signer.sign(subaddressRequestMessage(address, signer.publicKey)),
});
const seen = (txid: Uint8Array, index: number, amount: bigint, txHeight: number): MoneroItem => ({
  kind: "subaddress_seen",
  txid,
  index,
  amount,
  txHeight,
});

function federation(config: MoneroConfig = CONFIG) {
  const guardians = Array.from({ length: N }, () => {
    const monero = new MoneroServerModule(MONERO, config);
    const dummy = new DummyServerModule(DUMMY, { faucetAmountMax: 10n ** 15n, feePerInput: 0n });
    const p = new FederationProcessor([dummy, monero], { verifier: new NodeVerifier(), hash: sha256 });
    return { db: new MemoryKv(), p, monero };
  });
  let height = 0;
  const block = (items: readonly { from: number; item: MoneroItem }[], txs: Transaction[] = []) => {
    const bundles = Array.from({ length: N }, (_, origin) => ({
      origin,
      items: items
        .filter((i) => i.from === origin)
        .map((i) =>
          encodeConsensusItem({ kind: "module", module: MONERO, payload: encodeMoneroItem(i.item) }),
        ),
    }));
    bundles[0]!.items.push(...txs.map((tx) => encodeConsensusItem({ kind: "transaction", tx })));
    const results = guardians.map((g) => g.p.processBlock(g.db, height, bundles));
    height++;
    for (const r of results) expect(r.auditFailure).toBeUndefined();
    for (const r of results.slice(1)) expect(r.moduleItemErrors).toBe(results[0]!.moduleItemErrors);
    return results[0]!;
  };
  const mdb = (i = 0) => guardians[i]!.p.moduleReadDb(guardians[i]!.db, MONERO);
  /** A claim key's subaddress view as every guardian sees it (they must agree). */
  const view = (claimKey: Uint8Array) => {
    const views = guardians.map((g, i) => g.monero.subaddressView(mdb(i), claimKey));
    for (const v of views.slice(1)) expect(v).toEqual(views[0]);
    return views[0]!;
  };
  const heights = (h: number) =>
    block(guardians.map((_, from) => ({ from, item: { kind: "height", height: h } })));
  const submit = (tx: Transaction) => block([], [tx]).events[0]!.status;
  /** Submits `tx`; its federation txid (hex) and status. */
  const submitted = (tx: Transaction) => {
    const e = block([], [tx]).events[0]!;
    return { txid: e.txid, status: e.status };
  };
  /** A Monero txid's look-up view as every guardian sees it (no watcher here: no `seen`). */
  const txView = (txid: Uint8Array) => {
    const views = guardians.map((g, i) => g.monero.subaddressTxView(mdb(i), txid));
    for (const v of views.slice(1)) expect(v).toEqual(views[0]);
    return views[0]!;
  };
  const spendTx = (txid: Uint8Array, index: number, amount: bigint, signer: NodeSigner) =>
    buildTransaction(
      [subaddressDepositInput(MONERO, amount, txid, index)],
      [coinOutput(DUMMY, amount, carol.publicKey)],
      [signer],
      sha256,
    );
  const audit = () => {
    const audits = guardians.map((g) => g.p.audit(g.db));
    for (const a of audits.slice(1)) expect(a).toEqual(audits[0]);
    return audits[0]!;
  };
  const credited = () => new MoneroState(mdb()).creditedOutstanding();
  return { guardians, block, view, heights, submit, submitted, txView, spendTx, audit, credited, mdb };
}

describe("subaddress deposit codecs", () => {
  it("round-trips the request and seen items and the subaddress deposit input", () => {
    const items: MoneroItem[] = [request(alice), seen(txidOf(9), 7, 123_456n, 42)];
    for (const item of items) expect(decodeMoneroItem(encodeMoneroItem(item))).toEqual(item);
    expect(decodeMoneroInput(encodeSubaddressDepositInput(txidOf(9), 7))).toEqual({
      kind: "subaddress_deposit",
      txid: txidOf(9),
      index: 7,
    });
    expect(decodeMoneroInput(depositInput(MONERO, 1n, txidOf(9)).payload)).toEqual({
      kind: "deposit",
      txid: txidOf(9),
    });
  });

  it("refuses index 0 (the primary address), a zero amount, truncated and trailing bytes", () => {
    const good = encodeMoneroItem(seen(txidOf(1), 1, 5n, 3));
    expect(() => decodeMoneroItem(encodeMoneroItem(seen(txidOf(1), 0, 5n, 3)))).toThrow(/index 0/);
    expect(() => decodeMoneroItem(encodeMoneroItem(seen(txidOf(1), 1, 0n, 3)))).toThrow(/positive/);
    expect(() => decodeMoneroItem(good.subarray(0, good.length - 1))).toThrow(CodecError);
    expect(() => decodeMoneroItem(Uint8Array.from([...good, 0]))).toThrow(CodecError);
    const req = encodeMoneroItem(request(alice));
    expect(() => decodeMoneroItem(req.subarray(0, 90))).toThrow(CodecError);
    const input = encodeSubaddressDepositInput(txidOf(1), 1);
    expect(() => decodeMoneroInput(Uint8Array.from([...input, 0]))).toThrow(CodecError);
    expect(() => decodeMoneroInput(encodeSubaddressDepositInput(txidOf(1), 0))).toThrow(/index 0/);
    expect(() => decodeMoneroInput(Uint8Array.of(0x03, ...txidOf(1)))).toThrow(CodecError);
  });
});

describe("subaddress assignment", () => {
  it("binds the next index to a claim key both ways; the same key asked again keeps its index", () => {
    const f = federation();
    f.heights(100);
    expect(f.view(alice.publicKey).state).toBe("unassigned");
    f.block([{ from: 0, item: request(alice) }]);
    expect(f.view(alice.publicKey)).toMatchObject({ state: "assigned", index: 1 });
    // Again, from two other guardians (the wallet posts to every guardian): nothing changes.
    f.block([
      { from: 1, item: request(alice) },
      { from: 2, item: request(alice) },
      { from: 3, item: request(bob) },
    ]);
    expect(f.view(alice.publicKey)).toMatchObject({ state: "assigned", index: 1 });
    expect(f.view(bob.publicKey)).toMatchObject({ state: "assigned", index: 2 });
  });

  it("refuses a request not signed by its claim key, or signed for another federation", () => {
    const f = federation();
    f.heights(100);
    const forged: MoneroItem = {
      ...(request(bob) as { signature: Uint8Array }),
      kind: "address_request",
      claimKey: alice.publicKey,
    };
    const otherFederation = encodeAddress({
      network: "mainnet",
      kind: "standard",
      publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(17)),
      publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(18)),
    });
    expect(f.block([{ from: 0, item: forged }]).moduleItemErrors).toBe(1);
    expect(f.block([{ from: 0, item: request(alice, otherFederation) }]).moduleItemErrors).toBe(1);
    const offCurve: MoneroItem = {
      kind: "address_request",
      claimKey: new Uint8Array(32).fill(0xff),
      signature: new Uint8Array(64),
    };
    expect(f.block([{ from: 0, item: offCurve }]).moduleItemErrors).toBe(1);
    expect(f.view(alice.publicKey).state).toBe("unassigned");
  });

  it("bounds requests per guardian per window and in all", () => {
    const f = federation();
    f.heights(100);
    const keys = Array.from({ length: 8 }, (_, i) => new NodeSigner(new Uint8Array(32).fill(40 + i)));
    // Guardian 3 (Byzantine, say) spams: two per window of 10 blocks.
    const r = f.block(keys.slice(0, 4).map((k) => ({ from: 3, item: request(k) })));
    expect(r.moduleItemErrors).toBe(2);
    expect(keys.slice(0, 4).map((k) => f.view(k.publicKey).index)).toEqual([1, 2, undefined, undefined]);
    // Others are not held up by guardian 3's budget.
    f.block([{ from: 0, item: request(keys[4]!) }]);
    expect(f.view(keys[4]!.publicKey).index).toBe(3);
    // A new window refills guardian 3's budget; the total cap (5) stops it.
    f.heights(110);
    expect(f.block(keys.slice(2, 4).map((k) => ({ from: 3, item: request(k) }))).moduleItemErrors).toBe(0);
    expect(f.block([{ from: 1, item: request(keys[5]!) }]).moduleItemErrors).toBe(1);
    expect(f.view(keys[5]!.publicKey).state).toBe("unassigned");
  });
});

describe("subaddress deposits", () => {
  /** A federation at height 100 with alice at subaddress 1 and bob at 2. */
  const setup = () => {
    const f = federation();
    f.heights(100);
    f.block([
      { from: 0, item: request(alice) },
      { from: 0, item: request(bob) },
    ]);
    return f;
  };
  const T1 = txidOf(0x51);

  it("credits t equal attestations to the key bound to the index, spendable once confirmed, spent once", () => {
    const f = setup();
    f.block([
      { from: 0, item: seen(T1, 1, 5000n, 98) },
      { from: 1, item: seen(T1, 1, 5000n, 98) },
    ]);
    expect(f.view(alice.publicKey).deposits).toEqual([
      { txid: toHex(T1), state: "pending", attestations: 2, confirmations: 0, spendable: false },
    ]);
    expect(f.submit(f.spendTx(T1, 1, 5000n, alice))).toMatchObject({
      state: "rejected",
      error: { code: "deposit_not_credited" },
    });
    f.block([{ from: 2, item: seen(T1, 1, 5000n, 98) }]);
    // 100 − 98 = 2 of 3 confirmations at the agreed height.
    expect(f.view(alice.publicKey).deposits[0]).toMatchObject({
      state: "credited",
      amount: "5000",
      confirmations: 2,
      spendable: false,
    });
    expect(f.view(bob.publicKey).deposits).toEqual([]);
    expect(f.credited()).toBe(5000n);
    expect(f.submit(f.spendTx(T1, 1, 5000n, alice))).toMatchObject({
      state: "rejected",
      error: { code: "deposit_unconfirmed" },
    });
    f.heights(101);
    // Bob's key cannot spend alice's deposit; another amount is refused.
    expect(f.submit(f.spendTx(T1, 1, 5000n, bob)).state).toBe("rejected");
    expect(f.submit(f.spendTx(T1, 1, 4000n, alice)).state).toBe("rejected");
    expect(f.audit().assets).toBe(0n);
    expect(f.submit(f.spendTx(T1, 1, 5000n, alice)).state).toBe("accepted");
    expect(f.audit().assets).toBe(5000n);
    expect(f.credited()).toBe(0n);
    expect(f.view(alice.publicKey).deposits[0]).toMatchObject({ state: "spent", spendable: false });
    expect(f.submit(f.spendTx(T1, 1, 5000n, alice))).toMatchObject({
      state: "rejected",
      error: { code: "spent_input" },
    });
    // A late attestation changes nothing.
    expect(f.block([{ from: 3, item: seen(T1, 1, 5000n, 98) }]).moduleItemErrors).toBe(0);
    expect(f.audit().assets).toBe(5000n);
  });

  it("a liar can neither credit nor block; a guardian's second, different attestation is refused", () => {
    const f = setup();
    // Guardian 3 claims 1000 XMR to bob's subaddress that nobody else saw: never credited.
    f.block([{ from: 3, item: seen(txidOf(0x66), 2, 10n ** 15n, 98) }]);
    expect(f.view(bob.publicKey).deposits[0]).toMatchObject({ state: "pending", attestations: 1 });
    // Guardian 3 lies about the amount of a real deposit: the three honest ones credit it.
    f.block([
      { from: 3, item: seen(T1, 1, 9000n, 98) },
      { from: 0, item: seen(T1, 1, 5000n, 98) },
      { from: 1, item: seen(T1, 1, 5000n, 98) },
    ]);
    expect(f.block([{ from: 1, item: seen(T1, 1, 5001n, 98) }]).moduleItemErrors).toBe(1);
    f.block([{ from: 2, item: seen(T1, 1, 5000n, 98) }]);
    expect(f.view(alice.publicKey).deposits[0]).toMatchObject({ state: "credited", amount: "5000" });
    // The lie expires (claimExpiryBlocks = 10 after its first attestation).
    f.heights(110);
    expect(f.view(bob.publicKey).deposits).toEqual([]);
  });

  it("refuses attestations to an unassigned subaddress, below the minimum, and past a guardian's pending budget", () => {
    const f = setup();
    expect(f.block([{ from: 0, item: seen(T1, 3, 5000n, 98) }]).moduleItemErrors).toBe(1);
    expect(f.block([{ from: 0, item: seen(T1, 1, 999n, 98) }]).moduleItemErrors).toBe(1);
    const r = f.block([1, 2, 3, 4].map((n) => ({ from: 3, item: seen(txidOf(n), 2, 5000n, 98) })));
    expect(r.moduleItemErrors).toBe(1); // openClaimsPerGuardianMax = 3
    expect(f.view(bob.publicKey).deposits).toHaveLength(3);
  });

  it("one transaction paying two users' subaddresses credits each its own amount, crossing nothing", () => {
    const f = setup();
    f.block(
      [0, 1, 2].flatMap((from) => [
        { from, item: seen(T1, 1, 5000n, 97) },
        { from, item: seen(T1, 2, 7000n, 97) },
      ]),
    );
    expect(f.view(alice.publicKey).deposits[0]).toMatchObject({
      state: "credited",
      amount: "5000",
      spendable: true,
    });
    expect(f.view(bob.publicKey).deposits[0]).toMatchObject({
      state: "credited",
      amount: "7000",
      spendable: true,
    });
    // Each key spends only its own (txid, index).
    expect(f.submit(f.spendTx(T1, 2, 7000n, alice)).state).toBe("rejected");
    expect(f.submit(f.spendTx(T1, 1, 5000n, alice)).state).toBe("accepted");
    expect(f.submit(f.spendTx(T1, 2, 7000n, bob)).state).toBe("accepted");
    expect(f.audit().assets).toBe(12_000n);
  });

  it("look-up by Monero txid (GET subaddress-deposits/:txid): pending, credited, spent by the federation transaction that spent it (spentIn), per output; no index, claim key or amount", () => {
    const f = setup();
    expect(f.txView(T1)).toEqual({
      txid: toHex(T1),
      agreedHeight: 100,
      attestationsRequired: 3,
      confirmationsRequired: 3,
      deposits: [],
      more: false,
    });
    f.block([0, 1].flatMap((from) => [{ from, item: seen(T1, 2, 7000n, 98) }]));
    expect(f.txView(T1).deposits).toEqual([
      { state: "pending", attestations: 2, confirmations: 0, spendable: false },
    ]);
    f.block([
      { from: 2, item: seen(T1, 2, 7000n, 98) },
      ...[0, 1, 2].map((from) => ({ from, item: seen(T1, 1, 5000n, 98) })),
    ]);
    expect(f.txView(T1).deposits).toEqual([
      { state: "credited", attestations: 3, txHeight: 98, confirmations: 2, spendable: false },
      { state: "credited", attestations: 3, txHeight: 98, confirmations: 2, spendable: false },
    ]);
    f.heights(101);
    const spent = f.submitted(f.spendTx(T1, 2, 7000n, bob));
    expect(spent.status.state).toBe("accepted");
    const v = f.txView(T1);
    expect(v.deposits).toEqual([
      { state: "credited", attestations: 3, txHeight: 98, confirmations: 3, spendable: true },
      {
        state: "spent",
        attestations: 3,
        txHeight: 98,
        confirmations: 3,
        spendable: false,
        spentIn: spent.txid,
      },
    ]);
    // Nothing that ties the deposit to a wallet: no subaddress index, claim key or amount.
    const text = JSON.stringify(v);
    expect(text).not.toMatch(/index|claimKey|amount|7000|5000/);
    expect(text).not.toContain(toHex(bob.publicKey));
    // Another transaction's view is empty: a look-up reads only this txid's records.
    expect(f.txView(txidOf(0x52)).deposits).toEqual([]);
  });

  it("a tx-key claim of the same txid is its own deposit (the primary address's outputs): never this one", () => {
    const f = setup();
    f.block([0, 1, 2].map((from) => ({ from, item: seen(T1, 1, 5000n, 97) })));
    const txKey = Uint8Array.from([...new Uint8Array(31).fill(0x42), 0x01]);
    const proof = claimProof({ federationAddress: ADDRESS, txid: T1, txKey, claimKey: bob.publicKey });
    f.block([{ from: 0, item: { kind: "claim", txid: T1, claimKey: bob.publicKey, proof } }]);
    // check_tx_key with the primary address finds nothing in a payment to a subaddress (measured).
    f.block(
      [0, 1, 2].map((from) => ({
        from,
        item: {
          kind: "attest",
          txid: T1,
          round: 1,
          verdict: { valid: false, reason: "nothing_received" },
        },
      })),
    );
    const dep = f.guardians[0]!.monero.depositView(f.mdb(), T1);
    expect(dep.state).toBe("rejected");
    expect(
      f.submit(
        buildTransaction(
          [depositInput(MONERO, 5000n, T1)],
          [coinOutput(DUMMY, 5000n, bob.publicKey)],
          [bob],
          sha256,
        ),
      ).state,
    ).toBe("rejected");
    expect(f.submit(f.spendTx(T1, 1, 5000n, alice)).state).toBe("accepted");
    expect(f.audit().assets).toBe(5000n);
  });
});

describe("the subaddress API and proposals", () => {
  const context = (self: number): ModuleContext => ({ log: () => {}, wake: () => {}, self });

  it("takes a signed request, proposes it until ordered, and refuses a bad signature with 400", () => {
    const f = federation();
    f.heights(100);
    const g = f.guardians[1]!;
    g.monero.start(context(1));
    const post = g.monero.api.find((e) => e.method === "POST" && e.path === "subaddresses")!;
    const body = {
      claimKey: toHex(alice.publicKey),
      signature: toHex(alice.sign(subaddressRequestMessage(ADDRESS, alice.publicKey))),
    };
    let err: unknown;
    try {
      post.handle({
        params: {},
        body: { ...body, signature: toHex(bob.sign(subaddressRequestMessage(ADDRESS, alice.publicKey))) },
        db: f.mdb(1),
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConclaveError);
    expect((err as ConclaveError).code).toBe("bad_signature");
    expect(post.handle({ params: {}, body, db: f.mdb(1) })).toEqual({
      claimKey: body.claimKey,
      state: "queued",
    });
    const proposed = g.monero.consensusProposal(f.mdb(1)).map((b) => decodeMoneroItem(b));
    expect(proposed).toEqual([request(alice)]);
    f.block([{ from: 1, item: proposed[0]! }]);
    expect(g.monero.consensusProposal(f.mdb(1))).toEqual([]);
    expect(post.handle({ params: {}, body, db: f.mdb(1) })).toEqual({
      claimKey: body.claimKey,
      state: "assigned",
      index: 1,
    });
  });
});

/** A fake share of the federation's wallet: a subaddress table and a list of incoming transfers. */
class FakeSubaddressWallet implements SubaddressSource {
  count = 1;
  created: number[] = [];
  incomingList: IncomingToSubaddress[] = [];
  minHeights: number[] = [];
  subaddressCount() {
    return Promise.resolve(this.count);
  }
  createSubaddresses(n: number) {
    this.created.push(n);
    this.count += n;
    return Promise.resolve(this.count);
  }
  subaddresses(indexes: readonly number[]) {
    return Promise.resolve(new Map(indexes.filter((i) => i < this.count).map((i) => [i, `sub-${i}`])));
  }
  incoming(minHeight: number) {
    this.minHeights.push(minHeight);
    return Promise.resolve(
      this.incomingList.filter((t) => t.txHeight === undefined || t.txHeight > minHeight),
    );
  }
}

describe("the watcher's subaddress half (fake wallet)", () => {
  it("makes the wallet's table cover the assigned count (in calls of at most 64), once", async () => {
    const wallet = new FakeSubaddressWallet();
    const w = new SubaddressWatcher(wallet, 3, 1000n, () => {});
    w.setAssigned(100);
    await w.poll(50);
    expect(wallet.created).toEqual([64, 36]);
    expect(wallet.count).toBe(101);
    await w.poll(51);
    expect(wallet.created).toEqual([64, 36]);
    expect(w.address(7)).toBeUndefined();
    await w.poll(52);
    expect(w.address(7)).toBe("sub-7");
  });

  it("attests only deep transfers to assigned subaddresses at or above the minimum; shows the rest as seen", async () => {
    const wallet = new FakeSubaddressWallet();
    const w = new SubaddressWatcher(wallet, 3, 1000n, () => {});
    w.setAssigned(2);
    const tx = (n: number) => toHex(txidOf(n));
    wallet.incomingList = [
      { txid: tx(1), index: 1, amount: 5000n, txHeight: undefined },
      { txid: tx(2), index: 2, amount: 5000n, txHeight: 49 },
      { txid: tx(3), index: 3, amount: 5000n, txHeight: 40 }, // not assigned
      { txid: tx(4), index: 0, amount: 5000n, txHeight: 40 }, // the primary address
      { txid: tx(5), index: 1, amount: 999n, txHeight: 40 }, // below the minimum
      { txid: tx(6), index: 1, amount: 5000n, txHeight: 47 },
    ];
    expect(await w.poll(50)).toBe(true);
    expect([...w.attestable()].map((d) => d.txid)).toEqual([tx(6)]);
    expect(w.seenAt(1).map((t) => t.txid)).toEqual([tx(1), tx(5), tx(6)]);
    // By txid (the look-up): the pool one, a shallow one; never the primary address's or an unassigned one.
    expect(w.seenTx(tx(1))).toEqual([{ txid: tx(1), index: 1, amount: 5000n, txHeight: undefined }]);
    expect(w.seenTx(tx(2)).map((t) => t.txHeight)).toEqual([49]);
    expect(w.seenTx(tx(3))).toEqual([]);
    expect(w.seenTx(tx(4))).toEqual([]);
    expect(await w.poll(51)).toBe(false);
    expect(await w.poll(52)).toBe(true);
    expect([...w.attestable()].map((d) => d.txid)).toEqual([tx(6), tx(2)]);
    // Later polls list only the unconfirmed range and a margin.
    expect(wallet.minHeights).toEqual([0, 27, 28]);
  });
});
