// The Gone evidence of a payout that a real deep reorg took away (threat model 3e), against two real
// monerods in regtest: node A (the guardian's) and node B (the attacker's miner). B copies A's chain
// up to before the deposit (get_block -> submit_block), mines its fork offline, then is restarted
// connected to A (p2p, 127.0.0.1 only), which switches to the longer fork. A user deposits to the "federation" wallet (a plain wallet
// here: RpcPayoutWallet.unmineable needs no multisig), the federation pays that output out (C2),
// both confirmed; B mines a longer fork from before the deposit with the user's double spend of it,
// and A switches to it. Measured on A after the switch (monerod 0.18): the deposit and C2 are back
// in its pool and stay there ("kept by block"), the deposit's input is spent in the chain. The
// guardian's wallet remembered C2's input source while C2 was mined and calls C2 gone.
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  BLOCKS_BEFORE_FIRST_TRANSFER,
  OUTPUT_UNLOCK_BLOCKS,
  ensureMoneroInstalled,
  freePort,
  makeTempDir,
  mineBlocks,
  removeDir,
  startMonerod,
  startWalletRpc,
} from "@conclave/testing-monero";
import { join } from "node:path";
import { RpcPayoutWallet } from "./payout-watcher.js";

const dir = makeTempDir("conclave-gone-");
/** Everything started, stopped in reverse order. */
const started: { stop(): Promise<void> }[] = [];

beforeAll(() => {
  ensureMoneroInstalled();
});

afterAll(async () => {
  for (const p of started.reverse()) await p.stop().catch(() => {});
  removeDir(dir);
});

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await fetch(url, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
  return (await r.json()) as Record<string, unknown>;
}

async function jsonRpc(url: string, method: string, params: unknown = {}): Promise<Record<string, unknown>> {
  const r = await post(`${url}/json_rpc`, { jsonrpc: "2.0", id: "0", method, params });
  if (r["error"] !== undefined) throw new Error(`${method}: ${JSON.stringify(r["error"])}`);
  return r["result"] as Record<string, unknown>;
}

/** Copies blocks [from, to) of node `src` to node `dst` (submit_block: a longer fork makes it switch). */
async function moveBlocks(src: string, dst: string, from: number, to: number): Promise<void> {
  for (let h = from; h < to; h++) {
    const { blob } = (await jsonRpc(src, "get_block", { height: h })) as { blob: string };
    await jsonRpc(dst, "submit_block", [blob]);
  }
}

async function height(url: string): Promise<number> {
  return (await post(`${url}/get_height`, {}))["height"] as number;
}

interface Transfer {
  amount: number;
  key_image: string;
  tx_hash: string;
  unlocked: boolean;
  spent: boolean;
}

