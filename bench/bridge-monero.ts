// npm run bench:bridge-monero — the EVM bridge's Monero legs end to end on real parts (issue 13's
// "Benchmarks": a Monero deposit at depth -> t mint signatures in the user's hands, and a burn at
// depth -> the Monero payout submitted and confirmed). The set-up is deposit-mint-regtest.test.ts's:
// monerod regtest with a 3-of-4 multisig wallet (testing-monero's startMultisigRegtest; a template
// copy when CONCLAVE_REGTEST_CACHE names a cache, built fresh otherwise), anvil with the wXMR
// contract and four guardian processes running the mint, monero and bridge modules
// (bridge-federation-fixture.ts), every server on 127.0.0.1; here with depth 2 on both chains
// (Monero deposits and payouts, EVM burns) and one wallet on LMDB (the SDK). Each guardian polls
// monerod every 300 ms (the fixture's pollMs) and reads its block count alone every 100 ms between
// (tipPollMs: a new block starts the poll at once).
//
// The script is the chains' clock. Monero: testing-monero's BlockMiner mines one block a second to
// the user's wallet (paused while the miner's wallet builds a payment: wallet-rpc's transfer stalls
// while blocks arrive) and notes when each block count was reached. EVM: anvil mines each
// transaction into its own block (automine) and the script mines one more block a second
// (anvil_mine), noting when each block number appeared.
//
// Per deposit round: the miner's wallet pays the federation's address; the SDK's
// bridgeMintFromDeposit (claim posted while the payment is in the pool, polling every 50 ms) waits
// until t guardians hold it credited at depth, spends it into one refundable mint output, collects
// t EIP-712 signatures and checks them against the set, then sends the mint to anvil. Times: paid
// -> mined (the next block) -> at depth (chain) | at depth -> spendable at t guardians -> the
// federation transaction accepted -> t signatures checked in the SDK (federation) | -> mint mined.
//
// Per burn round (after OUTPUT_UNLOCK_BLOCKS blocks so the deposits' outputs are spendable; each
// payout spends one deposit output, so none waits for the previous one's locked change): the SDK's
// bridgeBurn to the user's Monero address, sent and mined; the four guardians' burn views polled
// every 50 ms. Times: burn mined -> at depth (chain) | at depth -> accepted (t votes ordered) ->
// the payout's txid agreed, asked of monerod at once (it must be in its pool or a block)
// (federation) | -> mined -> at depth (chain) | -> attested confirmed (federation). Every payout is
// checked with check_tx_key at the user's address.
//
// With --logs DIR, each guardian's log (every event with its ISO time: consensus commits, the payout
// signer's steps `module.monero.payout_step`) is kept in DIR/guardian-<i>.log for a per-step look.
//
//   npm run bench:bridge-monero [-- --rounds 3] [--logs DIR]
import { loadavg, cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import { BurnViewSchema } from "@conclave/module-bridge";
import type { BurnView } from "@conclave/module-bridge";
import { MoneroTimeoutError, parseXmr, payStallSafe } from "@conclave/monero";
import {
  BlockMiner,
  OUTPUT_UNLOCK_BLOCKS,
  ensureMoneroInstalled,
  startMultisigRegtest,
} from "@conclave/testing-monero";
import type { MultisigRegtest } from "@conclave/testing-monero";
import { nodeWallets } from "@conclave/wallet-standard/node";
import type { Wallet } from "@conclave/wallet-standard/node";
import { bytesToHex } from "viem";
import type { Anvil } from "@conclave/evm";
import { startBridgeFederation } from "../modules/bridge/src/client/bridge-federation-fixture.js";
import type { BridgeFederation } from "../modules/bridge/src/client/bridge-federation-fixture.js";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "3" }, logs: { type: "string" } },
});
const ROUNDS = Number(values.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error("--rounds takes a whole number >= 1");
const MONERO_CONFIRMATIONS = 2;
const PAYOUT_CONFIRMATIONS = 2;
const EVM_CONFIRMATIONS = 2;
const BLOCK_MS = 1000;
/** Each guardian reads monerod's block count this often between its full polls (the module's tipPollMs). */
const TIP_POLL_MS = 100;
const POLL_MS = 50;
const WAIT_MS_MAX = 10 * 60_000;
const DEPOSIT = parseXmr("0.3");
const BURN = parseXmr("0.1");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => loadavg()[0]!.toFixed(1);
const ms = (x: number) => `${x.toFixed(0)} ms`;
/** A performance.now() reading as wall-clock ISO time (to line up with the guardians' logs). */
const iso = (at: number) => new Date(performance.timeOrigin + at).toISOString();
const stats = (xs: readonly number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${ms(s[Math.floor(s.length / 2)]!)} (min ${ms(s[0]!)}, max ${ms(s.at(-1)!)})`;
};

/** The EVM chain's clock: one anvil block every `everyMs`, and when each block number appeared. */
class EvmBlockClock {
  readonly reachedAt = new Map<bigint, number>();
  private running: Promise<void> | undefined;
  private stopping = false;
  constructor(private readonly anvil: Anvil) {}
  start(everyMs: number): void {
    this.running = (async () => {
      while (!this.stopping) {
        await sleep(everyMs);
        if (this.stopping) break;
        await this.anvil.testClient.mine({ blocks: 1 });
        const at = performance.now();
        this.reachedAt.set(await this.anvil.publicClient.getBlockNumber(), at);
      }
    })();
  }
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }
}

/** `at(name)` is when `name` was first marked (performance.now()). */
function marks() {
  const m = new Map<string, number>();
  return {
    mark: (name: string, at = performance.now()) => void (m.has(name) ? undefined : m.set(name, at)),
    seen: (name: string): number | undefined => m.get(name),
    at: (name: string): number => {
      const v = m.get(name);
      if (v === undefined) throw new Error(`never reached: ${name}`);
      return v;
    },
  };
}

async function burnView(url: string, txHash: string, logIndex: number): Promise<BurnView | undefined> {
  try {
    const r = await fetch(`${url}/v1/modules/bridge/burns/${txHash}/${logIndex}`, {
      signal: AbortSignal.timeout(5_000),
    });
    if (!r.ok) return undefined;
    const parsed = BurnViewSchema.safeParse(await r.json());
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

let regtest: MultisigRegtest | undefined;
let fed: BridgeFederation | undefined;
let blocks: BlockMiner | undefined;
let evmClock: EvmBlockClock | undefined;
let wallet: Wallet | undefined;
let cleaning: Promise<void> | undefined;
/** Stops everything this script started (each process by its PID, through its owner's stop). */
const cleanup = (): Promise<void> =>
  (cleaning ??= (async () => {
    await blocks?.stop().catch(() => undefined);
    await evmClock?.stop().catch(() => undefined);
    await wallet?.close().catch(() => undefined);
    await fed?.stop().catch((e: unknown) => console.error("stopping the federation:", e));
    await regtest?.net.stop().catch((e: unknown) => console.error("stopping monerod:", e));
  })());
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => {
    console.error(`${signal}: stopping what this bench started`);
    void cleanup().finally(() => process.exit(130));
  });

try {
  ensureMoneroInstalled();
  const setupStart = performance.now();
  console.log(`set-up starting at load ${load()} (${cpus().length} cores)`);
  regtest = await startMultisigRegtest({ threshold: 3, total: 4 });
  fed = await startBridgeFederation("bench-bridge-monero-", {
    monero: regtest,
    moneroConfirmations: MONERO_CONFIRMATIONS,
    payoutConfirmations: PAYOUT_CONFIRMATIONS,
    bridgeConfirmations: EVM_CONFIRMATIONS,
    moneroTipPollMs: TIP_POLL_MS,
    ...(values.logs === undefined ? {} : { guardianLogDir: values.logs }),
  });
  const { anvil } = fed;
  const daemon = regtest.net.daemon.rpc;
  // As deposit-mint-regtest: blocks to the user's wallet, 60 first (decoys for the payments), in
  // calls of 5; a call that gets no answer within the client's 60 s (seen at load 26 for a call of
  // 10) may still complete: the chain's height says how many are left.
  blocks = new BlockMiner(daemon, regtest.userAddress);
  const target = (await daemon.getHeight()).height + 60;
  for (let tries = 0; (await daemon.getHeight()).height < target; tries++) {
    if (tries > 40) throw new Error("60 blocks not mined in 40 calls");
    await blocks.mine(5).catch((e: unknown) => {
      if (!(e instanceof MoneroTimeoutError)) throw e;
    });
  }
  blocks.start(BLOCK_MS);
  evmClock = new EvmBlockClock(anvil);
  evmClock.start(BLOCK_MS);
  const account = anvil.accounts[1]!;
  const sender = { privateKey: bytesToHex(account.getHdKey().privateKey!), rpcUrl: anvil.rpcUrl };
  wallet = (await nodeWallets().joinWallet(join(fed.dir, "wallet"), fed.invite)).wallet;
  const wxmr = () =>
    anvil.publicClient.readContract({
      address: fed!.contract,
      abi: wrappedMoneroAbi,
      functionName: "balanceOf",
      args: [account.address],
    });
  console.log(
    `bridge-monero bench: 4 guardian processes (t = 3), monerod regtest with their 3-of-4 multisig ` +
      `wallet, anvil; depth ${MONERO_CONFIRMATIONS} Monero / ${EVM_CONFIRMATIONS} EVM, payouts confirmed at ` +
      `${PAYOUT_CONFIRMATIONS}; a block a second on both chains; set-up ${((performance.now() - setupStart) / 1000).toFixed(1)} s; ` +
      `load ${load()}; ${ROUNDS} rounds`,
  );

  // 1. Monero deposit -> wXMR mint signatures (and the mint on chain).
  const d = {
    toMined: [] as number[],
    toDepth: [] as number[],
    toSpendable: [] as number[],
    toAccepted: [] as number[],
    toSigned: [] as number[],
    federation: [] as number[],
    mintMined: [] as number[],
  };
  for (let k = 0; k < ROUNDS; k++) {
    const before = await wxmr();
    const paid = await blocks.paused(() => payStallSafe(regtest!.miner, regtest!.multisigAddress, [DEPOSIT]));
    const paidAt = performance.now();
    const m = marks();
    const minted = await wallet.bridgeMintFromDeposit(account.address, paid, {
      submit: sender,
      pollMs: POLL_MS,
      depositTimeoutMs: WAIT_MS_MAX,
      onProgress: (p) => {
        if (p.stage === "deposit" && p.message.startsWith("confirmations")) m.mark("credited");
        if (p.stage === "deposit" && p.message.startsWith("issuing")) m.mark("spendable");
        if (p.stage !== "deposit") m.mark(p.stage);
      },
    });
    const height = (await daemon.getTransactions([paid.txid])).found[0]?.blockHeight;
    if (height === undefined) throw new Error(`deposit ${paid.txid} is not in a block`);
    // Block counts: the deposit's block makes the count height + 1; its depth, height + confirmations.
    const minedAt = blocks.reachedAt.get(height + 1);
    const deepAt = blocks.reachedAt.get(height + MONERO_CONFIRMATIONS);
    if (minedAt === undefined || deepAt === undefined)
      throw new Error(
        `deposit ${paid.txid}: block count ${height + 1} or ${height + MONERO_CONFIRMATIONS} not mined here`,
      );
    if (minted.call.signatures.length !== 3) throw new Error(`${minted.call.signatures.length} signatures`);
    if (minted.submission?.status !== "success") throw new Error(`mint ${minted.txid} not minted`);
    const after = await wxmr();
    if (after - before !== minted.call.amount)
      throw new Error(`balance moved ${after - before}, the mint was for ${minted.call.amount}`);
    // Credited (t attestations) can come before the depth; the SDK may see it only once spendable.
    const creditedAt = m.seen("credited");
    const credited =
      creditedAt === undefined
        ? "not seen credited before spendable"
        : `credited seen ${ms(creditedAt - deepAt)} from depth`;
    const row = {
      toMined: minedAt - paidAt,
      toDepth: deepAt - minedAt,
      toSpendable: m.at("spendable") - deepAt,
      toAccepted: m.at("accepted") - m.at("spendable"),
      toSigned: m.at("signed") - m.at("accepted"),
      federation: m.at("signed") - deepAt,
      mintMined: m.at("submitted") - m.at("signed"),
    };
    for (const [key, v] of Object.entries(row)) d[key as keyof typeof row].push(v);
    console.log(
      `deposit ${k}: paid -> mined ${ms(row.toMined)}, mined -> at depth ${ms(row.toDepth)} | at depth -> ` +
        `spendable ${ms(row.toSpendable)} -> accepted ${ms(row.toAccepted)} -> t signatures checked ` +
        `${ms(row.toSigned)} (federation ${ms(row.federation)}; ${credited}) | mint mined ${ms(row.mintMined)}; ${minted.call.amount} piconero minted of ${DEPOSIT} ` +
        `(fee ${minted.fee}); depth at ${iso(deepAt)}; load ${load()}`,
    );
  }

  // 2. Burn -> Monero payout. The deposits' outputs unlocked first.
  // In calls of 5 tolerant of a timed-out call, as the set-up (a call of 10 got no answer within
  // 60 s at load 43-51): the chain's height says how many are left.
  const unlocked = (await daemon.getHeight()).height + OUTPUT_UNLOCK_BLOCKS;
  await blocks.paused(async () => {
    for (let tries = 0; (await daemon.getHeight()).height < unlocked; tries++) {
      if (tries > 20) throw new Error(`${OUTPUT_UNLOCK_BLOCKS} blocks not mined in 20 calls`);
      await blocks!.mine(5).catch((e: unknown) => {
        if (!(e instanceof MoneroTimeoutError)) throw e;
      });
    }
  });
  const b = {
    toDepth: [] as number[],
    toAccepted: [] as number[],
    toSubmitted: [] as number[],
    federation: [] as number[],
    toMoneroMined: [] as number[],
    toMoneroDepth: [] as number[],
    toConfirmed: [] as number[],
  };
  for (let k = 0; k < ROUNDS; k++) {
    const m = marks();
    const burned = await wallet.bridgeBurn(
      BURN,
      { moneroAddress: regtest.userAddress },
      { sender, onProgress: (p) => m.mark(p.stage) },
    );
    if (!burned.txHash || burned.logIndex === undefined) throw new Error("the burn was not sent");
    const receipt = await anvil.publicClient.getTransactionReceipt({ hash: burned.txHash });
    const deepBlock = receipt.blockNumber + BigInt(EVM_CONFIRMATIONS - 1);
    let payoutTxid: string | undefined;
    let inPool: Promise<boolean> | undefined;
    let confirmedView: BurnView | undefined;
    const deadline = Date.now() + WAIT_MS_MAX;
    while (!confirmedView) {
      if (Date.now() > deadline) throw new Error(`burn ${burned.txHash}: no confirmed payout`);
      const views = await Promise.all(
        fed.guardianUrls.map((u) => burnView(u, burned.txHash!, burned.logIndex!)),
      );
      const now = performance.now();
      for (const v of views) {
        if (v?.state === "accepted") m.mark("accepted", now);
        if (v?.state === "accepted" && v.settlement !== "payout")
          throw new Error(`burn ${burned.txHash} settled as ${v.settlement}: ${v.reason ?? ""}`);
        const txid = v?.payout?.moneroTxid;
        const sent = v?.payout?.state === "submitted" || v?.payout?.state === "confirmed";
        if (txid && sent && payoutTxid === undefined) {
          payoutTxid = txid;
          m.mark("submitted", now);
          // In monerod's pool (or already a block) when the guardians agree on its txid? Asked at once.
          inPool = daemon.getTransactions([txid]).then((x) => x.found.length > 0);
        }
        if (v?.payout?.state === "confirmed") confirmedView = v;
      }
      if (!confirmedView) await sleep(POLL_MS);
    }
    m.mark("confirmed");
    const payout = confirmedView.payout!;
    if (!(await inPool!)) throw new Error(`monerod did not know payout ${payoutTxid} when it was agreed`);
    const proof = await regtest.user.checkTxKey({
      txid: payout.moneroTxid!,
      txKey: payout.txKey ?? "",
      address: regtest.userAddress,
    });
    if (proof.received !== BigInt(payout.amount))
      throw new Error(
        `payout ${payout.moneroTxid}: check_tx_key proves ${proof.received} of ${payout.amount}`,
      );
    const height = (await daemon.getTransactions([payout.moneroTxid!])).found[0]?.blockHeight;
    const deepAt = evmClock.reachedAt.get(deepBlock);
    const xMinedAt = height === undefined ? undefined : blocks.reachedAt.get(height + 1);
    const xDeepAt = height === undefined ? undefined : blocks.reachedAt.get(height + PAYOUT_CONFIRMATIONS);
    if (deepAt === undefined) throw new Error(`EVM block ${deepBlock} not mined by the clock`);
    if (xMinedAt === undefined || xDeepAt === undefined) throw new Error(`payout block not mined here`);
    const row = {
      toDepth: deepAt - m.at("mined"),
      toAccepted: m.at("accepted") - deepAt,
      toSubmitted: m.at("submitted") - m.at("accepted"),
      federation: m.at("submitted") - deepAt,
      toMoneroMined: xMinedAt - m.at("submitted"),
      toMoneroDepth: xDeepAt - xMinedAt,
      toConfirmed: m.at("confirmed") - xDeepAt,
    };
    for (const [key, v] of Object.entries(row)) b[key as keyof typeof row].push(v);
    console.log(
      `burn ${k}: mined -> at depth ${ms(row.toDepth)} | at depth -> accepted ${ms(row.toAccepted)} -> payout ` +
        `submitted ${ms(row.toSubmitted)} (federation ${ms(row.federation)}) | -> Monero block ` +
        `${ms(row.toMoneroMined)} -> at depth ${ms(row.toMoneroDepth)} | -> confirmed ${ms(row.toConfirmed)}; ` +
        `paid ${payout.amount} (fee ${payout.fee}) in ${payout.moneroTxid}; accepted at ${iso(m.at("accepted"))}; load ${load()}`,
    );
  }

  console.log(`\nMonero deposit -> wXMR (${ROUNDS} rounds; chain | federation | chain):`);
  console.log(`  paid -> mined (next block)                       ${stats(d.toMined)}`);
  console.log(`  mined -> at depth ${MONERO_CONFIRMATIONS}                              ${stats(d.toDepth)}`);
  console.log(`  at depth -> spendable at t guardians (SDK sees)  ${stats(d.toSpendable)}`);
  console.log(`  spendable -> mint transaction accepted           ${stats(d.toAccepted)}`);
  console.log(`  accepted -> t signatures collected, checked      ${stats(d.toSigned)}`);
  console.log(`  federation: at depth -> t signatures             ${stats(d.federation)}`);
  console.log(`  signatures -> mint mined on anvil                ${stats(d.mintMined)}`);
  console.log(`burn -> Monero payout (${ROUNDS} rounds; chain | federation | chain | federation):`);
  console.log(`  burn mined -> at depth ${EVM_CONFIRMATIONS} (EVM)                    ${stats(b.toDepth)}`);
  console.log(`  at depth -> accepted (t votes ordered)           ${stats(b.toAccepted)}`);
  console.log(`  accepted -> payout submitted (txid agreed)       ${stats(b.toSubmitted)}`);
  console.log(`  federation: at depth -> payout submitted         ${stats(b.federation)}`);
  console.log(`  submitted -> in a Monero block                   ${stats(b.toMoneroMined)}`);
  console.log(
    `  Monero block -> at depth ${PAYOUT_CONFIRMATIONS}                       ${stats(b.toMoneroDepth)}`,
  );
  console.log(`  at depth -> attested confirmed                   ${stats(b.toConfirmed)}`);
  console.log(`load at the end ${load()}`);
} finally {
  await cleanup();
}
