// Deposits end to end against real Monero software: monerod in regtest, one monero-wallet-rpc per
// guardian (each guardian checks claims against its own wallet-rpc) plus one for the user, and four
// real guardian processes (apps/guardiand: TLS links, LMDB, HTTP API) running the dummy, mint and
// monero modules. A user pays the federation's address from their own Monero wallet, and the wallet
// SDK's claimDeposit turns the payment into e-cash; then the bad inputs of issue 5 that concern
// deposits, the CLI as a process, a claim sealed to one guardian and relayed (`conclave claim --seal`,
// `conclave relay`, `conclave claim --wait`), a Byzantine guardian (raw items through its IPC control:
// false heights and verdicts, and a front-run claim with a copied proof) and one guardian down. The audit is checked at every guardian after each case. Timings are printed.
//
// The federation's deposit address is a plain wallet's (guardian 0's): the 3-of-4 multisig address
// costs ~25-55 s more here (enable-multisig-experimental through monero-wallet-cli on each wallet)
// and changes nothing that deposits do; it comes with payouts. So the reserves agreed in consensus
// (reserves-agreement.ts) are reported by guardian 0 alone: the others' wallets only check claims,
// hold nothing of the federation's and run with the test-only `testWalletNotFederation` (no reserves
// report). One fresh report of the 2f + 1 needed: no agreed figure ("unknown"), nothing paused.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConclaveError,
  TransactionRejectedError,
  decodeSealed,
  encodeConsensusItem,
  encodeInvite,
  encodeSealed,
  encodeTransaction,
  federationId,
  fromHex,
  toHex,
  txidHex,
} from "@conclave/core-common";
import type { TxOutput } from "@conclave/core-common";
import { FederationClient, NoQuorumError } from "@conclave/core-client";
import type { OperationRecord } from "@conclave/core-client";
import { NodeSigner, sha256 } from "@conclave/core-server";
import {
  DEV_MODULES_WITH_MINT,
  startGuardian,
  stopGuardian,
  waitConnected,
  writeLocalFederation,
} from "@conclave/guardiand";
import type { GuardianProcess, LocalFederationFiles } from "@conclave/guardiand";
import { buildTransaction, coinOutput } from "@conclave/module-dummy";
import { parseXmr } from "@conclave/monero";
import type { WalletRpc } from "@conclave/monero";
import {
  BLOCKS_BEFORE_FIRST_TRANSFER,
  ensureMoneroInstalled,
  mineBlocks,
  startRegtest,
} from "@conclave/testing-monero";
import type { Regtest } from "@conclave/testing-monero";
import { WalletKeys, federationRoot, nodeWallets, relaySealedClaim } from "@conclave/wallet-standard/node";
import type { DepositProgress, Wallet } from "@conclave/wallet-standard/node";
import { DepositViewSchema } from "./api.js";
import type { DepositView } from "./api.js";
import { depositInput } from "./client.js";
import { claimProof, encodeMoneroItem } from "./common.js";
import type { MoneroItem } from "./common.js";
// The CLI as a user's shell runs it (a test harness of apps/cli, imported as its own tests import guardiand).
import { runConclave } from "../../../apps/cli/src/cli-test-harness.js";

const DUMMY = 0;
const MINT = 1;
const MONERO = 2;
const GUARDIANS = 4;
const CONFIRMATIONS = 3;
const EXPIRY_BLOCKS = 12;
const MIN_DEPOSIT = parseXmr("0.001");

let net: Regtest | undefined;
let dir = "";
let files: LocalFederationFiles;
const guardians: GuardianProcess[] = [];
let client: FederationClient;
let invite = "";
let user: WalletRpc;
let userAddress = "";
let federationAddress = "";
let wallet: Wallet;
let mnemonic = "";
/** What the federation must hold: every deposit spent into it. */
let deposited = 0n;
/** E-cash issued from deposits, and dummy coins bought with deposits. */
let ecash = 0n;
let coins = 0n;
const timings: Record<string, number> = {};
let lapStart = Date.now();
const lap = (name: string) => {
  timings[name] = Date.now() - lapStart;
  lapStart = Date.now();
};

/** Which way a race went (printed at the end). */
const observed: string[] = [];
/** The monero module's own log lines (watcher events), printed at the end. */
const moduleLog: string[] = [];

/** A made-up tx key: a canonical scalar (below 2^252), as a real one is. */
function madeUpTxKey(): string {
  const k = new Uint8Array(randomBytes(32));
  k[31] = k[31]! & 0x0f;
  k[0] = k[0]! | 1;
  return toHex(k);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Mines a block now and then (as a real chain does) while a test waits on the federation. */
class BlockTicker {
  private running: Promise<void> | undefined;
  private stopping = false;
  /** generateblocks calls that failed (retried at the next tick; a dead loop would hang a test). */
  failures: string[] = [];
  /** When each block count was reached (ms). */
  readonly reachedAt = new Map<number, number>();
  start(everyMs = 300): void {
    if (this.running && !this.stopping) return;
    this.stopping = false;
    this.running = (async () => {
      while (!this.stopping) {
        try {
          await this.mine(1);
        } catch (e) {
          this.failures.push(e instanceof Error ? e.message : String(e));
        }
        await sleep(everyMs);
      }
    })();
  }
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }
  /** Mines `n` blocks; returns the new block count. */
  async mine(n: number): Promise<number> {
    const top = await mineBlocks(regtest().daemon.rpc, n, userAddress);
    this.reachedAt.set(top + 1, Date.now());
    return top + 1;
  }
}
const ticker = new BlockTicker();

