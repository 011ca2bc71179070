// A burn on the EVM chain paid in Monero, with real parts on both sides: monerod regtest with four
// guardian wallet-rpcs made one 3-of-4 multisig wallet (as payout-regtest.test.ts), anvil with the
// WrappedMonero contract for the four guardians' EVM keys. Each guardian's processor runs the real
// dummy, monero (RpcPayoutWallet on its own wallet-rpc) and bridge (ViemEvmSource on anvil) modules;
// consensus is the guardians' proposals put into blocks that all of them process (federation-fixture
// style). XMR -> multisig deposit -> wXMR minted on anvil with t signatures -> burn(amount, the
// user's Monero address) -> t votes at depth -> Monero payout of amount − fee -> the user's wallet
// receives it, proven with check_tx_key.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeConsensusItem, fromHex } from "@conclave/core-common";
import type { Transaction, TxOutput } from "@conclave/core-common";
import { FederationProcessor, MemoryKv, NodeSigner, NodeVerifier, sha256 } from "@conclave/core-server";
import { buildTransaction } from "@conclave/core-common";
import { deployWrappedMonero, startAnvil } from "@conclave/evm";
import type { Anvil } from "@conclave/evm";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import { DummyServerModule, coinOutput } from "@conclave/module-dummy";
import {
  MoneroServerModule,
  RpcPayoutWallet,
  claimProof,
  depositInput,
  encodeMoneroItem,
  parseMoneroConfig,
  payoutFee,
} from "@conclave/module-monero";
import type { MoneroItem } from "@conclave/module-monero";
import { decodeAddress, encodeAddress, parseXmr } from "@conclave/monero";
import type { WalletRpc } from "@conclave/monero";
import {
  OUTPUT_UNLOCK_BLOCKS,
  ensureMoneroInstalled,
  startMultisigRegtest,
  mineBlocks,
} from "@conclave/testing-monero";
import type { Regtest } from "@conclave/testing-monero";
import { parseEventLogs } from "viem";
import type { Account } from "viem";
import type { MintSignatureView } from "./api.js";
import { encodeMintOutput } from "./common.js";
import type { BridgeConfig } from "./common.js";
import { asHex, collectMintSignatures } from "./eip712-mint.js";
import { BRIDGE, DUMMY, FEDERATION_ID, MONERO, evmKeyOf, testConfig } from "./federation-fixture.js";
import { BridgeServerModule } from "./server.js";
import { ViemEvmSource } from "./watcher.js";

const N = 4;
const T = 3;
const DEPOSIT = parseXmr("2");
const BURN = parseXmr("0.5");
const alice = new NodeSigner(new Uint8Array(32).fill(1));
const mallory = new NodeSigner(new Uint8Array(32).fill(2));

let net: Regtest | undefined;
let anvil: Anvil | undefined;
let miner: WalletRpc;
let user: WalletRpc;
let minerAddress = "";
let userAddress = "";
let multisigAddress = "";
let bridgeConfig: BridgeConfig;
const timings: Record<string, number> = {};
let t0 = Date.now();
const lap = (name: string) => {
  timings[name] = Date.now() - t0;
  t0 = Date.now();
};

beforeAll(async () => {
  ensureMoneroInstalled();
  t0 = Date.now();
  anvil = await startAnvil({ accounts: 3 });
  const evmGuardians = testConfig(N).guardians;
  const deployed = await deployWrappedMonero(anvil, { guardians: evmGuardians, threshold: T });
  bridgeConfig = testConfig(N, {
    contract: deployed.address,
    chainId: anvil.chain.id,
    confirmations: 2,
    moneroNetwork: "mainnet",
  });
  ({ net, miner, minerAddress, user, userAddress, multisigAddress } = await startMultisigRegtest({
    threshold: T,
    total: N,
  }));
  lap("anvil and contract, regtest, wallets, 3-of-4 multisig, 80 blocks");
}, 400_000);

