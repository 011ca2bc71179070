// The client side of the re-issue (docs/bridge.md "Re-issue of an expired mint without refund key")
// against real parts: anvil with the WrappedMonero contract and four guardian processes (t = 3;
// bridge-federation-fixture.ts), a wallet on LMDB. An expired, unsubmitted 0x01 mint output and a
// burn's re-mint are re-issued by t guardians under a new deposit id and deadline; the SDK's status
// shows the attempt t guardians sign (its deposit id computed here from the first), submits it
// exactly once, and outvotes a Byzantine guardian that answers another attempt or a made-up deposit
// id (each signed with its real key). Before, collectCall accepted only attempt 0's deposit id: the
// status said "accepted" with "no 3 guardians answered with the same mint".
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeWallets } from "@conclave/wallet-standard/node";
import type { WalletApi } from "@conclave/wallet-standard";
import { encodeTransaction } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { sha256 } from "@conclave/core-server";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import { buildTransaction, faucetInput } from "@conclave/module-dummy";
import { encodeAddress } from "@conclave/monero";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, keccak256 } from "viem";
import { encodeMintOutput } from "../common.js";
import { evmAddressOfKey, reissueDepositId, signMint } from "../eip712-mint.js";
import { BRIDGE_INSTANCE, guardianEvmKey, startBridgeFederation } from "./bridge-federation-fixture.js";
import type { BridgeFederation } from "./bridge-federation-fixture.js";
import type { EvmSender } from "./config.js";

const XMR = 1_000_000_000_000n;
let fed: BridgeFederation;
let walletCount = 0;
const open: WalletApi[] = [];

beforeAll(async () => {
  fed = await startBridgeFederation("bridge-reissue-client-");
}, 180_000);

afterAll(async () => {
  for (const w of open) await w.close().catch(() => undefined);
  await fed?.stop();
});

function account(i: number): { address: `0x${string}`; sender: EvmSender } {
  const a = fed.anvil.accounts[i]!;
  return {
    address: a.address,
    sender: { privateKey: bytesToHex(a.getHdKey().privateKey!), rpcUrl: fed.anvil.rpcUrl },
  };
}

const wxmrBalance = (address: `0x${string}`) =>
  fed.anvil.publicClient.readContract({
    address: fed.contract,
    abi: wrappedMoneroAbi,
    functionName: "balanceOf",
    args: [address],
  });

async function wallet(entry = nodeWallets({ awaitTimeoutMs: 30_000 })): Promise<WalletApi> {
  const { wallet: w } = await entry.joinWallet(join(fed.dir, `wallet-${walletCount++}`), fed.invite);
  open.push(w);
  return w;
}