function regtest(): Regtest {
  if (!net) throw new Error("regtest did not start");
  return net;
}

const depositPath = (txid: string) => `/v1/modules/monero/deposits/${txid}`;

/** Guardian `g` puts raw module items into its own bundle, as a Byzantine guardian can. */
async function inject(g: number, items: MoneroItem[]): Promise<void> {
  const hex = items.map((item) =>
    toHex(encodeConsensusItem({ kind: "module", module: MONERO, payload: encodeMoneroItem(item) })),
  );
  await guardians[g]!.request({ cmd: "submit", items: hex });
}

interface HeightView {
  agreedHeight: number;
  reported: (number | null)[];
}
async function heights(): Promise<HeightView> {
  const url = files.config.guardians[0]!.api!.url;
  return (await (await fetch(`${url}/v1/modules/monero/height`)).json()) as HeightView;
}

/**
 * The deposit as t guardians agree on it. Its view carries the agreed height, which moves with every
 * block: a guardian one block behind the others answers differently for a moment, so a missing
 * quorum is asked again (bounded), as the wallet does.
 */
async function view(txid: string): Promise<DepositView> {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await client.queryConsensus(depositPath(txid), DepositViewSchema)).value;
    } catch (e) {
      if (!(e instanceof NoQuorumError) || attempt >= 50) throw e;
      await sleep(100);
    }
  }
}

async function post(
  guardian: number,
  path: string,
  body: unknown,
): Promise<{ status: number; json: unknown }> {
  const url = files.config.guardians[guardian]!.api!.url;
  const r = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

/** Pays `address` from the user's Monero wallet: the txid and its tx key (the proof of payment). */
async function pay(address: string, amount: bigint): Promise<{ txid: string; txKey: string }> {
  await user.refresh();
  const sent = await user.transfer({ destinations: [{ address, amount }] });
  if (!sent.txid) throw new Error("transfer gave no txid");
  return { txid: sent.txid, txKey: await user.getTxKey(sent.txid) };
}

/** POST claims' body for `claimKey` (hex), with the proof the wallet would make from the tx key. */
function claimBody(paid: { txid: string; txKey: string }, claimKey: string) {
  const proof = claimProof({
    federationAddress,
    txid: fromHex(paid.txid),
    txKey: fromHex(paid.txKey),
    claimKey: fromHex(claimKey),
  });
  return { txid: paid.txid, claimKey, proof: toHex(proof) };
}

interface AuditReply {
  audit: {
    assets: string;
    liabilities: string;
    modules: { instanceId: number; kind: string; assets: string; liabilities: string }[];
  };
}

/** Every guardian reports the same audit, the deposits back exactly the e-cash and coins they paid for. */
async function checkAudit(): Promise<void> {
  let replies: AuditReply[] = [];
  for (let i = 0; i < 50; i++) {
    replies = await Promise.all(guardians.map((g) => g.request<AuditReply>({ cmd: "audit" })));
    if (replies.every((r) => JSON.stringify(r.audit) === JSON.stringify(replies[0]!.audit))) break;
    await sleep(100);
  }
  for (const r of replies) {
    expect(r.audit).toEqual(replies[0]!.audit);
    const of = (id: number) => r.audit.modules.find((m) => m.instanceId === id)!;
    expect(BigInt(of(MONERO).assets)).toBe(deposited);
    expect(BigInt(of(MONERO).liabilities)).toBe(0n);
    expect(BigInt(of(MINT).liabilities)).toBe(ecash);
    expect(BigInt(of(DUMMY).liabilities)).toBe(coins);
    expect(BigInt(r.audit.assets)).toBe(deposited);
    expect(BigInt(r.audit.assets) >= BigInt(r.audit.liabilities)).toBe(true);
  }
}

/** The wallet's operation log entries of claims of `txid`, oldest first. */
async function claimEntries(txid: string): Promise<OperationRecord[]> {
  return (await wallet.operations()).filter(
    (o) => o.kind === "claim" && JSON.stringify(o.meta).includes(`"txid":"${txid}"`),
  );
}

async function refusal(p: Promise<unknown>): Promise<ConclaveError> {
  const e: unknown = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!(e instanceof ConclaveError)) throw new Error(`expected a refusal, got ${String(e)}`);
  return e;
}