afterAll(async () => {
  await net?.stop();
  await anvil?.stop();
  console.log(`burn payout regtest timings (ms): ${JSON.stringify(timings)}`);
});

/** Mints on anvil from the guardians' views of one mint (t good signatures, sorted), sent by `from`. */
async function mintOnChain(views: readonly MintSignatureView[], from: Account): Promise<void> {
  const v = views[0]!;
  const message = {
    recipient: v.recipient as `0x${string}`,
    amount: BigInt(v.amount),
    depositId: asHex(v.depositId),
    deadline: BigInt(v.deadline),
    setIndex: v.setIndex,
  };
  const collected = await collectMintSignatures(
    { chainId: bridgeConfig.chainId, contract: bridgeConfig.contract },
    message,
    bridgeConfig.guardians,
    bridgeConfig.threshold,
    views.map((x) => ({ guardian: x.guardian, signature: x.signature! })),
  );
  const hash = await anvil!.walletClient.writeContract({
    account: from,
    address: bridgeConfig.contract,
    abi: wrappedMoneroAbi,
    functionName: "mint",
    args: [message, collected.signatures],
  });
  expect((await anvil!.publicClient.waitForTransactionReceipt({ hash })).status).toBe("success");
}

const balanceOf = (address: `0x${string}`) =>
  anvil!.publicClient.readContract({
    address: bridgeConfig.contract,
    abi: wrappedMoneroAbi,
    functionName: "balanceOf",
    args: [address],
  });

