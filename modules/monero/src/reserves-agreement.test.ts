// Reserves agreed in consensus (reserves-agreement.ts): the order statistic over the guardians'
// wallet reports, and the pause it drives (payouts and deposit spends refused with reserves_short
// while the agreed figure is below what is owed, resumed when it recovers). In memory: four module
// instances fed the same ordered blocks; the real-monerod shortfall is reserves-regtest.test.ts.
import { describe, expect, it } from "vitest";
import { encodeConsensusItem } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { FederationProcessor, MemoryKv, NodeSigner, NodeVerifier, sha256 } from "@conclave/core-server";
import { DummyServerModule, buildTransaction, coinOutput, faucetInput } from "@conclave/module-dummy";
import { encodeAddress } from "@conclave/monero";
import { ed25519 } from "@noble/curves/ed25519.js";
import { depositInput } from "./client.js";
import { agreedReserves, claimProof, decodeMoneroItem, encodeMoneroItem, faultTolerance } from "./common.js";
import type { MoneroConfig, MoneroItem } from "./common.js";
import { parseMoneroConfig } from "./factory.js";
import { encodePayoutOutput } from "./payout-common.js";
import { reservesReportDue } from "./reserves-agreement.js";
import type { ReservesSource, WalletReserves } from "./reserves.js";
import { MoneroServerModule } from "./server.js";

const DUMMY = 0;
const MONERO = 2;
const N = 4;
const addr = (seed: number) =>
  encodeAddress({
    network: "mainnet",
    kind: "standard",
    publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(seed)),
    publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(seed + 1)),
  });
const FEDERATION = addr(7);
const USER = addr(20);
const FEE = 100n;
const CONFIRMATIONS = 3;
const CONFIG: MoneroConfig = parseMoneroConfig({
  network: "mainnet",
  address: FEDERATION,
  guardians: N,
  confirmations: CONFIRMATIONS,
  payoutMinPiconero: "1000",
  payoutFeeBytes: 100,
  payoutFeeMinPiconero: "50",
});
const alice = new NodeSigner(new Uint8Array(32).fill(1));
const txidOf = (n: number) => new Uint8Array(32).fill(n);
const TXKEY = Uint8Array.from([...new Uint8Array(31).fill(0x42), 0x01]);

/** A wallet-rpc stand-in for the proposal tests: returns `next`, or throws when it is an Error. */
class FakeReserves implements ReservesSource {
  next: WalletReserves | Error = {
    balance: 0n,
    unlocked: 0n,
    height: 0,
    importNeeded: false,
    pendingOutgoing: 0,
  };
  read(): Promise<WalletReserves> {
    return this.next instanceof Error ? Promise.reject(this.next) : Promise.resolve(this.next);
  }
}

