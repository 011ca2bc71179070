// Payouts under faults with real guardian processes (issue 5): monerod in regtest, a wallet-rpc per
// guardian, the real key ceremony's 3-of-4 multisig wallet and four `conclaved run` processes
// (startMoneroFederation), a block mined every second. The user deposits into notes with the wallet
// SDK, then withdraws:
//   1. with guardian 3 stopped (f = 1 of N = 4): the payout completes, paid exactly once;
//   2. with a guardian killed by `kill -9` (SIGKILL, by its PID) the moment it logs its signature of
//      the batch's transaction set (signing slot 1 of 3, i.e. in the middle of the signing rounds),
//      then restarted from its data directory: the payout completes and is paid exactly once.
// "Paid exactly once": among every incoming transfer of the user's wallet (coinbase excluded), exactly
// one pays the payout's amount (each case withdraws a distinct amount), in the outcome's Monero
// transaction; and check_tx_key with the outcome's tx key proves that amount to the user's address.
// After each case every guardian (the restarted ones included) reports the same audit: the monero
// module's assets are the deposits minus every payout and the fee it paid, the mint's liabilities the
// wallet's notes.
// A Byzantine guardian's bogus transaction set is covered with real wallets in payout-regtest.test.ts.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guardianAudits, startMoneroFederation } from "@conclave/guardiand";
import type { AuditReply, MoneroFederation } from "@conclave/guardiand";
import { parseXmr } from "@conclave/monero";
import type { WalletRpc } from "@conclave/monero";
import { nodeWallets } from "@conclave/wallet-standard/node";
import type { Wallet, WithdrawProgress, WithdrawResult } from "@conclave/wallet-standard/node";

const N = 4;
const MINT = 1;
const MONERO = 2;
/** Three outputs to the federation in one payment: a payout need not wait for the last one's change. */
const DEPOSIT_OUTPUTS = 3;
const DEPOSIT_OUTPUT = parseXmr("1");

