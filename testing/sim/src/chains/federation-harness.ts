// Four (or N) guardians' FederationProcessor with the real dummy and monero modules, in memory, on
// the simulated Monero chain: each guardian's MoneroServerModule gets its SimMoneroShare as chain,
// subaddress source, payout wallet and reserves source, exactly as factory.ts wires the RPC ones.
// Consensus is one block per round with every guardian's proposal (no engine): the chain tests use
// it to drive the real watcher and payout code; simfed runs the real engine instead.
import { encodeConsensusItem, toHex, transactionId } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { FederationProcessor, MemoryKv, NodeSigner, NodeVerifier, sha256 } from "@conclave/core-server";
import type { BlockOutcome } from "@conclave/core-server";
import { DummyServerModule, buildTransaction, coinOutput } from "@conclave/module-dummy";
import {
  MoneroServerModule,
  quorumThreshold,
  claimProof,
  depositInput,
  encodeMoneroItem,
  parseMoneroConfig,
} from "@conclave/module-monero";
import type { ByzantineLastSigner, MoneroConfig } from "@conclave/module-monero";
import { encodePayoutOutput } from "@conclave/module-monero";
import { Rng } from "../rng.js";
import { ManualScheduler } from "./chain.js";
import { MoneroChain } from "./monero-chain.js";
import { simMoneroShares } from "./monero-wallet.js";
import type { SimMoneroShare } from "./monero-wallet.js";

export const DUMMY = 0;
const json = (v: unknown): string =>
  JSON.stringify(v, (_, x: unknown) => (typeof x === "bigint" ? x.toString() : x));
export const MONERO = 2;

export interface HarnessOptions {
  readonly seed: number;
  readonly guardians?: number;
  readonly config?: Partial<Record<string, unknown>>;
  /** TEST ONLY: a guardian's misbehaviour as a last signer (the module's own hook). */
  readonly byzantine?: Readonly<Record<number, ByzantineLastSigner>>;
}

