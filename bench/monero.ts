// npm run bench:monero — Monero deposits and payouts end to end on a 4-guardian federation (t = 3) on
// 127.0.0.1, set up as `npm start` does (startMoneroFederation): monerod in regtest, a
// monero-wallet-rpc per guardian, the real key ceremony making their wallets one 3-of-4 multisig
// wallet (the federation's address), a user wallet with mined coins, 4 guardian processes and the
// wallet SDK.
//
// Measured per deposit: from the block that gives the payment its confirmation depth (the block
// count at which t guardians may credit it) to the e-cash notes stored in the wallet — the
// federation's overhead beyond the chain (issue 5's target: at most 1 s). The claim is posted while
// the payment is still in the pool, as a user would, and a block is mined every second meanwhile.
//
// Measured per payout (`wallet.withdraw`, a block every second): from the withdraw transaction
// accepted by consensus (the wallet's first progress report, right after the guardians accepted it)
// to the payout's Monero transaction submitted (t guardians agree on its txid; checked in monerod's
// pool or a block), and to confirmed (payoutConfirmations deep, the tx key agreed). Every payout is
// checked with check_tx_key at the user's address. Also printed: the fee each payout was charged
// (the guardians' quote at the agreed rate) against the Monero fee its transaction actually paid.
//
//   npm run bench:monero [-- --deposits 10 --payouts 5]
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startMoneroFederation } from "@conclave/guardiand";
import type { MoneroFederation } from "@conclave/guardiand";
import { parseXmr } from "@conclave/monero";
import { OUTPUT_UNLOCK_BLOCKS } from "@conclave/testing-monero";
import { nodeWallets } from "@conclave/wallet-standard/node";
import type { Wallet } from "@conclave/wallet-standard/node";

const { values } = parseArgs({
  options: { deposits: { type: "string", default: "10" }, payouts: { type: "string", default: "5" } },
});
const DEPOSITS = Number(values.deposits);
const PAYOUTS = Number(values.payouts);
const GUARDIANS = 4;
const CONFIRMATIONS = 2;
const PAYOUT_CONFIRMATIONS = 2;
const DEPOSIT = parseXmr("0.1");
const PAYOUT = parseXmr("0.02");
if (!Number.isInteger(DEPOSITS) || !Number.isInteger(PAYOUTS) || DEPOSITS < 1 || PAYOUTS < 0)
  throw new Error("--deposits takes a whole number >= 1, --payouts >= 0");
// Each payout spends at least one 0.1 XMR deposit output (change stays locked 10 blocks): keep one each.
if (PAYOUTS > DEPOSITS) throw new Error("--payouts takes at most --deposits");

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
const summary = (xs: readonly number[]) =>
  `p50 ${percentile(xs, 50).toFixed(0)} ms  max ${Math.max(...xs).toFixed(0)} ms`;

