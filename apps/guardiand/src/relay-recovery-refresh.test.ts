// The standard wallet keeps its recovery record fresh by itself (RecoveryKeeper, docs/relay.md
// "Recovery store"), at four guardian processes running the mint and the relay: a change makes one
// new version at the guardians, a burst of operations one write, nothing changed no write, a record
// older than the set age is stored again when the wallet opens, and a change the wallet closed (or
// crashed) before storing is stored at the next open. The clock and the timers are the test's: a
// "timer" runs when the test fires it, so nothing here depends on how long anything takes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromHex, toHex } from "@conclave/core-common";
import { moduleSecret } from "@conclave/core-client";
import type { RecoveryTimers } from "@conclave/module-relay/client";
import { RECOVERY_MAX_AGE_MS, RECOVERY_MIN_INTERVAL_MS, relayKeys } from "@conclave/module-relay/client";
import { Wallet, federationRoot, newMnemonic } from "@conclave/wallet-standard";
import type { WalletOptions } from "@conclave/wallet-standard";
import { LmdbClientDb, nodeCrypto } from "@conclave/wallet-standard/node";
import { RELAY, startRelayFederation } from "./relay-fixture.js";
import type { RelayFederation } from "./relay-fixture.js";

/** Timers the test runs by hand: `fire` runs what is scheduled, as if its time had come. */
class HandTimers implements RecoveryTimers {
  due: { f: () => void; ms: number }[] = [];
  set(f: () => void, ms: number): unknown {
    const t = { f, ms };
    this.due.push(t);
    return t;
  }
  clear(h: unknown): void {
    this.due = this.due.filter((t) => t !== h);
  }
  fire(): number {
    const d = this.due.splice(0);
    for (const t of d) t.f();
    return d.length;
  }
}

let fed: RelayFederation;
const dirs: string[] = [];
let clock = Date.now();
const now = () => clock;

beforeAll(async () => {
  fed = await startRelayFederation("relay-refresh-", { mint: true });
}, 180_000);

