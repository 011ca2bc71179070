import { describe, expect, it } from "vitest";
import { ConclaveError } from "@conclave/core-common";
import { RequestAbortedError } from "./errors.js";
import { fanOut, faultTolerance, groupAnswers, quorumThreshold } from "./quorum.js";
import type { GuardianAnswer } from "./quorum.js";

/** A promise with its resolve function outside, to answer for a guardian when the test says so. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("threshold", () => {
  it("tolerates f = floor((n - 1) / 3) faults and needs t = n - f same answers", () => {
    const table = [1, 2, 3, 4, 5, 7, 10, 64].map((n) => [n, faultTolerance(n), quorumThreshold(n)]);
    expect(table).toEqual([
      [1, 0, 1],
      [2, 0, 2],
      [3, 0, 3],
      [4, 1, 3],
      [5, 1, 4],
      [7, 2, 5],
      [10, 3, 7],
      [64, 21, 43],
    ]);
  });

  it("makes any two quorums share an honest guardian (2t - n > f)", () => {
    for (let n = 1; n <= 64; n++) expect(2 * quorumThreshold(n) - n).toBeGreaterThan(faultTolerance(n));
  });
});

describe("groupAnswers", () => {
  it("groups equal values, ignores errors, largest group first", () => {
    const answers: GuardianAnswer<number>[] = [
      { guardian: 0, ok: true, value: 1 },
      { guardian: 1, ok: true, value: 2 },
      { guardian: 2, ok: false, error: new ConclaveError("x", "y") },
      { guardian: 3, ok: true, value: 2 },
    ];
    expect(groupAnswers(answers, (a, b) => a === b)).toEqual([
      { value: 2, guardians: [1, 3] },
      { value: 1, guardians: [0] },
    ]);
  });
});

describe("fanOut", () => {
  it("keeps at most `concurrency` requests in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    const { answers } = await fanOut(
      [0, 1, 2, 3, 4, 5, 6, 7],
      async (g) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
        return g;
      },
      () => undefined,
      { concurrency: 3, abortRestOnDecision: false, what: "test" },
    );
    expect(peak).toBe(3);
    expect(answers.map((a) => a.guardian).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("resolves at the first decision and aborts the requests still running", async () => {
    const slow = deferred<number>();
    let abortedSlow = false;
    const result = await fanOut(
      [0, 1, 2],
      (g, signal) => {
        if (g !== 2) return Promise.resolve(g);
        signal.addEventListener("abort", () => {
          abortedSlow = true;
          slow.reject(new RequestAbortedError("slow"));
        });
        return slow.promise;
      },
      (answers) => (answers.length >= 2 ? "two" : undefined),
      { concurrency: 3, abortRestOnDecision: true, what: "test" },
    );
    expect(result.decision).toBe("two");
    expect(result.answers.map((a) => a.guardian).sort()).toEqual([0, 1]);
    expect(abortedSlow).toBe(true);
  });

  it("records a failing guardian as an answer, not a failure of the whole call", async () => {
    const { answers, decision } = await fanOut(
      [0, 1],
      (g) => (g === 0 ? Promise.reject(new Error("boom")) : Promise.resolve(g)),
      () => undefined,
      { concurrency: 2, abortRestOnDecision: false, what: "test" },
    );
    expect(decision).toBeUndefined();
    const failed = answers.find((a) => a.guardian === 0);
    expect(failed?.ok === false && failed.error).toMatchObject({ code: "client_error", message: "boom" });
  });

  it("rejects with RequestAbortedError when the caller aborts", async () => {
    const controller = new AbortController();
    const call = fanOut(
      [0],
      (_g, signal) =>
        new Promise<number>((_resolve, reject) =>
          signal.addEventListener("abort", () => reject(new RequestAbortedError("x"))),
        ),
      () => undefined,
      { concurrency: 1, abortRestOnDecision: false, what: "the test call", signal: controller.signal },
    );
    controller.abort();
    await expect(call).rejects.toThrow(/the test call was aborted/);
  });
});
