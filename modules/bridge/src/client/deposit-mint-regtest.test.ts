// wXMR straight from a Monero deposit, the client half end to end with real parts: monerod regtest
// with a 3-of-4 multisig wallet (testing-monero's startMultisigRegtest, as burn-payout-regtest),
// anvil with the wXMR contract, four guardian processes running the mint, monero and bridge modules
// (bridge-federation-fixture.ts; no key ceremony), wallets on LMDB. A plain Monero wallet (the
// miner's) pays the federation's address; the SDK's bridgeMintFromDeposit and the CLI's `bridge-mint
// --from-deposit` (also with `--seal` and `conclave relay`) turn that payment into one refundable
// (0x02) mint output worth the deposit less the federation's fee for that form (its config's
// refundableMintFeePiconero, 0.0001 XMR by default; threat-model 12w), submitted to anvil, the
// balance read on chain; a deposit below the minimum + fee becomes notes; a wallet cut off after the
// federation accepted the mint, before it had the signatures, finishes on reopening.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import { parseXmr, payStallSafe } from "@conclave/monero";
import { BlockMiner, ensureMoneroInstalled, startMultisigRegtest } from "@conclave/testing-monero";
import type { MultisigRegtest } from "@conclave/testing-monero";
import { nodeWallets } from "@conclave/wallet-standard/node";
import { bytesToHex } from "viem";
import { runConclave } from "../../../../apps/cli/src/cli-test-harness.js";
import type { CliRun } from "../../../../apps/cli/src/cli-test-harness.js";
import { startBridgeFederation } from "./bridge-federation-fixture.js";
import type { BridgeFederation } from "./bridge-federation-fixture.js";
import type { EvmSender } from "./config.js";
import { REFUNDABLE_MINT_FEE_PICONERO_DEFAULT, REFUNDABLE_MINT_MIN_PICONERO_DEFAULT } from "../common.js";

/** What each refundable mint output pays the federation (the fixture's config keeps the default). */
const FEE = REFUNDABLE_MINT_FEE_PICONERO_DEFAULT;

let ms: MultisigRegtest | undefined;
let fed: BridgeFederation | undefined;
let blocks: BlockMiner | undefined;
const timings: Record<string, number> = {};

beforeAll(async () => {
  ensureMoneroInstalled();
  let t0 = Date.now();
  ms = await startMultisigRegtest({ threshold: 3, total: 4 });
  timings["regtest, wallets, 3-of-4 multisig, 80 blocks"] = Date.now() - t0;
  t0 = Date.now();
  fed = await startBridgeFederation("deposit-mint-", { monero: ms });
  timings["anvil, contract, four guardian processes, agreed EVM time"] = Date.now() - t0;
  // Blocks go to the user's wallet, not the paying one: the miner's wallet-rpc then has no coinbase
  // outputs to scan per block, and 60 more blocks first give its payments decoys (with only the
  // set-up's blocks, a payment's `transfer` stalled for minutes here, as monero-federation.ts notes).
  blocks = new BlockMiner(ms.net.daemon.rpc, ms.userAddress);
  // In batches of 10: at load 22-30 one generateblocks of 60 got no answer within the client's 60 s.
  for (let i = 0; i < 6; i++) await blocks.mine(10);
  // A block a second, as a chain would: deposits reach their depth while the wallets wait.
  blocks.start(1000);
}, 600_000);

afterAll(async () => {
  await blocks?.stop();
  await fed?.stop();
  await ms?.net.stop();
  console.log(`deposit mint regtest timings (ms): ${JSON.stringify(timings)}`);
});

/** anvil's funded account i: its address and an EvmSender of its key. */
function account(i: number): { address: `0x${string}`; sender: EvmSender; key: `0x${string}` } {
  const a = fed!.anvil.accounts[i]!;
  const key = bytesToHex(a.getHdKey().privateKey!);
  return { address: a.address, key, sender: { privateKey: key, rpcUrl: fed!.anvil.rpcUrl } };
}

const wxmr = (owner: `0x${string}`) =>
  fed!.anvil.publicClient.readContract({
    address: fed!.contract,
    abi: wrappedMoneroAbi,
    functionName: "balanceOf",
    args: [owner],
  });

