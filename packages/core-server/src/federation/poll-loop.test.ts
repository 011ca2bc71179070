// PollLoop, the modules' one background loop (monero chain watcher, payout signer, reserves; bridge
// EVM watcher, mint-log index): the wait after a good step is nextMs() (pollMs without it), after
// failures pollMs × 2^failures capped, the recovery is told once, and stop() waits for a step in
// flight and runs no step after it. Short real timers; what is asserted is the order of events and
// the waits the loop computed, never how long anything took.
import { describe, expect, it, vi } from "vitest";
import { PollLoop } from "./poll-loop.js";

describe("PollLoop", () => {
  it("backs off pollMs × 2^failures up to its caps, tells the recovery once, then uses nextMs", async () => {
    const events: string[] = [];
    let step = 0;
    const nextAfter: number[] = [];
    let done: () => void = () => {};
    const finished = new Promise<void>((r) => (done = r));
    const loop = new PollLoop(
      () => {
        step++;
        if (step >= 2 && step <= 5) return Promise.reject(new Error(`node down ${step}`));
        if (step === 8) done();
        return Promise.resolve();
      },
      {
        pollMs: 1,
        nextMs: () => {
          nextAfter.push(step);
          return step < 7 ? 1 : 0;
        },
        backoffExponentMax: 2,
        backoffMaxMs: 3,
        onFailure: (e, failures, retryInMs) =>
          events.push(`${(e as Error).message}: ${failures}, ${retryInMs}`),
        onRecovered: (failures) => events.push(`recovered after ${failures}`),
      },
    );
    expect(loop.stopped).toBe(true);
    loop.start();
    expect(loop.stopped).toBe(false);
    await finished;
    await loop.stop();
    expect(events).toEqual([
      "node down 2: 1, 2", // 1 × 2^1
      "node down 3: 2, 3", // 1 × 2^2 = 4, capped at 3 ms
      "node down 4: 3, 3", // the exponent stops at 2: 4, capped
      "node down 5: 4, 3",
      "recovered after 4",
    ]);
    // nextMs is asked after each good step only (never after a failed one).
    expect(nextAfter.slice(0, 3)).toEqual([1, 6, 7]);
    const stepsAtStop = step;
    await new Promise((r) => setTimeout(r, 20));
    expect(step).toBe(stepsAtStop);
    expect(loop.stopped).toBe(true);
  });

  it("stop() waits for the step in flight", async () => {
    let release: () => void = () => {};
    let started: () => void = () => {};
    const inFlight = new Promise<void>((r) => (started = r));
    let finished = false;
    const loop = new PollLoop(
      async () => {
        started();
        await new Promise<void>((r) => (release = r));
        finished = true;
      },
      { pollMs: 1, backoffExponentMax: 1, backoffMaxMs: 1 },
    );
    loop.start();
    await inFlight;
    const stopping = loop.stop();
    expect(finished).toBe(false);
    release();
    await stopping;
    expect(finished).toBe(true);
  });

  it("poke() runs the step now, once more after a step in flight, never during a back-off or after stop", async () => {
    vi.useFakeTimers();
    try {
      const steps: string[] = [];
      let release: (() => void) | undefined;
      let fail = false;
      const loop = new PollLoop(
        () => {
          steps.push(fail ? "failed" : "step");
          if (fail) return Promise.reject(new Error("node down"));
          if (steps.length === 2) return new Promise<void>((r) => (release = r));
          return Promise.resolve();
        },
        { pollMs: 60_000, backoffExponentMax: 4, backoffMaxMs: 600_000 },
      );
      loop.poke(); // before start: nothing
      await vi.advanceTimersByTimeAsync(0);
      expect(steps).toEqual([]);
      loop.start();
      await vi.advanceTimersByTimeAsync(0);
      expect(steps).toEqual(["step"]);
      // Waiting out pollMs (60 s) would be the next step; a poke runs it now.
      loop.poke();
      await vi.advanceTimersByTimeAsync(0);
      expect(steps).toEqual(["step", "step"]);
      // Pokes during that (still running) step coalesce into one step right after it.
      loop.poke();
      loop.poke();
      loop.poke();
      release!();
      await vi.advanceTimersByTimeAsync(0);
      expect(steps).toEqual(["step", "step", "step"]);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(steps).toHaveLength(3);
      // A failing node: the back-off (2 min after one failure) is not cut short by pokes.
      fail = true;
      loop.poke();
      await vi.advanceTimersByTimeAsync(0);
      expect(steps).toEqual(["step", "step", "step", "failed"]);
      loop.poke();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(steps).toHaveLength(4);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(steps).toHaveLength(5);
      fail = false;
      await loop.stop();
      loop.poke();
      await vi.advanceTimersByTimeAsync(600_000);
      expect(steps).toHaveLength(5);
    } finally {
      vi.useRealTimers();
    }
  });
});
