// The payout signer starts a new duty when consensus hands it over (setDuty, called by the module's
// proposal right after each commit), not at its next poll: every turn of a signing round passed
// through that wait (issue 13's burn -> payout latency). A duty it has seen, or finished, starts no
// extra work. Fake timers: the poll is 60 s, so a step within it can only come from setDuty.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PayoutSigner } from "./payout-watcher.js";
import type { PayoutWallet } from "./payout-watcher.js";

function fakeWallet(calls: string[]): PayoutWallet {
  const unused = (name: string) => () => Promise.reject(new Error(`${name} is not used here`));
  return {
    exportInfo: () => {
      calls.push("export");
      return Promise.resolve("ab");
    },
    recall: () => Promise.resolve(undefined),
    remember: () => Promise.resolve(),
    importInfos: unused("importInfos"),
    create: unused("create"),
    check: unused("check"),
    sign: unused("sign"),
    signedKeyImages: unused("signedKeyImages"),
    submit: unused("submit"),
    spentBy: unused("spentBy"),
    spenderOf: unused("spenderOf"),
    minedSpenderAmong: unused("minedSpenderAmong"),
    unmineable: unused("unmineable"),
    txKey: unused("txKey"),
    location: unused("location"),
    height: unused("height"),
  };
}

describe("PayoutSigner wakes on a new duty", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("does a new duty's work at once, and nothing more for a duty it has seen or done", async () => {
    const calls: string[] = [];
    const changes: number[] = [];
    const signer = new PayoutSigner({
      wallet: fakeWallet(calls),
      threshold: 3,
      confirmations: 1,
      pollMs: 60_000,
      log: () => {},
      onChange: () => changes.push(calls.length),
    });
    signer.start();
    await vi.advanceTimersByTimeAsync(0); // the first poll: no duty yet
    expect(calls).toEqual([]);
    const duty = { kind: "export", batch: 1, attempt: 0 } as const;
    signer.setDuty(duty);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual(["export"]);
    expect(signer.result(duty)?.kind).toBe("blob");
    expect(changes).toEqual([1]);
    // The same duty again (every proposal sets it): no new step, no second export.
    signer.setDuty(duty);
    signer.setDuty(duty);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual(["export"]);
    // The next attempt's export: at once again.
    signer.setDuty({ kind: "export", batch: 1, attempt: 1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual(["export", "export"]);
    await signer.stop();
  });

  it("looks at a duty waiting for blocks (confirm) on a new block, not at its next poll", async () => {
    const calls: string[] = [];
    let height = 100;
    const wallet: PayoutWallet = {
      ...fakeWallet(calls),
      location: () => {
        calls.push("location");
        return Promise.resolve(100);
      },
      height: () => Promise.resolve(height),
      txKey: () => Promise.resolve("cd".repeat(32)),
    };
    const signer = new PayoutSigner({
      wallet,
      threshold: 3,
      confirmations: 2,
      pollMs: 60_000,
      log: () => {},
      onChange: () => {},
    });
    signer.start();
    await vi.advanceTimersByTimeAsync(0);
    const duty = { kind: "confirm", batch: 1, attempt: 0, txid: "ab".repeat(32) } as const;
    signer.setDuty(duty);
    await vi.advanceTimersByTimeAsync(0);
    // In the block at 100, the wallet at 100: no confirmations yet.
    expect(calls).toEqual(["location"]);
    expect(signer.result(duty)).toBeUndefined();
    height = 102;
    signer.newBlock();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual(["location", "location"]);
    expect(signer.result(duty)?.kind).toBe("seen");
    // Done: a new block starts no step.
    signer.newBlock();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual(["location", "location"]);
    await signer.stop();
  });

  // Review of f17e24b: a Gone vote the signer found (its node showed the transaction unmineable for
  // `confirmations` blocks) was kept in memory for good. Consensus clears Gone votes when the batch
  // is confirmed after all (t Seen), the batch is then watched again at the same attempt, and the
  // signer proposed its old Gone again without its node showing anything (failed before: [{1, 0}]).
  it("proposes a Gone vote only while its node shows the transaction unmineable", async () => {
    let height = 100;
    let unmineable = true;
    const txid = "c2".repeat(32);
    const signer = new PayoutSigner({
      wallet: {
        ...fakeWallet([]),
        unmineable: (txs) => Promise.resolve(unmineable ? txs.map((t) => t.txid) : []),
        height: () => Promise.resolve(height),
      },
      threshold: 3,
      confirmations: 2,
      pollMs: 60_000,
      log: () => {},
      onChange: () => {},
    });
    signer.setWatched([{ batch: 1, attempt: 0, txid, keyImages: [] }]);
    await signer.work();
    expect(signer.goneVotes()).toEqual([]); // seen for less than 2 blocks
    height = 102;
    await signer.work();
    expect(signer.goneVotes()).toEqual([{ batch: 1, attempt: 0 }]);
    // Its node shows the transaction again (mined after all): no vote, now or later.
    unmineable = false;
    height = 110;
    await signer.work();
    expect(signer.goneVotes()).toEqual([]);
  });
});