let fed: MoneroFederation | undefined;
let wallet: Wallet | undefined;
let user: WalletRpc;
let userAddress = "";
/** Σ deposits claimed, Σ (payout + its Monero fee) withdrawn: what the monero module must hold. */
let deposited = 0n;
let withdrawn = 0n;
const timings: Record<string, number> = {};
const observed: string[] = [];
let lapStart = Date.now();
const lap = (name: string) => {
  timings[name] = Date.now() - lapStart;
  lapStart = Date.now();
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The monero module's log lines of each guardian (its payout steps), for the kill and the report. */
const moduleLog: string[] = [];
/** Called with each log line of each guardian process (the kill case arms it). */
let onGuardianLine: ((guardian: number, line: string) => void) | undefined;

function federation(): MoneroFederation {
  if (!fed) throw new Error("the federation did not start");
  return fed;
}

beforeAll(async () => {
  fed = await startMoneroFederation({
    n: N,
    prefix: "conclave-monero-payout-faults-",
    // Two blocks deep is enough to call a payout confirmed here (the default is 10).
    moneroConfig: { payoutConfirmations: 2 },
    guardianOptions: (i) => ({
      quiet: false,
      onLine: (line) => {
        if (!line.includes('"module.monero.')) return;
        moduleLog.push(`g${i} ${line}`);
        onGuardianLine?.(i, line);
      },
    }),
  });
  Object.assign(timings, fed.timings);
  ({ user, userAddress } = fed);
  lapStart = Date.now();
  wallet = (await nodeWallets().joinWallet(join(fed.root, "wallet"), fed.invite)).wallet;
  const sent = await fed.userPay(fed.address, Array<bigint>(DEPOSIT_OUTPUTS).fill(DEPOSIT_OUTPUT));
  const r = await wallet.claimDeposit(sent, { pollMs: 200, timeoutMs: 120_000 });
  deposited = r.amount + r.dust;
  lap("a wallet joined, 3 XMR deposited and claimed");
}, 300_000);

afterAll(async () => {
  onGuardianLine = undefined;
  await wallet?.close();
  const failures = fed?.miner.failures ?? [];
  await fed?.stop();
  console.log(`monero payout faults e2e timings (ms): ${JSON.stringify(timings)}`);
  console.log(`observed: ${observed.join("; ")}`);
  if (failures.length > 0) console.log(`mining failures: ${failures.slice(-5).join("; ")}`);
  const steps = moduleLog.filter((l) => /payout_(step|set_refused|sign_failed|submit_refused)"/.test(l));
  console.log(`payout steps:\n${steps.slice(-40).join("\n")}`);
});

/**
 * Every guardian process reports the same audit (a restarted one once it has caught up): the monero
 * module holds the deposits minus every payout and its fee, the mint owes exactly the wallet's notes.
 */
async function checkAudit(): Promise<void> {
  const balance = (await wallet!.info()).balance;
  const expected = (r: AuditReply) => {
    const of = (id: number) => r.audit.modules.find((m) => m.instanceId === id);
    return (
      BigInt(of(MONERO)?.assets ?? -1) === deposited - withdrawn &&
      BigInt(of(MINT)?.liabilities ?? -1) === balance
    );
  };
  const replies = await guardianAudits(federation().guardians, (rs) => rs.every(expected), 300);
  for (const r of replies) {
    expect(r.audit).toEqual(replies[0]!.audit);
    const of = (id: number) => r.audit.modules.find((m) => m.instanceId === id)!;
    expect(BigInt(of(MONERO).assets)).toBe(deposited - withdrawn);
    expect(BigInt(of(MONERO).liabilities)).toBe(0n);
    expect(BigInt(of(MINT).liabilities)).toBe(balance);
    expect(BigInt(r.audit.assets) >= BigInt(r.audit.liabilities)).toBe(true);
  }
}

/**
 * The user's wallet received `r.amount` exactly once: one incoming transfer of that amount among all
 * of them (mined or in the pool; coinbase is "block", not "in"), in the outcome's Monero transaction,
 * and the outcome's tx key proves it.
 */
async function expectPaidOnce(r: WithdrawResult): Promise<void> {
  const proof = await user.checkTxKey({ txid: r.moneroTxid, txKey: r.txKey ?? "", address: userAddress });
  expect(proof.received).toBe(r.amount);
  expect(proof.confirmations).toBeGreaterThanOrEqual(1);
  await user.refresh();
  const all = await user.getTransfers({ in: true, pool: true, out: false, pending: false, failed: false });
  const payments = [...all.in, ...all.pool].filter((t) => t.amount === r.amount);
  expect(payments.map((t) => t.txid)).toEqual([r.moneroTxid]);
}

async function withdraw(amount: bigint, progress: WithdrawProgress[] = []): Promise<WithdrawResult> {
  const before = (await wallet!.info()).balance;
  const r = await wallet!.withdraw(userAddress, amount, {
    pollMs: 250,
    timeoutMs: 170_000,
    onProgress: (p) => progress.push(p),
  });
  expect(r.amount).toBe(amount);
  expect(r.moneroTxid).toMatch(/^[0-9a-f]{64}$/);
  expect((await wallet!.info()).balance).toBe(before - amount - r.fee);
  // The Monero fee is the guardians' quote; the rest of r.fee is the mint's fee per note spent.
  expect(r.moneroFee).toBeGreaterThan(0n);
  withdrawn += amount + r.moneroFee;
  return r;
}

describe("payouts under faults (real monerod, the ceremony's 3-of-4 multisig, 4 guardian processes)", () => {
  it("with guardian 3 down (f = 1 of 4) a withdrawal is still paid, exactly once", async () => {
    lapStart = Date.now();
    await federation().stopGuardian(3);
    const stopped = federation().guardians[3]!.child;
    expect(stopped.exitCode !== null || stopped.signalCode !== null).toBe(true);
    const r = await withdraw(parseXmr("0.3"));
    lap("payout with guardian 3 down");
    await expectPaidOnce(r);
    await federation().startGuardian(3);
    await checkAudit();
    lap("guardian 3 restarted and caught up");
  }, 240_000);

  it("a guardian killed with SIGKILL in the middle of the signing rounds and restarted: paid exactly once, the audit balances", async () => {
    lapStart = Date.now();
    let victim: { guardian: number; duty: string } | undefined;
    onGuardianLine = (g, line) => {
      if (victim || !line.includes('"module.monero.payout_step"')) return;
      const { duty } = JSON.parse(line) as { duty?: string };
      // sign:batch:attempt:1:lineage — the second signer has just signed the creator's set; its signed set
      // is in its memory on its way into consensus. Kill it now.
      if (!duty || !/^sign:\d+:\d+:1:/.test(duty)) return;
      victim = { guardian: g, duty };
      // process.kill(pid, "SIGKILL") at once (before this callback returns); awaited below.
      void federation().killGuardian(g);
    };
    const progress: WithdrawProgress[] = [];
    const paying = withdraw(parseXmr("0.2"), progress);
    // Awaited below; a failure meanwhile must not surface as an unhandled rejection first.
    paying.catch(() => undefined);
    for (let i = 0; !victim && i < 1200; i++) await sleep(100);
    onGuardianLine = undefined;
    expect(victim).toBeDefined();
    const g = victim!.guardian;
    const killed = federation().guardians[g]!;
    await killed.exited;
    expect(killed.child.signalCode).toBe("SIGKILL");
    lap(`guardian ${g} killed after ${victim!.duty}`);
    await sleep(2000);
    await federation().startGuardian(g);
    const r = await paying;
    lap("payout completed after the kill and the restart");
    const attempts = new Set(progress.map((p) => p.message));
    observed.push(
      `killed guardian ${g} after ${victim!.duty}; the payout went through ${[...attempts].join(" / ")}`,
    );
    expect(progress.at(-1)?.stage).toBe("confirmed");
    await expectPaidOnce(r);
    await checkAudit();
    lap("audit agreed at every guardian");
  }, 280_000);
});
