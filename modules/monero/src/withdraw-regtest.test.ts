// A withdrawal end to end against real Monero software, set up as `npm start` does
// (startMoneroFederation, apps/guardiand/src/monero-federation.ts): monerod in regtest, a monero-wallet-rpc per guardian and one for the
// user, 140 blocks mined to the user, the real key ceremony in four `conclaved setup run` processes
// (DKG, the mint's keys, and the 3-of-4 multisig rounds between the guardians' wallets), then four
// guardian processes, a block mined every second. The user pays the federation's multisig address,
// the wallet SDK claims the deposit into notes, then withdraws part of it to the user's address:
// the user's wallet receives exactly that amount, and the outcome's tx key proves it
// (check_tx_key). A withdrawal to an invalid address is refused at submission, nothing lost. The
// fee: every guardian quotes the same terms (GET payouts/terms), the rate its monerod's
// get_fee_estimate gives, fee = max(floor, ⌈rate × bytes⌉); the wallet pays exactly that, and the
// Monero fee the transaction actually paid is at most it (measured figures are printed).
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TransactionRejectedError } from "@conclave/core-common";
import { startMoneroFederation } from "@conclave/guardiand";
import type { MoneroFederation } from "@conclave/guardiand";
import { parseXmr } from "@conclave/monero";
import type { WalletRpc } from "@conclave/monero";
import { nodeWallets } from "@conclave/wallet-standard/node";
import type { Wallet, WithdrawProgress } from "@conclave/wallet-standard/node";
import { PayoutTermsSchema, ReservesViewSchema } from "./api.js";
import type { PayoutTerms, ReservesView } from "./api.js";

const N = 4;
const DEPOSIT = parseXmr("2");
const WITHDRAWAL = parseXmr("0.5");

let fed: MoneroFederation | undefined;
let user: WalletRpc;
let userAddress = "";
let federationAddress = "";
let wallet: Wallet | undefined;
const timings: Record<string, number> = {};
/** What the withdrawal paid as its Monero fee (the quote), for the reserves check. */
let moneroFeePaid: bigint | undefined;
/** The withdrawal's ids and proof, for the check of what the public sees. */
let withdrawn: { txid: string; moneroTxid: string; txKey: string } | undefined;
const figures: Record<string, string | number> = {};
let lapStart = Date.now();
const lap = (name: string) => {
  timings[name] = Date.now() - lapStart;
  lapStart = Date.now();
};

beforeAll(async () => {
  // A block every second, as `npm start -- --block-seconds 1` mines (to the user, as dev.ts to the demo wallet).
  fed = await startMoneroFederation({ n: N, prefix: "conclave-monero-withdraw-" });
  Object.assign(timings, fed.timings);
  ({ user, userAddress, address: federationAddress } = fed);
  lapStart = Date.now();
  wallet = (await nodeWallets().joinWallet(join(fed.root, "wallet"), fed.invite)).wallet;
  lap("a wallet joined");
}, 240_000);

afterAll(async () => {
  await wallet?.close();
  const failures = fed?.miner.failures ?? [];
  await fed?.stop();
  console.log(`monero withdraw e2e timings (ms): ${JSON.stringify(timings)}`);
  console.log(`monero withdraw fee figures: ${JSON.stringify(figures)}`);
  if (failures.length > 0) console.log(`mining failures: ${failures.slice(-5).join("; ")}`);
});