/** A transaction straight to guardian 0's API, waited for until accepted. */
async function submitTransaction(tx: Transaction): Promise<string> {
  const url = fed.guardianUrls[0]!;
  const r = await fetch(`${url}/v1/transactions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ transaction: Buffer.from(encodeTransaction(tx)).toString("hex") }),
  });
  const body = (await r.json()) as { txid: string };
  if (r.status >= 300) throw new Error(`refused: ${JSON.stringify(body)}`);
  const done = (await (await fetch(`${url}/v1/transactions/${body.txid}?wait=20000`)).json()) as {
    state: string;
  };
  if (done.state !== "accepted") throw new Error(`transaction ${body.txid} is ${done.state}`);
  return body.txid;
}

/** A plain (0x01) mint output without refund key, paid by the dev faucet (another tool's mint). */
const plainMint = (recipient: `0x${string}`, amount: bigint) =>
  submitTransaction(
    buildTransaction(
      [faucetInput(0, amount)],
      [{ module: BRIDGE_INSTANCE, amount, payload: encodeMintOutput(recipient) }],
      [],
      sha256,
    ),
  );

/** An hour and a minute later on the chain (the fixture's mints have a 3,600 s deadline). */
async function pastDeadline(): Promise<void> {
  await fed.anvil.testClient.increaseTime({ seconds: 3_660 });
  await fed.anvil.testClient.mine({ blocks: 1 });
}

/** Mines a block a second until at least 3 guardians' answers at `path` name re-issue attempt `attempt`. */
async function waitAttempt(
  path: string,
  attempt: number,
  pick: (v: Record<string, unknown>) => unknown,
): Promise<void> {
  const count = async () =>
    (
      await Promise.all(
        fed.guardianUrls.map(async (u) => {
          const r = await fetch(`${u}${path}`);
          if (!r.ok) return undefined;
          const v = pick((await r.json()) as Record<string, unknown>) as
            { reissue?: { attempt: number } } | undefined;
          return v?.reissue?.attempt;
        }),
      )
    ).filter((a) => a === attempt).length;
  await expect
    .poll(
      async () => {
        await fed.anvil.testClient.mine({ blocks: 1 });
        return count();
      },
      { timeout: 120_000, interval: 1_000 },
    )
    .toBeGreaterThanOrEqual(4);
}

/**
 * Guardian `g`'s answers about mints rewritten by a Byzantine guardian that holds its real EVM key:
 * `attempt` names another attempt with that attempt's true deposit id; `made-up` keeps the attempt
 * and names a deposit id of its own. Either is signed with g's key, so only the client's own
 * computation of the deposit id (and the t that agree) tells it apart.
 */
function byzantineFetch(g: number, lie: "attempt" | "made-up"): typeof fetch {
  const guardianUrl = fed.guardianUrls[g]!;
  return async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const res = await fetch(input, init);
    if (!url.startsWith(guardianUrl) || !url.includes("/v1/modules/bridge/mints/") || !res.ok) return res;
    const view = (await res.json()) as Record<string, unknown>;
    const reissue = view["reissue"] as { attempt: number; firstDepositId: `0x${string}` };
    const attempt = lie === "attempt" ? reissue.attempt + 1 : reissue.attempt;
    const depositId =
      lie === "attempt"
        ? reissueDepositId(reissue.firstDepositId, attempt)
        : keccak256(new TextEncoder().encode(`made up ${view["depositId"] as string}`));
    const deadline = BigInt(view["deadline"] as string) + 86_400n;
    const signature = signMint(
      guardianEvmKey(g),
      { chainId: view["chainId"] as number, contract: view["contract"] as `0x${string}` },
      {
        recipient: view["recipient"] as `0x${string}`,
        amount: BigInt(view["amount"] as string),
        depositId,
        deadline,
        setIndex: view["setIndex"] as number,
      },
    );
    return Response.json({
      ...view,
      depositId,
      deadline: deadline.toString(),
      signature,
      reissue: { ...reissue, attempt },
    });
  };
}

describe("the client side of the re-issue (anvil, four guardian processes)", () => {
  it("an expired 0x01 mint's status shows attempt 1 with its own deposit id; a Byzantine guardian answering another attempt or a made-up deposit id is outvoted; bridgeSubmit mints it exactly once", async () => {
    const user = account(3);
    const amount = XMR / 8n;
    const txid = await plainMint(user.address, amount);
    const w = await wallet();
    const first = await w.bridgeStatus(`${txid}:0`, { rpcUrl: fed.anvil.rpcUrl });
    expect(first).toMatchObject({ kind: "mint", state: "signed", amount: amount.toString() });
    expect(first).not.toHaveProperty("reissue");
    if (first.kind !== "mint") throw new Error("a mint status");

    await pastDeadline();
    await waitAttempt(`/v1/modules/bridge/mints/${txid}/0`, 1, (v) => v);
    const expected = reissueDepositId(first.depositId as `0x${string}`, 1);
    const status = await w.bridgeStatus(`${txid}:0`, { rpcUrl: fed.anvil.rpcUrl });
    expect(status).toMatchObject({
      kind: "mint",
      state: "signed",
      recipient: user.address,
      amount: amount.toString(),
      depositId: expected,
      reissue: { attempt: 1, depositId: expected, firstDepositId: first.depositId },
    });
    if (status.kind !== "mint") throw new Error("a mint status");
    expect(status.reissue!.text).toBe(
      `re-issued: attempt 1, deadline ${status.deadline} (${new Date(Number(status.deadline) * 1000).toISOString()})`,
    );
    expect(status.message).toContain("re-issued: attempt 1, deadline ");
    expect(BigInt(status.deadline!)).toBeGreaterThan(BigInt(first.deadline!));

    // One Byzantine guardian (of t = 3, n = 4), signing with its real key: its answer is skipped,
    // the three honest ones' attempt stands, its signer is not among the call's.
    const liar = fed.guardianUrls.length - 1;
    const liarAddress = evmAddressOfKey(guardianEvmKey(liar));
    for (const lie of ["attempt", "made-up"] as const) {
      const byz = await wallet(
        nodeWallets({ awaitTimeoutMs: 30_000, client: { fetch: byzantineFetch(liar, lie) } }),
      );
      const seen = await byz.bridgeStatus(`${txid}:0`, { rpcUrl: fed.anvil.rpcUrl });
      expect(seen, lie).toMatchObject({
        state: "signed",
        depositId: expected,
        deadline: status.deadline,
        reissue: { attempt: 1 },
      });
      expect(seen.kind === "mint" ? seen.signers : [], lie).not.toContain(liarAddress);
      expect(seen.kind === "mint" ? seen.signers : [], lie).toHaveLength(3);
    }

    // Sent under attempt 1 (the attempt-0 signatures would revert Expired): minted once, exactly.
    const before = await wxmrBalance(user.address);
    const sent = await w.bridgeSubmit(`${txid}:0`, user.sender);
    expect(sent).toMatchObject({ status: "success", reissue: { attempt: 1, depositId: expected } });
    expect(await wxmrBalance(user.address)).toBe(before + amount);
    await expect(w.bridgeSubmit(`${txid}:0`, user.sender)).rejects.toThrow(/DepositUsed/);
    expect(await wxmrBalance(user.address)).toBe(before + amount);
    expect(await w.bridgeStatus(`${txid}:0`, { rpcUrl: fed.anvil.rpcUrl })).toMatchObject({
      state: "minted",
      depositId: expected,
      reissue: { attempt: 1 },
    });
  }, 400_000);

  it("a burn's re-mint (no Monero module: re-minted to the burner) left unsubmitted is re-issued: its status shows the re-mint's attempt 1 and signatures; bridgeSubmit of the burn mints it back exactly once", async () => {
    const user = account(2);
    const w = await wallet();
    await w.devFaucet(XMR);
    await w.bridgeMint(user.address, XMR / 2n, { submit: user.sender });
    const held = await wxmrBalance(user.address);
    const address = encodeAddress({
      network: "mainnet",
      kind: "standard",
      publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(7)),
      publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(8)),
    });
    const burned = await w.bridgeBurn(XMR / 2n, { moneroAddress: address }, { sender: user.sender });
    const id = `${burned.txHash!}:${burned.logIndex!}`;
    await expect
      .poll(async () => (await w.bridgeStatus(id)).state, { timeout: 60_000, interval: 500 })
      .toBe("reminted");
    const reminted = await w.bridgeStatus(id, { rpcUrl: fed.anvil.rpcUrl });
    expect(reminted).toMatchObject({
      state: "reminted",
      remint: { state: "signed", recipient: user.address },
    });
    const remint0 = reminted.kind === "burn" ? reminted.remint! : undefined;
    expect(remint0?.signers).toHaveLength(3);
    expect(remint0).not.toHaveProperty("reissue");

    await pastDeadline();
    await waitAttempt(
      `/v1/modules/bridge/burns/${burned.txHash!}/${burned.logIndex!}`,
      1,
      (v) => v["remint"],
    );
    const expected = reissueDepositId(remint0!.depositId as `0x${string}`, 1);
    const after = await w.bridgeStatus(id, { rpcUrl: fed.anvil.rpcUrl });
    expect(after).toMatchObject({
      state: "reminted",
      remint: {
        state: "signed",
        recipient: user.address,
        amount: (XMR / 2n).toString(),
        depositId: expected,
        reissue: { attempt: 1, firstDepositId: remint0!.depositId },
      },
    });
    expect(after.message).toContain("re-issued: attempt 1, deadline ");
    if (after.kind === "burn") expect(after.remint!.signers).toHaveLength(3);

    const sent = await w.bridgeSubmit(burned.txHash!, user.sender);
    expect(sent).toMatchObject({ status: "success", reissue: { attempt: 1, depositId: expected } });
    expect(await wxmrBalance(user.address)).toBe(held);
    await expect(w.bridgeSubmit(id, user.sender)).rejects.toThrow(/DepositUsed/);
    expect(await wxmrBalance(user.address)).toBe(held);
    expect(await w.bridgeStatus(id, { rpcUrl: fed.anvil.rpcUrl })).toMatchObject({
      remint: { state: "minted", depositId: expected },
    });
  }, 400_000);
});
