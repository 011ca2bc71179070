// The bridge's client half against real parts: anvil with the WrappedMonero contract, four guardian
// processes with the bridge module (bridge-federation-fixture.ts), wallets on LMDB
// (@conclave/wallet-standard). E-cash -> wXMR on chain; burnToClaim -> e-cash; a Byzantine
// guardian's signature skipped; a crash between acceptance and submission resumed; bad input
// refused before anything is spent; a burn redeemed by a wallet restored from the mnemonic.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeWallets } from "@conclave/wallet-standard/node";
import type { WalletApi } from "@conclave/wallet-standard";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import { bytesToHex } from "viem";
import { ed25519 } from "@noble/curves/ed25519.js";
import { encodeAddress } from "@conclave/monero";
import { REFUNDABLE_MINT_FEE_PICONERO_DEFAULT, REFUNDABLE_MINT_MIN_PICONERO_DEFAULT } from "../common.js";
import { signMint } from "../eip712-mint.js";
import { encodeMintOutput } from "../common.js";
import { FederationClient } from "@conclave/core-client";
import { buildTransaction, encodeTransaction, fromHex, toHex, txidHex } from "@conclave/core-common";
import { faucetInput } from "@conclave/module-dummy";
import { sha256 } from "@noble/hashes/sha2.js";
import { startBridgeFederation } from "./bridge-federation-fixture.js";
import type { BridgeFederation } from "./bridge-federation-fixture.js";
import type { EvmSender } from "./config.js";

const XMR = 1_000_000_000_000n;
/** The federation's fee per refundable mint output (its config names none: the default). */
const FEE = REFUNDABLE_MINT_FEE_PICONERO_DEFAULT;
let fed: BridgeFederation;
let walletCount = 0;
const open: WalletApi[] = [];
const wallets = nodeWallets({ awaitTimeoutMs: 30_000 });

beforeAll(async () => {
  fed = await startBridgeFederation();
}, 180_000);

afterAll(async () => {
  for (const w of open) await w.close().catch(() => undefined);
  await fed?.stop();
});

const walletDir = () => join(fed.dir, `wallet-${walletCount++}`);

/** anvil's funded account i: its address and an EvmSender of its key. */
function account(i: number): { address: `0x${string}`; sender: EvmSender } {
  const a = fed.anvil.accounts[i]!;
  const key = a.getHdKey().privateKey;
  if (!key) throw new Error("anvil account without a private key");
  return { address: a.address, sender: { privateKey: bytesToHex(key), rpcUrl: fed.anvil.rpcUrl } };
}

const wxmrBalance = (address: `0x${string}`) =>
  fed.anvil.publicClient.readContract({
    address: fed.contract,
    abi: wrappedMoneroAbi,
    functionName: "balanceOf",
    args: [address],
  });

async function funded(amount: bigint, entry = wallets) {
  const dir = walletDir();
  const { wallet, mnemonic } = await entry.joinWallet(dir, fed.invite);
  open.push(wallet);
  await wallet.devFaucet(amount);
  return { wallet, mnemonic, dir };
}

async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Error && "code" in e && typeof e.code === "string")
      return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error("expected a refusal");
}

/** A guardian's answer to GET mints/… with its signature replaced by one of a key outside the set. */
function byzantineFetch(guardianUrl: string): typeof fetch {
  const outsider = new Uint8Array(32).fill(0x55);
  return async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const res = await fetch(input, init);
    if (!url.startsWith(guardianUrl) || !url.includes("/v1/modules/bridge/mints/") || !res.ok) return res;
    const view = (await res.json()) as Record<string, unknown>;
    const message = {
      recipient: view["recipient"] as `0x${string}`,
      amount: BigInt(view["amount"] as string),
      depositId: view["depositId"] as `0x${string}`,
      deadline: BigInt(view["deadline"] as string),
      setIndex: view["setIndex"] as number,
    };
    const forged = signMint(
      outsider,
      { chainId: view["chainId"] as number, contract: view["contract"] as `0x${string}` },
      message,
    );
    return new Response(JSON.stringify({ ...view, signature: forged }), {
      status: 200,
      headers: { "content-type": "application/json" },
    });
  };
}

