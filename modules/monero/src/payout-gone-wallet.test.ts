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
//
// How a real multisig wallet tells that without knowing every output's key image (it learns one only
// at import_multisig_info: the latest payout's change and later deposits are unknown): while the
// agreed transaction is on its node, the guardian remembers, in its wallet file, the source output of
// each of its inputs (the wallet knows their key images: it imported for the attempt); once the
// transaction is gone it checks that source: its transaction in neither chain nor pool of a node past
// its block, and no longer listed by a wallet that has outputs.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { RpcPayoutWallet } from "./payout-watcher.js";

const C2 = "c2".repeat(32);
const C1 = "c1".repeat(32);
const KI = "1a".repeat(32);
const OTHER_KI = "2b".repeat(32);
/** The deposit whose output C2 spends (KI), its output's public key, and its block. */
const SRC = "5c".repeat(32);
const SRC_KEY = "9d".repeat(32);
const SRC_HEIGHT = 100;

/** One output of the wallet (incoming_transfers). */
interface Output {
  /** "" unknown: a multisig wallet learns an output's key image only at import_multisig_info. */
  keyImage: string;
  txHash: string;
  pubkey: string;
  height: number;
}

interface World {
  /** is_key_image_spent's answer for KI: 0 unspent, 1 spent in the chain, 2 spent in the pool. */
  spent: 0 | 1 | 2;
  /** The wallet's outputs: a key image (its source made up), or an output in full. */
  outputs: (string | Output)[];
  /** monerod's block count (default 1000). */
  height?: number;
  /** The transactions monerod has in its chain or pool: txid -> hex (default none). */
  txs?: Map<string, string>;
  /** Those of `txs` it has in its pool, not its chain (default none). */
  pool?: Set<string>;
  /** is_key_image_spent's answer for key images other than KI (default 0). */
  keyImages?: Map<string, 0 | 1 | 2>;
  /** The wallet file's attributes (what `store` saved; a restarted wallet-rpc starts from them). */
  file?: Map<string, string>;
  /** The wallet-rpc methods called, in order. */
  walletCalls?: string[];
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

/** A transaction's serialized prefix spending these key images (what tx-inputs.ts reads). */
function txHex(keyImages: readonly string[]): string {
  const inputs = keyImages.map((k) => `02000105${k}`).join(""); // to_key, amount 0, 1 ring member at offset 5
  return `0200${keyImages.length.toString(16).padStart(2, "0")}${inputs}00`;
}

/** A fake monerod and a fake wallet-rpc process on `world` (a new call: wallet-rpc restarted). */
async function walletOf(world: World): Promise<RpcPayoutWallet> {
  const daemon = await serve((path, body) => {
    if (path === "/get_transactions") {
      const asked = body.txs_hashes as string[];
      const txs = asked.flatMap((t) => {
        const hex = world.txs?.get(t);
        return hex === undefined
          ? []
          : [
              {
                tx_hash: t,
                as_hex: hex,
                in_pool: world.pool?.has(t) ?? false,
                double_spend_seen: false,
                block_height: SRC_HEIGHT + 1,
              },
            ];
      });
      return { status: "OK", txs, missed_tx: asked.filter((t) => !world.txs?.has(t)) };
    }
    if (path === "/get_height") return { status: "OK", height: world.height ?? 1000, hash: "00".repeat(32) };
    if (path === "/is_key_image_spent")
      return {
        status: "OK",
        spent_status: (body.key_images as string[]).map((k) =>
          k === KI ? world.spent : (world.keyImages?.get(k) ?? 0),
        ),
      };
    return { status: "Failed" };
  });
  const file = (world.file ??= new Map());
  const open = new Map(file);
  const wallet = await serve((_path, body) => {
    const params = (body.params ?? {}) as Record<string, string>;
    const ok = (result: unknown) => ({ id: "0", jsonrpc: "2.0", result });
    (world.walletCalls ??= []).push(String(body.method));
    switch (body.method) {
      case "refresh":
        return ok({ blocks_fetched: 0, received_money: false });
      case "incoming_transfers":
        return ok({
          transfers: world.outputs.map((o, i) => {
            const out: Output =
              typeof o === "string"
                ? {
                    keyImage: o,
                    txHash: (i + 10).toString(16).padStart(2, "0").repeat(32),
                    pubkey: (i + 40).toString(16).repeat(32),
                    height: 200,
                  }
                : o;
            return {
              amount: 1_000_000,
              spent: out.keyImage === KI && world.spent === 1,
              global_index: i,
              tx_hash: out.txHash,
              subaddr_index: { major: 0, minor: 0 },
              key_image: out.keyImage,
              block_height: out.height,
              pubkey: out.pubkey,
            };
          }),
        });
      case "get_attribute": {
        const value = open.get(params["key"] ?? "");
        return value === undefined
          ? { id: "0", jsonrpc: "2.0", error: { code: -45, message: "Attribute not found." } }
          : ok({ value });
      }
      case "set_attribute":
        open.set(params["key"] ?? "", params["value"] ?? "");
        return ok({});
      case "store":
        for (const [k, v] of open) file.set(k, v);
        return ok({});
      default:
        return { id: "0", jsonrpc: "2.0", error: { code: -32601, message: "Method not found" } };
    }
  });
  return new RpcPayoutWallet(wallet, daemon, { threshold: 3, total: 4, multisigAddress: "unused" });
}

/** The output C2 spends, as the wallet lists it once it knows its key image (after the import). */
const source = (keyImage = KI): Output => ({ keyImage, txHash: SRC, pubkey: SRC_KEY, height: SRC_HEIGHT });
/** Outputs that arrived after the last export round: their key images unknown. */
const change: Output = { keyImage: "", txHash: "3e".repeat(32), pubkey: "3f".repeat(32), height: 300 };
const laterDeposit: Output = { keyImage: "", txHash: "4e".repeat(32), pubkey: "4f".repeat(32), height: 400 };

/**
 * The world in which C2 was seen: C2 and its source on the node, the wallet knowing KI (it imported
 * for C2's attempt) but not the key images of the outputs that came later. Its wallet checks once.
 */
async function seen(): Promise<World> {
  const world: World = {
    spent: 0,
    outputs: [source(), change],
    txs: new Map([
      [C2, txHex([KI])],
      [SRC, txHex([OTHER_KI])],
    ]),
  };
  expect(await (await walletOf(world)).unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([]);
  return world;
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

  it("an input the node shows spent (chain or pool) is no evidence even when the wallet misnames its output (a wrong key image): the node has the last word", async () => {
    // Failed before: [C2] both times. (1) A wallet that knows every output's key image, but whose
    // key image for the output C2 spends is wrong (a Byzantine guardian's partial key image at the
    // import), does not find KI among its outputs; C1, a sibling completion, spent KI in the chain
    // and paid the batch: a Gone vote would pay it twice.
    expect(
      await (await walletOf({ spent: 1, outputs: [OTHER_KI] })).unmineable([{ txid: C2, keyImages: [KI] }]),
    ).toEqual([]);
    // (2) The remembered source is the wrong output's (a transaction a reorg took away), while the
    // output C2 really spends is there and C1 spent it.
    const world = await seen();
    world.spent = 1;
    world.txs = new Map([[C1, txHex([KI])]]);
    world.outputs = [change, laterDeposit];
    expect(await (await walletOf(world)).unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([]);
    // C1 in the pool only: it may be mined, no evidence either.
    world.spent = 2;
    world.txs = new Map();
    expect(await (await walletOf(world)).unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([]);
    // The same with KI unspent at the node: the source is gone, and so is C2.
    world.spent = 0;
    expect(await (await walletOf(world)).unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([C2]);
  });

  it("a transaction merely missing from the node, its input an unspent output of the wallet, is not gone", async () => {
    const w = await walletOf({ spent: 0, outputs: [KI, OTHER_KI] });
    expect(await w.unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([]);
  });

  it("remembers where an input came from while the transaction is on its node, and votes it gone once that output is gone although other outputs' key images are unknown (after a wallet-rpc restart too)", async () => {
    // Failed before: [] (the wallet knows no key image of the change and of later deposits, so
    // `unmineable` counted nothing: a real guardian almost never voted Gone).
    const world = await seen();
    // The deep reorg: the deposit SRC double-spent on a longer fork; C2 and SRC in neither chain nor
    // pool; the wallet (refreshed) no longer lists SRC's output; the change's and a later deposit's
    // key images unknown. A new wallet-rpc and payout wallet: what was learnt came from the file.
    world.txs = new Map();
    world.outputs = [change, laterDeposit];
    const restarted = await walletOf(world);
    expect(await restarted.unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([C2]);
    // Confirmed at block 500: the node past it says the same; one below it says nothing.
    expect(await restarted.unmineable([{ txid: C2, keyImages: [KI], txHeight: 500 }])).toEqual([C2]);
    world.height = 450;
    expect(await (await walletOf(world)).unmineable([{ txid: C2, keyImages: [KI], txHeight: 500 }])).toEqual(
      [],
    );
  });

  it("no vote from the remembered source while the source output still exists: its transaction on the node, or the wallet still listing it, or the node not past its block, or an empty wallet", async () => {
    const world = await seen();
    world.outputs = [change, laterDeposit];
    // C2 dropped from the node, its source still mined: C2 can still be mined (resubmitted).
    world.txs = new Map([[SRC, txHex([OTHER_KI])]]);
    expect(await (await walletOf(world)).unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([]);
    // SRC unknown to the node, but the wallet still lists its output (by txid, or by the output's
    // public key under another txid: a sibling of a federation transaction has the same outputs).
    world.txs = new Map();
    world.outputs = [{ ...source(""), pubkey: "" }, change]; // by txid (no public key answered)
    expect(await (await walletOf(world)).unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([]);
    world.outputs = [{ ...source(""), txHash: "77".repeat(32) }, change];
    expect(await (await walletOf(world)).unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([]);
    // A node not past the source's block (rebuilt, syncing) says nothing about it.
    world.outputs = [change, laterDeposit];
    world.height = SRC_HEIGHT;
    expect(await (await walletOf(world)).unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([]);
    // A wallet with no outputs (its cache lost) knows nothing.
    world.height = 1000;
    world.outputs = [];
    expect(await (await walletOf(world)).unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([]);
    // The same world with the outputs back: gone (the cases above failed for the reasons named).
    world.outputs = [change, laterDeposit];
    expect(await (await walletOf(world)).unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([C2]);
  });

  it("an input spent in the chain by a sibling completion is no evidence with remembered sources either: the source is still there", async () => {
    const world = await seen();
    // C1, the passed-over last signer's completion of the same set (KI), mined; C2 gone from the node.
    world.spent = 1;
    world.txs = new Map([
      [C1, txHex([KI])],
      [SRC, txHex([OTHER_KI])],
    ]);
    world.outputs = [{ ...source(), keyImage: "" }, change, laterDeposit];
    expect(await (await walletOf(world)).unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([]);
  });

  it("remembers the inputs the transaction itself spends, not the names it was watched under, and nothing of a wallet that does not know their key images", async () => {
    // A wallet that never imported for C2's attempt (an excluded guardian): nothing learnt.
    const world: World = {
      spent: 0,
      outputs: [source(""), change],
      txs: new Map([
        [C2, txHex([KI])],
        [SRC, txHex([OTHER_KI])],
      ]),
    };
    expect(await (await walletOf(world)).unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([]);
    world.txs = new Map();
    world.outputs = [change, laterDeposit];
    expect(await (await walletOf(world)).unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([]);
    // Watched under a named key image that C2 does not spend (OTHER_KI): C2's own input KI is what
    // is remembered, and its source gone makes C2 gone.
    const w2 = await seen();
    w2.txs = new Map();
    w2.outputs = [change, laterDeposit];
    expect(await (await walletOf(w2)).unmineable([{ txid: C2, keyImages: [OTHER_KI] }])).toEqual([C2]);
  });

  it("a completion voted before a txid is agreed (unagreed) is gone only by an input among the attempt's named ones: any guardian may vote any txid", async () => {
    // C2 spends KI; watched as a vote for an attempt that names OTHER_KI: what C2 spends says
    // nothing about that attempt (a Byzantine guardian may vote another transaction's txid).
    const w1 = await seen();
    w1.txs = new Map();
    w1.outputs = [change, laterDeposit];
    expect(
      await (await walletOf(w1)).unmineable([{ txid: C2, keyImages: [OTHER_KI], unagreed: true }]),
    ).toEqual([]);
    // Voted for the attempt that names KI, whose source is in neither chain nor pool: not enough for
    // an unagreed attempt (the source may be rebroadcast by whoever holds it, its inputs unspent;
    // review of 07aa630, finding 1), though it is for an agreed txid missing from the node.
    const w2 = await seen();
    w2.txs = new Map();
    w2.outputs = [change, laterDeposit];
    expect(await (await walletOf(w2)).unmineable([{ txid: C2, keyImages: [KI], unagreed: true }])).toEqual(
      [],
    );
    // The source in the pool with one of its own inputs spent in the chain by another transaction
    // (the double spend of the deep reorg): a chain fact, gone.
    const SRC_INPUT = "3d".repeat(32);
    const w3 = await seen();
    w3.txs = new Map([[SRC, txHex([SRC_INPUT])]]);
    w3.pool = new Set([SRC]);
    w3.keyImages = new Map([[SRC_INPUT, 1]]);
    w3.outputs = [change, laterDeposit];
    expect(await (await walletOf(w3)).unmineable([{ txid: C2, keyImages: [KI], unagreed: true }])).toEqual([
      C2,
    ]);
  });

  it("looks a watched transaction's inputs up in the wallet once (per import), not at every poll, and saves what it learnt", async () => {
    const world: World = {
      spent: 0,
      outputs: [source(), change],
      txs: new Map([
        [C2, txHex([KI])],
        [SRC, txHex([OTHER_KI])],
      ]),
    };
    const w = await walletOf(world);
    expect(await w.unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([]);
    expect(world.walletCalls).toEqual([
      "get_attribute",
      "refresh",
      "incoming_transfers",
      "set_attribute",
      "store",
    ]);
    world.walletCalls = [];
    expect(await w.unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([]);
    expect(world.walletCalls).toEqual([]);
  });

  /** A later payout P1 spends K1, the change of C2 (which spent the deposit SRC, whose input is `srcInput`). */
  const P1 = "d1".repeat(32);
  const K1 = "3c".repeat(32);
  const changeSpentWorld = (srcInput: string): World => ({
    spent: 0,
    outputs: [source(), { keyImage: K1, txHash: C2, pubkey: "8e".repeat(32), height: 150 }, laterDeposit],
    txs: new Map([
      [C2, txHex([KI])],
      [P1, txHex([K1])],
      [SRC, txHex([srcInput])],
    ]),
  });

  it("a later payout that spent the change of a payout the reorg took away is gone too (its source is that payout)", async () => {
    const world = changeSpentWorld(OTHER_KI);
    const watched = [
      { txid: C2, keyImages: [KI] },
      { txid: P1, keyImages: [K1] },
    ];
    expect(await (await walletOf(world)).unmineable(watched)).toEqual([]);
    world.txs = new Map();
    world.outputs = [change, laterDeposit];
    expect(await (await walletOf(world)).unmineable(watched)).toEqual([C2, P1]);
  });

  describe("after a real deep reorg: monerod keeps the detached blocks' transactions in its pool", () => {
    // Measured on monerod 0.18 in regtest (docs/monero.md): after pop_blocks the popped transactions
    // are in the pool; one whose source transaction is gone stays there ("kept by block",
    // last_failed_height set, blocks later still in_pool), is_key_image_spent of its input says 2.
    // So C2 (confirmed at 500) is not missing: it waits in the pool, and so does its source, the
    // deposit SRC, whose own input OTHER_KI the double spend spent in the new chain.
    const DEPOSIT_INPUT = OTHER_KI;
    async function reorged(): Promise<World> {
      const world = await seen();
      world.txs = new Map([
        [C2, txHex([KI])],
        [SRC, txHex([DEPOSIT_INPUT])],
      ]);
      world.pool = new Set([C2, SRC]);
      world.spent = 2; // KI: spent in the pool, by C2 itself
      world.keyImages = new Map([[DEPOSIT_INPUT, 1]]); // the deposit's input: spent in the chain
      world.outputs = [change, laterDeposit]; // the wallet dropped the detached deposit's output
      return world;
    }
    const confirmed = [{ txid: C2, keyImages: [KI], txHeight: 500 }];

    it("a confirmed payout back in the pool whose remembered source is a double-spent deposit (in the pool, its input spent in the chain) is gone", async () => {
      // Failed before: [] (a transaction in the pool counted as mineable: no guardian voted for the
      // week monerod keeps it, past the 720 blocks a confirmed batch is watched).
      const world = await reorged();
      expect(await (await walletOf(world)).unmineable(confirmed)).toEqual([C2]);
    });

    it("not gone while the deposit may still be mined (its input unspent or spent only in the pool: a shallow reorg, both mined again), nor with the deposit in the chain, the wallet listing its output, a node below its block, or a payout not yet confirmed", async () => {
      const world = await reorged();
      world.keyImages = new Map([[DEPOSIT_INPUT, 2]]); // spent in the pool: by SRC itself
      expect(await (await walletOf(world)).unmineable(confirmed)).toEqual([]);
      world.keyImages = new Map([[DEPOSIT_INPUT, 0]]);
      expect(await (await walletOf(world)).unmineable(confirmed)).toEqual([]);
      world.keyImages = new Map([[DEPOSIT_INPUT, 1]]);
      world.pool = new Set([C2]); // the deposit mined again
      expect(await (await walletOf(world)).unmineable(confirmed)).toEqual([]);
      world.pool = new Set([C2, SRC]);
      world.outputs = [source(""), change]; // the wallet still lists the deposit's output
      expect(await (await walletOf(world)).unmineable(confirmed)).toEqual([]);
      world.outputs = [change, laterDeposit];
      world.height = 500; // not past C2's agreed block
      expect(await (await walletOf(world)).unmineable(confirmed)).toEqual([]);
      world.height = 1000;
      // In the pool and not confirmed (submitted, not yet attested at depth): a payout waiting to
      // be mined, not one a reorg took back.
      expect(await (await walletOf(world)).unmineable([{ txid: C2, keyImages: [KI] }])).toEqual([]);
      // In the pool, with the source merely missing (neither chain nor pool, not double-spent): it
      // may be broadcast again and C2 mined after it; only a missing transaction counts that.
      world.txs = new Map([[C2, txHex([KI])]]);
      expect(await (await walletOf(world)).unmineable(confirmed)).toEqual([]);
      // The same world as the first test: gone.
      expect(await (await walletOf(await reorged())).unmineable(confirmed)).toEqual([C2]);
    });

    it("an input of the pooled payout spent in the chain (a sibling completion mined) is no evidence", async () => {
      const world = await reorged();
      world.spent = 1;
      expect(await (await walletOf(world)).unmineable(confirmed)).toEqual([]);
    });

    it("a later confirmed payout in the pool that spent the change of the gone one is gone with it", async () => {
      const world = changeSpentWorld(DEPOSIT_INPUT);
      const watched = [
        { txid: C2, keyImages: [KI], txHeight: 500 },
        { txid: P1, keyImages: [K1], txHeight: 600 },
      ];
      expect(await (await walletOf(world)).unmineable(watched)).toEqual([]);
      world.pool = new Set([C2, P1, SRC]);
      world.spent = 2;
      world.keyImages = new Map<string, 0 | 1 | 2>([
        [DEPOSIT_INPUT, 1],
        [K1, 2],
      ]);
      world.outputs = [change, laterDeposit];
      expect(await (await walletOf(world)).unmineable(watched)).toEqual([C2, P1]);
      // P1 alone (C2 no longer watched): its source C2 is in the pool with its input unspent in the
      // chain, so nothing says C2 can never be mined.
      expect(await (await walletOf(world)).unmineable([watched[1]!])).toEqual([]);
    });
  });
});

// Review of 07aa630, finding 1 (failed before: unmineable answered [C2]): the unagreed watch on a node that REFUSED the final set (the voted completion
// was never on it, so "missing" says nothing), whose named input's source was merely DETACHED by
// the deep reorg: monerod keeps it in its pool ("kept by block"), its own input unspent, so it is
// mined again as soon as the miner stops censoring it, and the completion (in the pool of the
// guardian that accepted it, and in the consensus state for anyone to resubmit) with it.
// Evidence (1) ("a missing transaction only: a detached block's output ... comes back") counts it.
describe("RpcPayoutWallet.unmineable for an attempt whose txid is not agreed (unagreed)", () => {
  it("does not count a named input whose source a deep reorg only detached (in the pool, its own input unspent: mined again once uncensored, and the completion with it): only a double-spent source is evidence there, else f guardians could re-make the attempt unbound and the batch be paid twice", async () => {
    const SRC_INPUT = "3c".repeat(32); // the source's own input: unspent (no double spend)
    const world: World = {
      spent: 0, // KI: spent neither in chain nor pool on this node (it refused the completion)
      outputs: [OTHER_KI], // every key image known (imported for the attempt); KI's output detached
      txs: new Map([[SRC, txHex([SRC_INPUT])]]),
      pool: new Set([SRC]), // the source back in the pool, mineable
      keyImages: new Map([[SRC_INPUT, 0]]),
    };
    expect(await (await walletOf(world)).unmineable([{ txid: C2, keyImages: [KI], unagreed: true }])).toEqual(
      [],
    );
  });
});

// `--monero-deep-reorg-signing` (docs/simulator.md): an attempt being signed, or a bound attempt
// with no creator's set, has no transaction on any node to read its inputs from; its named (or
// bound) inputs are watched by their key images (GoneCheck.inputsOnly), their sources learnt from
// the wallet while it lists them (it knows their key images after the attempt's import).
describe("RpcPayoutWallet.unmineable for an attempt's inputs with no transaction (inputsOnly)", () => {
  const NAMED = "inputs:1:0:named";
  const SRC_INPUT = "3c".repeat(32); // the deposit's own input, double-spent by the deep reorg
  const check = (txid = NAMED, keyImages = [KI]) => [{ txid, keyImages, inputsOnly: true }];
  async function learnt(): Promise<World> {
    const world: World = {
      spent: 0,
      outputs: [source(), change],
      txs: new Map([[SRC, txHex([SRC_INPUT])]]),
      keyImages: new Map([[SRC_INPUT, 1]]), // spent in the chain by the deposit itself
    };
    // The source in the chain: nothing gone; what the wallet lists of KI is remembered.
    expect(await (await walletOf(world)).unmineable(check())).toEqual([]);
    return world;
  }
  /** The deep reorg: the deposit back in the pool, its output no longer listed. */
  function reorg(world: World, sourceInput: 0 | 1 | 2): World {
    world.pool = new Set([SRC]);
    world.outputs = [change, laterDeposit];
    world.keyImages = new Map([[SRC_INPUT, sourceInput]]);
    return world;
  }

  it("is gone once a named input's source is double-spent in the chain (after a wallet-rpc restart too), whatever name the check has (the bound of a later attempt)", async () => {
    // Failed before: [] (an attempt with no transaction was not watched at all; its inputs are
    // learnt from no transaction).
    const world = reorg(await learnt(), 1);
    expect(await (await walletOf(world)).unmineable(check())).toEqual([NAMED]);
    expect(await (await walletOf(world)).unmineable(check("inputs:1:1:bound"))).toEqual(["inputs:1:1:bound"]);
    // Spent in the pool by whatever (a completion kept there): it can never be mined either.
    world.spent = 2;
    expect(await (await walletOf(world)).unmineable(check())).toEqual([NAMED]);
  });

  it("while the sources are in the chain, a check after the first asks the wallet nothing (no refresh at every poll of signing)", async () => {
    const world = await learnt();
    world.walletCalls = [];
    const wallet = await walletOf(world);
    expect(await wallet.unmineable(check())).toEqual([]);
    expect(await wallet.unmineable(check())).toEqual([]);
    // The remembered sources read once per process (the attribute); no refresh, no outputs listed.
    expect(world.walletCalls).toEqual(["get_attribute"]);
  });

  // Review of 45fa79b (reviewsign): the transactions' lookup (learnSources) forgot the lookups of
  // every check that is no transaction, so a named or bound key image the wallet does not list (a
  // dead input whose source was never learnt, a Byzantine creator's bogus name) cost a refresh and
  // the whole incoming_transfers at every poll, for as long as the attempt is watched.
  it("a watched key image the wallet does not list is looked up once per import, not at every poll", async () => {
    const world: World = { spent: 0, outputs: [change], txs: new Map([[SRC, txHex([SRC_INPUT])]]) };
    const wallet = await walletOf(world);
    for (let poll = 0; poll < 3; poll++)
      expect(await wallet.unmineable(check(NAMED, [OTHER_KI]))).toEqual([]);
    expect(world.walletCalls?.filter((m) => m === "incoming_transfers")).toEqual(["incoming_transfers"]);
    expect(world.walletCalls?.filter((m) => m === "refresh")).toEqual(["refresh"]);
  });

  it("is not gone while the source is only detached (its input unspent, or spent only in the pool), back in the chain, or the named input spent in the chain; nor by an input whose source it never learnt", async () => {
    expect(await (await walletOf(reorg(await learnt(), 0))).unmineable(check())).toEqual([]);
    expect(await (await walletOf(reorg(await learnt(), 2))).unmineable(check())).toEqual([]);
    const back = reorg(await learnt(), 1);
    back.pool = new Set();
    expect(await (await walletOf(back)).unmineable(check())).toEqual([]);
    const mined = reorg(await learnt(), 1);
    mined.spent = 1; // a completion of the attempt mined before the reorg and still in the chain
    expect(await (await walletOf(mined)).unmineable(check())).toEqual([]);
    // A wallet that never listed the input (it did not import for the attempt): nothing to go by.
    const blind: World = reorg({ spent: 0, outputs: [change], txs: new Map([[SRC, txHex([SRC_INPUT])]]) }, 1);
    expect(await (await walletOf(blind)).unmineable(check())).toEqual([]);
  });
});