beforeAll(async () => {
  ensureMoneroInstalled();
  lapStart = Date.now();
  // One wallet-rpc per guardian, one for the user.
  net = await startRegtest({ walletRpcs: GUARDIANS + 1 });
  const rpcs = net.walletRpcs;
  user = rpcs[GUARDIANS]!.rpc;
  lap("start monerod + 5 wallet-rpc");
  await user.createWallet({ filename: "user", password: "" });
  userAddress = (await user.getAddress()).address;
  // The chain grows (coinbase unlocks after 60 blocks) while the guardians' wallets are made.
  const mining = mineBlocks(net.daemon.rpc, BLOCKS_BEFORE_FIRST_TRANSFER, userAddress);
  void mining.catch(() => undefined);
  await Promise.all(
    rpcs.slice(0, GUARDIANS).map((w, i) => w.rpc.createWallet({ filename: `guardian-${i}`, password: "" })),
  );
  federationAddress = (await rpcs[0]!.rpc.getAddress()).address;
  await mining;
  lap("create 5 wallets, mine 80 blocks");

  dir = mkdtempSync(join(tmpdir(), "conclave-monero-deposit-"));
  files = await writeLocalFederation(dir, GUARDIANS, { heightsPerSession: 4 }, [
    ...DEV_MODULES_WITH_MINT,
    {
      instanceId: MONERO,
      kind: "monero",
      config: {
        network: "mainnet", // regtest uses mainnet addresses
        address: federationAddress,
        guardians: GUARDIANS,
        confirmations: CONFIRMATIONS,
        depositMinPiconero: MIN_DEPOSIT.toString(),
        claimExpiryBlocks: EXPIRY_BLOCKS,
        openClaimsPerGuardianMax: 64,
      },
    },
  ]);
  // Each guardian's own settings: the shared monerod (regtest has one chain) and its own wallet-rpc.
  // Only guardian 0's wallet is the federation's: the others report no reserves (see the file comment).
  files.dataDirs.forEach((d, i) => {
    mkdirSync(d, { recursive: true });
    const local = {
      daemonUrl: net!.daemon.url,
      walletRpcUrl: rpcs[i]!.url,
      pollMs: 200,
      ...(i === 0 ? {} : { testWalletNotFederation: true }),
    };
    writeFileSync(join(d, "guardian.local.json"), JSON.stringify({ modules: { [MONERO]: local } }));
  });
  for (let i = 0; i < GUARDIANS; i++)
    guardians.push(
      await startGuardian(files, i, {
        quiet: false,
        onLine: (line) => {
          if (line.includes('"module.monero.')) moduleLog.push(`g${i} ${line}`);
        },
      }),
    );
  await waitConnected(guardians);
  invite = encodeInvite({
    federationId: toHex(federationId(files.config, sha256)),
    name: files.config.name,
    guardians: files.config.guardians.map((g) => ({ name: g.name, api: g.api!.url })),
  });
  client = await FederationClient.join(invite);
  const joined = await nodeWallets().joinWallet(join(dir, "wallet-a"), invite);
  wallet = joined.wallet;
  mnemonic = joined.mnemonic;
  lap("start 4 guardians, join a wallet");
}, 240_000);

afterAll(async () => {
  await ticker.stop();
  await wallet?.close();
  await Promise.allSettled(guardians.map((g) => stopGuardian(g)));
  await net?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  console.log(`monero deposit e2e timings (ms): ${JSON.stringify(timings)}`);
  for (const o of observed) console.log(o);
  if (ticker.failures.length > 0)
    console.log(`block ticker failures: ${ticker.failures.slice(-5).join("; ")}`);
  console.log(`monero module log (${moduleLog.length} lines):\n${moduleLog.slice(-60).join("\n")}`);
});

