// Payouts against real Monero software: monerod regtest, four guardian wallet-rpcs made one 3-of-4
// multisig wallet (packages/monero's setup steps + enableMultisigExperimental), a miner and a user.
// The four guardians' module instances run in this process (processors in memory, as in
// payouts.test.ts), each with an RpcPayoutWallet on its own wallet-rpc and the real monerod: the
// consensus rounds are simulated, every wallet call is real. A deposit to the multisig address is
// credited, a transaction pays it out to the user, and the user's wallet receives it; the outcome's
// tx key proves it (check_tx_key). Then with guardian 3 down, and with a guardian "restarted" (a new
// module instance on the same database: its in-memory results gone) in the middle of the signing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeConsensusItem, fromHex, toHex, transactionId } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { FederationProcessor, MemoryKv, NodeSigner, NodeVerifier, sha256 } from "@conclave/core-server";
import { DummyServerModule, buildTransaction, coinOutput } from "@conclave/module-dummy";
import { decodeAddress, encodeAddress, parseXmr } from "@conclave/monero";
import type { WalletRpc } from "@conclave/monero";
import {
  OUTPUT_UNLOCK_BLOCKS,
  ensureMoneroInstalled,
  startMultisigRegtest,
  mineBlocks,
} from "@conclave/testing-monero";
import type { Regtest } from "@conclave/testing-monero";
import { depositInput } from "./client.js";
import { claimProof, encodeMoneroItem } from "./common.js";
import type { MoneroConfig, MoneroItem } from "./common.js";
import { parseMoneroConfig } from "./factory.js";
import {
  chunksOf,
  encodeCreatorSet,
  encodePayoutItem,
  encodePayoutOutput,
  payoutFee,
} from "./payout-common.js";
import type { PayoutOutcome } from "./payout-common.js";
import { INPUT_SOURCES_ATTRIBUTE, RpcPayoutWallet } from "./payout-watcher.js";
import { PayoutStore } from "./payouts.js";
import type { PayoutDuty } from "./payouts.js";
import { MoneroServerModule } from "./server.js";

const N = 4;
const T = 3;
const DUMMY = 0;
const MONERO = 2;
const DEPOSIT = parseXmr("2");
const alice = new NodeSigner(new Uint8Array(32).fill(1));

let net: Regtest | undefined;
let guardianWallets: readonly WalletRpc[] = [];
let miner: WalletRpc;
let user: WalletRpc;
let minerAddress = "";
let userAddress = "";
let multisigAddress = "";
const timings: Record<string, number> = {};
let t0 = Date.now();
const lap = (name: string) => {
  timings[name] = Date.now() - t0;
  t0 = Date.now();
};

beforeAll(async () => {
  ensureMoneroInstalled();
  t0 = Date.now();
  ({
    net,
    guardianWallets: guardianWallets,
    miner,
    minerAddress,
    user,
    userAddress,
    multisigAddress,
  } = await startMultisigRegtest({ threshold: T, total: N }));
  lap("regtest, wallets, 3-of-4 multisig, 80 blocks");
}, 300_000);

/** Per measured batch: payouts, Σ fees charged, the Monero fee paid, the transaction's bytes. */
const feeFigures: { payouts: number; charged: string; paid: string; bytes: number; rate: string }[] = [];

afterAll(async () => {
  await net?.stop();
  console.log(`payout regtest timings (ms): ${JSON.stringify(timings)}`);
  console.log(`payout regtest fees: ${JSON.stringify(feeFigures)}`);
});

/**
 * The Monero fee a payout transaction actually paid (guardian 0's wallet submitted it: its outgoing
 * transfer) is at most Σ the fees its payouts were charged; the figures are kept for the docs.
 */
async function expectFeeWithin(moneroTxid: string, payouts: number, charged: bigint): Promise<bigint> {
  const transfers = await guardianWallets[0]!.getTransferByTxid(moneroTxid);
  const paid = transfers.find((t) => t.type === "out" || t.type === "pending")?.fee;
  expect(paid).toBeDefined();
  expect(paid!).toBeGreaterThan(0n);
  expect(paid!).toBeLessThanOrEqual(charged);
  const [tx] = (await net!.daemon.rpc.getTransactions([moneroTxid])).found;
  const rate = (await net!.daemon.rpc.getFeeEstimate()).feePerByte;
  feeFigures.push({
    payouts,
    charged: charged.toString(),
    paid: paid!.toString(),
    bytes: tx ? tx.hex.length / 2 : -1,
    rate: rate.toString(),
  });
  return paid!;
}