export function moneroHarness(options: HarnessOptions) {
  const n = options.guardians ?? 4;
  const t = quorumThreshold(n);
  const rng = new Rng(options.seed, "monero-chain");
  const scheduler = new ManualScheduler();
  const chain = new MoneroChain({
    rng: rng.fork(),
    guardians: n,
    confirmations: 4,
    startHeight: 100,
    now: () => scheduler.now(),
  });
  const config: MoneroConfig = parseMoneroConfig({
    network: "mainnet",
    address: chain.federationAddress,
    guardians: n,
    confirmations: 4,
    payoutBatchMax: 4,
    payoutRoundBlocks: 20,
    payoutConfirmations: 4,
    ...options.config,
  });
  const shares = simMoneroShares({ chain, guardians: n, threshold: t, scheduler, rng: rng.fork() });
  const logs: string[] = [];
  const guardians = shares.map((share, g) => {
    const monero = new MoneroServerModule(
      MONERO,
      config,
      {
        chain: share,
        subaddresses: share,
        payoutWallet: share,
        reserves: share,
        pollMs: 1000,
        autoPoll: false,
        ...(options.byzantine?.[g] ? { payoutByzantine: options.byzantine[g] } : {}),
      },
      () => scheduler.now(),
    );
    monero.start({
      self: g,
      wake: () => {},
      log: (event, fields) => logs.push(`${g} ${event} ${json(fields)}`),
    });
    const dummy = new DummyServerModule(DUMMY, { faucetAmountMax: 10n ** 15n, feePerInput: 0n });
    const p = new FederationProcessor([dummy, monero], { verifier: new NodeVerifier(), hash: sha256 });
    return { g, db: new MemoryKv(), p, monero, share, down: false };
  });
  let height = 0;
  const mdb = (g = 0) => guardians[g]!.p.moduleReadDb(guardians[g]!.db, MONERO);

  /** One consensus block with these bundles at every guardian; they must agree. */
  const block = (
    items: readonly { from: number; item: Uint8Array }[],
    txs: Transaction[] = [],
  ): BlockOutcome => {
    const bundles = guardians.map((_, origin) => ({
      origin,
      items: items
        .filter((i) => i.from === origin)
        .map((i) => encodeConsensusItem({ kind: "module", module: MONERO, payload: i.item })),
    }));
    bundles[0]!.items.push(...txs.map((tx) => encodeConsensusItem({ kind: "transaction", tx })));
    const results = guardians.map((x) => x.p.processBlock(x.db, height, bundles));
    height++;
    for (const r of results)
      if (r.auditFailure !== undefined) throw new Error(`audit failure: ${String(r.auditFailure)}`);
    const audits = new Set(guardians.map((x) => json(x.p.audit(x.db))));
    if (audits.size !== 1 || new Set(results.map((r) => r.moduleItemErrors)).size !== 1)
      throw new Error("guardians disagree on the state");
    return results[0]!;
  };

  /**
   * One round: every guardian that is up polls its node (the real ChainWatcher), does its payout
   * step (the real PayoutSigner) and proposes; the proposals go into one block. Failed polls and
   * steps are what the real loops would log and retry.
   */
  const round = async (extra: readonly { from: number; item: Uint8Array }[] = []) => {
    const items = [...extra];
    for (const x of guardians) {
      if (x.down) continue;
      x.monero.consensusProposal(mdb(x.g)); // sets the duty and the wanted claims
      await scheduler
        .settle(x.monero.chainWatcher!.poll())
        .catch((e: unknown) => logs.push(`${x.g} poll failed ${String(e)}`));
      // The reserves monitor's read never throws (it keeps the error for its report).
      await scheduler.settle(x.monero.reserves!.poll());
      await scheduler
        .settle(x.monero.payoutSigner!.work())
        .catch((e: unknown) => logs.push(`${x.g} work failed ${String(e)}`));
      for (const item of x.monero.consensusProposal(mdb(x.g))) items.push({ from: x.g, item });
    }
    return block(items);
  };

  const alice = new NodeSigner(new Uint8Array(32).fill(1));

  /** A user pays the federation and claims it by proof; returns the txid (hex) and the claim item. */
  const depositByProof = (amount: bigint) => {
    const paid = chain.payFederation(amount);
    const txid = Uint8Array.from(Buffer.from(paid.txid, "hex"));
    const proof = claimProof({
      federationAddress: chain.federationAddress,
      txid,
      txKey: paid.txKey,
      claimKey: alice.publicKey,
    });
    const item = encodeMoneroItem({ kind: "claim", txid, claimKey: alice.publicKey, proof });
    return { ...paid, txidBytes: txid, proof, claim: { from: 0, item } };
  };

  /** A transaction spending a credited deposit into payouts; the rest to a dummy coin. */
  const payoutTx = (
    deposit: Uint8Array,
    amount: bigint,
    payouts: readonly { address: string; amount: bigint; fee: bigint }[],
  ) => {
    const out = payouts.map((p) => ({
      module: MONERO,
      amount: p.amount,
      payload: encodePayoutOutput(p.address, p.fee),
    }));
    const rest = amount - payouts.reduce((a, p) => a + p.amount + p.fee, 0n);
    return buildTransaction(
      [depositInput(MONERO, amount, deposit)],
      [...out, ...(rest > 0n ? [coinOutput(DUMMY, rest, alice.publicKey)] : [])],
      [alice],
      sha256,
    );
  };

  const txidOf = (tx: Transaction) => toHex(transactionId(tx, sha256));

  /** POST claims at guardian g (the real intake: ClaimChecks against g's node), settled through the scheduler. */
  const postClaim = (g: number, claim: { txid: string; proof: Uint8Array }, client = "client-1") => {
    const endpoint = guardians[g]!.monero.api.find((e) => e.method === "POST" && e.path === "claims")!;
    const answer = endpoint.handle({
      params: {},
      body: { txid: claim.txid, claimKey: toHex(alice.publicKey), proof: toHex(claim.proof) },
      db: mdb(g),
      client,
    }) as Promise<unknown>;
    return scheduler.settle(answer);
  };

  return {
    n,
    t,
    rng,
    scheduler,
    chain,
    config,
    shares,
    guardians,
    logs,
    mdb,
    block,
    round,
    depositByProof,
    payoutTx,
    txidOf,
    postClaim,
    alice,
  };
}

export type MoneroHarness = ReturnType<typeof moneroHarness>;
export type { SimMoneroShare };
