// A real shortfall stops the bleeding (issue 10, item 11), against real Monero software: monerod in
// regtest, the real key ceremony's 3-of-4 multisig wallet, four `conclaved run` processes, a block a
// second (startMoneroFederation). The user deposits 2 XMR and claims it into notes. Then three
// guardians' operators collude behind the federation's back: the test drives their wallet-rpcs
// directly (export and import multisig info, transfer, sign, submit: packages/monero spendMultisig)
// and moves 0.5 XMR out of the multisig wallet. The audit cannot see it (the books are unchanged);
// the guardians' wallet reports, agreed in consensus, do: every guardian process's GET reserves says
// `short` with the same agreed figure, a withdrawal is refused with reserves_short (the user keeps
// its notes), and each guardian logs the pause once. The shortfall is paid back into the multisig
// address (no claim: a gift to the reserves), the agreed figure recovers at every guardian, the pause
// ends (logged once), and the same withdrawal is paid.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TransactionRejectedError } from "@conclave/core-common";
import { startMoneroFederation } from "@conclave/guardiand";
import type { MoneroFederation } from "@conclave/guardiand";
import { parseXmr, spendMultisig } from "@conclave/monero";
import { nodeWallets } from "@conclave/wallet-standard/node";
import type { Wallet } from "@conclave/wallet-standard/node";
import { ReservesViewSchema } from "./api.js";
import type { ReservesView } from "./api.js";

const N = 4;
const T = 3;
const DEPOSIT_OUTPUT = parseXmr("1");
const DEPOSIT = 2n * DEPOSIT_OUTPUT;
const STOLEN = parseXmr("0.5");
const WITHDRAWAL = parseXmr("0.3");
/** Paid back into the multisig address: the stolen amount, its fee, and a margin. */
const REPAID = parseXmr("0.6");

let fed: MoneroFederation | undefined;
let wallet: Wallet | undefined;
const pauseLog: string[] = [];
const figures: Record<string, string | number> = {};
const timings: Record<string, number> = {};
let lapStart = Date.now();
const lap = (name: string) => {
  timings[name] = Date.now() - lapStart;
  lapStart = Date.now();
};

beforeAll(async () => {
  fed = await startMoneroFederation({
    n: N,
    prefix: "conclave-monero-reserves-",
    moneroConfig: { payoutConfirmations: 2 },
    guardianOptions: (i) => ({
      quiet: false,
      onLine: (line) => {
        if (line.includes("reserves_pause_")) pauseLog.push(`g${i} ${line}`);
      },
    }),
  });
  Object.assign(timings, fed.timings);
  lapStart = Date.now();
  wallet = (await nodeWallets().joinWallet(join(fed.root, "wallet"), fed.invite)).wallet;
  lap("a wallet joined");
}, 480_000);

afterAll(async () => {
  await wallet?.close();
  await fed?.stop();
  console.log(`monero reserves e2e timings (ms): ${JSON.stringify(timings)}`);
  console.log(`monero reserves figures: ${JSON.stringify(figures)}`);
});

/** GET reserves at every guardian process. */
const reservesViews = (): Promise<ReservesView[]> =>
  Promise.all(
    Array.from({ length: N }, async (_, i) =>
      ReservesViewSchema.parse(await (await fetch(`${fed!.apiUrl(i)}/v1/modules/monero/reserves`)).json()),
    ),
  );

/** What every guardian must show alike once it has processed the same blocks. */
const agreedFigure = (v: ReservesView) => ({
  state: v.agreed.state,
  required: v.agreed.required,
  balance: v.agreed.balance,
});

/**
 * Polls until every guardian's agreed reserves are in `state` with the same figure (consensus state:
 * equal once the guardians have processed the same blocks; a guardian a block behind may differ).
 */
async function agreedAtEveryGuardian(state: "ok" | "short", timeoutMs: number): Promise<ReservesView[]> {
  const deadline = Date.now() + timeoutMs;
  let views: ReservesView[] = [];
  while (Date.now() < deadline) {
    views = await reservesViews();
    const first = agreedFigure(views[0]!);
    if (
      first.state === state &&
      views.every((v) => JSON.stringify(agreedFigure(v)) === JSON.stringify(first))
    )
      return views;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `agreed reserves not ${state} alike at every guardian: ${views.map((v) => `${v.agreed.state} ${v.agreed.balance ?? "-"} (${v.agreed.detail})`).join("; ")}`,
  );
}

/** Guardian i's GET /v1/status alerts, as "module/instance code". */
async function statusAlerts(i: number): Promise<string[]> {
  const status = (await (await fetch(`${fed!.apiUrl(i)}/v1/status`)).json()) as {
    alerts: { module: string; instanceId: number; code: string }[];
  };
  return status.alerts.map((a) => `${a.module}/${a.instanceId} ${a.code}`);
}

/** The monero module's pause gauge in guardian i's GET /metrics. */
async function pausedMetric(i: number): Promise<string | undefined> {
  const text = await (await fetch(`${fed!.apiUrl(i)}/metrics`)).text();
  return /^conclave_monero_reserves_paused\{instance="2"\} (\d)$/m.exec(text)?.[1];
}

