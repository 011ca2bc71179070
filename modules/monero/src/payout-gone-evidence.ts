// Which evidence about a watched payout transaction's input may count toward a Gone vote
// (docs/monero.md, "Payouts a deep reorg took away"; threat model 3e). One pure rule, used by the
// real wallet (payout-watcher.ts RpcPayoutWallet.unmineable, which gathers the node's facts) and by
// the simulator's wallet model (testing/sim chains/monero-wallet.ts), so that the simulated
// federation runs the product's rule and not a copy of it.

/**
 * What a guardian's node and wallet show of one input of a watched transaction:
 *   no-output            (1) the wallet knows every output's key image and this input is no output
 *                        any more (a detached block's output is none either: it comes back when
 *                        the block's transactions are mined again);
 *   source-missing       (2) the input's source transaction is in neither chain nor pool;
 *   source-double-spent  (3) the source is not in the chain and one of its own inputs is spent in
 *                        the chain by another transaction: it can never be mined (a chain fact);
 *   source-gone          the source is itself a watched transaction found gone.
 */
export type GoneEvidence = "no-output" | "source-missing" | "source-double-spent" | "source-gone";

/**
 * Whether `evidence` counts for a watched transaction. For a transaction whose txid consensus agreed
 * every kind counts. For a completion voted while no txid is agreed (`unagreed`), only the chain
 * fact (3): the node may have refused the completion, so its missing says nothing, and a source a
 * deep reorg merely detached (kept in the pool, its inputs unspent) is mined again once the miner
 * stops censoring it, and with it the completion some other guardian holds; counting (1) or (2)
 * there let f guardians re-make the attempt unbound and the batch be paid twice (review of 07aa630,
 * finding 1; the simulator's `--monero-deep-reorg-detach` world and its deliberate bug
 * `monero-gone-unagreed-detached`, which answers true for every kind).
 */
export function goneEvidenceCounts(evidence: GoneEvidence, unagreed: boolean): boolean {
  return !unagreed || evidence === "source-double-spent";
}
