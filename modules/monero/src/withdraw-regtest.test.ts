// A withdrawal end to end against real Monero software, set up as `npm start` does
// (startMoneroFederation, apps/guardiand/src/monero-federation.ts): monerod in regtest, a monero-wallet-rpc per guardian and one for the
// user, 80 blocks mined to the user, the real key ceremony in four `conclaved setup run` processes
// (DKG, the mint's keys, and the 3-of-4 multisig rounds between the guardians' wallets), then four
// guardian processes, a block mined every second. The user pays the federation's multisig address,
// the wallet SDK claims the deposit into notes, then withdraws part of it to the user's address:
// the user's wallet receives exactly that amount, and the outcome's tx key proves it
// (check_tx_key). A withdrawal to an invalid address is refused at submission, nothing lost.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TransactionRejectedError } from "@conclave/core-common";
import { startMoneroFederation } from "@conclave/guardiand";
import type { MoneroFederation } from "@conclave/guardiand";
import { parseXmr } from "@conclave/monero";
import type { WalletRpc } from "@conclave/monero";
import { nodeWallets } from "@conclave/wallet/node";
import type { Wallet, WithdrawProgress } from "@conclave/wallet/node";
import { ReservesViewSchema } from "./api.js";
import { parseMoneroConfig } from "./factory.js";
import type { ReservesView } from "./api.js";

const N = 4;
const DEPOSIT = parseXmr("2");
const WITHDRAWAL = parseXmr("0.5");

let fed: MoneroFederation | undefined;
let user: WalletRpc;
let userAddress = "";
let federationAddress = "";
let wallet: Wallet | undefined;
const timings: Record<string, number> = {};
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
    const after = await wallet!.info();
    expect(after.balance).toBe(before.balance);
    expect(after.pendingOperations).toBe(0);
  }, 60_000);

  it("withdraws part of it: the user's wallet receives exactly that amount, and the tx key proves it", async () => {
    lapStart = Date.now();
    const before = (await wallet!.info()).balance;
    const progress: WithdrawProgress[] = [];
    const r = await wallet!.withdraw(userAddress, WITHDRAWAL, {
      pollMs: 250,
      timeoutMs: 180_000,
      onProgress: (p) => progress.push(p),
    });
    lap("withdrawal confirmed");
    expect(r.amount).toBe(WITHDRAWAL);
    expect(r.moneroTxid).toMatch(/^[0-9a-f]{64}$/);
    expect(progress.at(-1)?.stage).toBe("confirmed");
    expect(new Set(progress.map((p) => p.stage)).has("submitted")).toBe(true);
    // The notes paid the amount and the fees; the change came back as notes.
    expect((await wallet!.info()).balance).toBe(before - WITHDRAWAL - r.fee);
    const proof = await user.checkTxKey({ txid: r.moneroTxid, txKey: r.txKey, address: userAddress });
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
        txKey: r.txKey,
      }),
    ]);
    expect((await wallet!.info()).withdrawals?.map((w) => w.state)).toEqual(["confirmed"]);
  }, 200_000);

  it("every guardian's multisig wallet holds at least what the federation owes (reserves)", async () => {
    const entry = fed!.config.modules.find((m) => m.kind === "monero");
    const reserve = parseMoneroConfig(entry!.config).payoutFeePiconero;
    // The deposit was spent into e-cash; the payout and its fee reserve left the module's assets.
    const owed = DEPOSIT - WITHDRAWAL - reserve;
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
      // The wallet spent the payout and a Monero fee no larger than the reserve: what is left covers it.
      const balance = BigInt(view!.wallet!.balance);
      expect(balance).toBeGreaterThanOrEqual(owed);
      expect(balance).toBeLessThanOrEqual(DEPOSIT - WITHDRAWAL);
      expect(BigInt(view!.surplus!)).toBe(balance - owed);
    }
  }, 120_000);
});