describe("a real shortfall pauses payouts at every guardian until it is paid back (real monerod, 4 guardian processes)", () => {
  it("a deposit claimed into notes: the agreed reserves cover what is owed", async () => {
    lapStart = Date.now();
    const sent = await fed!.userPay(fed!.address, [DEPOSIT_OUTPUT, DEPOSIT_OUTPUT]);
    const r = await wallet!.claimDeposit(sent, { pollMs: 200, timeoutMs: 120_000 });
    expect(r.amount + r.dust).toBe(DEPOSIT);
    const views = await agreedAtEveryGuardian("ok", 60_000);
    for (const v of views) {
      expect(BigInt(v.agreed.required)).toBe(DEPOSIT);
      expect(BigInt(v.agreed.balance!)).toBeGreaterThanOrEqual(DEPOSIT);
      expect(v.agreed.freshReports).toBeGreaterThanOrEqual(3);
    }
    lap("deposit claimed, reserves agreed ok");
  }, 180_000);

  it("colluding operators move money out behind the federation's back: every guardian agrees it is short, refuses the withdrawal with reserves_short and logs the pause once", async () => {
    lapStart = Date.now();
    const all = fed!.guardianWallets;
    // Three operators (t of 4) sign a transfer of their own: the federation's consensus never sees it.
    // The deposit's outputs unlock 10 blocks after it was mined: retry until then.
    let stolen: { txid: string; fee: bigint } | undefined;
    const deadline = Date.now() + 90_000;
    for (;;) {
      try {
        stolen = await spendMultisig({
          all,
          signers: all.slice(0, T),
          threshold: T,
          multisigAddress: fed!.address,
          destinations: [{ address: fed!.userAddress, amount: STOLEN }],
          feeMax: parseXmr("0.01"),
        });
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    // The signers imported every guardian's multisig info, so their wallets see the spend once it is
    // mined; the fourth guardian's wallet may not (it lacks the others' partial key images of these
    // outputs) and keeps reporting them: the order statistic needs only 2f + 1 = 3 reports at or above it.
    figures["stolenTxid"] = stolen.txid;
    figures["stolenFee"] = stolen.fee.toString();
    lap("theft submitted");

    const views = await agreedAtEveryGuardian("short", 90_000);
    lap("short agreed at every guardian");
    const agreed = views[0]!.agreed;
    expect(BigInt(agreed.required)).toBe(DEPOSIT);
    expect(BigInt(agreed.balance!)).toBeLessThan(DEPOSIT);
    expect(BigInt(agreed.balance!)).toBeLessThanOrEqual(DEPOSIT - STOLEN);
    expect(agreed.detail).toMatch(/paused/);
    figures["agreedWhileShort"] = agreed.balance!;
    figures["reportsWhileShort"] = agreed.reports
      .map((r) => (r ? `${r.balance}@${r.walletHeight}${r.fresh ? "" : " (stale)"}` : "none"))
      .join(", ");
    expect(await Promise.all(Array.from({ length: N }, (_, i) => pausedMetric(i)))).toEqual(
      Array(N).fill("1"),
    );
    expect(await Promise.all(Array.from({ length: N }, (_, i) => statusAlerts(i)))).toEqual(
      Array(N).fill(["monero/2 reserves_short"]),
    );

    // A withdrawal is refused at submission: the user keeps its notes.
    const before = await wallet!.info();
    const e = await wallet!.withdraw(fed!.userAddress, WITHDRAWAL).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(TransactionRejectedError);
    expect((e as TransactionRejectedError).code).toBe("reserves_short");
    expect((e as TransactionRejectedError).details).toMatchObject({ required: DEPOSIT.toString() });
    const after = await wallet!.info();
    expect(after.balance).toBe(before.balance);
    expect(after.pendingOperations).toBe(0);

    // Each guardian process logged the start of the pause, once.
    const started = pauseLog.filter((l) => l.includes("reserves_pause_started"));
    expect(started.map((l) => l.slice(0, 2)).sort()).toEqual(["g0", "g1", "g2", "g3"]);
  }, 240_000);

  it("the shortfall paid back into the multisig address: every guardian agrees it is ok again, logs the end of the pause once, and the withdrawal is paid", async () => {
    lapStart = Date.now();
    await fed!.userPay(fed!.address, [REPAID]);
    const views = await agreedAtEveryGuardian("ok", 90_000);
    lap("ok agreed again");
    expect(BigInt(views[0]!.agreed.balance!)).toBeGreaterThanOrEqual(DEPOSIT);
    figures["agreedAfterRepay"] = views[0]!.agreed.balance!;
    expect(await Promise.all(Array.from({ length: N }, (_, i) => pausedMetric(i)))).toEqual(
      Array(N).fill("0"),
    );
    expect(await Promise.all(Array.from({ length: N }, (_, i) => statusAlerts(i)))).toEqual(
      Array(N).fill([]),
    );
    const ended = pauseLog.filter((l) => l.includes("reserves_pause_ended"));
    expect(ended.map((l) => l.slice(0, 2)).sort()).toEqual(["g0", "g1", "g2", "g3"]);
    expect(pauseLog.filter((l) => l.includes("reserves_pause_started"))).toHaveLength(N);

    const r = await wallet!.withdraw(fed!.userAddress, WITHDRAWAL, { pollMs: 250, timeoutMs: 180_000 });
    expect(r.amount).toBe(WITHDRAWAL);
    const proof = await fed!.user.checkTxKey({
      txid: r.moneroTxid,
      txKey: r.txKey ?? "",
      address: fed!.userAddress,
    });
    expect(proof.received).toBe(WITHDRAWAL);
    lap("withdrawal paid after the recovery");
  }, 240_000);
});
