// Asking many guardians at once and counting agreeing answers. With n guardians of which at most
// f = floor((n - 1) / 3) lie or are down, t = n - f same answers include at least t - f >= f + 1
// honest ones: an answer shared by t guardians is what the honest guardians say.
import type { ConclaveError } from "@conclave/core-common";
import { RequestAbortedError, asConclaveError } from "./errors.js";

export { faultTolerance, quorumThreshold } from "@conclave/core-common";

/** What one guardian answered (or the error it gave, or that reaching it gave). */
export type GuardianAnswer<T> =
  | { readonly guardian: number; readonly ok: true; readonly value: T }
  | { readonly guardian: number; readonly ok: false; readonly error: ConclaveError };

/**
 * A value that t guardians agreed on, who they are, and what every guardian asked said (answers may
 * be of a wider type A than the agreed value: a transaction's status, of which only final ones count).
 */
export interface Agreement<T, A = T> {
  readonly value: T;
  readonly agreedBy: readonly number[];
  readonly answers: readonly GuardianAnswer<A>[];
}

export interface Group<T> {
  readonly value: T;
  readonly guardians: readonly number[];
}

/** Groups successful answers by `equal` (first answer of a group represents it), largest first. */
export function groupAnswers<T>(
  answers: readonly GuardianAnswer<T>[],
  equal: (a: T, b: T) => boolean,
): Group<T>[] {
  const groups: { value: T; guardians: number[] }[] = [];
  for (const a of answers) {
    if (!a.ok) continue;
    const group = groups.find((g) => equal(g.value, a.value));
    if (group) group.guardians.push(a.guardian);
    else groups.push({ value: a.value, guardians: [a.guardian] });
  }
  return groups.sort((a, b) => b.guardians.length - a.guardians.length);
}

export interface FanOutOptions {
  /** Requests in flight at once. */
  readonly concurrency: number;
  readonly signal?: AbortSignal;
  /**
   * Once decided, abort the requests still running (queries). Without it they run to their end
   * (a submitted transaction should still reach every guardian) and the result ignores them.
   */
  readonly abortRestOnDecision: boolean;
  /** Names the call in an abort error. */
  readonly what: string;
}

export interface FanOutResult<T, D> {
  /** Undefined when every guardian answered and `decide` never decided. */
  readonly decision: D | undefined;
  /** The answers received up to the decision (or all of them). */
  readonly answers: readonly GuardianAnswer<T>[];
}

/**
 * Runs `task` for every guardian, `concurrency` at a time, and calls `decide` after each answer
 * with all answers so far and how many are still to come; resolves at the first decision.
 * Never rejects for a guardian's failure (that is an answer); rejects if the caller aborts.
 */
export async function fanOut<T, D>(
  guardians: readonly number[],
  task: (guardian: number, signal: AbortSignal) => Promise<T>,
  decide: (answers: readonly GuardianAnswer<T>[], pending: number) => D | undefined,
  options: FanOutOptions,
): Promise<FanOutResult<T, D>> {
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const answers: GuardianAnswer<T>[] = [];
  let decided: { readonly decision: D; readonly answers: readonly GuardianAnswer<T>[] } | undefined;
  let markDecided = () => {};
  const decidedNow = new Promise<void>((resolve) => (markDecided = resolve));
  let next = 0;

  const worker = async (): Promise<void> => {
    while (next < guardians.length) {
      if (decided && options.abortRestOnDecision) return;
      const guardian = guardians[next++]!;
      let answer: GuardianAnswer<T>;
      try {
        answer = { guardian, ok: true, value: await task(guardian, controller.signal) };
      } catch (e) {
        answer = { guardian, ok: false, error: asConclaveError(e) };
      }
      answers.push(answer);
      if (decided || options.signal?.aborted) continue;
      const decision = decide(answers, guardians.length - answers.length);
      if (decision !== undefined) {
        decided = { decision, answers: [...answers] };
        markDecided();
        if (options.abortRestOnDecision) controller.abort();
      }
    }
  };

  const workers = Array.from({ length: Math.min(options.concurrency, guardians.length) }, () => worker());
  const all = Promise.all(workers);
  const cleanup = () => options.signal?.removeEventListener("abort", onAbort);
  void all.then(cleanup, cleanup);
  await Promise.race([all, decidedNow]);
  if (decided) return decided;
  if (options.signal?.aborted) throw new RequestAbortedError(options.what);
  return { decision: undefined, answers };
}