let fed: MoneroFederation | undefined;
let wallet: Wallet | undefined;
try {
  const t0 = Date.now();
  fed = await startMoneroFederation({
    n: GUARDIANS,
    pollMs: 200,
    blockEveryMs: 0,
    prefix: "conclave-bench-monero-",
    guardianOptions: () => ({ quiet: true }),
    moneroConfig: { confirmations: CONFIRMATIONS, payoutConfirmations: PAYOUT_CONFIRMATIONS },
  });
  const { user, userAddress, address: federationAddress, miner } = fed;
  const daemon = fed.regtest.daemon.rpc;
  wallet = (await nodeWallets().joinWallet(join(fed.root, "wallet"), fed.invite)).wallet;
  console.log(
    `monero bench: ${GUARDIANS} guardians (t = 3, the ceremony's 3-of-4 multisig), monerod regtest, ` +
      `${CONFIRMATIONS} confirmations; setup ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );

  // A block every second while a claim waits (not while the user's wallet builds its payment: a
  // transfer and a block being added to the chain at once stall wallet-rpc here); the miner
  // remembers when each block count was reached.
  const overheads: number[] = [];
  for (let k = 0; k < DEPOSITS; k++) {
    await user.refresh();
    const sent = await user.transfer({
      destinations: [{ address: federationAddress, amount: DEPOSIT }],
    });
    if (!sent.txid) throw new Error("no txid");
    const txKey = await user.getTxKey(sent.txid);
    miner.start(1000);
    const result = await wallet.claimDeposit({ txid: sent.txid, txKey }, { pollMs: 50 });
    const doneAt = performance.now();
    await miner.stop();
    // The block count at which the deposit had its depth: its block + confirmations (a count).
    const tx = (await daemon.getTransactions([sent.txid])).found[0];
    const txHeight = tx?.blockHeight;
    if (txHeight === undefined) throw new Error("the deposit is not in a block");
    const deepAt = miner.reachedAt.get(txHeight + CONFIRMATIONS);
    if (deepAt === undefined) throw new Error(`block count ${txHeight + CONFIRMATIONS} not seen`);
    overheads.push(doneAt - deepAt);
    if (result.amount !== DEPOSIT) throw new Error(`credited ${result.amount}`);
  }
  console.log(
    `deposit at depth -> e-cash in the wallet (${overheads.length} deposits): ${summary(overheads)}`,
  );

  // Payouts: the deposits' outputs unlocked first (10 blocks), so that the creator's transfer does
  // not wait for them; then one withdrawal at a time, a block every second.
  await miner.mine(OUTPUT_UNLOCK_BLOCKS);
  miner.start(1000);
  const toSubmitted: number[] = [];
  const toConfirmed: number[] = [];
  const requestToAccepted: number[] = [];
  /** Per payout: the fee charged (the quote), the Monero transaction's fee and size. */
  const fees: { charged: bigint; paid: bigint; bytes: number; rate: number }[] = [];
  /** When each round was first seen (ms after acceptance), by round ("signatures: 1 of 3", ...). */
  const milestones = new Map<string, number[]>();
  for (let k = 0; k < PAYOUTS; k++) {
    const requested = performance.now();
    let accepted: number | undefined;
    const seen = new Set<string>();
    let submitted: { at: number; moneroTxid: string; known: Promise<boolean> } | undefined;
    const r = await wallet.withdraw(userAddress, PAYOUT, {
      pollMs: 50,
      onProgress: (p) => {
        accepted ??= performance.now();
        const round = /\((.*)\)$/.exec(p.message)?.[1];
        if (p.stage === "signing" && round && !seen.has(round)) {
          seen.add(round);
          milestones.set(round, [...(milestones.get(round) ?? []), performance.now() - accepted]);
        }
        if (submitted || p.stage === "queued" || p.stage === "signing" || !p.moneroTxid) return;
        // Is it in monerod's pool (or a block) when t guardians agree on its txid? Asked at once.
        const known = daemon.getTransactions([p.moneroTxid]).then((x) => x.found.length > 0);
        submitted = { at: performance.now(), moneroTxid: p.moneroTxid, known };
      },
    });
    const confirmed = performance.now();
    if (accepted === undefined || submitted === undefined) throw new Error("no progress reported");
    if (!(await submitted.known))
      throw new Error(`monerod does not know payout transaction ${submitted.moneroTxid}`);
    const proof = await user.checkTxKey({ txid: r.moneroTxid, txKey: r.txKey ?? "", address: userAddress });
    if (proof.received !== PAYOUT) throw new Error(`payout ${k}: check_tx_key proves ${proof.received}`);
    const out = (await fed.guardianWallets[0]!.getTransferByTxid(r.moneroTxid)).find(
      (t) => t.type === "out" || t.type === "pending",
    );
    const bytes = ((await daemon.getTransactions([r.moneroTxid])).found[0]?.hex.length ?? 0) / 2;
    if (out && out.fee > r.moneroFee)
      throw new Error(`payout ${k}: paid ${out.fee} > charged ${r.moneroFee}`);
    fees.push({ charged: r.moneroFee, paid: out?.fee ?? -1n, bytes, rate: r.feeRate });
    requestToAccepted.push(accepted - requested);
    toSubmitted.push(submitted.at - accepted);
    toConfirmed.push(confirmed - accepted);
  }
  await miner.stop();
  if (PAYOUTS > 0) {
    console.log(`withdraw call -> transaction accepted (${PAYOUTS} payouts): ${summary(requestToAccepted)}`);
    console.log(`payout request -> transaction submitted (${PAYOUTS} payouts): ${summary(toSubmitted)}`);
    console.log(
      `payout request -> confirmed, ${PAYOUT_CONFIRMATIONS} blocks deep at a block a second ` +
        `(${PAYOUTS} payouts): ${summary(toConfirmed)}`,
    );
    for (const f of fees.slice(0, 3))
      console.log(
        `  fee: charged ${f.charged} (agreed rate ${f.rate} piconero/byte), the Monero transaction paid ` +
          `${f.paid} for ${f.bytes} bytes`,
      );
    // Where the time goes: each signing round as the wallet first saw it (polling every 50 ms).
    for (const [round, at] of milestones)
      console.log(`  ${round.padEnd(40)} seen after p50 ${percentile(at, 50).toFixed(0)} ms (${at.length}x)`);
  }
} finally {
  await wallet?.close().catch(() => undefined);
  await fed?.stop();
}