function federation(options: { readonly payoutMinPiconero?: string } = {}) {
  const { daemon, walletRpcs } = net!;
  const moneroConfig = parseMoneroConfig({
    network: "mainnet",
    address: multisigAddress,
    guardians: N,
    confirmations: 1,
    payoutMinPiconero: options.payoutMinPiconero ?? "1000000",
    payoutRoundBlocks: 4,
    payoutConfirmations: 1,
  });
  const guardians = Array.from({ length: N }, (_, g) => {
    const monero = new MoneroServerModule(MONERO, moneroConfig, {
      chain: {
        height: async () => (await daemon.rpc.getHeight()).height,
        transaction: () => Promise.resolve({ found: false }),
        proven: () => Promise.resolve({ good: false, received: 0n }),
      },
      pollMs: 200,
      autoPoll: false,
      payoutWallet: new RpcPayoutWallet(walletRpcs[g]!.url, daemon.url, {
        threshold: T,
        total: N,
        multisigAddress,
      }),
    });
    const bridge = new BridgeServerModule(BRIDGE, bridgeConfig, {
      evmKey: evmKeyOf(g),
      source: new ViemEvmSource(anvil!.rpcUrl, bridgeConfig.contract),
      pollMs: 1000,
      autoPoll: false,
    });
    const context = { self: g, wake: () => {}, log: () => {}, federationId: FEDERATION_ID };
    monero.start(context);
    bridge.start(context);
    const dummy = new DummyServerModule(DUMMY, { faucetAmountMax: 10n ** 15n, feePerInput: 0n });
    const p = new FederationProcessor([dummy, monero, bridge], {
      verifier: new NodeVerifier(),
      hash: sha256,
    });
    return { db: new MemoryKv(), p, monero, bridge };
  });
  let height = 0;
  const block = (
    items: readonly { from: number; module: number; payload: Uint8Array }[],
    txs: Transaction[] = [],
  ) => {
    const bundles = Array.from({ length: N }, (_, origin) => ({
      origin,
      items: items
        .filter((i) => i.from === origin)
        .map((i) => encodeConsensusItem({ kind: "module", module: i.module, payload: i.payload })),
    }));
    bundles[0]!.items.push(...txs.map((tx) => encodeConsensusItem({ kind: "transaction", tx })));
    const results = guardians.map((g) => g.p.processBlock(g.db, height, bundles));
    height++;
    for (const r of results) expect(r.auditFailure).toBeUndefined();
    return results[0]!;
  };
  const mdb = (g: number, id: number) => guardians[g]!.p.moduleReadDb(guardians[g]!.db, id);
  const moneroItem = (from: number, i: MoneroItem) => ({
    from,
    module: MONERO,
    payload: encodeMoneroItem(i),
  });
  const reportHeight = async () => {
    const h = (await daemon.rpc.getHeight()).height;
    block(guardians.map((_, from) => moneroItem(from, { kind: "height", height: h })));
  };
  const reportFeeRate = async () => {
    const perByte = Number((await daemon.rpc.getFeeEstimate()).feePerByte);
    block(guardians.map((_, from) => moneroItem(from, { kind: "fee_rate", perByte })));
    return payoutFee(moneroConfig, perByte)!;
  };
  /** Every guardian's watcher polls anvil, then every guardian's bridge proposal in one block. */
  const bridgeRound = async () => {
    // A proposal first tells each watcher where its scan resumes (the state's scanned block).
    for (const [from, g] of guardians.entries()) g.bridge.consensusProposal(mdb(from, BRIDGE));
    await Promise.all(guardians.map((g) => g.bridge.burnWatcher!.poll()));
    block(
      guardians.flatMap((g, from) =>
        g.bridge.consensusProposal(mdb(from, BRIDGE)).map((payload) => ({ from, module: BRIDGE, payload })),
      ),
    );
  };
  /**
   * Bridge rounds until every guardian agrees an EVM time (a mint output needs one). A chain with
   * burns on it takes more than one: a guardian reports a block scanned only once its votes up to
   * it are in the state.
   */
  const agreeEvmTime = async () => {
    for (let i = 0; i < 5; i++) {
      await bridgeRound();
      if (guardians.every((g, from) => g.bridge.chainView(mdb(from, BRIDGE)).agreedTimestamp !== "0")) return;
    }
    throw new Error("no agreed EVM time after 5 bridge rounds");
  };
  /** Each guardian's payout duty: its proposal, its signer's job, its proposal again (heights left out). */
  const moneroRound = async () => {
    const items: { from: number; module: number; payload: Uint8Array }[] = [];
    for (const [from, g] of guardians.entries()) {
      g.monero.consensusProposal(mdb(from, MONERO));
      await g.monero.payoutSigner!.work();
      for (const payload of g.monero.consensusProposal(mdb(from, MONERO)))
        if (payload[0] !== 0x01) items.push({ from, module: MONERO, payload });
    }
    block(items);
  };
  const audit = () => {
    const all = guardians.map((g) => g.p.audit(g.db));
    for (const a of all.slice(1)) expect(a).toEqual(all[0]);
    return all[0]!;
  };
  /** The miner pays `amount` to the multisig address; mined in one block (not reported). */
  const pay = async (amount: bigint) => {
    await miner.refresh();
    const sent = await miner.transfer({ destinations: [{ address: multisigAddress, amount }] });
    // Mined in the next block, or one after it when the pool had not taken it yet.
    let txHeight: number | undefined;
    for (let i = 0; i < 3 && txHeight === undefined; i++) {
      await mineBlocks(daemon.rpc, 1, minerAddress);
      txHeight = (await daemon.rpc.getTransactions([sent.txid!])).found[0]?.blockHeight;
    }
    if (txHeight === undefined) throw new Error(`payment ${sent.txid} not mined after 3 blocks`);
    return { txid: fromHex(sent.txid!), txKey: fromHex(sent.txKey!), txHeight, amount };
  };
  /** The deposit claimed for `owner`'s key and attested valid by guardians 0, 1, 2 (credited). */
  const credit = (
    d: { txid: Uint8Array; txKey: Uint8Array; txHeight: number; amount: bigint },
    owner: NodeSigner,
  ) => {
    const proof = claimProof({
      federationAddress: multisigAddress,
      txid: d.txid,
      txKey: d.txKey,
      claimKey: owner.publicKey,
    });
    block([
      {
        from: 0,
        module: MONERO,
        payload: encodeMoneroItem({ kind: "claim", txid: d.txid, claimKey: owner.publicKey, proof }),
      },
    ]);
    block(
      [0, 1, 2].map((from) => ({
        from,
        module: MONERO,
        payload: encodeMoneroItem({
          kind: "attest",
          txid: d.txid,
          round: 1,
          verdict: { valid: true, amount: d.amount, txHeight: d.txHeight },
        }),
      })),
    );
  };
  /** One transaction: the deposit in (signed by `signer`), `outputs` out; its status at guardian 0. */
  const spend = (txid: Uint8Array, amount: bigint, outputs: TxOutput[], signer: NodeSigner) => {
    const tx = buildTransaction([depositInput(MONERO, amount, txid)], outputs, [signer], sha256);
    const event = block([], [tx]).events[0]!;
    return event;
  };
  const depositState = (txid: Uint8Array) => {
    const all = guardians.map((g, i) => g.monero.depositView(mdb(i, MONERO), txid).state);
    for (const x of all.slice(1)) expect(x).toEqual(all[0]);
    return all[0];
  };
  return {
    guardians,
    block,
    mdb,
    reportHeight,
    reportFeeRate,
    bridgeRound,
    agreeEvmTime,
    moneroRound,
    audit,
    pay,
    credit,
    spend,
    depositState,
  };
}