/** A Byzantine guardian's proposals for its duty (undefined: it behaves). */
type Tamper = (guardian: number, duty: PayoutDuty | undefined) => Promise<Uint8Array[] | undefined>;

function federation() {
  const { daemon, walletRpcs } = net!;
  const config: MoneroConfig = parseMoneroConfig({
    network: "mainnet",
    address: multisigAddress,
    guardians: N,
    confirmations: 1,
    payoutMinPiconero: "1000000",
    payoutRoundBlocks: 4,
    payoutConfirmations: 1,
  });
  const makeModule = (g: number) => {
    const monero = new MoneroServerModule(MONERO, config, {
      chain: {
        height: async () => (await daemon.rpc.getHeight()).height,
        transaction: () => Promise.resolve({ found: false }),
        proven: () => Promise.resolve({ good: false, received: 0n }),
      },
      pollMs: 200,
      autoPoll: false,
      payoutWallet: new RpcPayoutWallet(walletRpcs[g]!.url, daemon.url, {
        threshold: T,
        total: N,
        multisigAddress,
      }),
    });
    monero.start({ self: g, wake: () => {}, log: () => {} });
    return monero;
  };
  const guardians = Array.from({ length: N }, (_, g) => {
    const monero = makeModule(g);
    const dummy = new DummyServerModule(DUMMY, { faucetAmountMax: 10n ** 15n, feePerInput: 0n });
    const p = new FederationProcessor([dummy, monero], { verifier: new NodeVerifier(), hash: sha256 });
    return { db: new MemoryKv(), p, monero, down: false };
  });
  let height = 0;
  const block = (items: readonly { from: number; payload: Uint8Array }[], txs: Transaction[] = []) => {
    const bundles = Array.from({ length: N }, (_, origin) => ({
      origin,
      items: items
        .filter((i) => i.from === origin)
        .map((i) => encodeConsensusItem({ kind: "module", module: MONERO, payload: i.payload })),
    }));
    bundles[0]!.items.push(...txs.map((tx) => encodeConsensusItem({ kind: "transaction", tx })));
    const results = guardians.map((g) => g.p.processBlock(g.db, height, bundles));
    height++;
    for (const r of results) expect(r.auditFailure).toBeUndefined();
    return results[0]!;
  };
  const item = (from: number, i: MoneroItem) => ({ from, payload: encodeMoneroItem(i) });
  const mdb = (i: number) => guardians[i]!.p.moduleReadDb(guardians[i]!.db, MONERO);
  /** The fee a payout pays at the agreed rate: every guardian reports monerod's estimate at the first height. */
  let fee: bigint | undefined;
  const reportHeight = async () => {
    const h = (await daemon.rpc.getHeight()).height;
    block(guardians.map((_, from) => item(from, { kind: "height", height: h })));
    if (fee !== undefined) return;
    const perByte = Number((await daemon.rpc.getFeeEstimate()).feePerByte);
    block(guardians.map((_, from) => item(from, { kind: "fee_rate", perByte })));
    fee = payoutFee(config, perByte);
  };
  const feeNow = (): bigint => {
    if (fee === undefined) throw new Error("no fee rate reported yet");
    return fee;
  };
  /**
   * Each guardian that is up: its proposal (sets its duty), its job, its proposal again. A Byzantine
   * guardian's `tamper` may propose other payloads for its duty instead.
   */
  const round = async (tamper?: Tamper) => {
    const items: { from: number; payload: Uint8Array }[] = [];
    for (const [from, g] of guardians.entries()) {
      if (g.down) continue;
      const forged = await tamper?.(from, g.monero.payouts.duty(mdb(from), from));
      if (forged) {
        items.push(...forged.map((payload) => ({ from, payload })));
        continue;
      }
      g.monero.consensusProposal(mdb(from));
      await g.monero.payoutSigner!.work();
      for (const payload of g.monero.consensusProposal(mdb(from)))
        if (payload[0] !== 0x01) items.push({ from, payload });
    }
    block(items);
  };
  const outcome = (tx: Transaction, index: number): PayoutOutcome => {
    const views = guardians.map((_, i) =>
      guardians[i]!.monero.payoutView(mdb(i), {
        txid: toHex(transactionId(tx, sha256)),
        index: String(index),
      }),
    );
    for (const v of views.slice(1)) expect(v).toEqual(views[0]);
    return views[0]!;
  };
  /** Rounds until the payout is confirmed, mining a block whenever it is submitted. */
  const finish = async (
    tx: Transaction,
    index: number,
    onRound?: (o: PayoutOutcome, i: number) => void,
    tamper?: Tamper,
  ) => {
    for (let i = 0; i < 60; i++) {
      const o = outcome(tx, index);
      if (o.state === "confirmed") return o;
      onRound?.(o, i);
      // Blocks keep coming: when submitted (to confirm it), and while the exports wait for a
      // guardian that is down (signing starts payoutExportWaitBlocks agreed blocks later).
      if (o.state === "submitted" || (o.state === "signing" && o.round?.startsWith("exporting") && i > 0)) {
        await mineBlocks(daemon.rpc, 1, minerAddress);
        await reportHeight();
      }
      await round(tamper);
    }
    throw new Error(`payout not confirmed: ${JSON.stringify(outcome(tx, index))}`);
  };
  /** A deposit from the miner to the multisig address, credited (t attestations) and confirmed. */
  const deposit = async (amount: bigint) => {
    // The miner's wallet must have scanned the blocks that unlocked its coins (a run failed here
    // with "not enough unlocked money" once; the next case's deposit found them).
    await miner.refresh();
    const sent = await miner.transfer({ destinations: [{ address: multisigAddress, amount }] });
    await mineBlocks(daemon.rpc, OUTPUT_UNLOCK_BLOCKS, minerAddress);
    await reportHeight();
    const txid = Uint8Array.from(Buffer.from(sent.txid!, "hex"));
    const txKey = Uint8Array.from(Buffer.from(sent.txKey!, "hex"));
    const proof = claimProof({ federationAddress: multisigAddress, txid, txKey, claimKey: alice.publicKey });
    block([item(0, { kind: "claim", txid, claimKey: alice.publicKey, proof })]);
    const tx = await daemon.rpc.getTransactions([sent.txid!]);
    const txHeight = tx.found[0]!.blockHeight!;
    block(
      [0, 1, 2].map((from) =>
        item(from, { kind: "attest", txid, round: 1, verdict: { valid: true, amount, txHeight } }),
      ),
    );
    return txid;
  };
  const payoutTx = (dep: Uint8Array, amount: bigint, pay: bigint, address = userAddress) =>
    buildTransaction(
      [depositInput(MONERO, amount, dep)],
      [
        { module: MONERO, amount: pay, payload: encodePayoutOutput(address, feeNow()) },
        coinOutput(DUMMY, amount - pay - feeNow(), alice.publicKey),
      ],
      [alice],
      sha256,
    );
  /** Guardian `g` "killed" and restarted: a new module instance on the same database and wallet. */
  const restart = (g: number) => {
    const guardian = guardians[g]!;
    void guardian.monero.stop();
    const fresh = makeModule(g);
    const dummy = new DummyServerModule(DUMMY, { faucetAmountMax: 10n ** 15n, feePerInput: 0n });
    guardians[g] = {
      ...guardian,
      monero: fresh,
      p: new FederationProcessor([dummy, fresh], { verifier: new NodeVerifier(), hash: sha256 }),
    };
  };
  /** Guardian `g`'s proposal once its signer did its job for the duty its state shows (heights left out). */
  const proposalAfterWork = async (g: number): Promise<Uint8Array[]> => {
    const { monero } = guardians[g]!;
    monero.consensusProposal(mdb(g));
    await monero.payoutSigner!.work();
    return monero.consensusProposal(mdb(g)).filter((payload) => payload[0] !== 0x01);
  };
  const audits = () => {
    const all = guardians.map((g) => g.p.audit(g.db));
    for (const a of all) expect(a.liabilities).toBeLessThanOrEqual(a.assets);
    for (const a of all.slice(1)) expect(a).toEqual(all[0]);
    return all[0]!.modules.find((m) => m.instanceId === MONERO)!.audit;
  };
  return {
    guardians,
    block,
    round,
    restart,
    proposalAfterWork,
    outcome,
    finish,
    deposit,
    payoutTx,
    audits,
    makeModule,
    mdb,
    reportHeight,
    fee: feeNow,
  };
}