/** The miner's plain Monero wallet pays the federation's multisig address: txid and tx key. */
const pay = (xmr: string | bigint) =>
  blocks!.paused(() =>
    payStallSafe(ms!.miner, ms!.multisigAddress, [typeof xmr === "bigint" ? xmr : parseXmr(xmr)]),
  );

/** Every guardian's view of a mint output names a refund key: the refundable 0x02 form. */
async function expectRefundable(txid: string, output: number): Promise<void> {
  for (const url of fed!.guardianUrls) {
    const view = (await (await fetch(`${url}/v1/modules/bridge/mints/${txid}/${output}`)).json()) as {
      expiry?: { refundKey: string };
    };
    expect(view.expiry?.refundKey).toMatch(/^0x[0-9a-f]{64}$/);
  }
}

describe("wXMR from a Monero deposit, client half (monerod regtest, anvil, four guardian processes)", () => {
  it("the SDK: a payment to the federation's address is minted as wXMR less the refundable mint's fee (one refundable output, no e-cash in between), submitted to anvil; the same deposit cannot mint twice", async () => {
    const { wallet } = await nodeWallets().joinWallet(join(fed!.dir, "sdk-wallet"), fed!.invite);
    try {
      const user = account(1);
      const before = await wxmr(user.address);
      const { txid, txKey } = await pay("0.6");
      const stages: string[] = [];
      const minted = await wallet.bridgeMintFromDeposit(
        user.address,
        { txid, txKey },
        { submit: user.sender, onProgress: (p) => stages.push(p.stage) },
      );
      expect(stages).toContain("deposit");
      expect(stages.slice(-3)).toEqual(["accepted", "signed", "submitted"]);
      expect(minted.submission?.status).toBe("success");
      // The output is the deposit less the federation's fee for the refundable form, reported.
      expect(minted.call).toMatchObject({ recipient: user.address, amount: parseXmr("0.6") - FEE });
      expect(minted.call.signatures).toHaveLength(3);
      expect(minted.fee).toBe(0n);
      expect(minted.federationFee).toBe(FEE);
      expect(await wxmr(user.address)).toBe(before + parseXmr("0.6") - FEE);
      expect((await wallet.info()).balance).toBe(0n);
      await expectRefundable(minted.txid, minted.output);
      expect((await wallet.bridgeStatus(minted.txid, { rpcUrl: fed!.anvil.rpcUrl })).state).toBe("minted");
      const entry = (await wallet.operations()).find((o) => o.id === minted.operationId);
      expect(entry).toMatchObject({ module: "bridge", kind: "mint", state: "done" });
      // The same deposit again: no claim of it is left in this wallet; nothing more is minted.
      await expect(wallet.bridgeMintFromDeposit(user.address, { txid })).rejects.toMatchObject({
        code: "unknown_claim",
      });
      expect(await wxmr(user.address)).toBe(before + parseXmr("0.6") - FEE);
      expect((await wallet.info()).balance).toBe(0n);
    } finally {
      await wallet.close();
    }
  }, 400_000);

  it("a deposit of exactly the refundable minimum + fee is minted at the minimum; one a piconero short of it becomes notes, refused invalid_amount naming the minimum, with nothing minted", async () => {
    const { wallet } = await nodeWallets().joinWallet(join(fed!.dir, "sdk-wallet-min"), fed!.invite);
    try {
      const user = account(4);
      const MIN = REFUNDABLE_MINT_MIN_PICONERO_DEFAULT;
      const before = await wxmr(user.address);
      const atMinimum = await pay(MIN + FEE);
      const minted = await wallet.bridgeMintFromDeposit(user.address, atMinimum, { submit: user.sender });
      expect(minted.call.amount).toBe(MIN);
      expect(minted.federationFee).toBe(FEE);
      expect(await wxmr(user.address)).toBe(before + MIN);
      expect((await wallet.info()).balance).toBe(0n);
      const short = MIN + FEE - 1n;
      const below = await pay(short);
      await expect(
        wallet.bridgeMintFromDeposit(user.address, below, { submit: user.sender }),
      ).rejects.toMatchObject({ code: "invalid_amount", details: { minimum: (MIN + FEE).toString() } });
      expect(await wxmr(user.address)).toBe(before + MIN);
      // It became notes: the deposit less what the smallest note cannot carry.
      const balance = (await wallet.info()).balance;
      expect(balance).toBeGreaterThan(0n);
      expect(balance).toBeLessThanOrEqual(short);
    } finally {
      await wallet.close();
    }
  }, 400_000);

  it("a wallet cut off after the federation accepted the deposit's mint, before it had the signatures: reopened, it collects them (resume) and bridgeSubmit mints once", async () => {
    const user = account(2);
    // The wallet's requests for the guardians' mint signatures fail, as if it stopped there.
    let cut = true;
    const cutting: typeof fetch = (input, init) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      if (cut && url.includes("/v1/modules/bridge/mints/"))
        return Promise.reject(new Error("simulated stop before the signatures"));
      return fetch(input, init);
    };
    const dir = join(fed!.dir, "sdk-wallet-cut");
    const { wallet } = await nodeWallets({ client: { fetch: cutting } }).joinWallet(dir, fed!.invite);
    const before = await wxmr(user.address);
    const t0 = Date.now();
    const { txid, txKey } = await pay("0.4");
    console.log(`cut-off test: paid in ${Date.now() - t0} ms`);
    await expect(
      wallet.bridgeMintFromDeposit(
        user.address,
        { txid, txKey },
        { submit: user.sender, signaturesWaitMs: 1_000 },
      ),
    ).rejects.toMatchObject({ code: "signatures_missing" });
    const pending = (await wallet.operations()).find((o) => o.module === "bridge" && o.state === "pending");
    expect(pending?.kind).toBe("mint");
    const mintTxid = (pending!.meta as { txid: string }).txid;
    expect(await wxmr(user.address)).toBe(before);
    await wallet.close();
    cut = false;
    const reopened = await nodeWallets().openWallet(dir); // open resumes: the signatures are collected
    try {
      expect((await reopened.operations()).find((o) => o.id === pending!.id)?.state).toBe("done");
      expect((await reopened.bridgeStatus(mintTxid)).state).toBe("signed");
      const submission = await reopened.bridgeSubmit(mintTxid, user.sender);
      expect(submission.status).toBe("success");
      expect(await wxmr(user.address)).toBe(before + parseXmr("0.4") - FEE);
      await expect(reopened.bridgeSubmit(mintTxid, user.sender)).rejects.toThrow(/DepositUsed/);
      expect(await wxmr(user.address)).toBe(before + parseXmr("0.4") - FEE);
      expect((await reopened.info()).balance).toBe(0n);
    } finally {
      await reopened.close();
    }
  }, 400_000);

  it("the CLI: bridge-mint --from-deposit --submit, and --seal then `conclave relay` then bridge-mint --from-deposit TXID; balances on chain", async () => {
    const user = account(3);
    const dir = join(fed!.dir, "cli-wallet");
    const keyFile = join(fed!.dir, "cli-evm-key.txt");
    writeFileSync(keyFile, `${user.key}\n`, { mode: 0o600 });
    const conclave = (args: readonly string[]): Promise<CliRun> =>
      runConclave(["--data", dir, ...args], { timeoutMs: 240_000 });
    const ok = async (args: readonly string[]): Promise<CliRun> => {
      const r = await conclave(args);
      expect(r.code, `${args.join(" ")}\n${r.stderr}`).toBe(0);
      return r;
    };
    await ok(["join", fed!.invite]);
    // Usage errors cost nothing.
    expect(
      (await conclave(["bridge-mint", user.address, "0.1", "--from-deposit", "ab".repeat(32)])).stderr,
    ).toMatch(/give no AMOUNT/);
    const before = await wxmr(user.address);
    const first = await pay("0.3");
    const evm = ["--evm-key-file", keyFile, "--rpc", fed!.anvil.rpcUrl];
    const minted = await ok([
      "bridge-mint",
      user.address,
      "--from-deposit",
      first.txid,
      "--tx-key",
      first.txKey,
      "--submit",
      ...evm,
    ]);
    expect(minted.stdout).toContain(
      "wXMR mint of 0.2999 XMR (299900000000p) accepted and signed by 3 guardians",
    );
    expect(minted.stdout).toContain("paid to the federation for a refundable mint 0.0001 XMR");
    expect(await wxmr(user.address)).toBe(before + parseXmr("0.3") - FEE);
    // Sealed to guardian 1, relayed by anyone, then waited for and minted.
    const second = await pay("0.2");
    const sealed = await ok([
      "bridge-mint",
      user.address,
      "--from-deposit",
      second.txid,
      "--tx-key",
      second.txKey,
      "--seal",
      "--guardian",
      "1",
    ]);
    const text = sealed.stdout.trim();
    expect(text).toMatch(/^csealed1/);
    expect(sealed.stderr).toContain("for a wXMR mint; nothing was sent");
    await ok(["relay", text]);
    const fromSealed = await ok([
      "bridge-mint",
      user.address,
      "--from-deposit",
      second.txid,
      "--submit",
      ...evm,
    ]);
    expect(fromSealed.stdout).toContain("wXMR mint of 0.1999 XMR (199900000000p)");
    expect(await wxmr(user.address)).toBe(before + parseXmr("0.5") - 2n * FEE);
    expect((JSON.parse((await ok(["--json", "info"])).stdout) as { balance: string }).balance).toBe("0");
  }, 600_000);

  // Last in the file: it moves anvil's clock past every mint's deadline.
  it("--refund-to: a deposit's mint nobody submits is paid back in Monero to the refund address by t guardians, less the Monero fee (check_tx_key); a bad refund address is refused before the deposit is claimed", async () => {
    const { wallet } = await nodeWallets().joinWallet(join(fed!.dir, "sdk-wallet-refund"), fed!.invite);
    try {
      const user = account(1);
      const { txid, txKey } = await pay("0.3");
      // An address with a changed first character: its checksum fails, refused before any claim.
      await expect(
        wallet.bridgeMintFromDeposit(
          user.address,
          { txid, txKey },
          { refundTo: "5" + ms!.userAddress.slice(1) },
        ),
      ).rejects.toMatchObject({ code: "invalid_monero_address" });
      const minted = await wallet.bridgeMintFromDeposit(
        user.address,
        { txid, txKey },
        { refundTo: ms!.userAddress },
      );
      const amount = parseXmr("0.3") - FEE;
      expect(minted.call).toMatchObject({ recipient: user.address, amount });
      expect(minted.submission).toBeUndefined();
      // Nobody submits it: past its deadline on chain, at the guardians' depth.
      await fed!.anvil.testClient.increaseTime({ seconds: 3_700 });
      await fed!.anvil.testClient.mine({ blocks: 4 });
      const mintStatus = async () => {
        const s = await wallet.bridgeStatus(minted.txid);
        if (s.kind !== "mint") throw new Error(`not a mint: ${s.kind}`);
        return s;
      };
      let status = await mintStatus();
      for (
        let i = 0;
        i < 300 && (status.state !== "paid_out" || status.refundPayout?.state !== "confirmed");
        i++
      ) {
        await new Promise((r) => setTimeout(r, 1_000));
        if (i % 10 === 9) await fed!.anvil.testClient.mine({ blocks: 1 });
        status = await mintStatus();
      }
      expect(status.state).toBe("paid_out");
      const payout = status.refundPayout!;
      expect(payout.state).toBe("confirmed");
      expect(BigInt(payout.amount) + BigInt(payout.fee)).toBe(amount);
      // On the Monero chain: the refund address received exactly what the guardians say.
      const proof = await ms!.miner.checkTxKey({
        txid: payout.moneroTxid!,
        txKey: payout.txKey!,
        address: ms!.userAddress,
      });
      expect(proof.received).toBe(BigInt(payout.amount));
      // The same value can no longer come back as e-cash, nor be minted.
      await expect(wallet.bridgeRefund(minted.txid, { waitMs: 5_000 })).rejects.toMatchObject({
        code: "not_returnable",
      });
      await expect(wallet.bridgeSubmit(minted.txid, user.sender)).rejects.toThrow(/Expired/);
      // Nobody but its owner is shown the refund address.
      for (const url of fed!.guardianUrls) {
        const text = await (
          await fetch(`${url}/v1/modules/bridge/mints/${minted.txid}/${minted.output}`)
        ).text();
        expect(text).toContain("paid_out");
        expect(text).not.toContain(ms!.userAddress);
      }
    } finally {
      await wallet.close();
    }
  }, 600_000);
});
