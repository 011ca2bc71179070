// The bridge module against a real EVM chain: anvil (@conclave/evm's anvil.ts, stopped by PID)
// with the WrappedMonero contract deployed for four guardians (t = 3). Each guardian's module reads
// anvil through its own ViemEvmSource (guardian 3's node is down where a test says so); consensus
// is four in-memory processors fed the same blocks (federation-fixture.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import { buildTransaction, fromHex } from "@conclave/core-common";
import { MemoryKv, sha256 } from "@conclave/core-server";
import type { ModuleContext } from "@conclave/core-server";
import { deployWrappedMonero, startAnvil } from "@conclave/evm";
import type { Anvil } from "@conclave/evm";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import { faucetInput } from "@conclave/module-dummy";
import { finishNote, noteInput, noteOutput, noteSigner, prepareNote } from "@conclave/module-mint";
import { parseEventLogs } from "viem";
import type { TransactionReceipt } from "viem";
import { encodeAddress } from "@conclave/monero";
import { PayoutStore, pendingPayouts } from "@conclave/module-monero";
import { decodeBridgeItem, encodeBridgeItem, encodeMintOutput } from "./common.js";
import type { BridgeConfig, BurnSeen } from "./common.js";
import { asHex, collectMintSignatures, signMint } from "./eip712-mint.js";
import type { GuardianSignature, MintMessage } from "./eip712-mint.js";
import {
  BRIDGE,
  DUMMY,
  FEDERATION_ID,
  MINT,
  MINT_DENOMINATIONS,
  evmKeyOf,
  federation,
  testConfig,
} from "./federation-fixture.js";
import { BridgeServerModule } from "./server.js";
import { BridgeStateWriter } from "./state.js";
import { ViemEvmSource } from "./watcher.js";

const N = 4;
const MONERO_ADDRESS = encodeAddress({
  network: "mainnet",
  kind: "standard",
  publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(7)),
  publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(8)),
});

let anvil: Anvil;
let config: BridgeConfig;

beforeAll(async () => {
  anvil = await startAnvil({ accounts: 3 });
  const guardians = testConfig(N).guardians;
  const deployed = await deployWrappedMonero(anvil, { guardians, threshold: 3 });
  config = testConfig(N, { contract: deployed.address, chainId: anvil.chain.id });
});

afterAll(async () => {
  await anvil?.stop();
});

const context = (self: number): ModuleContext => ({ log: () => {}, wake: () => {}, self });

