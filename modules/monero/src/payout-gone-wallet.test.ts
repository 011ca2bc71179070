// RpcPayoutWallet.unmineable (threat model 3e, 3f) against a fake monerod and wallet-rpc on
// 127.0.0.1: what a guardian's Gone vote rests on.
//
// The double payout it must not open: a set signed by t − 1 guardians can be completed by any of the
// remaining participants, so one attempt has several completions with different txids and the same
// inputs (payouts.ts). A Byzantine last signer that was passed over keeps its completion C1 and has it
// mined (its own miner, or a network adversary racing the honest nodes' broadcast) while the honest
// guardians agree the txid of C2. C2 is then in neither chain nor pool and its inputs are spent in the
// chain by another transaction, yet the batch is paid (by C1). A federation input spent in the chain
// is spent by a transaction the federation signed: it is no evidence that the batch is unpaid. Only
// an input that is no output any more (the deposit that made it taken away by a deep reorg) is.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { RpcPayoutWallet } from "./payout-watcher.js";

const C2 = "c2".repeat(32);
const KI = "1a".repeat(32);
const OTHER_KI = "2b".repeat(32);

interface World {
  /** is_key_image_spent's answer for KI: 0 unspent, 1 spent in the chain. */
  spent: 0 | 1;
  /** The wallet's outputs' key images ("" unknown: a multisig wallet before the import). */
  outputs: string[];
  /** monerod's block count (default 1000). */
  height?: number;
}

const servers: { close: () => void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function serve(answer: (path: string, body: Record<string, unknown>) => unknown): Promise<string> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(answer(req.url ?? "", JSON.parse(body || "{}") as Record<string, unknown>)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push({ close: () => server.close() });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function walletOf(world: World): Promise<RpcPayoutWallet> {
  const daemon = await serve((path, body) => {
    if (path === "/get_transactions")
      return { status: "OK", txs: [], missed_tx: body.txs_hashes as string[] }; // C2: neither chain nor pool
    if (path === "/get_height") return { status: "OK", height: world.height ?? 1000, hash: "00".repeat(32) };
    if (path === "/is_key_image_spent")
      return {
        status: "OK",
        spent_status: (body.key_images as string[]).map((k) => (k === KI ? world.spent : 0)),
      };
    return { status: "Failed" };
  });
  const wallet = await serve((_path, body) => {
    const result =
      body.method === "refresh"
        ? { blocks_fetched: 0, received_money: false }
        : body.method === "incoming_transfers"
          ? {
              transfers: world.outputs.map((k, i) => ({
                amount: 1_000_000,
                spent: k === KI && world.spent === 1,
                global_index: i,
                tx_hash: (i + 10).toString(16).padStart(2, "0").repeat(32),
                subaddr_index: { major: 0, minor: 0 },
                key_image: k,
              })),
            }
          : undefined;
    return result === undefined
      ? { id: "0", jsonrpc: "2.0", error: { code: -32601, message: "Method not found" } }
      : { id: "0", jsonrpc: "2.0", result };
  });
  return new RpcPayoutWallet(wallet, daemon, { threshold: 3, total: 4, multisigAddress: "unused" });
}

describe("RpcPayoutWallet.unmineable: the evidence of a Gone vote", () => {
  it("an agreed transaction whose input another transaction spent in the chain is not gone: a sibling completion (the same inputs) may have paid the batch", async () => {
    // Failed before: [C2] (an input spent in the chain counted as unmineable), so t honest
    // guardians voted Gone for a batch C1 paid, and its new unbound attempt paid it a second time.
    const w = await walletOf({ spent: 1, outputs: [KI, OTHER_KI] });
    expect(await w.unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([]);
  });

  it("an agreed transaction missing from the node whose input is no output of the wallet any more is gone (the deep reorg of 3e)", async () => {
    const w = await walletOf({ spent: 0, outputs: [OTHER_KI] });
    expect(await w.unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([C2]);
  });

  it("a confirmed transaction is not gone at a node that has not reached its block (syncing) or whose wallet has no outputs (cache lost)", async () => {
    // Failed before: [C2] both times (no height check; an empty output list passed "every key image
    // known"), so t − f guardians recovering their nodes and wallets voted every recent batch Gone
    // and, with f Byzantine votes, re-opened batches their transactions had paid.
    const syncing = await walletOf({ spent: 0, outputs: [OTHER_KI], height: 400 });
    expect(await syncing.unmineable([{ txid: C2, keyImages: [KI], txHeight: 500 }])).toEqual([]);
    const empty = await walletOf({ spent: 0, outputs: [] });
    expect(await empty.unmineable([{ txid: C2, keyImages: [KI], txHeight: 500 }])).toEqual([]);
    // Past its block, with the output gone from a wallet that knows its outputs: gone.
    const past = await walletOf({ spent: 0, outputs: [OTHER_KI], height: 501 });
    expect(await past.unmineable([{ txid: C2, keyImages: [KI], txHeight: 500 }])).toEqual([C2]);
  });

  it("a transaction merely missing from the node, its input an unspent output of the wallet, is not gone", async () => {
    const w = await walletOf({ spent: 0, outputs: [KI, OTHER_KI] });
    expect(await w.unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([]);
  });
});
