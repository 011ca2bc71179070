// How the federation client decides from the guardians' answers (federation-client.ts): a
// transaction taken or refused, t answers agreeing, and what each guardian said when they did not.
import { TransactionRejectedError, canonicalJson } from "@conclave/core-common";
import type { ConclaveError } from "@conclave/core-common";
import { describeError } from "./errors.js";
import type { AnswerSummary } from "./errors.js";
import { groupAnswers } from "./quorum.js";
import type { GuardianAnswer } from "./quorum.js";
import type { SignedSession } from "./session-verify.js";
import type { FinalTxStatus, GuardianStatusView, TxStatusView } from "./wire.js";

/** A guardian as the client reaches it: its index in the federation, its name and API address. */
export interface GuardianInfo {
  readonly index: number;
  readonly name: string;
  readonly url: string;
}

export interface SubmitResult {
  readonly txid: string;
  /** Guardians that took the transaction (proposed it, or already know it as accepted). */
  readonly acceptedBy: readonly number[];
  /** What each guardian said, up to the moment the outcome was clear. */
  readonly answers: readonly GuardianAnswer<TxStatusView>[];
}

export type GuardianStatusReport = GuardianInfo &
  (
    | { readonly reachable: true; readonly status: GuardianStatusView }
    | { readonly reachable: false; readonly error: ConclaveError }
  );

export interface VerifiedSession extends SignedSession {
  /** The guardian whose copy verified. */
  readonly servedBy: number;
  /** Guardians whose signatures over the session hash verified (at least t). */
  readonly signers: readonly number[];
  /** Guardians asked before, and why their answer was not used (down, not signed yet, forged). */
  readonly skipped: readonly AnswerSummary[];
}

export type SubmitDecision =
  { readonly kind: "taken" } | { readonly kind: "refused"; readonly error: ConclaveError };

/** JSON equality, whatever the key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** Two final states are the same when everything consensus decided about the transaction is. */
export function finalStateKey(s: FinalTxStatus, withOutcomes: boolean): string {
  if (s.state === "rejected") return `rejected|${s.error.code}`;
  return withOutcomes
    ? `accepted|${s.height}|${s.fee}|${canonicalJson(s.outcomes)}`
    : `accepted|${s.height}|${s.fee}|${s.outcomes.length}`;
}

export function describeStatus(s: TxStatusView): string {
  switch (s.state) {
    case "proposed":
      return "proposed, not final yet";
    case "accepted":
      return `accepted at height ${s.height}, outcomes ${canonicalJson(s.outcomes).slice(0, 300)}`;
    case "rejected":
      return `rejected (${s.error.code}: ${s.error.message.slice(0, 300)})`;
  }
}

/** A refusal that t guardians sharing it makes final: a 4xx other than 429, or a final rejection. */
function refusalOf(answer: GuardianAnswer<TxStatusView>): { key: string; error: ConclaveError } | undefined {
  if (answer.ok) {
    const s = answer.value;
    if (s.state !== "rejected") return undefined;
    return {
      key: `422|${s.error.code}`,
      error: new TransactionRejectedError(s.error.code, s.error.message, s.error.details ?? {}),
    };
  }
  const e = answer.error;
  if (e.status >= 400 && e.status < 500 && e.status !== 429)
    return { key: `${e.status}|${e.code}`, error: e };
  return undefined;
}

export function decideSubmit(
  answers: readonly GuardianAnswer<TxStatusView>[],
  pending: number,
  t: number,
): SubmitDecision | undefined {
  const refusals = new Map<string, { count: number; error: ConclaveError }>();
  let taken = 0;
  for (const a of answers) {
    const refusal = refusalOf(a);
    if (refusal) {
      const r = refusals.get(refusal.key) ?? { count: 0, error: refusal.error };
      r.count++;
      refusals.set(refusal.key, r);
    } else if (a.ok) taken++;
  }
  let top: { count: number; error: ConclaveError } | undefined;
  for (const r of refusals.values()) if (!top || r.count > top.count) top = r;
  if (top && top.count >= t) return { kind: "refused", error: top.error };
  // Decided once the guardians still to answer could not make t same refusals any more.
  if (taken > 0 && (top?.count ?? 0) + pending < t) return { kind: "taken" };
  return undefined;
}

export function decideAgreement<T>(
  answers: readonly GuardianAnswer<T>[],
  pending: number,
  t: number,
  equal: (a: T, b: T) => boolean,
) {
  const top = groupAnswers(answers, equal)[0];
  const size = top?.guardians.length ?? 0;
  if (top && size >= t) return { agreed: top };
  return size + pending < t ? { agreed: undefined } : undefined;
}

export function summarize<T>(
  guardians: readonly GuardianInfo[],
  answers: readonly GuardianAnswer<T>[],
  describe: (value: T) => string,
): AnswerSummary[] {
  return guardians.map((g) => {
    const a = answers.find((x) => x.guardian === g.index);
    const answer =
      a === undefined ? "not needed (no answer yet)" : a.ok ? describe(a.value) : describeError(a.error);
    return { guardian: g.index, url: g.url, answer };
  });
}
