// RecoveryKeeper's schedule with a hand clock and hand timers (nothing depends on real time): a burst
// of changes makes one refresh, attempts stay minIntervalMs apart, a failed refresh is tried again,
// writes the record does not hold schedule nothing, and a stopped keeper refreshes no more.
import { describe, expect, it } from "vitest";
import { MemoryClientDb, ObservedClientDb, put } from "@conclave/core-client";
import { RecoveryKeeper, keepRecoveryFresh } from "./recovery-keeper.js";
import type { RecoveryTimers } from "./recovery-keeper.js";
import type { RecoveryStoreResult } from "./recovery.js";

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

const STORED: RecoveryStoreResult = { version: 1, bytes: 1024, entries: 1, storedBy: [0, 1], failedAt: [] };

function setup(outcomes: ("store" | "skip" | "fail")[] = []) {
  let clock = 1_000_000;
  const timers = new HandTimers();
  const calls: number[] = [];
  const keeper = new RecoveryKeeper(
    (maxAgeMs) => {
      calls.push(maxAgeMs);
      const o = outcomes.shift() ?? "store";
      if (o === "fail") return Promise.reject(new Error("guardians unreachable"));
      return Promise.resolve(o === "store" ? STORED : undefined);
    },
    { timers, now: () => clock, debounceMs: 30_000, minIntervalMs: 300_000, retryMs: 60_000 },
  );
  return { keeper, timers, calls, advance: (ms: number) => (clock += ms) };
}

describe("RecoveryKeeper", () => {
  it("makes one refresh of a burst of changes, after the debounce", async () => {
    const { keeper, timers, calls } = setup();
    for (let i = 0; i < 10; i++) keeper.changed();
    expect(timers.due.map((t) => t.ms)).toEqual([30_000]);
    timers.fire();
    await keeper.idle();
    expect(calls).toHaveLength(1);
    expect(keeper.stored).toBe(1);
    expect(keeper.pending).toBe(false);
  });

  it("keeps attempts minIntervalMs apart", async () => {
    const { keeper, timers, calls, advance } = setup();
    keeper.changed();
    timers.fire();
    await keeper.idle();
    advance(100_000);
    keeper.changed();
    expect(timers.due.map((t) => t.ms)).toEqual([200_000]);
    keeper.opened();
    expect(timers.due.map((t) => t.ms)).toEqual([200_000]);
    timers.fire();
    await keeper.idle();
    expect(calls).toHaveLength(2);
  });

  it("refreshes at once when opened, and coalesces a later change into that refresh", async () => {
    const { keeper, timers, calls } = setup(["skip"]);
    keeper.changed();
    keeper.opened();
    expect(timers.due.map((t) => t.ms)).toEqual([0]);
    timers.fire();
    await keeper.idle();
    expect(calls).toHaveLength(1);
    expect(keeper.stored).toBe(0);
  });

  it("tries a failed refresh again, backing off, never sooner than minIntervalMs", async () => {
    const { keeper, timers, calls, advance } = setup(["fail", "fail", "store"]);
    keeper.changed();
    timers.fire();
    await keeper.idle();
    expect(keeper.failed).toBe(1);
    expect((keeper.lastError as Error).message).toBe("guardians unreachable");
    expect(timers.due.map((t) => t.ms)).toEqual([300_000]);
    advance(300_000);
    timers.fire();
    await keeper.idle();
    expect(keeper.failed).toBe(2);
    expect(timers.due).toHaveLength(1);
    advance(300_000);
    timers.fire();
    await keeper.idle();
    expect(calls).toHaveLength(3);
    expect(keeper.stored).toBe(1);
    expect(keeper.lastError).toBeUndefined();
    expect(timers.due).toHaveLength(0);
  });

  it("schedules again for a change that came while a refresh ran", async () => {
    const { keeper, timers, calls, advance } = setup();
    keeper.changed();
    timers.fire();
    keeper.changed();
    expect(timers.due).toHaveLength(0);
    await keeper.idle();
    expect(timers.due).toHaveLength(1);
    advance(300_000);
    timers.fire();
    await keeper.idle();
    expect(calls).toHaveLength(2);
  });

  it("refreshes nothing once stopped", async () => {
    const { keeper, timers, calls } = setup();
    keeper.changed();
    await keeper.stop();
    expect(timers.due).toHaveLength(0);
    keeper.changed();
    keeper.opened();
    expect(timers.due).toHaveLength(0);
    expect(calls).toHaveLength(0);
  });

  it("is told of the database writes the record holds, and only of those (keepRecoveryFresh)", async () => {
    const db = new ObservedClientDb(new MemoryClientDb());
    const timers = new HandTimers();
    let records = false;
    const refreshed: number[] = [];
    const keeper = keepRecoveryFresh(
      db,
      {
        refreshRecovery: (maxAgeMs) => {
          refreshed.push(maxAgeMs);
          return Promise.resolve(STORED);
        },
        hasRecoveryRecord: () => Promise.resolve(records),
        recoveryCovers: (keys) => keys.some((k) => k === "counter"),
      },
      { timers, now: () => 0 },
    );
    await db.write([put("note/1", new Uint8Array(1))]);
    expect(timers.due).toHaveLength(0);
    await db.write([put("counter", new Uint8Array(1))]);
    expect(timers.due).toHaveLength(1);
    // A wallet that never stored a record gets none on its own (first: false).
    timers.fire();
    await keeper.idle();
    expect(refreshed).toHaveLength(0);
    records = true;
    keeper.opened();
    timers.fire();
    await keeper.idle();
    expect(refreshed).toEqual([keeper.maxAgeMs]);
    await keeper.stop();
    await db.write([put("counter", new Uint8Array(2))]);
    expect(timers.due).toHaveLength(0);
  });
});