describe("bridge client half (anvil, four guardian processes)", () => {
  it("refuses a bad EVM address, a bad amount or a bad EVM key before anything is spent", async () => {
    const { wallet } = await funded(2n * XMR);
    const before = await wallet.info();
    const opsBefore = (await wallet.operations()).length;
    const user = account(1);
    const lower = user.address.toLowerCase();
    // One letter's case flipped: the EIP-55 checksum catches the typo.
    const i = [...user.address].findIndex((c, k) => k > 1 && /[a-f]/i.test(c));
    const c = user.address.charAt(i);
    const swapped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
    const flipped = user.address.slice(0, i) + swapped + user.address.slice(i + 1);
    for (const bad of [flipped, "0x1234", "0x" + "0".repeat(40), fed.contract, "hello"]) {
      const r = await rejection(wallet.bridgeMint(bad, XMR));
      expect(r.code, bad).toBe("invalid_evm_address");
      expect(r.message).toMatch(/nothing was spent/);
    }
    expect((await rejection(wallet.bridgeMint(lower, 0n))).code).toBe("invalid_amount");
    // Below the refundable form's minimum (threat-model 12w): refused with the minimum and the fee.
    const small = await rejection(wallet.bridgeMint(lower, REFUNDABLE_MINT_MIN_PICONERO_DEFAULT - 1n));
    expect(small.code).toBe("invalid_amount");
    expect(small.message).toContain(`at least ${REFUNDABLE_MINT_MIN_PICONERO_DEFAULT} piconero`);
    expect(small.message).toContain(`pays the federation ${FEE} piconero`);
    expect((await rejection(wallet.bridgeMint(lower, 3n * XMR))).code).toBe("insufficient_funds");
    // The whole balance: the federation's fee does not fit on top, and the error says so.
    const whole = await rejection(wallet.bridgeMint(lower, 2n * XMR));
    expect(whole.code).toBe("insufficient_funds");
    expect(whole.message).toContain(`plus ${FEE} paid to the federation`);
    expect(
      (
        await rejection(
          wallet.bridgeMint(lower, XMR, { submit: { privateKey: "0x12", rpcUrl: fed.anvil.rpcUrl } }),
        )
      ).code,
    ).toBe("invalid_evm_key");
    expect(
      (
        await rejection(
          wallet.bridgeMint(lower, XMR, { submit: { ...user.sender, rpcUrl: "http://127.0.0.1:9" } }),
        )
      ).code,
    ).toBe("evm_failed");
    const after = await wallet.info();
    expect(after.balance).toBe(before.balance);
    expect(after.pendingOperations).toBe(0);
    expect((await wallet.operations()).length).toBe(opsBefore);
  });

  it("e-cash -> wXMR minted on chain in one federation transaction; a Byzantine guardian's signature is skipped and named; status: signed, then minted", async () => {
    const byzantine = nodeWallets({
      awaitTimeoutMs: 30_000,
      client: { fetch: byzantineFetch(guardianUrl(1)) },
    });
    const { wallet } = await funded(3n * XMR, byzantine);
    const user = account(1);
    const supplyBefore = await wxmrBalance(user.address);
    const amount = XMR + XMR / 4n;
    const events: string[] = [];
    const minted = await wallet.bridgeMint(user.address, amount, {
      onProgress: (p) => events.push(p.stage),
    });
    expect(events).toEqual(["accepted", "signed"]);
    expect(minted.call.badGuardians).toEqual([1]);
    expect(minted.call.signatures).toHaveLength(3);
    expect(minted.call.signers).toEqual(
      [...minted.call.signers].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)),
    );
    expect(minted.call).toMatchObject({ recipient: user.address, amount, contract: fed.contract });
    // The refundable output's fee is paid by the notes, on top of the amount, and reported.
    expect(minted.federationFee).toBe(FEE);
    expect((await wallet.info()).balance).toBe(3n * XMR - amount - FEE);
    expect(await wallet.bridgeStatus(minted.txid, { rpcUrl: fed.anvil.rpcUrl })).toMatchObject({
      kind: "mint",
      state: "signed",
    });
    const submission = await wallet.bridgeSubmit(minted.txid, user.sender);
    expect(submission.status).toBe("success");
    expect(submission.gasLimit).toBeGreaterThan(submission.gasUsed);
    expect(await wxmrBalance(user.address)).toBe(supplyBefore + amount);
    expect(await wallet.bridgeStatus(minted.txid, { rpcUrl: fed.anvil.rpcUrl })).toMatchObject({
      state: "minted",
      evmTx: submission.txHash,
    });
    // Sent again: the contract refuses the used deposit id at the estimate; nothing is paid.
    expect((await rejection(wallet.bridgeSubmit(minted.txid, user.sender))).message).toMatch(/DepositUsed/);
    const op = (await wallet.operations()).find((o) => o.module === "bridge" && o.kind === "mint");
    expect(op).toMatchObject({ state: "done", meta: { txid: minted.txid, recipient: user.address } });
  });

  it("mints with --submit in one call, then burnToClaim from that EVM key comes back as e-cash notes worth the whole burn", async () => {
    const { wallet } = await funded(2n * XMR);
    const user = account(2);
    const amount = XMR / 2n;
    const minted = await wallet.bridgeMint(user.address, amount, { submit: user.sender });
    expect(minted.submission?.status).toBe("success");
    expect(await wxmrBalance(user.address)).toBe(amount);
    expect((await wallet.info()).balance).toBe(2n * XMR - amount - FEE);
    const stages: string[] = [];
    const burned = await wallet.bridgeBurn(
      amount,
      { toClaim: true },
      {
        sender: user.sender,
        waitMs: 60_000,
        onProgress: (p) => stages.push(p.stage),
      },
    );
    expect(burned.redeemed?.amount).toBe(amount);
    expect(burned.redeemed?.fee).toBe(0n);
    expect(stages[0]).toBe("signed");
    expect(stages).toContain("mined");
    expect(stages.at(-1)).toBe("redeemed");
    expect(await wxmrBalance(user.address)).toBe(0n);
    expect((await wallet.info()).balance).toBe(2n * XMR - FEE);
    expect(await wallet.bridgeStatus(burned.txHash!)).toMatchObject({ kind: "burn", state: "redeemed" });
    const op = (await wallet.operations()).find((o) => o.module === "bridge" && o.kind === "burn-to-claim");
    expect(op).toMatchObject({ state: "done", result: { amount: amount.toString() } });
    // Redeeming it again: the guardians report it claimed, the wallet returns the first redemption.
    const again = await wallet.bridgeRedeem(burned.txHash!, { waitMs: 5_000 });
    expect(again.redeemed?.txid).toBe(burned.redeemed?.txid);
    expect((await wallet.info()).balance).toBe(2n * XMR - FEE);
  });

  it("a burn printed for any EVM wallet, sent from elsewhere, is redeemed by a wallet restored from the mnemonic", async () => {
    const { wallet, mnemonic } = await funded(XMR);
    const user = account(3);
    await wallet.bridgeMint(user.address, XMR / 4n, { submit: user.sender });
    const printed = await wallet.bridgeBurn(XMR / 4n, { toClaim: true });
    expect(printed.call).toMatchObject({ function: "burnToClaim", contract: fed.contract, claimIndex: 0 });
    const hash = await fed.anvil.walletClient.sendTransaction({
      account: fed.anvil.accounts[3]!,
      to: printed.call!.contract,
      data: printed.call!.data,
    });
    await fed.anvil.publicClient.waitForTransactionReceipt({ hash });
    const { wallet: restored } = await wallets.restoreWallet(walletDir(), fed.invite, mnemonic);
    open.push(restored);
    const before = (await restored.info()).balance;
    expect((await rejection(restored.bridgeRedeem(hash))).code).toBe("unknown_burn"); // no --rpc, no record
    const r = await restored.bridgeRedeem(hash, { rpcUrl: fed.anvil.rpcUrl, waitMs: 60_000 });
    expect(r.redeemed?.amount).toBe(XMR / 4n);
    expect((await restored.info()).balance).toBe(before + XMR / 4n);
  });

  it("resumes after a crash between the federation's acceptance and the EVM submission: reopening collects the signatures, bridge-submit mints", async () => {
    let crash = false;
    const crashing = nodeWallets({
      awaitTimeoutMs: 30_000,
      hooks: {
        afterSubmit: () => {
          if (!crash) return;
          crash = false;
          throw new Error("simulated crash");
        },
      },
    });
    const { wallet, dir } = await funded(2n * XMR, crashing);
    const user = account(1);
    const before = await wxmrBalance(user.address);
    crash = true;
    await expect(wallet.bridgeMint(user.address, XMR, { submit: user.sender })).rejects.toThrow(
      /simulated crash/,
    );
    const pending = (await wallet.operations()).find((o) => o.module === "bridge" && o.state === "pending");
    expect(pending?.kind).toBe("mint");
    await wallet.close();
    const reopened = await wallets.openWallet(dir); // open resumes
    open.push(reopened);
    const op = (await reopened.operations()).find((o) => o.id === pending!.id);
    expect(op?.state).toBe("done");
    const txid = (op!.meta as { txid: string }).txid;
    expect((await reopened.info()).balance).toBe(XMR - FEE);
    expect(await wxmrBalance(user.address)).toBe(before);
    const submission = await reopened.bridgeSubmit(txid, user.sender);
    expect(submission.status).toBe("success");
    expect(await wxmrBalance(user.address)).toBe(before + XMR);
  });

  it("burns to a Monero address: a malformed address is refused before anything is burned; a valid one is burned once, its entry done, and t guardians settle it (no Monero module in this federation: re-minted to the burner, the status says why)", async () => {
    const { wallet } = await funded(XMR);
    const user = account(0);
    await wallet.bridgeMint(user.address, XMR / 2n, { submit: user.sender });
    const held = await wxmrBalance(user.address);
    const bad = await rejection(
      wallet.bridgeBurn(XMR / 2n, { moneroAddress: "4".repeat(94) }, { sender: user.sender }),
    );
    expect(bad.code).toBe("invalid_monero_address");
    expect(bad.message).toMatch(/nothing was burned/);
    expect(await wxmrBalance(user.address)).toBe(held);
    const address = encodeAddress({
      network: "mainnet",
      kind: "standard",
      publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(7)),
      publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(8)),
    });
    const burned = await wallet.bridgeBurn(XMR / 2n, { moneroAddress: address }, { sender: user.sender });
    expect(burned.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await wxmrBalance(user.address)).toBe(held - XMR / 2n);
    const op = (await wallet.operations()).find((o) => o.module === "bridge" && o.kind === "burn");
    expect(op).toMatchObject({ state: "done", result: { txHash: burned.txHash, logIndex: burned.logIndex } });
    // Each guardian signs the re-mint itself: t views agree on everything but their own signatures.
    let status = await wallet.bridgeStatus(burned.txHash!);
    for (let i = 0; i < 100 && status.state !== "reminted"; i++) {
      await new Promise((r) => setTimeout(r, 300));
      status = await wallet.bridgeStatus(burned.txHash!);
    }
    expect(status).toMatchObject({ kind: "burn", state: "reminted", amount: (XMR / 2n).toString() });
    expect(status.message).toMatch(/no module that pays Monero/);
  });

  it("a crash after a burn to a claim key is signed and written down, before it is sent: reopening sends the same bytes (burned once) and bridge-redeem brings the notes", async () => {
    let crash = false;
    const crashing = nodeWallets({
      awaitTimeoutMs: 30_000,
      hooks: {
        beforeBurnSend: () => {
          if (!crash) return;
          crash = false;
          throw new Error("simulated crash");
        },
      },
    });
    const { wallet, dir } = await funded(XMR, crashing);
    const user = account(0);
    await wallet.bridgeMint(user.address, XMR / 4n, { submit: user.sender });
    const held = await wxmrBalance(user.address);
    crash = true;
    await expect(wallet.bridgeBurn(XMR / 4n, { toClaim: true }, { sender: user.sender })).rejects.toThrow(
      /simulated crash/,
    );
    expect(await wxmrBalance(user.address)).toBe(held); // nothing sent yet
    const pending = (await wallet.operations()).find((o) => o.module === "bridge" && o.state === "pending");
    expect(pending?.kind).toBe("burn-to-claim");
    const txHash = (pending!.meta as { txHash: string }).txHash;
    await wallet.close();
    const reopened = await wallets.openWallet(dir); // open resumes: the written bytes are sent
    open.push(reopened);
    expect(await wxmrBalance(user.address)).toBe(held - XMR / 4n);
    const r = await reopened.bridgeRedeem(txHash, { waitMs: 60_000 });
    expect(r.txHash).toBe(txHash);
    expect(r.redeemed?.amount).toBe(XMR / 4n);
    expect((await reopened.info()).balance).toBe(XMR - FEE);
    expect(await wxmrBalance(user.address)).toBe(held - XMR / 4n);
    expect((await reopened.operations()).find((o) => o.id === pending!.id)?.state).toBe("done");
  });

  it("an unsubmitted mint past its deadline: expired, then returned by t guardians at their depth and refunded into notes worth the whole amount, once; the signed mint reverts Expired", async () => {
    const { wallet } = await funded(XMR);
    const minted = await wallet.bridgeMint(account(1).address, XMR / 8n);
    const spent = (await wallet.info()).balance;
    expect(spent).toBe(XMR - XMR / 8n - FEE); // the fee is the federation's: not returned below
    // Guardians 2 and 3 are stopped (SIGSTOP, by PID): no t guardians can decide anything, so the
    // status below is the chain's (past the deadline, not minted) before any return.
    const paused = fed.guardians.slice(2).map((g) => g.child.pid!);
    for (const pid of paused) process.kill(pid, "SIGSTOP");
    try {
      await fed.anvil.testClient.increaseTime({ seconds: 3_700 });
      await fed.anvil.testClient.mine({ blocks: 1 });
      const expired = await wallet.bridgeStatus(minted.txid, { rpcUrl: fed.anvil.rpcUrl });
      expect(expired).toMatchObject({ state: "expired" });
      expect(expired.message).toMatch(/bridge-refund/);
    } finally {
      for (const pid of paused) process.kill(pid, "SIGCONT");
    }
    expect((await rejection(wallet.bridgeSubmit(minted.txid, account(1).sender))).message).toMatch(/Expired/);
    const stages: string[] = [];
    const refunded = await wallet.bridgeRefund(minted.txid, {
      waitMs: 120_000,
      onProgress: (p) => stages.push(p.stage),
    });
    expect(refunded).toMatchObject({ txid: minted.txid, output: minted.output, amount: XMR / 8n, fee: 0n });
    expect(stages).toContain("returnable");
    expect(stages.at(-1)).toBe("refunded");
    expect((await wallet.info()).balance).toBe(spent + XMR / 8n);
    expect(await wallet.bridgeStatus(minted.txid)).toMatchObject({
      state: "refunded",
      refundTxid: refunded.refundTxid,
    });
    expect((await wallet.operations()).find((o) => o.id === refunded.operationId)?.state).toBe("done");
    // Asked again: the same refund is reported, nothing is paid twice.
    const again = await wallet.bridgeRefund(minted.txid, { waitMs: 0 });
    expect(again.refundTxid).toBe(refunded.refundTxid);
    expect((await wallet.info()).balance).toBe(spent + XMR / 8n);
    // Another wallet has no refund key for it.
    const { wallet: other } = await funded(XMR);
    expect((await rejection(other.bridgeRefund(minted.txid, { waitMs: 0 }))).code).toBe("unknown_mint");
  });

  it("a wallet restored from its recovery phrase on another device finds its refundable mints by its refund keys (t guardians answer) and takes an expired one back, once", async () => {
    const { wallet, mnemonic } = await funded(XMR);
    const user = account(2);
    const unsent = await wallet.bridgeMint(user.address, XMR / 8n); // refund key 0
    const sent = await wallet.bridgeMint(user.address, XMR / 16n, { submit: user.sender }); // refund key 1
    const kept = (await wallet.info()).balance;
    // Each guardian answers which refundable mints name a refund key (only those).
    const finder = await wallets.restoreWallet(walletDir(), fed.invite, mnemonic);
    open.push(finder.wallet);
    const found = await finder.wallet.bridgeFindMints({ gap: 3 });
    expect(found.mints.map((m) => [m.txid, m.output, m.amount, m.refundIndex, m.known])).toEqual([
      [unsent.txid, unsent.output, XMR / 8n, 0, false],
      [sent.txid, sent.output, XMR / 16n, 1, false],
    ]);
    expect(found.mints.every((m) => m.recipient === user.address)).toBe(true);
    expect(found.keysScanned).toBe(5); // keys 0 and 1 name a mint, then 3 in a row name none
    // The restored wallet's next mint takes a fresh refund key (2), never one of the found ones.
    await finder.wallet.devFaucet(XMR);
    const third = await finder.wallet.bridgeMint(user.address, XMR / 32n);
    expect(
      (await finder.wallet.bridgeFindMints({ gap: 3 })).mints.map((m) => [m.txid, m.refundIndex, m.known]),
    ).toEqual([
      [unsent.txid, 0, true],
      [sent.txid, 1, true],
      [third.txid, 2, true],
    ]);
    // Past the deadline: another restored wallet, with no record and no search first, refunds by txid.
    await fed.anvil.testClient.increaseTime({ seconds: 3_700 });
    await fed.anvil.testClient.mine({ blocks: 1 });
    const { wallet: restored } = await wallets.restoreWallet(walletDir(), fed.invite, mnemonic);
    open.push(restored);
    const before = (await restored.info()).balance;
    const refunded = await restored.bridgeRefund(unsent.txid, { waitMs: 120_000 });
    expect(refunded).toMatchObject({ txid: unsent.txid, output: unsent.output, amount: XMR / 8n, fee: 0n });
    expect((await restored.info()).balance).toBe(before + XMR / 8n);
    expect(await restored.bridgeStatus(unsent.txid)).toMatchObject({ state: "refunded" });
    // The minted one is not returned; the first device cannot take the refunded one again.
    expect((await rejection(restored.bridgeRefund(sent.txid, { waitMs: 120_000 }))).code).toBe(
      "not_returnable",
    );
    expect((await rejection(wallet.bridgeRefund(unsent.txid, { waitMs: 0 }))).message).toMatch(
      /already refunded/,
    );
    expect((await wallet.info()).balance).toBe(kept);
    // A malformed refund key is refused by the guardian's API; an unused one names nothing.
    expect((await fetch(`${guardianUrl(0)}/v1/modules/bridge/refunds/xyz`)).status).toBe(400);
    const none = await fetch(`${guardianUrl(0)}/v1/modules/bridge/refunds/${"ab".repeat(32)}`);
    expect(await none.json()).toEqual({ refundKey: "ab".repeat(32), page: 0, mints: [] });
    const page5 = await fetch(`${guardianUrl(0)}/v1/modules/bridge/refunds/${"ab".repeat(32)}/page/5`);
    expect(await page5.json()).toEqual({ refundKey: "ab".repeat(32), page: 5, mints: [] });
    // Past the last page a key may have (64 pages of 256): refused.
    expect(
      (await fetch(`${guardianUrl(0)}/v1/modules/bridge/refunds/${"ab".repeat(32)}/page/64`)).status,
    ).toBe(400);
  });

  it("threat model 12zf: a restored wallet finds its mint behind 16 decoys with smaller txids naming its refund key, then behind 300 (two pages, each agreed by t guardians)", async () => {
    const { wallet, mnemonic } = await funded(XMR);
    const user = account(3);
    const own = await wallet.bridgeMint(user.address, XMR / 8n); // refund key 0
    // The refund key is public: any guardian's GET mints/:txid/:index names it.
    const view = (await (
      await fetch(`${guardianUrl(0)}/v1/modules/bridge/mints/${own.txid}/${own.output}`)
    ).json()) as { expiry: { refundKey: string } };
    const refundKey = fromHex(view.expiry.refundKey.slice(2));
    const attacker = await FederationClient.join(fed.invite);
    const decoys = (count: number) => {
      const min = REFUNDABLE_MINT_MIN_PICONERO_DEFAULT;
      return buildTransaction(
        [faucetInput(0, BigInt(count) * (min + FEE))],
        Array.from({ length: count }, () => ({
          module: 3,
          amount: min,
          payload: encodeMintOutput(account(1).address, refundKey),
        })),
        [],
        sha256,
      );
    };
    // 16 decoys in a transaction whose txid sorts before the victim's (the faucet nonce is random).
    let first = decoys(16);
    while (txidHex(first, sha256) >= own.txid) first = decoys(16);
    await attacker.submitTransaction(encodeTransaction(first));
    const restored = async () => {
      const r = await wallets.restoreWallet(walletDir(), fed.invite, mnemonic);
      open.push(r.wallet);
      return r.wallet;
    };
    /** Until guardian 3 (the last to learn of it, maybe) lists `length` entries on page `page`. */
    const waitEntries = async (page: number, length: number) => {
      const url = `${guardianUrl(3)}/v1/modules/bridge/refunds/${toHex(refundKey)}/page/${page}`;
      for (let i = 0; i < 120; i++) {
        const r = await fetch(url).catch(() => undefined);
        if (r?.ok && ((await r.json()) as { mints: unknown[] }).mints.length >= length) return;
        await new Promise((done) => setTimeout(done, 500));
      }
    };
    await waitEntries(0, 17);
    const behind16 = await (await restored()).bridgeFindMints({ gap: 2 });
    expect(behind16.mints.map((m) => m.txid)).toContain(own.txid);
    expect(behind16.mints[0]).toMatchObject({
      txid: own.txid,
      output: own.output,
      amount: XMR / 8n,
      refundIndex: 0,
    });
    expect(behind16.flooded).toEqual([{ refundIndex: 0, entries: 17, full: false }]);
    // 300 more (a transaction has at most 256 outputs: two).
    for (const tx of [decoys(150), decoys(150)]) await attacker.submitTransaction(encodeTransaction(tx));
    await waitEntries(1, 317 - 256);
    const behind316 = await (await restored()).bridgeFindMints({ gap: 2 });
    expect(behind316.mints[0]).toMatchObject({ txid: own.txid, output: own.output, refundIndex: 0 });
    expect(behind316.mints).toHaveLength(317);
    expect(behind316.flooded).toEqual([{ refundIndex: 0, entries: 317, full: false }]);
  });
});

function guardianUrl(i: number): string {
  return fed.guardianUrls[i]!;
}