function federation() {
  const logs: { guardian: number; event: string; fields: Record<string, unknown> }[] = [];
  const guardians = Array.from({ length: N }, (_, g) => {
    const source = new FakeReserves();
    const monero = new MoneroServerModule(MONERO, CONFIG, {
      chain: {
        height: () => Promise.resolve(0),
        transaction: () => Promise.resolve({ found: false }),
        proven: () => Promise.resolve({ good: false, received: 0n }),
      },
      pollMs: 1000,
      autoPoll: false,
      reserves: source,
    });
    monero.start({
      self: g,
      wake: () => {},
      log: (event, fields) => logs.push({ guardian: g, event, fields }),
    });
    const dummy = new DummyServerModule(DUMMY, { faucetAmountMax: 10n ** 15n, feePerInput: 0n });
    const p = new FederationProcessor([dummy, monero], { verifier: new NodeVerifier(), hash: sha256 });
    return { db: new MemoryKv(), p, monero, source };
  });
  let height = 0;
  const block = (
    items: readonly { from: number; item: MoneroItem | Uint8Array }[],
    txs: Transaction[] = [],
  ) => {
    const bundles = Array.from({ length: N }, (_, origin) => ({
      origin,
      items: items
        .filter((i) => i.from === origin)
        .map((i) =>
          encodeConsensusItem({
            kind: "module",
            module: MONERO,
            payload: i.item instanceof Uint8Array ? i.item : encodeMoneroItem(i.item),
          }),
        ),
    }));
    bundles[0]!.items.push(...txs.map((tx) => encodeConsensusItem({ kind: "transaction", tx })));
    const results = guardians.map((g) => g.p.processBlock(g.db, height, bundles));
    height++;
    for (const r of results) expect(r.auditFailure).toBeUndefined();
    for (const r of results.slice(1)) expect(r.moduleItemErrors).toBe(results[0]!.moduleItemErrors);
    return results[0]!;
  };
  const mdb = (i: number) => guardians[i]!.p.moduleReadDb(guardians[i]!.db, MONERO);
  block(guardians.map((_, from) => ({ from, item: { kind: "fee_rate" as const, perByte: 1 } })));
  const heights = (h: number) =>
    block(guardians.map((_, from) => ({ from, item: { kind: "height" as const, height: h } })));
  /** Guardian g's wallet report (undefined: none from g in this block). */
  const report = (byGuardian: readonly ({ balance: bigint; walletHeight: number } | undefined)[]) =>
    block(
      byGuardian.flatMap((r, from) =>
        r === undefined
          ? []
          : [
              {
                from,
                item: {
                  kind: "reserves" as const,
                  balance: r.balance,
                  unlocked: r.balance,
                  walletHeight: r.walletHeight,
                },
              },
            ],
      ),
    );
  const credit = (txid: Uint8Array, amount: bigint, txHeight: number) => {
    const proof = claimProof({
      federationAddress: FEDERATION,
      txid,
      txKey: TXKEY,
      claimKey: alice.publicKey,
    });
    block([{ from: 0, item: { kind: "claim", txid, claimKey: alice.publicKey, proof } }]);
    block(
      [0, 1, 2].map((from) => ({
        from,
        item: {
          kind: "attest" as const,
          txid,
          round: 1,
          verdict: { valid: true as const, amount, txHeight },
        },
      })),
    );
  };
  /** The agreed view at every guardian: they must all say the same. */
  const agreed = () => {
    const views = guardians.map((g, i) => g.monero.reservesView(mdb(i)).agreed);
    for (const v of views.slice(1)) expect(v).toEqual(views[0]);
    return views[0]!;
  };
  const submit = (tx: Transaction) => {
    const s = block([], [tx]).events[0]!.status;
    return s.state === "rejected" ? s.error : { code: "accepted" };
  };
  /** A deposit spent into a dummy coin (e-cash issued against Monero). */
  const spendDeposit = (txid: Uint8Array, amount: bigint) =>
    buildTransaction(
      [depositInput(MONERO, amount, txid)],
      [coinOutput(DUMMY, amount, alice.publicKey)],
      [alice],
      sha256,
    );
  /** A payout paid from a dummy coin (no Monero input: only the payout output is checked). */
  const payout = (amount: bigint) =>
    buildTransaction(
      [faucetInput(DUMMY, amount + FEE)],
      [{ module: MONERO, amount, payload: encodePayoutOutput(USER, FEE) }],
      [],
      sha256,
    );
  return { guardians, logs, block, heights, report, credit, agreed, submit, spendDeposit, payout, mdb };
}