describe("a burn paid in Monero (anvil + monerod regtest, 3-of-4 multisig)", () => {
  it("XMR deposit -> wXMR on anvil -> burn to a Monero address -> the user's wallet receives burn − fee, proven by check_tx_key", async () => {
    const f = federation();
    const { daemon } = net!;
    const evmUser = anvil!.accounts[1]!;
    await f.reportHeight();
    const fee = await f.reportFeeRate();
    await anvil!.testClient.mine({ blocks: 3 });
    await f.bridgeRound(); // agreed EVM time
    // A deposit to the multisig address, credited by t attestations (as payout-regtest.test.ts).
    await miner.refresh();
    const sent = await miner.transfer({ destinations: [{ address: multisigAddress, amount: DEPOSIT }] });
    await mineBlocks(daemon.rpc, OUTPUT_UNLOCK_BLOCKS, minerAddress);
    await f.reportHeight();
    const txid = fromHex(sent.txid!);
    const proof = claimProof({
      federationAddress: multisigAddress,
      txid,
      txKey: fromHex(sent.txKey!),
      claimKey: alice.publicKey,
    });
    f.block([
      {
        from: 0,
        module: MONERO,
        payload: encodeMoneroItem({ kind: "claim", txid, claimKey: alice.publicKey, proof }),
      },
    ]);
    const txHeight = (await daemon.rpc.getTransactions([sent.txid!])).found[0]!.blockHeight!;
    f.block(
      [0, 1, 2].map((from) => ({
        from,
        module: MONERO,
        payload: encodeMoneroItem({
          kind: "attest",
          txid,
          round: 1,
          verdict: { valid: true, amount: DEPOSIT, txHeight },
        }),
      })),
    );
    // The deposit straight into "wXMR to <address>" (the Secret Monero Bridge flow).
    const mintTx = buildTransaction(
      [depositInput(MONERO, DEPOSIT, txid)],
      [{ module: BRIDGE, amount: DEPOSIT, payload: encodeMintOutput(evmUser.address) }],
      [alice],
      sha256,
    );
    const out = f.block([], [mintTx]);
    expect(out.events[0]!.status).toMatchObject({ state: "accepted" });
    const outPoint = { txid: fromHex(out.events[0]!.txid), index: 0 };
    const views = f.guardians.map((g, i) => g.bridge.outputOutcome(f.mdb(i, BRIDGE), outPoint)!);
    await mintOnChain(views, evmUser);
    lap("deposit credited, wXMR minted on anvil");

    // The burn, to the user's Monero address.
    const burnHash = await anvil!.walletClient.writeContract({
      account: evmUser,
      address: bridgeConfig.contract,
      abi: wrappedMoneroAbi,
      functionName: "burn",
      args: [BURN, userAddress],
    });
    const receipt = await anvil!.publicClient.waitForTransactionReceipt({ hash: burnHash });
    const [burned] = parseEventLogs({ abi: wrappedMoneroAbi, eventName: "Burned", logs: receipt.logs });
    const key = { txHash: fromHex(receipt.transactionHash.slice(2)), logIndex: burned!.logIndex };
    const before = f.audit();
    await anvil!.testClient.mine({ blocks: bridgeConfig.confirmations });
    await f.bridgeRound();
    await f.bridgeRound();
    const accepted = f.guardians[2]!.bridge.burnView(f.mdb(2, BRIDGE), key);
    expect(accepted).toMatchObject({
      state: "accepted",
      settlement: "payout",
      payout: { amount: (BURN - fee).toString(), fee: fee.toString(), state: "queued" },
    });
    // The hand-over moved the liability: the federation's surplus is unchanged.
    const after = f.audit();
    expect(after.assets - after.liabilities).toBe(before.assets - before.liabilities);
    lap("burn at depth, accepted, payout queued");

    // The monero module's rounds until the payout is confirmed, mining when it is submitted.
    const view = () => {
      const all = f.guardians.map((g, i) => g.bridge.burnView(f.mdb(i, BRIDGE), key));
      for (const x of all.slice(1)) expect(x).toEqual(all[0]);
      return all[0]!;
    };
    for (let i = 0; i < 60 && view().payout?.state !== "confirmed"; i++) {
      if (view().payout?.state === "submitted") {
        await mineBlocks(daemon.rpc, 1, minerAddress);
        await f.reportHeight();
      }
      await f.moneroRound();
    }
    const paid = view().payout!;
    expect(paid.state).toBe("confirmed");
    expect(paid.moneroTxid).toMatch(/^[0-9a-f]{64}$/);
    lap("payout: export, create, 2 signatures, submit, 1 confirmation");
    await user.refresh();
    expect((await user.getTransferByTxid(paid.moneroTxid!)).map((t) => t.amount)).toEqual([BURN - fee]);
    const check = await user.checkTxKey({ txid: paid.moneroTxid!, txKey: paid.txKey!, address: userAddress });
    expect(check.received).toBe(BURN - fee);
    // wXMR on chain: the deposit minus the burn.
    const balance = await anvil!.publicClient.readContract({
      address: bridgeConfig.contract,
      abi: wrappedMoneroAbi,
      functionName: "balanceOf",
      args: [evmUser.address],
    });
    expect(balance).toBe(DEPOSIT - BURN);
    lap("paid, checked");

    // The payout's tx key proves its change received at the federation's own address. Claimed by
    // anyone (here with the key of someone who wants wXMR for it), it never becomes a deposit, so it
    // can fund no mint: the claim item is refused in consensus (invariant 7: nothing the federation
    // sent counts as received), and an input of it is unknown.
    const books = f.audit();
    const ownTxid = fromHex(paid.moneroTxid!);
    const ownProof = claimProof({
      federationAddress: multisigAddress,
      txid: ownTxid,
      txKey: fromHex(paid.txKey!),
      claimKey: mallory.publicKey,
    });
    const claimed = f.block([
      {
        from: 1,
        module: MONERO,
        payload: encodeMoneroItem({
          kind: "claim",
          txid: ownTxid,
          claimKey: mallory.publicKey,
          proof: ownProof,
        }),
      },
    ]);
    expect(claimed.moduleItemErrors).toBe(1);
    expect(f.depositState(ownTxid)).toBe("unclaimed");
    const change = DEPOSIT - BURN;
    const mintChange = f.spend(
      ownTxid,
      change,
      [{ module: BRIDGE, amount: change, payload: encodeMintOutput(evmUser.address) }],
      mallory,
    );
    expect(mintChange.status).toMatchObject({ state: "rejected", error: { code: "unknown_deposit" } });
    expect(f.audit()).toEqual(books);
  }, 400_000);

  it("a deposit straight into a wXMR mint: refused below its depth, above its amount and for another key's claim, with nothing spent; then minted once, never again into a mint or into coins", async () => {
    const f = federation();
    const { daemon } = net!;
    const evmUser = anvil!.accounts[2]!;
    await f.reportHeight();
    await anvil!.testClient.mine({ blocks: 3 });
    await f.agreeEvmTime();
    const mintOut = (amount: bigint) => [
      { module: BRIDGE, amount, payload: encodeMintOutput(evmUser.address) },
    ];
    const signedBefore = f.audit();
    // Credited (t attestations), but the agreed height is still the one before its block: no
    // confirmation yet. Spending it is refused and leaves it credited.
    const d = await f.pay(DEPOSIT);
    f.credit(d, alice);
    expect(f.depositState(d.txid)).toBe("credited");
    const early = f.spend(d.txid, DEPOSIT, mintOut(DEPOSIT), alice);
    expect(early.status).toMatchObject({ state: "rejected", error: { code: "deposit_unconfirmed" } });
    expect(f.depositState(d.txid)).toBe("credited");
    await mineBlocks(daemon.rpc, 1, minerAddress);
    await f.reportHeight();
    // Someone else's deposit: the input must be signed by the claim key it was credited to. Mallory's
    // signature does not verify for it; the copy is refused without a final verdict (the txid stays
    // open for a correctly signed copy) and nothing is spent.
    const stolen = f.spend(d.txid, DEPOSIT, mintOut(DEPOSIT), mallory);
    expect(stolen.status.state).toBe("rejected");
    expect(stolen.final).toBe(false);
    expect(f.depositState(d.txid)).toBe("credited");
    // More wXMR than the deposit: unbalanced (the deposit input and the mint output charge no fee).
    const tooMuch = f.spend(d.txid, DEPOSIT, mintOut(DEPOSIT + 1n), alice);
    expect(tooMuch.status).toMatchObject({ state: "rejected", error: { code: "unbalanced" } });
    // An input that declares more than the deposit is worth.
    const inflated = f.spend(d.txid, DEPOSIT + 1n, mintOut(DEPOSIT + 1n), alice);
    expect(inflated.status).toMatchObject({ state: "rejected", error: { code: "amount_mismatch" } });
    expect(f.depositState(d.txid)).toBe("credited");
    expect(f.audit()).toEqual(signedBefore);
    // No refused attempt left a mint any guardian would sign.
    for (const attempt of [early, stolen, tooMuch, inflated])
      for (const g of f.guardians.keys())
        expect(
          f.guardians[g]!.bridge.outputOutcome(f.mdb(g, BRIDGE), { txid: fromHex(attempt.txid), index: 0 }),
        ).toBeUndefined();

    // The owner's mint of exactly the deposit: accepted, signed by every guardian.
    const minted = f.spend(d.txid, DEPOSIT, mintOut(DEPOSIT), alice);
    expect(minted.status).toMatchObject({ state: "accepted" });
    expect(f.depositState(d.txid)).toBe("spent");
    const outPoint = { txid: fromHex(minted.txid), index: 0 };
    for (const g of f.guardians.keys())
      expect(f.guardians[g]!.bridge.outputOutcome(f.mdb(g, BRIDGE), outPoint)).toMatchObject({
        recipient: evmUser.address,
        amount: DEPOSIT.toString(),
      });
    const afterMint = f.audit();
    // The same deposit again: into a second mint, or into coins (the dummy module's e-cash here).
    const again = f.spend(d.txid, DEPOSIT, mintOut(DEPOSIT), alice);
    expect(again.status).toMatchObject({ state: "rejected", error: { code: "spent_input" } });
    const coins = f.spend(d.txid, DEPOSIT, [coinOutput(DUMMY, DEPOSIT, alice.publicKey)], alice);
    expect(coins.status).toMatchObject({ state: "rejected", error: { code: "spent_input" } });
    expect(f.audit()).toEqual(afterMint);
  }, 400_000);
  it("a burn the federation cannot pay in Monero is returned, never lost: below the payout minimum plus the fee, or to another network's address, it is re-minted and the re-mint lands on chain", async () => {
    // A contract of its own: a fresh federation's accountant halts against wXMR the earlier tests
    // left on the first one (supply above what this federation signed). It takes burns from
    // 0.001 XMR (its minBurn); this federation pays no less than 0.1.
    const deployed = await deployWrappedMonero(anvil!, { guardians: bridgeConfig.guardians, threshold: T });
    bridgeConfig = { ...bridgeConfig, contract: deployed.address };
    const f = federation({ payoutMinPiconero: parseXmr("0.1").toString() });
    const { daemon } = net!;
    const evmUser = anvil!.accounts[0]!;
    await f.reportHeight();
    await f.reportFeeRate();
    await anvil!.testClient.mine({ blocks: 3 });
    await f.agreeEvmTime();
    const d = await f.pay(DEPOSIT);
    await mineBlocks(daemon.rpc, 1, minerAddress);
    await f.reportHeight();
    f.credit(d, alice);
    const minted = f.spend(
      d.txid,
      DEPOSIT,
      [{ module: BRIDGE, amount: DEPOSIT, payload: encodeMintOutput(evmUser.address) }],
      alice,
    );
    expect(minted.status).toMatchObject({ state: "accepted" });
    const outPoint = { txid: fromHex(minted.txid), index: 0 };
    await mintOnChain(
      f.guardians.map((g, i) => g.bridge.outputOutcome(f.mdb(i, BRIDGE), outPoint)!),
      evmUser,
    );
    const start = await balanceOf(evmUser.address);
    const small = parseXmr("0.05");
    const elsewhere = parseXmr("0.2");
    const keys = decodeAddress(userAddress);
    const testnet = encodeAddress({ ...keys, network: "testnet", kind: "standard" });
    const burns = [];
    for (const [amount, address] of [
      [small, userAddress],
      [elsewhere, testnet],
    ] as const) {
      const hash = await anvil!.walletClient.writeContract({
        account: evmUser,
        address: bridgeConfig.contract,
        abi: wrappedMoneroAbi,
        functionName: "burn",
        args: [amount, address],
      });
      const receipt = await anvil!.publicClient.waitForTransactionReceipt({ hash });
      expect(receipt.status).toBe("success");
      const [burned] = parseEventLogs({ abi: wrappedMoneroAbi, eventName: "Burned", logs: receipt.logs });
      burns.push({ txHash: fromHex(receipt.transactionHash.slice(2)), logIndex: burned!.logIndex });
    }
    expect(await balanceOf(evmUser.address)).toBe(start - small - elsewhere);
    const before = f.audit();
    await anvil!.testClient.mine({ blocks: bridgeConfig.confirmations });
    await f.bridgeRound();
    await f.bridgeRound();
    // Both accepted as re-mints, with the reason; nothing queued for a Monero payout.
    const reasons = [/payout_too_small|minimum/i, /not a Monero address|network/i];
    for (const [i, key] of burns.entries()) {
      const views = f.guardians.map((g, j) => g.bridge.burnView(f.mdb(j, BRIDGE), key));
      for (const v of views) {
        expect(v).toMatchObject({ state: "accepted", settlement: "reminted" });
        expect(v.payout).toBeUndefined();
      }
      expect(views[0]!.reason).toMatch(reasons[i]!);
      await mintOnChain(
        views.map((v) => v.remint!),
        evmUser,
      );
    }
    // The value came back on chain; the federation's books moved nothing out of the reserve.
    expect(await balanceOf(evmUser.address)).toBe(start);
    const after = f.audit();
    expect(after.assets).toBe(before.assets);
    expect(after.assets - after.liabilities).toBe(before.assets - before.liabilities);
  }, 400_000);
});
