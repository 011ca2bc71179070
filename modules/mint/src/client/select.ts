// Note selection and change, on counts per denomination (pure functions, no I/O).
//
// Denominations are powers of two, so taking, from the largest denomination down, as many notes as
// fit in what is left finds an exact subset whenever one exists, and with the fewest notes: notes
// smaller than 2^k that sum to at least 2^k always contain a subset summing to exactly 2^k, so a
// solution that skips an available 2^k note can swap some smaller notes for it.
import { denominationAmount } from "../common.js";

/** Counts of notes per denominationLog2. */
export type Holdings = ReadonlyMap<number, number>;

/** Notes (as denominationLog2s, largest first) summing exactly to `amount`, or undefined. */
export function selectExact(holdings: Holdings, amount: bigint): number[] | undefined {
  if (amount < 0n) return undefined;
  const out: number[] = [];
  let left = amount;
  for (const log2 of [...holdings.keys()].sort((a, b) => b - a)) {
    const d = denominationAmount(log2);
    const have = BigInt(holdings.get(log2) ?? 0);
    const take = left / d < have ? left / d : have;
    for (let i = 0n; i < take; i++) out.push(log2);
    left -= take * d;
  }
  return left === 0n ? out : undefined;
}

/** Is `amount` made of the mint's denominations (a positive multiple of the smallest one)? */
export function representable(amount: bigint, denominationsLog2: readonly number[]): boolean {
  const smallest = Math.min(...denominationsLog2);
  return amount > 0n && amount % denominationAmount(smallest) === 0n;
}

/**
 * The fewest notes of the mint's denominations making up `amount` rounded down to the smallest
 * denomination (largest first), and the dust below it that no note can carry.
 */
export function decompose(
  amount: bigint,
  denominationsLog2: readonly number[],
): { notes: number[]; dust: bigint } {
  const notes: number[] = [];
  let left = amount < 0n ? 0n : amount;
  for (const log2 of [...denominationsLog2].sort((a, b) => b - a)) {
    const d = denominationAmount(log2);
    const k = left / d;
    for (let i = 0n; i < k; i++) notes.push(log2);
    left -= k * d;
  }
  return { notes, dust: left };
}

export function holdingsOf(log2s: Iterable<number>): Map<number, number> {
  const m = new Map<number, number>();
  for (const l of log2s) m.set(l, (m.get(l) ?? 0) + 1);
  return m;
}

export function sumOf(log2s: Iterable<number>): bigint {
  let s = 0n;
  for (const l of log2s) s += denominationAmount(l);
  return s;
}

export function without(holdings: Holdings, taken: Iterable<number>): Map<number, number> {
  const m = new Map(holdings);
  for (const l of taken) {
    const c = m.get(l) ?? 0;
    if (c <= 0) throw new Error(`cannot take a 2^${l} note: none left`);
    if (c === 1) m.delete(l);
    else m.set(l, c - 1);
  }
  return m;
}

export interface ReissuePlan {
  /** Notes to spend, as denominationLog2s. */
  readonly inputs: readonly number[];
  /** Notes to issue, as denominationLog2s. */
  readonly outputs: readonly number[];
  readonly fee: bigint;
  /** Value that fits in no note (burnt to the federation): only when the fee is not a denomination multiple. */
  readonly dust: bigint;
}

/**
 * Outputs for spending `inputs`: the `wanted` notes first (as many as fit), then change as the
 * fewest notes, at most `outputsMax` in all. Undefined when the inputs cannot pay the fee, or the
 * change alone does not fit.
 */
export function planOutputs(
  inputs: readonly number[],
  wanted: readonly number[],
  feePerInput: bigint,
  denominationsLog2: readonly number[],
  outputsMax: number,
): ReissuePlan | undefined {
  const fee = feePerInput * BigInt(inputs.length);
  const value = sumOf(inputs) - fee;
  if (value <= 0n) return undefined;
  const outputs: number[] = [];
  let left = value;
  for (const w of wanted) {
    const d = denominationAmount(w);
    if (d > left) continue;
    const rest = decompose(left - d, denominationsLog2).notes.length;
    if (outputs.length + 1 + rest > outputsMax) break;
    outputs.push(w);
    left -= d;
  }
  const change = decompose(left, denominationsLog2);
  if (outputs.length + change.notes.length > outputsMax) return undefined;
  outputs.push(...change.notes);
  if (outputs.length === 0) return undefined;
  return { inputs, outputs, fee, dust: change.dust };
}

/**
 * Inputs (largest first) worth at least `value` after their fees, from `holdings`: the single
 * smallest note that covers it if there is one (least change), else the largest notes first (fewest
 * inputs, least fee). At most `inputsMax`. Undefined when the holdings do not cover it.
 */
export function coverValue(
  holdings: Holdings,
  value: bigint,
  feePerInput: bigint,
  inputsMax: number,
): number[] | undefined {
  const log2s = [...holdings.keys()].sort((a, b) => a - b);
  for (const l of log2s) if (denominationAmount(l) - feePerInput >= value) return [l];
  const taken: number[] = [];
  let got = 0n;
  for (const l of [...log2s].reverse()) {
    for (let i = 0; i < (holdings.get(l) ?? 0); i++) {
      if (got >= value || taken.length >= inputsMax) break;
      taken.push(l);
      got += denominationAmount(l) - feePerInput;
    }
  }
  return got >= value ? taken : undefined;
}

/**
 * The reissue that removes the most notes: among the smallest notes worth more than their fee
 * (a note worth no more than the fee only burns value), the prefix whose change has the fewest
 * notes relative to its inputs. Undefined when no reissue would lower the note count.
 */
export function planCombine(
  log2s: readonly number[],
  feePerInput: bigint,
  denominationsLog2: readonly number[],
  inputsMax: number,
  outputsMax: number,
): ReissuePlan | undefined {
  const candidates = log2s.filter((l) => denominationAmount(l) > feePerInput).sort((a, b) => a - b);
  let best: ReissuePlan | undefined;
  for (let k = Math.min(candidates.length, inputsMax); k >= 2; k--) {
    const plan = planOutputs(candidates.slice(0, k), [], feePerInput, denominationsLog2, outputsMax);
    if (!plan || plan.outputs.length >= k) continue;
    if (!best || k - plan.outputs.length > best.inputs.length - best.outputs.length) best = plan;
  }
  return best;
}