describe("withdraw to a Monero address (real monerod, the real ceremony's 3-of-4 multisig, 4 guardian processes)", () => {
  it("the ceremony made the guardians' wallets one 3-of-4 multisig wallet: the federation's address", async () => {
    expect(federationAddress).toMatch(/^4[1-9A-HJ-NP-Za-km-z]{94}$/);
    const guardianRpcs = fed!.guardianWallets;
    const status = await Promise.all(guardianRpcs.map((w) => w.isMultisig()));
    expect(status).toEqual(Array(N).fill({ multisig: true, ready: true, threshold: 3, total: N }));
    const addresses = await Promise.all(guardianRpcs.map(async (w) => (await w.getAddress()).address));
    expect(addresses).toEqual(Array(N).fill(federationAddress));
    expect(federationAddress).not.toBe(userAddress);
  });

  it("a deposit to the federation is claimed into notes", async () => {
    lapStart = Date.now();
    const sent = await fed!.userPay(federationAddress, [DEPOSIT]);
    expect(sent.txid).toMatch(/^[0-9a-f]{64}$/);
    const r = await wallet!.claimDeposit(sent, { pollMs: 200, timeoutMs: 120_000 });
    expect(r.amount + r.dust).toBe(DEPOSIT);
    expect((await wallet!.info()).balance).toBe(r.amount);
    lap("deposit claimed");
  }, 150_000);

  it("a withdrawal to an invalid address is refused at submission, nothing lost", async () => {
    const before = await wallet!.info();
    // One character changed: still base58 of the right length, but the checksum fails.
    const at = 50;
    const bad = userAddress.slice(0, at) + (userAddress[at] === "A" ? "B" : "A") + userAddress.slice(at + 1);
    const e = await wallet!.withdraw(bad, WITHDRAWAL).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(TransactionRejectedError);
    expect((e as TransactionRejectedError).code).toBe("invalid_address");
    // In the withdrawal's words, not the transaction's ("output 2: cannot pay ...").
    expect((e as TransactionRejectedError).message).toMatch(/^the guardians refused the payout: cannot pay /);
    expect((e as TransactionRejectedError).message).not.toMatch(/output \d/);
    const after = await wallet!.info();
    expect(after.balance).toBe(before.balance);
    expect(after.pendingOperations).toBe(0);
  }, 60_000);

  it("every guardian quotes the same terms: the rate its monerod estimates, fee = max(floor, rate × bytes)", async () => {
    const estimate = await fed!.regtest.daemon.rpc.getFeeEstimate();
    figures["feeEstimate"] = estimate.feePerByte.toString();
    figures["quantizationMask"] = String(estimate.quantizationMask);
    let quotes: PayoutTerms[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      quotes = await Promise.all(
        Array.from({ length: N }, async (_, i) =>
          PayoutTermsSchema.parse(
            await (await fetch(`${fed!.apiUrl(i)}/v1/modules/monero/payouts/terms`)).json(),
          ),
        ),
      );
      if (quotes.every((q) => q.fee !== undefined && q.feeRate === quotes[0]!.feeRate)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const q = quotes[0]!;
    // One monerod serves every guardian here: each reported its estimate, so it is the agreed rate.
    expect(q.reportedFeeRates).toEqual(Array(N).fill(Number(estimate.feePerByte)));
    expect(q.feeRate).toBe(Number(estimate.feePerByte));
    const atRate = BigInt(q.feeRate) * BigInt(q.feeBytes);
    const floor = BigInt(q.feeMin);
    expect(BigInt(q.fee!)).toBe(atRate > floor ? atRate : floor);
    expect(BigInt(q.feeMax!)).toBe(BigInt(q.fee!) * 10n);
    for (const other of quotes) expect({ ...other, agreedHeight: 0 }).toEqual({ ...q, agreedHeight: 0 });
    figures["quotedFee"] = q.fee!;
  }, 60_000);

  it("withdraws part of it: the user's wallet receives exactly that amount, and the tx key proves it", async () => {
    lapStart = Date.now();
    const before = (await wallet!.info()).balance;
    const estimate = await fed!.regtest.daemon.rpc.getFeeEstimate();
    const progress: WithdrawProgress[] = [];
    const r = await wallet!.withdraw(userAddress, WITHDRAWAL, {
      pollMs: 250,
      timeoutMs: 180_000,
      onProgress: (p) => progress.push(p),
    });
    lap("withdrawal confirmed");
    expect(r.amount).toBe(WITHDRAWAL);
    expect(r.moneroTxid).toMatch(/^[0-9a-f]{64}$/);
    // The wallet paid exactly the quote: ⌈agreed rate × bytes⌉ (above the floor at regtest's rate).
    expect(r.feeRate).toBe(Number(estimate.feePerByte));
    const atRate = BigInt(r.feeRate) * 3000n;
    expect(r.moneroFee).toBe(atRate > 60_000_000n ? atRate : 60_000_000n);
    expect(r.fee).toBeGreaterThanOrEqual(r.moneroFee); // plus the mint's fee per note spent (0 in dev)
    moneroFeePaid = r.moneroFee;
    withdrawn = { txid: r.txid, moneroTxid: r.moneroTxid, txKey: r.txKey ?? "" };
    // The Monero transaction's own fee (a guardian's wallet's outgoing transfer) is at most the fee charged.
    const [tx] = (await fed!.regtest.daemon.rpc.getTransactions([r.moneroTxid])).found;
    const out = (await fed!.guardianWallets[0]!.getTransferByTxid(r.moneroTxid)).find(
      (t) => t.type === "out" || t.type === "pending",
    );
    const actualFee = out?.fee ?? (await user.getTransferByTxid(r.moneroTxid))[0]!.fee;
    expect(actualFee).toBeGreaterThan(0n);
    expect(actualFee).toBeLessThanOrEqual(r.moneroFee);
    figures["paidMoneroFee"] = actualFee.toString();
    figures["txBytes"] = tx ? tx.hex.length / 2 : -1;
    figures["feeOverRate"] = Number(actualFee / estimate.feePerByte);
    expect(progress.at(-1)?.stage).toBe("confirmed");
    expect(new Set(progress.map((p) => p.stage)).has("submitted")).toBe(true);
    // The notes paid the amount and the fees; the change came back as notes.
    expect((await wallet!.info()).balance).toBe(before - WITHDRAWAL - r.fee);
    const proof = await user.checkTxKey({ txid: r.moneroTxid, txKey: r.txKey ?? "", address: userAddress });
    expect(proof.received).toBe(WITHDRAWAL);
    expect(proof.confirmations).toBeGreaterThanOrEqual(1);
    await user.refresh();
    const incoming = (await user.getTransferByTxid(r.moneroTxid)).filter((t) => t.type === "in");
    expect(incoming.map((t) => t.amount)).toEqual([WITHDRAWAL]);

    // The wallet keeps the withdrawal with its proof (a `withdraw` cut short would find it here).
    const listed = await wallet!.withdrawals({ refresh: true });
    expect(listed).toEqual([
      expect.objectContaining({
        txid: r.txid,
        address: userAddress,
        amount: WITHDRAWAL,
        state: "confirmed",
        moneroTxid: r.moneroTxid,
        ...(r.txKey ? { txKey: r.txKey } : {}),
      }),
    ]);
    expect((await wallet!.info()).withdrawals?.map((w) => w.state)).toEqual(["confirmed"]);
  }, 200_000);

  it("the public sees no payout's address, tx key or transaction set in any session, and the payout's status names no address (invariant 9)", async () => {
    expect(withdrawn).toBeDefined();
    const hexOf = (text: string) => Buffer.from(text, "utf8").toString("hex");
    // In a block: the payout output's address (UTF-8), the Seen item's tx key and Monero txid,
    // the transaction's own bytes (its id is over them); the sets' chunks are in the blocks too.
    const secrets = [
      userAddress,
      hexOf(userAddress),
      withdrawn!.txKey,
      withdrawn!.moneroTxid,
      withdrawn!.txid,
    ].filter((secret) => secret !== "");
    for (let i = 0; i < N; i++) {
      const count = ((await (await fetch(`${fed!.apiUrl(i)}/v1/sessions/count`)).json()) as { count: number })
        .count;
      expect(count).toBeGreaterThan(0);
      for (let s = 0; s < count; s++) {
        const res = await fetch(`${fed!.apiUrl(i)}/v1/sessions/${s}`);
        expect(res.status).toBe(200);
        const text = await res.text();
        expect(Object.keys(JSON.parse(text) as object).sort()).toEqual([
          "blockIds",
          "session",
          "sessionHash",
          "signatures",
        ]);
        for (const secret of secrets) expect(text, `guardian ${i} session ${s}`).not.toContain(secret);
      }
    }
    // The user's own transaction's outcome, by the id only it holds: the proof, not the address.
    const status = await (await fetch(`${fed!.apiUrl(0)}/v1/transactions/${withdrawn!.txid}`)).text();
    expect(status).toContain(withdrawn!.moneroTxid);
    expect(status).not.toContain(userAddress);
  }, 120_000);

  it("every guardian's multisig wallet holds at least what the federation owes (reserves)", async () => {
    expect(moneroFeePaid).toBeDefined();
    // The deposit was spent into e-cash; the payout and the fee it paid left the module's assets.
    const owed = DEPOSIT - WITHDRAWAL - moneroFeePaid!;
    for (let i = 0; i < N; i++) {
      let view: ReservesView | undefined;
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const res = await fetch(`${fed!.apiUrl(i)}/v1/modules/monero/reserves`);
        view = ReservesViewSchema.parse(await res.json());
        if (view.state === "ok") break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(view?.state, `guardian ${i}: ${view?.detail}`).toBe("ok");
      expect(BigInt(view!.ecashBacking)).toBe(owed);
      expect(BigInt(view!.credited)).toBe(0n);
      expect(BigInt(view!.required)).toBe(owed);
      // The wallet spent the payout and a Monero fee no larger than the fee charged: what is left covers it.
      const balance = BigInt(view!.wallet!.balance);
      expect(balance).toBeGreaterThanOrEqual(owed);
      expect(balance).toBeLessThanOrEqual(DEPOSIT - WITHDRAWAL);
      expect(BigInt(view!.surplus!)).toBe(balance - owed);
    }
  }, 120_000);
});