describe("the agreed reserves figure", () => {
  it("f liars, high or low, cannot move it outside the honest reports (n = 4..16, all or 2f + 1.. fresh reports)", () => {
    for (let n = 4; n <= 16; n++) {
      const f = faultTolerance(n);
      for (let fresh = 2 * f + 1; fresh <= n; fresh++) {
        // `fresh` reports count: f of them lie, the rest are honest (distinct, so a move would show).
        const honest = Array.from({ length: fresh - f }, (_, i) => 1_000_000n + BigInt(i) * 1000n);
        const lo = honest[0]!;
        const hi = honest[honest.length - 1]!;
        for (const lie of [0n, 1n, lo - 1n, hi + 1n, 10n ** 19n]) {
          for (const mixed of [false, true]) {
            const liars = Array.from({ length: f }, (_, i) => (mixed && i % 2 === 1 ? 0n : lie));
            const reports: (bigint | undefined)[] = [...liars, ...honest];
            while (reports.length < n) reports.push(undefined); // stale or missing reports
            const a = agreedReserves(reports, n);
            expect(a, `n=${n} fresh=${fresh} lie=${lie}`).toBeDefined();
            expect(a! >= lo && a! <= hi, `n=${n} fresh=${fresh} lie=${lie}: ${a}`).toBe(true);
          }
        }
        // Every report honest and equal: that is the figure.
        expect(
          agreedReserves(
            Array.from({ length: fresh }, () => 5n),
            n,
          ),
        ).toBe(5n);
      }
      // Fewer than 2f + 1 reports: no figure ("unknown").
      expect(
        agreedReserves(
          Array.from({ length: 2 * f }, () => 5n),
          n,
        ),
      ).toBeUndefined();
      expect(agreedReserves([], n)).toBeUndefined();
    }
  });

  it("with all n reports it is the fee rate's rule (position 2f of the reports sorted descending)", () => {
    expect(agreedReserves([10n, 40n, 20n, 30n], 4)).toBe(20n);
    expect(agreedReserves([10n, 40n, 20n, 30n, 50n, 60n, 70n], 7)).toBe(30n);
  });

  it("the Reserves item: round trip; unlocked above the balance and heights beyond the bound are refused", () => {
    const item: MoneroItem = { kind: "reserves", balance: 2n ** 64n - 1n, unlocked: 5n, walletHeight: 123 };
    expect(decodeMoneroItem(encodeMoneroItem(item))).toEqual(item);
    expect(() =>
      decodeMoneroItem(encodeMoneroItem({ kind: "reserves", balance: 4n, unlocked: 5n, walletHeight: 1 })),
    ).toThrow(/unlocked/);
    expect(() =>
      decodeMoneroItem(
        encodeMoneroItem({ kind: "reserves", balance: 4n, unlocked: 4n, walletHeight: 2 ** 49 }),
      ),
    ).toThrow(/wallet height/);
    expect(() => decodeMoneroItem(Uint8Array.of(0x13, 1, 2))).toThrow();
  });

  it("a guardian reports at first, on a changed balance, and as its wallet scans on; never lower", () => {
    const w = (balance: bigint, height: number): WalletReserves => ({
      balance,
      unlocked: balance,
      height,
      importNeeded: false,
      pendingOutgoing: 0,
    });
    const last = { balance: 10n, unlocked: 10n, walletHeight: 100 };
    expect(reservesReportDue(undefined, w(10n, 100), false, 10)).toBe(true);
    expect(reservesReportDue(last, w(10n, 100), true, 10)).toBe(false);
    expect(reservesReportDue(last, w(11n, 100), true, 10)).toBe(true);
    // Every half of the 20 blocks a report counts for (or of confirmations, if larger).
    expect(reservesReportDue(last, w(10n, 109), true, 10)).toBe(false);
    expect(reservesReportDue(last, w(10n, 110), true, 10)).toBe(true);
    expect(reservesReportDue(last, w(10n, 124), true, 50)).toBe(false);
    expect(reservesReportDue(last, w(10n, 125), true, 50)).toBe(true);
    expect(reservesReportDue(last, w(10n, 101), false, 10)).toBe(true);
    expect(reservesReportDue(last, w(11n, 99), false, 10)).toBe(false);
  });
});