afterAll(async () => {
  await fed?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function options(timers: HandTimers): WalletOptions {
  return { crypto: nodeCrypto, awaitTimeoutMs: 60_000, now, recoveryRefresh: { timers, now } };
}

/** The wallet's recovery record id, derived as the relay half does (instance 2 with the mint). */
const recordIds = new Map<Wallet, string>();
async function recordId(wallet: Wallet, mnemonic: string): Promise<void> {
  const root = await federationRoot(mnemonic, fromHex((await wallet.info()).federationId));
  recordIds.set(wallet, toHex(relayKeys(moduleSecret(root, RELAY + 1, "relay")).recoveryId));
}

/** The version every guardian holds of the wallet's record (0: none). */
async function versionsAt(wallet: Wallet): Promise<number[]> {
  const id = recordIds.get(wallet)!;
  const out: number[] = [];
  for (let g = 0; g < 4; g++) {
    const r = await fed.post(g, `recovery/${id}/read`, {});
    out.push(r.status === 200 ? Number(r.body.version) : 0);
  }
  return out;
}

async function newWallet(timers: HandTimers): Promise<{ wallet: Wallet; dir: string; mnemonic: string }> {
  const dir = mkdtempSync(join(tmpdir(), "relay-refresh-wallet-"));
  dirs.push(dir);
  const mnemonic = newMnemonic();
  const wallet = await Wallet.join(LmdbClientDb.open(dir), fed.invite, mnemonic, options(timers));
  await recordId(wallet, mnemonic);
  return { wallet, dir, mnemonic };
}

describe("the wallet keeps its recovery record fresh", () => {
  it("stores one new version after a burst of operations, and none when nothing changed", async () => {
    const timers = new HandTimers();
    const { wallet } = await newWallet(timers);
    try {
      const keeper = wallet.recoveryKeeper!;
      const first = await wallet.storeState();
      expect(await versionsAt(wallet)).toEqual([first.version, first.version, first.version, first.version]);
      timers.fire();
      await keeper.idle();
      expect(keeper.stored).toBe(0);

      // A burst: three faucet payments, each writing the mint's counter and the operation log.
      for (let i = 0; i < 3; i++) await wallet.devFaucet(1000n);
      expect(timers.due).toHaveLength(1);
      clock += RECOVERY_MIN_INTERVAL_MS;
      expect(timers.fire()).toBe(1);
      await keeper.idle();
      expect(keeper.stored).toBe(1);
      const after = await versionsAt(wallet);
      expect(after.filter((v) => v > first.version).length).toBeGreaterThanOrEqual(2);
      expect(new Set(after.filter((v) => v > first.version)).size).toBe(1);

      // Nothing changed since: a resume's refresh writes nothing.
      clock += RECOVERY_MIN_INTERVAL_MS;
      await wallet.resume();
      expect(timers.fire()).toBe(1);
      await keeper.idle();
      expect(keeper.stored).toBe(1);
      expect(timers.due).toHaveLength(0);
      expect(await versionsAt(wallet)).toEqual(after);
    } finally {
      await wallet.close();
    }
  }, 240_000);

  it("stores a record older than the set age when the wallet opens, and a change the wallet closed before storing", async () => {
    const timers = new HandTimers();
    const { wallet, dir, mnemonic } = await newWallet(timers);
    await wallet.storeState();
    const stored = await versionsAt(wallet);
    // A change whose refresh never ran: the wallet closes (or crashes) with the timer pending.
    await wallet.devFaucet(1000n);
    expect(timers.due).toHaveLength(1);
    await wallet.close();
    expect(await versionsAt(wallet)).toEqual(stored);

    clock += RECOVERY_MIN_INTERVAL_MS;
    const again = new HandTimers();
    const reopened = await Wallet.open(LmdbClientDb.open(dir), options(again));
    await recordId(reopened, mnemonic);
    try {
      expect(again.fire()).toBe(1);
      await reopened.recoveryKeeper!.idle();
      expect(reopened.recoveryKeeper!.stored).toBe(1);
      const changed = await versionsAt(reopened);
      expect(Math.max(...changed)).toBeGreaterThan(Math.max(...stored));
    } finally {
      await reopened.close();
    }

    // Nothing changed, but the record is as old as the set age: the next open stores it again.
    clock += RECOVERY_MAX_AGE_MS;
    const later = new HandTimers();
    const old = await versionsAt(reopened);
    const third = await Wallet.open(LmdbClientDb.open(dir), options(later));
    await recordId(third, mnemonic);
    try {
      expect(later.fire()).toBe(1);
      await third.recoveryKeeper!.idle();
      expect(third.recoveryKeeper!.stored).toBe(1);
      expect(Math.max(...(await versionsAt(third)))).toBeGreaterThan(Math.max(...old));
    } finally {
      await third.close();
    }

    // One day younger than the set age and unchanged: no write.
    clock += RECOVERY_MAX_AGE_MS - 24 * 3_600_000;
    const fourthTimers = new HandTimers();
    const before = await versionsAt(third);
    const fourth = await Wallet.open(LmdbClientDb.open(dir), options(fourthTimers));
    await recordId(fourth, mnemonic);
    try {
      expect(fourthTimers.fire()).toBe(1);
      await fourth.recoveryKeeper!.idle();
      expect(fourth.recoveryKeeper!.stored).toBe(0);
      expect(await versionsAt(fourth)).toEqual(before);
    } finally {
      await fourth.close();
    }
  }, 240_000);

  it("is off when the wallet says so", async () => {
    const dir = mkdtempSync(join(tmpdir(), "relay-refresh-wallet-"));
    dirs.push(dir);
    const wallet = await Wallet.join(LmdbClientDb.open(dir), fed.invite, newMnemonic(), {
      crypto: nodeCrypto,
      recoveryRefresh: false,
    });
    try {
      expect(wallet.recoveryKeeper).toBeUndefined();
    } finally {
      await wallet.close();
    }
  }, 60_000);
});
