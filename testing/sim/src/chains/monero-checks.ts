// The money checkers' questions to the simulated Monero chain (its god view), for the
// whole-federation simulation (issue 11): "every payout paid at most once on the simulated chain"
// and "every deposit credited only if it was really paid to the federation by someone else".
// The caller lists what consensus says (payouts accepted, deposits credited); each answer is a
// list of violations in words, empty when all hold.
import type { MoneroChain } from "./monero-chain.js";

/** A payout output as the consensus state records it. */
export interface PayoutClaimed {
  readonly address: string;
  readonly amount: bigint;
  /** The txid consensus confirmed, if any. */
  readonly moneroTxid?: string;
}

/** A credited deposit as the consensus state records it (index 0: by proof to the primary address). */
export interface DepositCredited {
  readonly txid: string;
  readonly index: number;
  readonly amount: bigint;
}

/**
 * Every payout paid at most once: no two transactions in the canonical chain pay (address,
 * amount), and a confirmed payout is paid by its txid. Payouts of equal address and amount are
 * counted together (the chain cannot tell them apart): at most as many payments as such payouts.
 * With `pool`, transactions in the pool count too (a second completion must not even be relayed).
 */
export function payoutViolations(
  chain: MoneroChain,
  payouts: readonly PayoutClaimed[],
  options: { pool?: boolean } = {},
): string[] {
  const out: string[] = [];
  const groups = new Map<string, PayoutClaimed[]>();
  for (const p of payouts) {
    const k = `${p.address}:${p.amount}`;
    groups.set(k, [...(groups.get(k) ?? []), p]);
  }
  for (const [k, group] of groups) {
    const first = group[0]!;
    const paid = chain.paymentsTo(first.address, first.amount, options);
    if (paid.length > group.length)
      out.push(
        `payout ${k.slice(0, 12)}…: ${group.length} accepted, paid ${paid.length} times (${paid.map((p) => p.txid.slice(0, 8)).join(", ")})`,
      );
    for (const p of group)
      if (p.moneroTxid !== undefined && !paid.some((x) => x.txid === p.moneroTxid && x.height !== undefined))
        out.push(
          `payout ${k.slice(0, 12)}… confirmed as ${p.moneroTxid.slice(0, 8)}, which is not mined paying it`,
        );
  }
  return out;
}

/**
 * Every credited deposit was really paid to the federation by someone else: mined in the
 * canonical chain, not sent by the federation (a payout's change or a payout to its own
 * subaddress), and paying that subaddress at least the credited amount. A deposit credited twice
 * (the same txid and index listed twice) is a violation too.
 */
export function depositViolations(chain: MoneroChain, credited: readonly DepositCredited[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const d of credited) {
    const k = `${d.txid}:${d.index}`;
    if (seen.has(k)) out.push(`deposit ${d.txid.slice(0, 8)} index ${d.index} credited twice`);
    seen.add(k);
    const truth = chain.depositTruth(d.txid, d.index);
    if (!truth.mined)
      out.push(`deposit ${d.txid.slice(0, 8)} index ${d.index} credited but not in the canonical chain`);
    if (truth.fromFederation)
      out.push(`deposit ${d.txid.slice(0, 8)} index ${d.index} credited but sent by the federation itself`);
    if (truth.amount < d.amount)
      out.push(
        `deposit ${d.txid.slice(0, 8)} index ${d.index} credited ${d.amount}, the chain pays ${truth.amount}`,
      );
  }
  return out;
}