describe("the pause while the agreed reserves are short", () => {
  it("refuses payouts and deposit spends with reserves_short at every guardian, says so, and resumes when the figure recovers", () => {
    const f = federation();
    f.heights(100);
    f.credit(txidOf(1), 100_000n, 60);
    f.credit(txidOf(2), 50_000n, 61);
    // Owed: 150 000 credited. No reports yet: no figure, nothing paused.
    expect(f.agreed()).toMatchObject({
      state: "unknown",
      required: "150000",
      freshReports: 0,
      freshReportsMin: 3,
    });
    expect(f.submit(f.spendDeposit(txidOf(1), 100_000n))).toEqual({ code: "accepted" });

    // Every wallet holds 120 000 (30 000 went missing behind the federation's back); guardian 3 lies high.
    const h = 100;
    f.report([
      { balance: 120_000n, walletHeight: h },
      { balance: 120_000n, walletHeight: h },
      { balance: 120_000n, walletHeight: h },
      { balance: 10n ** 18n, walletHeight: h },
    ]);
    const short = f.agreed();
    expect(short).toMatchObject({
      state: "short",
      required: "150000",
      balance: "120000",
      surplus: "-30000",
      freshReports: 4,
    });
    expect(short.reports[3]).toMatchObject({ balance: String(10n ** 18n), fresh: true });
    const refusedPayout = f.submit(f.payout(20_000n));
    expect(refusedPayout).toMatchObject({
      code: "reserves_short",
      details: { required: "150000", agreed: "120000" },
    });
    expect(f.submit(f.spendDeposit(txidOf(2), 50_000n))).toMatchObject({ code: "reserves_short" });
    const metrics = f.guardians[2]!.monero.metrics(f.mdb(2));
    expect(metrics).toContain('conclave_monero_reserves_paused{instance="2"} 1');
    expect(metrics).toContain('conclave_monero_reserves_state{instance="2",state="short"} 1');
    expect(metrics).toContain('conclave_monero_reserves_agreed_piconero{instance="2"} 120000');
    expect(metrics).toContain('conclave_monero_reserves_required_piconero{instance="2"} 150000');
    expect(f.guardians[1]!.monero.alerts(f.mdb(1))).toEqual([
      { code: "reserves_short", message: expect.stringMatching(/30000 less than the 150000 owed/) as string },
    ]);
    const started = f.logs.filter((l) => l.event === "reserves_pause_started");
    expect(started.map((l) => l.guardian)).toEqual([0, 1, 2, 3]);
    expect(started[0]!.fields).toMatchObject({ required: "150000", agreed: "120000" });

    // Still short a block later: logged once, not again.
    f.heights(101);
    expect(f.agreed().state).toBe("short");
    expect(f.logs.filter((l) => l.event === "reserves_pause_started")).toHaveLength(4);

    // The shortfall is paid back: three honest wallets now hold 155 000 (a liar reporting 0 cannot hold it down).
    f.report([
      { balance: 155_000n, walletHeight: 102 },
      { balance: 155_000n, walletHeight: 102 },
      { balance: 155_000n, walletHeight: 102 },
      { balance: 0n, walletHeight: 102 },
    ]);
    expect(f.agreed()).toMatchObject({ state: "ok", balance: "155000", surplus: "5000" });
    expect(f.logs.filter((l) => l.event === "reserves_pause_ended").map((l) => l.guardian)).toEqual([
      0, 1, 2, 3,
    ]);
    expect(f.guardians[0]!.monero.metrics(f.mdb(0))).toContain(
      'conclave_monero_reserves_paused{instance="2"} 0',
    );
    expect(f.submit(f.payout(20_000n))).toEqual({ code: "accepted" });
    expect(f.submit(f.spendDeposit(txidOf(2), 50_000n))).toEqual({ code: "accepted" });
    // The payout left what is owed: 150 000 − 20 000 − its fee.
    expect(f.agreed()).toMatchObject({ state: "ok", required: String(150_000n - 20_000n - FEE) });
  });

  it("a payout accepted before the shortfall is still paid: the pause refuses new payouts, its batch's signing goes on", () => {
    const f = federation();
    f.heights(100);
    f.credit(txidOf(1), 100_000n, 60);
    f.report([0, 1, 2, 3].map(() => ({ balance: 100_000n, walletHeight: 100 })));
    expect(f.submit(f.payout(20_000n))).toEqual({ code: "accepted" });
    // Money leaves behind the federation's back: short now.
    f.report([0, 1, 2, 3].map(() => ({ balance: 50_000n, walletHeight: 101 })));
    expect(f.agreed()).toMatchObject({ state: "short" });
    expect(f.submit(f.payout(20_000n))).toMatchObject({ code: "reserves_short" });
    // The accepted payout's batch: every guardian's duty is still to export for it (the rounds run).
    for (const [g, guardian] of f.guardians.entries())
      expect(guardian.monero.payouts.duty(f.mdb(g), g)).toEqual({ kind: "export", batch: 1, attempt: 0 });
  });

  it("f liars reporting 0 cannot pause a federation whose honest wallets hold enough", () => {
    const f = federation();
    f.heights(100);
    f.credit(txidOf(1), 100_000n, 60);
    f.report([
      { balance: 0n, walletHeight: 100 },
      { balance: 100_000n, walletHeight: 99 },
      { balance: 100_001n, walletHeight: 100 },
      { balance: 100_002n, walletHeight: 100 },
    ]);
    expect(f.agreed()).toMatchObject({ state: "ok", balance: "100000" });
    expect(f.submit(f.spendDeposit(txidOf(1), 100_000n))).toEqual({ code: "accepted" });
  });

  it("reports that do not count: a wallet that has not scanned the newest credited deposit, and old ones; fewer than 2f + 1 fresh: unknown, not paused", () => {
    const f = federation();
    f.heights(100);
    f.credit(txidOf(1), 100_000n, 99);
    // Recent (99 >= 100 − 20 + 1) but read before the deposit's block 99 was scanned: they lack it, and
    // must not make the federation look short.
    f.report([
      { balance: 0n, walletHeight: 99 },
      { balance: 0n, walletHeight: 99 },
      { balance: 0n, walletHeight: 99 },
      { balance: 0n, walletHeight: 99 },
    ]);
    expect(f.agreed()).toMatchObject({ state: "unknown", freshReports: 0 });
    expect(f.submit(f.payout(5000n))).toEqual({ code: "accepted" });
    // Two wallets scanned it and are short; two are silent: 2 of the 3 needed, still unknown, not paused.
    f.report([
      { balance: 1n, walletHeight: 100 },
      { balance: 1n, walletHeight: 100 },
    ]);
    expect(f.agreed()).toMatchObject({ state: "unknown", freshReports: 2 });
    expect(f.submit(f.payout(5000n))).toEqual({ code: "accepted" });
    // A third: short now.
    f.report([undefined, undefined, { balance: 1n, walletHeight: 100 }]);
    expect(f.agreed()).toMatchObject({ state: "short", freshReports: 3 });
    expect(f.submit(f.payout(5000n))).toMatchObject({ code: "reserves_short" });
    // A report with a lower wallet height than the guardian's last is refused (state unchanged).
    const before = f.block([]).moduleItemErrors;
    expect(f.report([undefined, undefined, { balance: 10n ** 9n, walletHeight: 99 }]).moduleItemErrors).toBe(
      before + 1,
    );
    expect(f.agreed().reports[2]).toMatchObject({ balance: "1", walletHeight: 100 });
    // The agreed height moves on and nobody reports again: a report counts while its wallet scanned at
    // least agreedHeight − 20 + 1 blocks. At 119: still (100 >= 100); at 120 none: unknown, resumed.
    f.heights(119);
    expect(f.agreed()).toMatchObject({ state: "short", freshReports: 3 });
    f.heights(120);
    expect(f.agreed()).toMatchObject({ state: "unknown", freshReports: 0 });
    expect(f.submit(f.payout(5000n))).toEqual({ code: "accepted" });
    expect(f.logs.filter((l) => l.event === "reserves_pause_ended")).toHaveLength(4);
  });

  it("a guardian proposes its wallet's figures: at first, not again once ordered, not while its own transaction is unmined or the read failed, again on a change", async () => {
    const f = federation();
    f.heights(100);
    const g = f.guardians[1]!;
    const proposed = () =>
      g.monero
        .consensusProposal(f.mdb(1))
        .map((b) => decodeMoneroItem(b))
        .filter((i) => i.kind === "reserves");
    expect(proposed()).toEqual([]); // not read yet
    g.source.next = { balance: 7000n, unlocked: 5000n, height: 100, importNeeded: false, pendingOutgoing: 0 };
    await g.monero.reserves!.poll();
    const first = proposed();
    expect(first).toEqual([{ kind: "reserves", balance: 7000n, unlocked: 5000n, walletHeight: 100 }]);
    f.block([{ from: 1, item: first[0]! }]);
    expect(proposed()).toEqual([]);
    expect(f.agreed().reports[1]).toEqual({
      balance: "7000",
      unlocked: "5000",
      locked: "2000",
      walletHeight: 100,
      fresh: true,
    });
    g.source.next = { balance: 1000n, unlocked: 1000n, height: 101, importNeeded: false, pendingOutgoing: 1 };
    await g.monero.reserves!.poll();
    expect(proposed()).toEqual([]);
    g.source.next = new Error("connect ECONNREFUSED");
    await g.monero.reserves!.poll();
    expect(proposed()).toEqual([]);
    g.source.next = { balance: 1000n, unlocked: 1000n, height: 101, importNeeded: false, pendingOutgoing: 0 };
    await g.monero.reserves!.poll();
    expect(proposed()).toEqual([{ kind: "reserves", balance: 1000n, unlocked: 1000n, walletHeight: 101 }]);
  });
});