it("a confirmed payout whose deposit a longer fork double-spent is gone at the guardian's node, although monerod keeps both in its pool", async () => {
  // Offline while the chains are made (a node with peers but none connected mines nothing: not
  // synchronized), then both restarted connected.
  const nodeA = await startMonerod({ dataDir: join(dir, "a") });
  started.push(nodeA);
  let A = nodeA.url;
  const daemonA = nodeA.rpc;
  const wallets = await Promise.all(
    ["user", "federation"].map((w) => startWalletRpc({ daemonUrl: A, walletDir: join(dir, w) })),
  );
  started.push(...wallets);
  const [user, fed] = wallets.map((w) => w.url) as [string, string];
  await jsonRpc(user, "create_wallet", { filename: "user", password: "", language: "English" });
  await jsonRpc(fed, "create_wallet", { filename: "federation", password: "", language: "English" });
  const userAddress = (await jsonRpc(user, "get_address"))["address"] as string;
  const fedAddress = (await jsonRpc(fed, "get_address"))["address"] as string;
  // One block's reward to the federation too: a wallet with no outputs at all knows nothing (its
  // cache lost), and the federation's wallet keeps its other outputs through the fork.
  await mineBlocks(daemonA, 1, fedAddress);
  await mineBlocks(daemonA, BLOCKS_BEFORE_FIRST_TRANSFER, userAddress);
  await jsonRpc(user, "refresh");
  const { transfers } = (await jsonRpc(user, "incoming_transfers", { transfer_type: "available" })) as {
    transfers: Transfer[];
  };
  const coin = transfers.find((t) => t.unlocked && !t.spent);
  expect(coin).toBeDefined();
  // The user's double spend, made first and kept (not relayed: the wallet's state unchanged), then
  // the deposit of the same output to the federation.
  const doubleSpend = (await jsonRpc(user, "sweep_single", {
    address: userAddress,
    key_image: coin!.key_image,
    do_not_relay: true,
    get_tx_hex: true,
  })) as { tx_blob: string };
  const forkAt = await height(A); // the deposit's block
  const deposit = (await jsonRpc(user, "sweep_single", { address: fedAddress, key_image: coin!.key_image }))[
    "tx_hash"
  ] as string;

  // Node B, offline: the same chain up to before the deposit (those blocks have no transaction but
  // their coinbase, so submit_block takes them).
  const offlineB = await startMonerod({ dataDir: join(dir, "b") });
  started.push(offlineB);
  const B = offlineB.url;
  await moveBlocks(A, B, 1, forkAt);
  expect(await height(B)).toBe(forkAt);

  // The deposit mined and unlocked; the federation pays its output out (C2), mined and confirmed.
  await mineBlocks(daemonA, 1 + OUTPUT_UNLOCK_BLOCKS, userAddress);
  await jsonRpc(fed, "refresh");
  const fedOut = (
    (await jsonRpc(fed, "incoming_transfers", { transfer_type: "available" })) as { transfers: Transfer[] }
  ).transfers.find((t) => t.tx_hash === deposit);
  expect(fedOut?.unlocked).toBe(true);
  const c2 = (await jsonRpc(fed, "sweep_single", { address: userAddress, key_image: fedOut!.key_image }))[
    "tx_hash"
  ] as string;
  const c2Height = await height(A);
  await mineBlocks(daemonA, 3, userAddress);
  const watched = [{ txid: c2, keyImages: [fedOut!.key_image], txHeight: c2Height }];
  const guardian = new RpcPayoutWallet(fed, A, { threshold: 1, total: 1, multisigAddress: fedAddress });
  // Mined: not gone; its input's source (the deposit) remembered meanwhile.
  expect(await guardian.unmineable(watched)).toEqual([]);
  const memory = (await jsonRpc(fed, "get_attribute", { key: "conclave.payout.sources" }))["value"];
  expect(String(memory)).toContain(deposit);

  // The attacker's fork: the double spend mined on B, longer than A's chain.
  const sent = await post(`${B}/send_raw_transaction`, {
    tx_as_hex: doubleSpend.tx_blob,
    do_not_relay: false,
  });
  expect(sent["status"]).toBe("OK");
  const forkLength = (await height(A)) - forkAt + 2;
  await mineBlocks(offlineB.rpc, forkLength, userAddress);
  expect(await height(B)).toBe(forkAt + forkLength);
  // Both restarted on their chains, connected to each other: A switches to B's longer fork.
  await offlineB.stop();
  await nodeA.stop();
  const [p2pA, p2pB] = [await freePort(), await freePort()];
  const [connectedA, nodeB] = await Promise.all([
    startMonerod({ dataDir: join(dir, "a"), keepChain: true, peers: [`127.0.0.1:${p2pB}`], p2pPort: p2pA }),
    startMonerod({ dataDir: join(dir, "b"), keepChain: true, peers: [`127.0.0.1:${p2pA}`], p2pPort: p2pB }),
  ]);
  started.push(connectedA, nodeB);
  A = connectedA.url;
  await jsonRpc(fed, "set_daemon", { address: new URL(A).host, trusted: true });
  // (get_height answers while a node syncs; get_last_block_header says BUSY then.)
  const top = async (url: string) => (await post(`${url}/get_height`, {}))["hash"] as string;
  const topB = await top(nodeB.url);
  for (let i = 0; (await top(A)) !== topB; i++) {
    if (i > 600) throw new Error("node A did not switch to B's fork in 5 minutes");
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(await height(A)).toBe(forkAt + forkLength);

  // What monerod A says now (measured): the deposit and C2 are in its pool, not its chain; the
  // deposit's input is spent in the chain (by the double spend).
  const seen = (await post(`${A}/get_transactions`, { txs_hashes: [deposit, c2] })) as {
    txs?: { tx_hash: string; in_pool: boolean }[];
    missed_tx?: string[];
  };
  const inPool = (seen.txs ?? []).filter((t) => t.in_pool).map((t) => t.tx_hash);
  expect(inPool.sort()).toEqual([deposit, c2].sort());
  expect(seen.missed_tx ?? []).toEqual([]);
  expect((await post(`${A}/is_key_image_spent`, { key_images: [coin!.key_image] }))["spent_status"]).toEqual([
    1,
  ]);

  // A restarted guardian (its memory read back from the wallet file) calls C2 gone.
  const restarted = new RpcPayoutWallet(fed, A, { threshold: 1, total: 1, multisigAddress: fedAddress });
  expect(await restarted.unmineable(watched)).toEqual([c2]);
}, 600_000);