describe("Monero deposits into e-cash (real monerod, 4 guardian processes, the wallet SDK)", () => {
  let first = { txid: "", txKey: "" };

  it("waits while the deposit is unconfirmed, then credits it: the wallet receives the amount in notes", async () => {
    lapStart = Date.now();
    const amount = parseXmr("1.5");
    first = await pay(federationAddress, amount);
    const progress: DepositProgress[] = [];
    let doneAt = 0;
    const claiming = wallet
      .claimDeposit(first, { onProgress: (p) => progress.push(p), pollMs: 100, timeoutMs: 120_000 })
      .then((r) => {
        doneAt = Date.now();
        return r;
      });
    void claiming.catch(() => undefined);
    // Ordered and watched, but in the pool: nobody attests it, it cannot be spent.
    await waitFor("the claim to be ordered", async () =>
      (await view(first.txid)).state === "open" ? true : undefined,
    );
    await sleep(1_000); // several polls of every guardian's watcher
    expect(await view(first.txid)).toMatchObject({ state: "open", attestations: [], spendable: false });
    // In a block: 1, then 2 confirmations, still not enough for the guardians to attest.
    for (let mined = 1; mined < CONFIRMATIONS; mined++) {
      const height = await ticker.mine(1);
      await waitFor("the height to be agreed", async () => {
        const v = await view(first.txid);
        return v.agreedHeight >= height ? v : undefined;
      });
      await sleep(500);
      expect(await view(first.txid)).toMatchObject({ state: "open", attestations: [] });
    }
    const confirmedHeight = await ticker.mine(1);
    const confirmedAt = ticker.reachedAt.get(confirmedHeight)!;
    const result = await claiming;
    timings["deposit confirmed -> e-cash in the wallet"] = doneAt - confirmedAt;
    expect(result).toMatchObject({ depositTxid: first.txid, amount, dust: 0n });
    expect(result.notesIssued).toBeGreaterThan(0);
    expect((await wallet.info()).balance).toBe(amount);
    const stages = progress.map((p) => p.stage);
    expect(stages[0]).toBe("claimed");
    expect(stages).toContain("verifying");
    expect(stages.at(-1)).toBe("done");
    const v = await view(first.txid);
    expect(v).toMatchObject({ state: "spent", spent: true, amount: amount.toString() });
    expect(v.attestations.filter((a) => a.verdict === "valid").length).toBeGreaterThanOrEqual(3);
    // The operation log: the claim's entry, ended done in the write that issued the notes.
    expect(await claimEntries(first.txid)).toMatchObject([
      {
        module: "monero",
        state: "done",
        result: {
          depositTxid: first.txid,
          transaction: result.txid,
          amount: amount.toString(),
          state: "credited",
        },
      },
    ]);
    deposited += amount;
    ecash += amount;
    await checkAudit();
    lap("unconfirmed deposit -> e-cash");
  });

  it("refuses a wrong tx key (bad_proof at every guardian's API), and the right key still claims the deposit afterwards", async () => {
    ticker.start();
    const amount = parseXmr("0.25");
    const paid = await pay(federationAddress, amount);
    // A typo'd tx key (not a scalar) is caught by the wallet before it makes a proof; a garbage proof
    // (and the tx key itself, the old request form) by every guardian's API before any wallet-rpc.
    const garbage = "ff".repeat(32);
    const typo = await refusal(wallet.claimDeposit({ txid: paid.txid, txKey: garbage }));
    expect(typo.code).toBe("invalid_deposit_proof");
    const someKey = toHex(new NodeSigner(new Uint8Array(randomBytes(32))).publicKey);
    for (let g = 0; g < GUARDIANS; g++) {
      const r = await post(g, "/v1/modules/monero/claims", {
        txid: paid.txid,
        proof: garbage.repeat(3),
        claimKey: someKey,
      });
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.json)).toContain("proof is not a claim proof");
      const old = await post(g, "/v1/modules/monero/claims", { ...paid, claimKey: someKey });
      expect(old.status).toBe(400);
    }
    // A wrong (canonical) tx key makes a proof that check_tx_proof finds not good: every guardian's API
    // checks it against its own wallet-rpc before queuing it (issue 10, item 6), so nothing is ordered.
    const wrong = await refusal(
      wallet.claimDeposit({ txid: paid.txid, txKey: madeUpTxKey() }, { pollMs: 100, timeoutMs: 60_000 }),
    );
    expect(wrong).toMatchObject({ code: "bad_proof", status: 400 });
    expect(wrong.message).toContain("wrong tx key");
    expect(await view(paid.txid)).toMatchObject({ state: "unclaimed" });
    // Its owner claims it with the right key.
    const before = (await wallet.info()).balance;
    const r = await wallet.claimDeposit(paid, { pollMs: 100, timeoutMs: 60_000 });
    expect(r.amount).toBe(amount);
    expect((await wallet.info()).balance).toBe(before + amount);
    expect(await view(paid.txid)).toMatchObject({ state: "spent", round: 1 });
    // Two entries in the log: the wrong key's claim failed (dropped), the right one's done.
    expect(await claimEntries(paid.txid)).toMatchObject([
      { state: "failed", error: { code: "bad_proof" } },
      { state: "done", result: { depositTxid: paid.txid, amount: amount.toString() } },
    ]);
    deposited += amount;
    ecash += amount;
    await checkAudit();
    lap("wrong tx key, then the right one");
  });

  it("credits a claim left pending between its creation and crediting exactly once, through resume()", async () => {
    await ticker.stop(); // the deposit stays unconfirmed until this test mines
    const amount = parseXmr("0.25");
    const paid = await pay(federationAddress, amount);
    const before = (await wallet.info()).balance;
    // The claim is written and posted, then the caller stops waiting: the wallet holds what a crash
    // at that point leaves (the claim in claim/, its log entry pending), and nothing is credited.
    const stopped = await refusal(wallet.claimDeposit(paid, { pollMs: 100, timeoutMs: 2_000 }));
    expect(stopped.code).toBe("deposit_timeout");
    expect(await claimEntries(paid.txid)).toMatchObject([{ state: "pending" }]);
    await ticker.mine(CONFIRMATIONS);
    await waitFor("the deposit to be spendable", async () =>
      (await view(paid.txid)).spendable ? true : undefined,
    );
    expect(await wallet.resume()).toBeGreaterThanOrEqual(1);
    expect(await wallet.resume()).toBe(0);
    expect((await wallet.info()).balance).toBe(before + amount);
    expect(await claimEntries(paid.txid)).toMatchObject([
      { state: "done", result: { depositTxid: paid.txid, amount: amount.toString() } },
    ]);
    deposited += amount;
    ecash += amount;
    await checkAudit();
    lap("claim left pending -> resume credits it once");
    ticker.start();
  });

  it("refuses a payment to another address, even with its right tx key", async () => {
    // Another standard address (guardian 1's own wallet): the proof is good (R = r·G, D = r·A of the
    // federation's view key) but the federation's address received nothing.
    const other = (await regtest().walletRpcs[1]!.rpc.getAddress()).address;
    const paid = await pay(other, parseXmr("0.1"));
    // Refused at every guardian's API, which asks its own wallet-rpc first (issue 10, item 6).
    const e = await refusal(wallet.claimDeposit(paid, { pollMs: 100, timeoutMs: 60_000 }));
    expect(e).toMatchObject({ code: "nothing_received", status: 400 });
    // A subaddress (one subaddress destination: R = r·D): no proof made for R = r·G holds.
    const sub = (await user.createAddress({ label: "not the federation" })).address;
    const toSub = await pay(sub, parseXmr("0.1"));
    const e2 = await refusal(wallet.claimDeposit(toSub, { pollMs: 100, timeoutMs: 60_000 }));
    expect(e2).toMatchObject({ code: "bad_proof", status: 400 });
    await checkAudit();
    lap("deposit to another address");
  });

  it("refuses a claim of a txid that does not exist at every guardian's API: nothing is ordered, nothing attested", async () => {
    // Before issue 10 item 6 such claims were ordered and stayed open claimExpiryBlocks; a few hundred
    // filled a guardian's budget. Now each guardian's API asks its own monerod first (404). A claim of
    // an unknown txid that a Byzantine guardian orders still expires (server.test.ts).
    const txid = toHex(randomBytes(32));
    const e = await refusal(
      wallet.claimDeposit({ txid, txKey: madeUpTxKey() }, { pollMs: 100, timeoutMs: 90_000 }),
    );
    expect(e).toMatchObject({ code: "claim_not_taken" });
    expect(e.message).toContain("does not know transaction");
    for (let g = 0; g < GUARDIANS; g++) {
      const claimKey = toHex(new NodeSigner(new Uint8Array(32).fill(9)).publicKey);
      const r = await post(
        g,
        "/v1/modules/monero/claims",
        claimBody({ txid, txKey: madeUpTxKey() }, claimKey),
      );
      expect(r.status).toBe(404);
      expect(r.json).toMatchObject({ code: "unknown_transaction" });
    }
    expect(await view(txid)).toMatchObject({ state: "unclaimed", attestations: [] });
    await checkAudit();
    lap("unknown txid refused");
  });

  it("credits a deposit once: the same claim again, another key, another wallet, a second spend are all refused", async () => {
    const v = await view(first.txid);
    const claimKey = v.claimKey!;
    // The same claim at two guardians: already bound to it, nothing new.
    // (The wallet's proof is deterministic: the same bytes as the wallet sent.)
    for (const g of [0, 2]) {
      const r = await post(g, "/v1/modules/monero/claims", claimBody(first, claimKey));
      expect(r).toEqual({ status: 200, json: { txid: first.txid, state: "already" } });
    }
    // Another key (with its own good proof), at the guardian that proposed the first claim and at another one.
    const thief = new NodeSigner(new Uint8Array(randomBytes(32)));
    for (const g of [v.claimedBy!, (v.claimedBy! + 1) % GUARDIANS]) {
      const r = await post(g, "/v1/modules/monero/claims", claimBody(first, toHex(thief.publicKey)));
      expect(r.status).toBe(409);
      expect(r.json).toMatchObject({ code: "already_claimed" });
    }
    // Another wallet holding the same proof.
    const other = (await nodeWallets().joinWallet(join(dir, "wallet-b"), invite)).wallet;
    try {
      const e = await refusal(other.claimDeposit(first, { pollMs: 100, timeoutMs: 30_000 }));
      expect(e.code).toBe("deposit_claimed");
      expect((await other.info()).balance).toBe(0n);
    } finally {
      await other.close();
    }
    // Spending it again with the right claim key (re-derived from the mnemonic): spent_input.
    const root = await federationRoot(mnemonic, fromHex(client.federationId));
    const seed = new WalletKeys(root).claimSeed(0);
    const owner = new NodeSigner(seed);
    expect(toHex(owner.publicKey)).toBe(claimKey);
    const again = buildTransaction(
      [depositInput(MONERO, parseXmr("1.5"), fromHex(first.txid))],
      [coinOutput(DUMMY, parseXmr("1.5"), owner.publicKey)],
      [owner],
      sha256,
    );
    const e = await refusal(client.submitTransaction(encodeTransaction(again)));
    expect(e).toBeInstanceOf(TransactionRejectedError);
    expect(e.code).toBe("spent_input");
    expect(await view(first.txid)).toMatchObject({ state: "spent", claimKey });
    await checkAudit();
    lap("same deposit claimed again");
  });

  it("binds the first of two racing claims with different keys at different guardians; only its key can spend", async () => {
    const amount = parseXmr("0.3");
    const paid = await pay(federationAddress, amount);
    const keys = [
      new NodeSigner(new Uint8Array(randomBytes(32))),
      new NodeSigner(new Uint8Array(randomBytes(32))),
    ];
    const answers = await Promise.all(
      keys.map((k, i) =>
        post(i === 0 ? 1 : 3, "/v1/modules/monero/claims", claimBody(paid, toHex(k.publicKey))),
      ),
    );
    const bound = await waitFor("the deposit to be spendable", async () => {
      const v = await view(paid.txid);
      return v.spendable ? v : undefined;
    });
    const winner = keys.find((k) => toHex(k.publicKey) === bound.claimKey)!;
    const loser = keys.find((k) => k !== winner)!;
    expect(winner).toBeDefined();
    const loserAnswer = answers[keys.indexOf(loser)]!;
    // Consensus ordered both (the loser is listed as refused), or the winner was ordered before the
    // loser's guardian saw the claim (409 at the API) or before it proposed it (it drops a claim of
    // a txid consensus has bound meanwhile).
    const listed = bound.refusedClaims.some((r) => r.claimKey === toHex(loser.publicKey));
    if (loserAnswer.status === 200) expect(loserAnswer.json).toEqual({ txid: paid.txid, state: "queued" });
    else expect(loserAnswer).toMatchObject({ status: 409, json: { code: "already_claimed" } });
    if (listed)
      expect(bound.refusedClaims).toContainEqual(
        expect.objectContaining({ claimKey: toHex(loser.publicKey), reason: "already_claimed" }),
      );
    observed.push(
      `racing claims: the loser was ${listed ? "refused in consensus" : loserAnswer.status === 409 ? "refused at the API (409)" : "dropped by its guardian (txid bound before it proposed)"}`,
    );
    expect(bound.amount).toBe(amount.toString());
    const spendTo = (signer: NodeSigner, outputs: TxOutput[]) =>
      buildTransaction([depositInput(MONERO, amount, fromHex(paid.txid))], outputs, [signer], sha256);
    const stolen = await refusal(
      client.submitTransaction(
        encodeTransaction(spendTo(loser, [coinOutput(DUMMY, amount, loser.publicKey)])),
      ),
    );
    expect(stolen.code).toBe("bad_signature");
    const tx = spendTo(winner, [coinOutput(DUMMY, amount, winner.publicKey)]);
    await client.submitTransaction(encodeTransaction(tx));
    const agreed = await client.awaitTransaction(txidHex(tx, sha256), { timeoutMs: 30_000 });
    expect(agreed.value.state).toBe("accepted");
    await waitFor("the deposit to be spent", async () => ((await view(paid.txid)).spent ? true : undefined));
    deposited += amount;
    coins += amount;
    await checkAudit();
    lap("racing claims");
  });

  it("the CLI claims a deposit as a process: one progress line per change, then the amount received", async () => {
    ticker.start();
    const cliDir = join(dir, "wallet-cli");
    const joined = await runConclave(["--data", cliDir, "join", invite]);
    expect(joined.code).toBe(0);
    const amount = parseXmr("0.5");
    // No block until the claim is ordered: otherwise a slow process start can find the deposit deep
    // enough already, and the run has no progress line to show between "claimed" and "issuing".
    await ticker.stop();
    const paid = await pay(federationAddress, amount);
    const running = runConclave(["--data", cliDir, "claim", "--txid", paid.txid, "--tx-key", paid.txKey], {
      timeoutMs: 60_000,
    });
    await waitFor("the CLI's claim to be ordered", async () =>
      (await view(paid.txid)).state === "open" ? true : undefined,
    );
    ticker.start();
    const run = await running;
    expect({ code: run.code, stderr: run.stderr, stdout: run.stdout }).toMatchObject({ code: 0, stderr: "" });
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ {2}claimed +claim taken by [1-4] of 4 guardians$/);
    expect(
      lines.some((l) => /^ {2}(waiting|verifying|confirming) /.test(l)),
      run.stdout,
    ).toBe(true);
    expect(lines.at(-2)).toContain(`Received 0.5 XMR (${amount}p) in`);
    const info = await runConclave(["--data", cliDir, "--json", "info"]);
    expect(JSON.parse(info.stdout)).toMatchObject({ balance: amount.toString() });
    deposited += amount;
    ecash += amount;
    await checkAudit();
    lap("CLI claim");
  });

  it("a claim sealed to guardian 2 crosses relays, is refused where it does not belong, and becomes notes once", async () => {
    // The CLI wallet of the case above (its ticker still mines); TARGET is a federation index.
    ticker.start();
    const TARGET = 2;
    const target = files.config.guardians[TARGET]!;
    const targetUrl = target.api!.url;
    const cliDir = join(dir, "wallet-cli");
    const amount = parseXmr("0.75");
    const paid = await pay(federationAddress, amount);
    // Sealed with the CLI: the text alone on stdout, nothing sent to any guardian.
    const sealedRun = await runConclave([
      ...["--data", cliDir, "claim", "--txid", paid.txid, "--tx-key", paid.txKey],
      ...["--seal", "--guardian", String(TARGET)],
    ]);
    expect(sealedRun.stderr).toContain(`sealed to guardian ${TARGET} (${target.name}); nothing was sent`);
    expect(sealedRun.code).toBe(0);
    const sealed = sealedRun.stdout.trim();
    expect(sealed).toMatch(/^csealed1[A-Za-z0-9_-]+$/);
    expect(decodeSealed(sealed).guardian).toBe(TARGET);
    expect((await view(paid.txid)).state).toBe("unclaimed");

    // Relayed to the wrong guardian: refused, naming the right one.
    const wrong = await refusal(relaySealedClaim(files.config.guardians[1]!.api!.url, sealed));
    expect(wrong.code).toBe("misdirected_sealed");
    expect(wrong.message).toContain(`for guardian ${TARGET} (${target.name}, ${targetUrl})`);
    // Damaged on the way (one character): the checksum catches it before anything is sent.
    const at = 60;
    const damaged = sealed.slice(0, at) + (sealed[at] === "A" ? "B" : "A") + sealed.slice(at + 1);
    expect((await refusal(relaySealedClaim(targetUrl, damaged))).code).toBe("malformed_sealed");
    // Tampered with by a relay that re-encodes it (checksum right): refused; posted raw, oversized: 400.
    const s = decodeSealed(sealed);
    const ciphertext = Uint8Array.from(s.ciphertext);
    ciphertext[10]! ^= 0x01;
    const tampered = await refusal(relaySealedClaim(targetUrl, encodeSealed({ ...s, ciphertext })));
    expect({ code: tampered.code, status: tampered.status }).toEqual({ code: "unsealable", status: 400 });
    const oversized = await post(TARGET, "/v1/modules/monero/sealed-claims", {
      sealed: "csealed1" + "A".repeat(3100),
    });
    expect(oversized).toMatchObject({ status: 400, json: { code: "invalid_request" } });
    // Guardian 2 runs on, and nothing was claimed.
    expect(guardians[TARGET]!.child.exitCode).toBeNull();
    const status: unknown = await (await fetch(`${targetUrl}/v1/status`)).json();
    expect(status).toMatchObject({ guardian: TARGET });
    expect((await view(paid.txid)).state).toBe("unclaimed");

    // Through a relay operator's CLI with no wallet (the text on stdin, wrapped as a mail would),
    // then again through the user's wallet (its federation names guardian 2's address): harmless.
    const relayed = await runConclave(["--data", join(dir, "no-wallet"), "relay", "--url", targetUrl, "-"], {
      stdin: `${sealed.replace(/(.{70})/g, "$1\n")}\n`,
    });
    expect({ code: relayed.code, stderr: relayed.stderr }).toEqual({ code: 0, stderr: "" });
    expect(relayed.stdout).toMatch(new RegExp(`^Guardian ${TARGET} (took|already has) the sealed claim`));
    const again = await runConclave(["--data", cliDir, "relay", sealed]);
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: "" });

    // The user finishes it: wait, then the notes.
    const waited = await runConclave(["--data", cliDir, "--json", "claim", "--wait", paid.txid], {
      timeoutMs: 90_000,
    });
    expect(waited.code, waited.stderr.slice(-2000)).toBe(0);
    const result = JSON.parse(waited.stdout) as { amount: string; dust: string; depositTxid: string };
    expect(result.depositTxid).toBe(paid.txid);
    expect(BigInt(result.amount) + BigInt(result.dust)).toBe(amount);
    const stages = waited.stderr
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { progress: { stage: string } }).progress.stage);
    expect(stages.at(-1)).toBe("done");
    expect(stages).not.toContain("claimed"); // the wallet posted nothing itself

    // Credited once: one claim round, proposed by guardian 2, spent into the notes; a relay now: "already".
    const v = await view(paid.txid);
    expect(v).toMatchObject({ state: "spent", round: 1, claimedBy: TARGET, amount: amount.toString() });
    expect(v.refusedClaims).toEqual([]);
    expect(await relaySealedClaim(targetUrl, sealed)).toEqual({
      txid: paid.txid,
      guardian: TARGET,
      state: "already",
    });
    deposited += amount;
    ecash += BigInt(result.amount);
    await checkAudit();
    lap("sealed claim (CLI seal, relay x2, wait)");
  });

  it("ignores a Byzantine guardian's false height and false attestations: nothing moves, nothing is credited wrongly", async () => {
    await ticker.stop();
    // A height far above the chain, from guardian 3: recorded as its report, not agreed.
    await inject(3, [{ kind: "height", height: 2 ** 40 }]);
    const chain = (await regtest().daemon.rpc.getHeight()).height;
    const h = await waitFor("the false height to be ordered", async () => {
      const v = await heights();
      return v.reported[3] === 2 ** 40 ? v : undefined;
    });
    expect(h.agreedHeight).toBeLessThanOrEqual(chain);
    // A real deposit: guardian 3 says "nothing received" before the honest ones can attest.
    const amount = parseXmr("0.4");
    const paid = await pay(federationAddress, amount);
    const claiming = wallet.claimDeposit(paid, { pollMs: 100, timeoutMs: 90_000 });
    void claiming.catch(() => undefined);
    const open = await waitFor("the claim to be ordered", async () => {
      const v = await view(paid.txid);
      return v.state === "open" ? v : undefined;
    });
    await inject(3, [
      {
        kind: "attest",
        txid: fromHex(paid.txid),
        round: open.round,
        verdict: { valid: false, reason: "nothing_received" },
      },
    ]);
    await waitFor("the false verdict to be ordered", async () =>
      (await view(paid.txid)).attestations.some((a) => a.guardian === 3) ? true : undefined,
    );
    // A claim of a txid that does not exist, "attested" by guardian 3 for 1000 XMR.
    const fake = toHex(randomBytes(32));
    const fakeKey = toHex(new NodeSigner(new Uint8Array(randomBytes(32))).publicKey);
    // An honest guardian's API refuses it (its monerod does not know the txid: issue 10, item 6), so
    // guardian 3 orders it itself.
    const fakeClaim = claimBody({ txid: fake, txKey: madeUpTxKey() }, fakeKey);
    expect((await post(0, "/v1/modules/monero/claims", fakeClaim)).status).toBe(404);
    await inject(3, [
      { kind: "claim", txid: fromHex(fake), claimKey: fromHex(fakeKey), proof: fromHex(fakeClaim.proof) },
    ]);
    const fakeOpen = await waitFor("the fake claim to be ordered", async () => {
      const v = await view(fake);
      return v.state === "open" ? v : undefined;
    });
    await inject(3, [
      {
        kind: "attest",
        txid: fromHex(fake),
        round: fakeOpen.round,
        verdict: { valid: true, amount: parseXmr("1000"), txHeight: chain - 5 },
      },
    ]);
    // The chain moves: the honest three credit the real deposit, the fake one never is.
    ticker.start();
    const r = await claiming;
    expect(r.amount).toBe(amount);
    const real = await view(paid.txid);
    expect(real.attestations.find((a) => a.guardian === 3)).toEqual({
      guardian: 3,
      verdict: "nothing_received",
    });
    expect(real.attestations.filter((a) => a.verdict === "valid")).toHaveLength(3);
    const expired = await waitFor("the fake claim to expire", async () => {
      const v = await view(fake);
      return v.state === "expired" ? v : undefined;
    });
    expect(expired.attestations).toEqual([
      { guardian: 3, verdict: "valid", amount: parseXmr("1000").toString(), txHeight: chain - 5 },
    ]);
    const after = await heights();
    expect(after.agreedHeight).toBeLessThan(2 ** 40);
    expect(after.agreedHeight).toBeLessThanOrEqual((await regtest().daemon.rpc.getHeight()).height);
    deposited += amount;
    ecash += amount;
    await checkAudit();
    lap("Byzantine height and attestations");
  });

  it("front-running: a Byzantine guardian orders the user's proof under its own key first; it is rejected (bad_proof) and the user's claim credits the user", async () => {
    ticker.start();
    const amount = parseXmr("0.35");
    const paid = await pay(federationAddress, amount);
    // A fresh wallet: its first claim key (index 0) is known in advance, so the test can compute the
    // exact claim (txid, claim key, proof) that the wallet will post, as a guardian receiving it sees it.
    const joined = await nodeWallets().joinWallet(join(dir, "wallet-front-run"), invite);
    const victim = joined.wallet;
    try {
      const root = await federationRoot(joined.mnemonic, fromHex(client.federationId));
      const userKey = toHex(new NodeSigner(new WalletKeys(root).claimSeed(0)).publicKey);
      const seen = claimBody(paid, userKey);
      // Guardian 3 proposes the same txid with ITS key and the copied proof, before the user's claim.
      const thief = new NodeSigner(new Uint8Array(randomBytes(32)));
      await inject(3, [
        { kind: "claim", txid: fromHex(paid.txid), claimKey: thief.publicKey, proof: fromHex(seen.proof) },
      ]);
      const bound = await waitFor("the front-run claim to be ordered", async () => {
        const v = await view(paid.txid);
        return v.state === "open" ? v : undefined;
      });
      expect(bound).toMatchObject({ claimKey: toHex(thief.publicKey), claimedBy: 3, round: 1 });
      // Every honest guardian's check_tx_proof (the thief's message) fails: rejected, the txid released.
      const rejected = await waitFor("the front-run claim to be rejected", async () => {
        const v = await view(paid.txid);
        return v.state === "rejected" ? v : undefined;
      });
      expect(rejected.closedReason).toBe("bad_proof");
      expect(rejected.attestations.filter((a) => a.verdict === "bad_proof").length).toBeGreaterThanOrEqual(3);
      // The user's wallet claims it (posting the very claim the thief copied) and gets the notes.
      const r = await victim.claimDeposit(paid, { pollMs: 100, timeoutMs: 60_000 });
      expect(r.amount).toBe(amount);
      expect((await victim.info()).balance).toBe(amount);
      expect(await view(paid.txid)).toMatchObject({ state: "spent", round: 2, claimKey: userKey });
      // The thief's key cannot spend it.
      const stolen = await refusal(
        client.submitTransaction(
          encodeTransaction(
            buildTransaction(
              [depositInput(MONERO, amount, fromHex(paid.txid))],
              [coinOutput(DUMMY, amount, thief.publicKey)],
              [thief],
              sha256,
            ),
          ),
        ),
      );
      expect(stolen.code).toBe("spent_input");
    } finally {
      await victim.close();
    }
    deposited += amount;
    ecash += amount;
    await checkAudit();
    lap("front-run claim with a copied proof");
  });

  it("keeps crediting with one guardian down (f = 1); restarted, that guardian catches up to the same state", async () => {
    ticker.start();
    await stopGuardian(guardians[2]!);
    const amount = parseXmr("0.2");
    const paid = await pay(federationAddress, amount);
    const r = await wallet.claimDeposit(paid, { pollMs: 100, timeoutMs: 90_000 });
    expect(r.amount).toBe(amount);
    const v = await view(paid.txid);
    expect(v.attestations.map((a) => a.guardian)).not.toContain(2);
    deposited += amount;
    ecash += amount;
    guardians[2] = await startGuardian(files, 2, {
      quiet: false,
      onLine: (line) => {
        if (line.includes('"module.monero.')) moduleLog.push(`g2 ${line}`);
      },
    });
    await waitConnected(guardians);
    // Its own API answers what the others agreed on (it replayed the blocks it missed).
    const own = await waitFor("guardian 2 to catch up", async () => {
      const url = files.config.guardians[2]!.api!.url;
      const answer = DepositViewSchema.parse(await (await fetch(`${url}${depositPath(paid.txid)}`)).json());
      return answer.state === "spent" ? answer : undefined;
    });
    expect(own).toMatchObject({ state: "spent", amount: amount.toString(), claimKey: v.claimKey });
    await checkAudit();
    lap("one guardian down, then back");
  });
});
