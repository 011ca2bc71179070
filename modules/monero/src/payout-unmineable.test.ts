// RpcPayoutWallet.unmineable (threat model 3e) against a fake monerod and wallet-rpc on 127.0.0.1:
// the monerod and wallet-rpc calls it makes and which agreed payout transactions it calls unmineable
// (in neither chain nor pool, and an input that is no output of the wallet any more; an input spent
// in the chain by another transaction is no evidence: payout-gone-wallet.test.ts).
import { createServer } from "node:http";
import type { Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpcPayoutWallet } from "./payout-watcher.js";

const hex = (c: string) => c.repeat(64);
const MINED = hex("a");
const MISSING_SPENT = hex("b");
const MISSING_GONE = hex("c");
const MISSING_INTACT = hex("d");
const K_SPENT = hex("1");
const K_GONE = hex("2");
const K_INTACT = hex("3");

let server: Server;
let url = "";
/** Key image status monerod answers, and the wallet's outputs' key images ("" for one not known). */
let spent: Record<string, 0 | 1 | 2> = {};
let walletKeyImages: string[] = [];
const calls: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => answer(body, req.url, res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** One fake for both: monerod's other RPC paths and wallet-rpc's JSON-RPC. */
function answer(body: string, path: string | undefined, res: ServerResponse): void {
  res.writeHead(200, { "content-type": "application/json" });
  if (path === "/get_transactions") {
    const { txs_hashes } = JSON.parse(body) as { txs_hashes: string[] };
    calls.push(`get_transactions ${txs_hashes.length}`);
    const txs = txs_hashes
      .filter((t) => t === MINED)
      .map((t) => ({
        tx_hash: t,
        as_hex: "00",
        in_pool: false,
        double_spend_seen: false,
        block_height: 90,
      }));
    res.end(JSON.stringify({ status: "OK", txs, missed_tx: txs_hashes.filter((t) => t !== MINED) }));
    return;
  }
  if (path === "/is_key_image_spent") {
    const { key_images } = JSON.parse(body) as { key_images: string[] };
    calls.push(`is_key_image_spent ${key_images.length}`);
    res.end(JSON.stringify({ status: "OK", spent_status: key_images.map((k) => spent[k] ?? 0) }));
    return;
  }
  const { method } = JSON.parse(body) as { method: string };
  calls.push(method);
  if (method === "get_attribute") {
    // No input sources remembered (payout-gone-wallet.test.ts covers them).
    res.end(
      JSON.stringify({ id: "0", jsonrpc: "2.0", error: { code: -45, message: "Attribute not found." } }),
    );
    return;
  }
  const result =
    method === "refresh"
      ? { blocks_fetched: 0, received_money: false }
      : {
          transfers: walletKeyImages.map((k, i) => ({
            amount: 1000,
            spent: true,
            global_index: i,
            tx_hash: hex("e"),
            subaddr_index: { major: 0, minor: 0 },
            key_image: k,
          })),
        };
  res.end(JSON.stringify({ id: "0", jsonrpc: "2.0", result }));
}

const wallet = () => new RpcPayoutWallet(url, url, { threshold: 3, total: 4, multisigAddress: "x" });

describe("RpcPayoutWallet.unmineable", () => {
  it("names a missing transaction whose input is no output of the wallet; not a mined one, nor a missing one with its inputs intact or spent in the chain", async () => {
    spent = { [K_SPENT]: 1, [K_INTACT]: 0, [K_GONE]: 0 };
    walletKeyImages = [K_SPENT, K_INTACT];
    calls.length = 0;
    const gone = await wallet().unmineable([
      { txid: MINED, keyImages: [K_SPENT] },
      { txid: MISSING_SPENT, keyImages: [K_SPENT, K_INTACT] },
      { txid: MISSING_GONE, keyImages: [K_GONE] },
      { txid: MISSING_INTACT, keyImages: [K_INTACT] },
    ]);
    expect(gone).toEqual([MISSING_GONE]);
    // One get_transactions for all; the wallet's outputs once, for the missing ones; the remembered
    // input sources (none here) read once; the node asked about the one input cited as evidence.
    // (MINED's hex is no transaction: nothing to learn of it.)
    expect(calls).toEqual([
      "get_transactions 4",
      "refresh",
      "incoming_transfers",
      "get_attribute",
      "is_key_image_spent 1",
    ]);
  });

  it("asks monerod nothing more while every watched transaction is on its chain or pool", async () => {
    calls.length = 0;
    expect(await wallet().unmineable([{ txid: MINED, keyImages: [K_SPENT] }])).toEqual([]);
    expect(calls).toEqual(["get_transactions 1"]);
    calls.length = 0;
    expect(await wallet().unmineable([])).toEqual([]);
    expect(calls).toEqual([]);
  });

  it("a wallet that does not know every output's key image calls no input gone (a spent one neither)", async () => {
    spent = { [K_SPENT]: 1, [K_GONE]: 0 };
    walletKeyImages = [K_SPENT, ""];
    const gone = await wallet().unmineable([
      { txid: MISSING_GONE, keyImages: [K_GONE] },
      { txid: MISSING_SPENT, keyImages: [K_SPENT] },
    ]);
    expect(gone).toEqual([]);
    // Spent in the pool (2) is no proof either.
    spent = { [K_GONE]: 2 };
    walletKeyImages = [K_GONE];
    expect(await wallet().unmineable([{ txid: MISSING_GONE, keyImages: [K_GONE] }])).toEqual([]);
  });
});