async function rpc(method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(anvil.rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/**
 * Sends mint(message, t of these signatures, sorted by signer) to the contract from anvil's first
 * account; the receipt's status.
 */
async function sendMint(
  c: BridgeConfig,
  message: MintMessage,
  answers: readonly GuardianSignature[],
): Promise<"success" | "reverted"> {
  const domain = { chainId: c.chainId, contract: c.contract };
  const collected = await collectMintSignatures(domain, message, c.guardians, c.threshold, answers);
  const hash = await anvil.walletClient.writeContract({
    address: c.contract,
    abi: wrappedMoneroAbi,
    functionName: "mint",
    args: [message, collected.signatures],
  });
  return (await anvil.publicClient.waitForTransactionReceipt({ hash })).status;
}

/** The EIP-712 mint a guardian's view of an output signs (its recipient and amount as the test made it). */
const mintMessageOf = (
  v: { depositId: string; deadline: string; setIndex: number },
  recipient: `0x${string}`,
  amount: bigint,
): MintMessage => ({
  recipient,
  amount,
  depositId: asHex(v.depositId),
  deadline: BigInt(v.deadline),
  setIndex: v.setIndex,
});

/** Signatures of `message` by guardians 0, 1 and 2: t keys stolen (the test holds them). */
const stolenAnswers = (c: BridgeConfig, message: MintMessage) =>
  [0, 1, 2].map((i) => ({
    guardian: i,
    signature: signMint(evmKeyOf(i), { chainId: c.chainId, contract: c.contract }, message),
  }));

describe("bridge start check (real anvil)", () => {
  const moduleWith = (c: BridgeConfig, key = evmKeyOf(0)) =>
    new BridgeServerModule(BRIDGE, c, {
      evmKey: key,
      source: new ViemEvmSource(anvil.rpcUrl, c.contract),
      pollMs: 1000,
    });

  it("runs when chain id, contract, guardian set and threshold on chain equal the config", async () => {
    await expect(moduleWith(config).preflight(context(0))).resolves.toBeUndefined();
  });

  it("refuses another chain id, no contract, another set, another threshold, or a key not its own", async () => {
    await expect(moduleWith({ ...config, chainId: 1 }).preflight(context(0))).rejects.toThrow(
      /EVM node is on chain 31337, the federation config says 1/,
    );
    await expect(
      moduleWith({ ...config, contract: "0x000000000000000000000000000000000000dEaD" }).preflight(context(0)),
    ).rejects.toThrow(/no contract at 0x000000000000000000000000000000000000dEaD/);
    // The same keys but one guardian replaced: the set on chain differs.
    const otherSet = testConfig(N, { contract: config.contract, chainId: config.chainId });
    const replaced = {
      ...otherSet,
      guardians: [...otherSet.guardians.slice(0, 3), testConfig(5).guardians[4]!],
    };
    await expect(moduleWith(replaced).preflight(context(0))).rejects.toThrow(/guardian set 1 is \[/);
    // A contract deployed for the same set with threshold 2.
    const t2 = await deployWrappedMonero(anvil, { guardians: config.guardians, threshold: 2 });
    await expect(moduleWith({ ...config, contract: t2.address }).preflight(context(0))).rejects.toThrow(
      /threshold is 2, the config's 3/,
    );
    await expect(moduleWith(config, evmKeyOf(1)).preflight(context(0))).rejects.toThrow(
      /this guardian's EVM key is 0x[0-9a-fA-F]{40}, but the federation config names/,
    );
  });
});

describe("bridge mints and burns (real anvil)", () => {
  const user = () => anvil.accounts[1]!;
  // Guardian 3's EVM node is down (nothing listens on port 9): it votes no burn, reports no block.
  const fed = () =>
    federation(config, {
      sources: (i) =>
        new ViemEvmSource(i === 3 ? "http://127.0.0.1:9" : anvil.rpcUrl, config.contract, 2_000),
    });
  let f: ReturnType<typeof fed>;
  let mintOutPoint: { txid: Uint8Array; index: number } | undefined;
  beforeAll(async () => {
    f = fed();
    f.agreeFeeRate(1); // the monero module's payouts (burns to Monero addresses) need an agreed fee rate
    // A few blocks past the deployments, so that the guardians have blocks at depth to report.
    await anvil.testClient.mine({ blocks: 5 });
  });

  /** Every guardian's watcher polls its node (a node that is down fails that guardian's poll only). */
  const pollAll = async (): Promise<number> => {
    const results = await Promise.allSettled(f.guardians.map((g) => g.bridge.burnWatcher!.poll()));
    return results.filter((r) => r.status === "rejected").length;
  };
  const settle = async (rounds = 3) => {
    for (let i = 0; i < rounds; i++) {
      await pollAll();
      f.round();
    }
  };

  it("e-cash notes -> mint output; each guardian signs it; t good signatures, sorted by signer, mint on chain; a Byzantine signature is skipped; a replay is refused", async () => {
    await settle();
    expect(BigInt(f.guardians[0]!.bridge.chainView(f.mdb()).agreedTimestamp)).toBeGreaterThan(0n);
    // E-cash first: a faucet coin becomes two notes of 2^41 piconero (each guardian's blind share,
    // t of them combined and unblinded by the client code of the mint module).
    const pending = [prepareNote(41), prepareNote(41)];
    const amount = 2n * 2n ** 41n; // 4.398 XMR
    const issue = buildTransaction(
      [faucetInput(DUMMY, amount)],
      pending.map((p) => noteOutput(MINT, p)),
      [],
      sha256,
    );
    const issued = f.block([], [issue]);
    expect(issued.events[0]!.status.state).toBe("accepted");
    const issueTxid = fromHex(issued.events[0]!.txid);
    const notes = pending.map((p, index) => {
      const shares = f.guardians.map((g, i) => ({
        guardian: i,
        blindShare: g.mint.outputOutcome(g.p.moduleReadDb(g.db, MINT), { txid: issueTxid, index })!
          .blindShare,
      }));
      const key = f.mintConfig.keys[MINT_DENOMINATIONS.indexOf(41)]!;
      const note = finishNote(p, key, config.threshold, shares);
      if (!note.ok) throw new Error(note.error.message);
      return note.value;
    });
    // Notes -> "wXMR to <address>" in one federation transaction.
    const tx = buildTransaction(
      notes.map((note) => noteInput(MINT, note)),
      [{ module: BRIDGE, amount, payload: encodeMintOutput(user().address) }],
      notes.map(noteSigner),
      sha256,
    );
    const out = f.block([], [tx]);
    expect(out.events[0]!.status.state).toBe("accepted");
    const txid = fromHex(out.events[0]!.txid);
    mintOutPoint = { txid, index: 0 };
    const views = f.guardians.map((g, i) => g.bridge.outputOutcome(f.mdb(i), { txid, index: 0 })!);
    const message = mintMessageOf(views[0]!, user().address, amount);
    const domain = { chainId: config.chainId, contract: config.contract };
    // Guardian 1 is Byzantine: its answer carries a signature by a key outside the set.
    const answers = views.map((x) => ({ guardian: x.guardian, signature: x.signature! }));
    answers[1] = { guardian: 1, signature: signMint(new Uint8Array(32).fill(0x55), domain, message) };
    const collected = await collectMintSignatures(
      domain,
      message,
      config.guardians,
      config.threshold,
      answers,
    );
    expect(collected.bad).toEqual([1]);
    const hash = await anvil.walletClient.writeContract({
      address: config.contract,
      abi: wrappedMoneroAbi,
      functionName: "mint",
      args: [message, collected.signatures],
    });
    const receipt = await anvil.publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe("success");
    const balance = await anvil.publicClient.readContract({
      address: config.contract,
      abi: wrappedMoneroAbi,
      functionName: "balanceOf",
      args: [user().address],
    });
    expect(balance).toBe(amount);
    // The same signatures again (a replay, by anyone): the deposit id is used, the contract refuses.
    await expect(
      anvil.walletClient.writeContract({
        address: config.contract,
        abi: wrappedMoneroAbi,
        functionName: "mint",
        args: [message, collected.signatures],
      }),
    ).rejects.toThrow(/DepositUsed/);
  });

  it("votes a burn only at depth; a reorg below the depth removes it unvoted; t votes accept it with one node down", async () => {
    const burnOnce = async () => {
      const hash = await anvil.walletClient.writeContract({
        account: user(),
        address: config.contract,
        abi: wrappedMoneroAbi,
        functionName: "burn",
        args: [1_000_000_000_000n, MONERO_ADDRESS],
      });
      return anvil.publicClient.waitForTransactionReceipt({ hash });
    };
    // The Burned log's index in its transaction (the ERC-20 Transfer to zero comes first).
    const view = (receipt: TransactionReceipt) => {
      const [burned] = parseEventLogs({ abi: wrappedMoneroAbi, eventName: "Burned", logs: receipt.logs });
      return f.guardians[0]!.bridge.burnView(f.mdb(), {
        txHash: fromHex(receipt.transactionHash.slice(2)),
        logIndex: burned!.logIndex,
      });
    };

    // Mined, 1 confirmation of 3: no guardian votes it.
    const first = await burnOnce();
    await settle();
    expect(view(first)).toMatchObject({ state: "unknown", votes: 0 });
    // The block is reorged out (depth 1 < 3 confirmations) and the chain grows past the depth.
    await rpc("anvil_reorg", [1, []]);
    expect(
      await anvil.publicClient.getTransactionReceipt({ hash: first.transactionHash }).catch(() => null),
    ).toBeNull();
    await anvil.testClient.mine({ blocks: 4 });
    await settle();
    expect(view(first)).toMatchObject({ state: "unknown", votes: 0 });
    // Nothing was handed to the monero module for it.
    const queued = () => new PayoutStore(f.moneroDb()).counters().nextSeq;
    expect(queued()).toBe(0);

    // A burn that stays: seen at depth by guardians 0-2 (3's node is down), accepted.
    const second = await burnOnce();
    await settle();
    expect(view(second)).toMatchObject({ state: "unknown" });
    await anvil.testClient.mine({ blocks: 2 });
    expect(await pollAll()).toBe(1); // guardian 3's node is down
    f.round();
    expect(view(second)).toMatchObject({
      state: "accepted",
      settlement: "payout",
      amount: "1000000000000",
      from: user().address,
      payout: { amount: "999999997000", fee: "3000", state: "queued" },
    });
    expect(queued()).toBe(1);
    // The guardians' persisted last-scanned blocks (consensus state) passed the burn; 3 has none.
    await settle(2);
    const scanned = f.guardians[0]!.bridge.chainView(f.mdb()).scanned;
    for (const s of scanned.slice(0, 3)) expect(BigInt(s!.block)).toBeGreaterThanOrEqual(second.blockNumber);
    expect(scanned[3]).toBeNull();
  });

  it("never accepts a burn voted only by the Byzantine guardian (f), however often it votes", () => {
    const invented: BurnSeen = {
      txHash: new Uint8Array(32).fill(0x99),
      logIndex: 0,
      blockNumber: 3n,
      burnId: 77n,
      from: user().address,
      amount: 10n ** 15n,
      burnKind: 0,
      destination: new TextEncoder().encode(MONERO_ADDRESS),
    };
    const payload = encodeBridgeItem({ kind: "burn", ...invented });
    for (let i = 0; i < 3; i++)
      f.round({
        extra: [
          { from: 3, payload },
          { from: 3, payload },
        ],
      });
    expect(f.guardians[2]!.bridge.burnView(f.mdb(2), invented)).toMatchObject({ state: "voting", votes: 1 });
  });

  it("GET supply: the totals beside the supply each guardian reads at its depth block; a signed, unsubmitted mint is the difference; the burn's payout is pending in the monero module", async () => {
    const g = f.guardians[0]!;
    await g.bridge.burnWatcher!.poll();
    const before = g.bridge.supplyView(f.mdb());
    const onChain = (block: bigint) =>
      anvil.publicClient.readContract({
        address: config.contract,
        abi: wrappedMoneroAbi,
        functionName: "totalSupply",
        blockNumber: block,
      });
    // Its depth block is head − confirmations + 1, and the figure is the contract's at that block.
    const head = await anvil.publicClient.getBlockNumber();
    expect(BigInt(before.chain!.block)).toBe(head - BigInt(config.confirmations - 1));
    expect(BigInt(before.chain!.totalSupply)).toBe(await onChain(BigInt(before.chain!.block)));
    // The mint of 2 × 2^41 piconero was submitted and 1 XMR of it burned: nothing signed is off chain.
    expect(before).toMatchObject({
      guardian: 0,
      signed: String(2n * 2n ** 41n),
      burned: "1000000000000",
      outstanding: String(2n * 2n ** 41n - 1_000_000_000_000n),
      chain: { totalSupply: String(2n * 2n ** 41n - 1_000_000_000_000n) },
      unsubmitted: "0",
    });
    // A mint output the guardians sign and nobody submits: signed − burned − supply is its amount.
    const half = 500_000_000_000n;
    const tx = buildTransaction(
      [faucetInput(DUMMY, half)],
      [{ module: BRIDGE, amount: half, payload: encodeMintOutput(user().address) }],
      [],
      sha256,
    );
    expect(f.block([], [tx]).events[0]!.status.state).toBe("accepted");
    await g.bridge.burnWatcher!.poll();
    const after = g.bridge.supplyView(f.mdb());
    expect(after).toMatchObject({ signed: String(2n * 2n ** 41n + half), unsubmitted: String(half) });
    // Every guardian's totals are the same (consensus state); guardian 3 has no node: no chain figure.
    for (const i of [1, 2]) expect(f.guardians[i]!.bridge.supplyView(f.mdb(i)).signed).toBe(after.signed);
    expect(f.guardians[3]!.bridge.supplyView(f.mdb(3)).chain).toBeUndefined();
    // The burn's payout was handed to the monero module and is not confirmed: pending there.
    expect(pendingPayouts(f.moneroDb())).toEqual({ count: 1, amount: 1_000_000_000_000n, summed: 1 });
  });

  it("the accountant: a guardian a block behind a mint that t others signed and the user submitted does not halt; its reading, ordered by consensus, is checked against a state that holds the mint (failed before: halted)", async () => {
    const g = f.guardians[0]!;
    // Guardian 0 as it was before the block that accepts the mint output (it lags that block).
    const behind = new MemoryKv();
    for (const [k, v] of g.db.scan(new Uint8Array())) behind.put(k, v);
    // More than the signed mints not submitted (the slack the books allow): 10 XMR.
    const amount = 10n * 10n ** 12n;
    const tx = buildTransaction(
      [faucetInput(DUMMY, amount)],
      [{ module: BRIDGE, amount, payload: encodeMintOutput(user().address) }],
      [],
      sha256,
    );
    const out = f.block([], [tx]);
    expect(out.events[0]!.status.state).toBe("accepted");
    const outPoint = { txid: fromHex(out.events[0]!.txid), index: 0 };
    // Guardians 1, 2 and 3 processed it and sign; the user submits at once.
    const views = [1, 2, 3].map((i) => f.guardians[i]!.bridge.outputOutcome(f.mdb(i), outPoint)!);
    const message = mintMessageOf(views[0]!, user().address, amount);
    const answers = views.map((x) => ({ guardian: x.guardian, signature: x.signature! }));
    expect(await sendMint(config, message, answers)).toBe("success");
    // Guardian 0's module on its state of one block ago reads the supply with that mint in it.
    const halts: string[] = [];
    const lagging = new BridgeServerModule(BRIDGE, config, {
      evmKey: evmKeyOf(0),
      source: new ViemEvmSource(anvil.rpcUrl, config.contract),
      pollMs: 1000,
      autoPoll: false,
    });
    lagging.start({ ...context(0), federationId: FEDERATION_ID, halt: (reason) => halts.push(reason) });
    const behindDb = g.p.moduleReadDb(behind, BRIDGE);
    lagging.consensusProposal(behindDb);
    await lagging.burnWatcher!.poll();
    const items = lagging.consensusProposal(behindDb).map(decodeBridgeItem);
    expect(halts).toEqual([]);
    const check = items.find((i) => i.kind === "supply_check");
    expect(check).toMatchObject({ kind: "supply_check" });
    // Consensus orders the item after the mint's block: there the state holds the mint. No halt.
    const ordered = new MemoryKv();
    for (const [k, v2] of g.db.scan(new Uint8Array())) ordered.put(k, v2);
    expect(lagging.processConsensusItem(g.p.moduleDb(ordered, BRIDGE), encodeBridgeItem(check!), 0).ok).toBe(
      true,
    );
    expect(halts).toEqual([]);
    expect(lagging.alerts()).toEqual([]);
    // Judged later, after a mint as large left Σ signed (returned: t guardians saw it unminted past its
    // deadline; the mint this node showed at the reading's block can be one, if a reorg shallower than
    // the depth took its block out): what left Σ signed since the reading counts as signed, as it was
    // then (review of d378e6f: judged against Σ signed alone, this halted).
    const later = new MemoryKv();
    for (const [k, v2] of ordered.scan(new Uint8Array())) later.put(k, v2);
    const laterDb = new BridgeStateWriter(g.p.moduleDb(later, BRIDGE));
    const t = laterDb.totals();
    laterDb.setTotals({ ...t, signed: t.signed - amount, returnedEver: t.returnedEver + amount });
    expect(lagging.processConsensusItem(g.p.moduleDb(later, BRIDGE), encodeBridgeItem(check!), 0).ok).toBe(
      true,
    );
    expect(halts).toEqual([]);
    // Judged: no check pending; the next proposal on the caught-up state has none.
    expect(
      lagging.consensusProposal(g.p.moduleReadDb(ordered, BRIDGE)).map(decodeBridgeItem),
    ).not.toContainEqual(expect.objectContaining({ kind: "supply_check" }));
    await lagging.stop();
  });

  it("the accountant: a guardian that sees more wXMR on chain than the federation signed signs nothing more and halts", async () => {
    const g = f.guardians[0]!;
    await g.bridge.burnWatcher!.poll();
    expect(g.bridge.checkBooks(f.mdb())).toBeUndefined();
    expect(g.bridge.outputOutcome(f.mdb(), mintOutPoint!)!.signature).toBeDefined();
    f.round(); // nothing to judge: no supply_check item
    expect(g.halts).toEqual([]);
    // t guardian keys stolen (the test holds them): a mint for an output the federation never accepted.
    const block = await anvil.publicClient.getBlock();
    const stolen = {
      recipient: user().address,
      amount: 10n ** 12n,
      depositId: asHex(`0x${"ab".repeat(32)}`),
      deadline: block.timestamp + 3600n,
      setIndex: 1,
    };
    expect(await sendMint(config, stolen, stolenAnswers(config, stolen))).toBe("success");
    await g.bridge.burnWatcher!.poll();
    // Its reading goes into its proposal; judged where consensus orders it: halted, no signature after.
    const proposed = g.bridge.consensusProposal(f.mdb()).map(decodeBridgeItem);
    expect(proposed).toContainEqual(expect.objectContaining({ kind: "supply_check" }));
    expect(g.halts).toEqual([]);
    f.round();
    expect(g.bridge.outputOutcome(f.mdb(), mintOutPoint!)!.signature).toBeUndefined();
    expect(g.halts).toHaveLength(1);
    expect(g.halts[0]).toMatch(
      /wXMR total supply on chain \d+ exceeds the \d+ piconero the federation signed/,
    );
    expect(g.bridge.alerts()).toEqual([{ code: "wxmr_supply_exceeds_signed", message: g.halts[0] }]);
  });

  it("a guardian restarted on its database resumes from its persisted last-scanned block and votes nothing twice", async () => {
    const g = f.guardians[0]!;
    const before = g.bridge.chainView(f.mdb()).scanned[0]!;
    const restarted = new BridgeServerModule(BRIDGE, config, {
      evmKey: evmKeyOf(0),
      source: new ViemEvmSource(anvil.rpcUrl, config.contract),
      pollMs: 1000,
      autoPoll: false,
    });
    restarted.start({ ...context(0), federationId: new Uint8Array(32) });
    expect(restarted.consensusProposal(f.mdb())).toEqual([]);
    expect(restarted.burnWatcher!.findings.block).toBe(BigInt(before.block));
    await restarted.burnWatcher!.poll();
    // Only blocks after the persisted one are read: no burn is found again.
    expect(restarted.burnWatcher!.findings.burns).toEqual([]);
    await restarted.stop();
  });
});

describe("the accountant, a wXMR supply above 2^64 − 1 piconero (real anvil)", () => {
  it("t stolen keys queue a mint of 2^64 piconero (above the single-mint cap) and anyone executes it after the delay: the guardian halts at once (no Σ signed in a state reaches it, and a supply_check item carries a u64) and its proposal still encodes (failed before: consensusProposal threw 'u64 out of range', no halt)", async () => {
    // A contract of its own: the earlier tests' chain state and books are not touched.
    const deployed = await deployWrappedMonero(anvil, { guardians: config.guardians, threshold: 3 });
    const c = { ...config, contract: deployed.address };
    const f = federation(c, { sources: () => new ViemEvmSource(anvil.rpcUrl, c.contract) });
    const g = f.guardians[0]!;
    g.bridge.consensusProposal(f.mdb()); // where the scan resumes
    await g.bridge.burnWatcher!.poll();
    expect(g.bridge.checkBooks(f.mdb())).toBeUndefined();
    const block = await anvil.publicClient.getBlock();
    const stolen = {
      recipient: anvil.accounts[1]!.address,
      amount: 2n ** 64n,
      depositId: asHex(`0x${"cd".repeat(32)}`),
      deadline: block.timestamp + 3600n,
      setIndex: 1,
    };
    expect(await sendMint(c, stolen, stolenAnswers(c, stolen))).toBe("success");
    const { mintDelay } = await anvil.publicClient.readContract({
      address: c.contract,
      abi: wrappedMoneroAbi,
      functionName: "limits",
    });
    await anvil.testClient.increaseTime({ seconds: Number(mintDelay) + 1 });
    await anvil.testClient.mine({ blocks: 1 });
    const executed = await anvil.walletClient.writeContract({
      address: c.contract,
      abi: wrappedMoneroAbi,
      functionName: "executeDelayed",
      args: [stolen.depositId],
    });
    expect((await anvil.publicClient.waitForTransactionReceipt({ hash: executed })).status).toBe("success");
    await g.bridge.burnWatcher!.poll();
    expect(g.bridge.burnWatcher!.totalSupplyAtHead?.supply).toBe(2n ** 64n);
    const proposed = g.bridge.consensusProposal(f.mdb()).map(decodeBridgeItem);
    expect(proposed).not.toContainEqual(expect.objectContaining({ kind: "supply_check" }));
    expect(g.halts).toHaveLength(1);
    expect(g.halts[0]).toMatch(
      /wXMR total supply on chain 18446744073709551616 exceeds the 0 piconero the federation signed/,
    );
    expect(g.bridge.alerts()).toEqual([{ code: "wxmr_supply_exceeds_signed", message: g.halts[0] }]);
    await g.bridge.stop();
  });
});