describe("payouts from a real 3-of-4 multisig wallet (monerod regtest, four guardians' wallet-rpc)", () => {
  let f: ReturnType<typeof federation>;

  it("a deposit paid out to the user: the user's wallet receives it once, the tx key proves it, the audit is exact", async () => {
    f = federation();
    await f.reportHeight();
    const dep = await f.deposit(DEPOSIT);
    const pay = parseXmr("0.5");
    const tx = f.payoutTx(dep, DEPOSIT, pay);
    expect(f.block([], [tx]).events[0]!.status.state).toBe("accepted");
    expect(f.audits()).toEqual({ assets: DEPOSIT - pay - f.fee(), liabilities: 0n });
    lap("deposit credited, payout accepted");
    const done = await f.finish(tx, 0);
    lap("payout: export, create, 2 signatures, submit, 1 confirmation");
    expect(done.moneroTxid).toMatch(/^[0-9a-f]{64}$/);
    await user.refresh();
    const got = await user.getTransferByTxid(done.moneroTxid!);
    expect(got.map((t) => t.amount)).toEqual([pay]);
    const proof = await user.checkTxKey({ txid: done.moneroTxid!, txKey: done.txKey!, address: userAddress });
    expect(proof.received).toBe(pay);
    expect((await user.getBalance()).balance).toBe(pay);
    // The fee: ⌈monerod's estimate × 3000 bytes⌉ (above the floor at regtest's rate), and the Monero
    // fee actually paid is within it.
    const rate = (await net!.daemon.rpc.getFeeEstimate()).feePerByte;
    expect(f.fee()).toBe(rate * 3000n > 60_000_000n ? rate * 3000n : 60_000_000n);
    await expectFeeWithin(done.moneroTxid!, 1, f.fee());
    // The guardians that imported for the attempt (at least t) remembered in their multisig wallet
    // files where the payout's input came from, the deposit: the Gone evidence of a deep reorg
    // without key images (payout-watcher.ts, INPUT_SOURCES_ATTRIBUTE).
    const memories = await Promise.all(
      guardianWallets.map(async (w) => (await w.getAttribute(INPUT_SOURCES_ATTRIBUTE)) ?? ""),
    );
    expect(
      memories.filter((m) => m.includes(done.moneroTxid!) && m.includes(toHex(dep))).length,
    ).toBeGreaterThanOrEqual(3);
  }, 200_000);

  it("an invalid address (another network's, a typo) is refused at submission", async () => {
    const dep = await f.deposit(parseXmr("0.1"));
    const keys = decodeAddress(userAddress);
    const testnet = encodeAddress({ ...keys, network: "testnet", kind: "standard" });
    const typo = userAddress.slice(0, 30) + (userAddress[30] === "a" ? "b" : "a") + userAddress.slice(31);
    for (const address of [testnet, typo]) {
      const s = f.block([], [f.payoutTx(dep, parseXmr("0.1"), parseXmr("0.05"), address)]).events[0]!.status;
      expect(s.state === "rejected" && s.error.code).toBe("invalid_address");
    }
  }, 60_000);

  it("with guardian 3 down (f = 1) a payout still completes", async () => {
    f.guardians[3]!.down = true;
    const dep = await f.deposit(parseXmr("1"));
    const pay = parseXmr("0.3");
    const tx = f.payoutTx(dep, parseXmr("1"), pay);
    expect(f.block([], [tx]).events[0]!.status.state).toBe("accepted");
    const done = await f.finish(tx, 0);
    lap("payout with guardian 3 down");
    await user.refresh();
    expect((await user.getTransferByTxid(done.moneroTxid!)).map((t) => t.amount)).toEqual([pay]);
    f.guardians[3]!.down = false;
  }, 200_000);

  it("a batch of 8 payouts (one Monero transaction) pays a Monero fee within the sum of their fees", async () => {
    const amount = parseXmr("1");
    const dep = await f.deposit(amount);
    // Eight distinct addresses of the user's wallet: its primary address and seven subaddresses.
    await user.createAddress({ accountIndex: 0, count: 7 });
    const addresses = (await user.getAddress({ accountIndex: 0 })).addresses
      .map((a) => a.address)
      .slice(0, 8);
    expect(addresses).toHaveLength(8);
    const pays = addresses.map((_, i) => parseXmr("0.01") * BigInt(i + 1));
    const charged = f.fee() * BigInt(pays.length);
    const tx = buildTransaction(
      [depositInput(MONERO, amount, dep)],
      [
        ...addresses.map((address, i) => ({
          module: MONERO,
          amount: pays[i]!,
          payload: encodePayoutOutput(address, f.fee()),
        })),
        coinOutput(DUMMY, amount - pays.reduce((a, p) => a + p, 0n) - charged, alice.publicKey),
      ],
      [alice],
      sha256,
    );
    expect(f.block([], [tx]).events[0]!.status.state).toBe("accepted");
    const done = await f.finish(tx, 0);
    lap("a batch of 8 payouts");
    for (let i = 1; i < pays.length; i++) expect(f.outcome(tx, i).moneroTxid).toBe(done.moneroTxid);
    for (const [i, address] of addresses.entries()) {
      const proof = await user.checkTxKey({ txid: done.moneroTxid!, txKey: done.txKey!, address });
      expect(proof.received).toBe(pays[i]);
    }
    await expectFeeWithin(done.moneroTxid!, pays.length, charged);
  }, 200_000);

  it("a guardian restarted in the middle of the signing rounds resumes its part; the user is paid exactly once", async () => {
    const dep = await f.deposit(parseXmr("1"));
    const pay = parseXmr("0.2");
    // The earlier cases' payouts to this wallet must be in `before` (refresh first).
    await user.refresh();
    const before = (await user.getBalance()).balance;
    const tx = f.payoutTx(dep, parseXmr("1"), pay);
    expect(f.block([], [tx]).events[0]!.status.state).toBe("accepted");
    let restarted = false;
    const done = await f.finish(tx, 0, (o) => {
      // Once the creator's set is in, every guardian is "killed" and restarted: a new module
      // instance on the same database (its signer's in-memory results are gone).
      if (!restarted && o.state === "signing" && o.round === "signatures: 1 of 3") {
        restarted = true;
        for (let g = 0; g < N; g++) f.restart(g);
      }
    });
    expect(restarted).toBe(true);
    lap("payout with every guardian restarted mid-signing");
    await user.refresh();
    expect((await user.getTransferByTxid(done.moneroTxid!)).map((t) => t.amount)).toEqual([pay]);
    expect((await user.getBalance()).balance).toBe(before + pay);
    expect(f.audits().liabilities).toBe(0n);
  }, 200_000);

  it("with t participants, a guardian restarted after proposing its export, before its state shows it ordered, proposes that export again: its signature is not stale, the user is paid once", async () => {
    // npm-start-restart.test.ts froze so: the restarted guardian's state was behind (the round that
    // ordered its export was not applied yet), it exported anew (fresh nonces in its wallet), the
    // first export was ordered all the same, and its signature of the transaction built on that
    // export failed for good ("signature was made with stale data", -35); with guardian 3 down all
    // three participants must sign.
    f.guardians[3]!.down = true;
    const dep = await f.deposit(parseXmr("1"));
    const pay = parseXmr("0.12");
    const tx = f.payoutTx(dep, parseXmr("1"), pay);
    expect(f.block([], [tx]).events[0]!.status.state).toBe("accepted");
    // The participants will be 0, 1, 2 and the creator the one at (batch + attempt) mod 3: the
    // restarted guardian is the one after it, slot 1's signer (a creator's own nonces do not come
    // from its export, so its stale export would not show).
    const batch = new PayoutStore(f.mdb(0)).counters().nextBatch;
    const restarted = (batch + 1) % 3;
    // Each guardian that is up exports and proposes its export; the round is not ordered yet.
    const inFlight = new Map<number, Uint8Array[]>();
    for (const g of [0, 1, 2]) inFlight.set(g, await f.proposalAfterWork(g));
    expect(inFlight.get(restarted)!.length).toBeGreaterThan(0);
    // It restarts; its state still shows no export of its own: the export duty again.
    f.restart(restarted);
    expect(f.guardians[restarted]!.monero.payouts.duty(f.mdb(restarted), restarted)?.kind).toBe("export");
    const again = await f.proposalAfterWork(restarted);
    // The round from before the restart is ordered: every export in it completes.
    f.block([...inFlight].flatMap(([from, payloads]) => payloads.map((payload) => ({ from, payload }))));
    expect(f.outcome(tx, 0).batch).toBe(batch);
    for (const g of [0, 1, 2]) expect(new PayoutStore(f.mdb(0)).blob(batch, 0xff, g)).toBeDefined();
    const done = await f.finish(tx, 0);
    expect(new PayoutStore(f.mdb(0)).batch(batch)!.signers).toEqual([0, 1, 2].map((i) => (batch + i) % 3));
    lap("payout with t participants, one restarted between its export and its ordering");
    // Its proposal after the restart was the same export (its wallet kept it with its nonces).
    expect(again.map((p) => toHex(p))).toEqual(inFlight.get(restarted)!.map((p) => toHex(p)));
    expect(done.attempt).toBe(0);
    const proof = await user.checkTxKey({ txid: done.moneroTxid!, txKey: done.txKey!, address: userAddress });
    expect(proof.received).toBe(pay);
    f.guardians[3]!.down = false;
  }, 200_000);

  it("a Byzantine creator's set paying another address is refused by the next signers' wallets (f + 1 refusals): the creator is skipped, the user paid once", async () => {
    const dep = await f.deposit(parseXmr("1"));
    const pay = parseXmr("0.15");
    const tx = f.payoutTx(dep, parseXmr("1"), pay);
    expect(f.block([], [tx]).events[0]!.status.state).toBe("accepted");
    let thief: number | undefined;
    // Attempt 0's creator builds, with its real wallet and the others' real exports, a transaction set
    // paying the batch's amount to the miner instead of the user, and proposes it as its slot-0 set.
    const steal: Tamper = async (from, duty) => {
      if (duty?.kind !== "sign" || duty.slot !== 0 || duty.attempt !== 0) return undefined;
      thief = from;
      const wallet = new RpcPayoutWallet(net!.walletRpcs[from]!.url, net!.daemon.url, {
        threshold: T,
        total: N,
        multisigAddress,
      });
      await wallet.importInfos(duty.othersExports.map(toHex));
      // In the creator's blob format (its inputs' key images, then the set): consensus takes it; the
      // signers' pre-signing check refuses what it pays.
      const forged = await wallet.create([{ address: minerAddress, amount: pay }]);
      const blob = encodeCreatorSet(forged.keyImages.map(fromHex), fromHex(forged.txset));
      const parts = chunksOf(blob);
      return parts.map((data, index) =>
        encodePayoutItem({
          kind: "chunk",
          batch: duty.batch,
          attempt: 0,
          slot: 0,
          total: parts.length,
          index,
          digest: sha256(blob),
          data,
        }),
      );
    };
    const done = await f.finish(tx, 0, undefined, steal);
    lap("payout with a Byzantine creator");
    expect(thief).toBeDefined();
    // The next signers' pre-signing checks refused the set (two Faults: f + 1 refusals, so at least
    // one honest): attempt 1 ran without the thief.
    expect(done.attempt).toBe(1);
    const batch = new PayoutStore(f.mdb(0)).batch(done.batch)!;
    expect(batch.blamed[thief!]).toBe(1);
    expect(batch.accused.reduce((a, x) => a + x, 0)).toBe(2);
    expect(batch.order).toHaveLength(T);
    expect(batch.order).not.toContain(thief);
    const proof = await user.checkTxKey({ txid: done.moneroTxid!, txKey: done.txKey!, address: userAddress });
    expect(proof.received).toBe(pay);
    await user.refresh();
    const incoming = await user.getTransfers({
      in: true,
      pool: true,
      out: false,
      pending: false,
      failed: false,
    });
    expect([...incoming.in, ...incoming.pool].filter((t) => t.amount === pay).map((t) => t.txid)).toEqual([
      done.moneroTxid,
    ]);
    expect(f.audits().liabilities).toBe(0n);
  }, 200_000);
});
