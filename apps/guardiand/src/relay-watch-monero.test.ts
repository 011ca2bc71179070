// The monero module's watch kind (`monero-tx`: a Monero txid's depth, no view key) through a guardian
// process's relay socket, end to end: monerod in regtest, four guardian processes with the monero
// module (the real ceremony's multisig, monero-federation.ts) and the relay, and the SDK's WatchClient
// over a real WebSocket at one guardian's /v1/modules/relay/ws. The user's payment is built and signed
// but not relayed, and watched by its txid (`unknown`); sent to monerod, it is told in the pool; mined,
// it is told in a block with 1, 2, 3 confirmations as blocks come one by one; past
// MONERO_TX_CONFIRMATIONS_TOLD_MAX its state is final and more blocks tell nothing. (The module-level
// check against monerod is modules/monero/src/tx-watch-regtest.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { parseXmr } from "@conclave/monero";
import { MONERO_TX_CONFIRMATIONS_TOLD_MAX } from "@conclave/module-monero";
import { WatchClient } from "@conclave/module-relay/client";
import type { WatchUpdate, WebSocketLike } from "@conclave/module-relay/client";
import { startMoneroFederation } from "./monero-federation.js";
import type { MoneroFederation } from "./monero-federation.js";

/** The guardian whose socket the watch uses (any one answers alone, from its own monerod). */
const G = 1;
let fed: MoneroFederation | undefined;
let watches: WatchClient | undefined;

beforeAll(async () => {
  // No miner of its own: the test mines each block itself. The guardians read watched txids every 200 ms.
  fed = await startMoneroFederation({
    relay: true,
    blockEveryMs: 0,
    pollMs: 200,
    prefix: "conclave-relay-watch-monero-",
  });
  const urls = fed.config.guardians.map((g) => g.api?.url ?? "");
  watches = new WatchClient({ guardians: urls, connect: (url: string): WebSocketLike => new WebSocket(url) });
}, 600_000);

afterAll(async () => {
  watches?.close();
  await fed?.stop();
}, 120_000);

/** Resolves once `f()` holds (checked every 100 ms; no timing is asserted, only a bound on waiting). */
async function until(what: string, f: () => boolean, told: readonly WatchUpdate[]): Promise<void> {
  for (let i = 0; i < 1800; i++) {
    if (f()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; told: ${JSON.stringify(told.map((u) => u.state))}`);
}

describe("monero-tx watched over a guardian process's relay socket (monerod regtest)", () => {
  it("a payment's txid: unknown before it is sent, in the pool, then 1, 2, 3 confirmations as blocks are mined, then final", async () => {
    const f = fed!;
    await f.user.refresh();
    // Built and signed, not relayed: the txid is known before monerod has seen the transaction.
    const built = await f.user.transfer({
      destinations: [{ address: f.userAddress, amount: parseXmr("0.25") }],
      doNotRelay: true,
      getTxHex: true,
    });
    const txid = built.txid!;
    expect(txid).toMatch(/^[0-9a-f]{64}$/);
    expect(built.txBlob).toBeDefined();
    const told: WatchUpdate[] = [];
    const w = watches!.watch({ kind: "monero-tx", key: txid }, (u) => told.push(u), [G]);
    expect(w.guardians).toEqual([G]);
    await until("the first state", () => told.length > 0, told);
    expect(told[0]!.guardian).toBe(G);
    expect(told[0]!.state).toEqual({ txid, state: "unknown", confirmations: 0 });

    expect((await f.regtest.daemon.rpc.sendRawTransaction(built.txBlob!)).relayed).toBe(true);
    await until("pool", () => told.at(-1)?.state["state"] === "pool", told);
    expect(told.at(-1)!.state).toEqual({ txid, state: "pool", confirmations: 0 });

    let minedAt = 0;
    for (let k = 1; k <= 3; k++) {
      const count = await f.miner.mine(1);
      if (k === 1) minedAt = count - 1;
      await until(`${k} confirmations`, () => told.at(-1)?.state["confirmations"] === k, told);
    }
    // Past the last depth told, the state is final: mined in batches (generateblocks of many is slow here).
    for (let mined = 3; mined < MONERO_TX_CONFIRMATIONS_TOLD_MAX + 2; mined += 10) await f.miner.mine(10);
    await until(
      "the final depth",
      () => told.at(-1)?.state["confirmations"] === MONERO_TX_CONFIRMATIONS_TOLD_MAX,
      told,
    );
    const final = {
      txid,
      state: "block",
      blockHeight: minedAt,
      confirmations: MONERO_TX_CONFIRMATIONS_TOLD_MAX,
    };
    expect(told.at(-1)!.state).toEqual(final);
    const count = told.length;
    await f.miner.mine(2);
    // The guardian's height has moved past the new blocks (its poll read them) and told nothing more.
    const height = (await f.regtest.daemon.rpc.getHeight()).height;
    await new Promise((r) => setTimeout(r, 2_000));
    expect(height).toBeGreaterThan(minedAt + MONERO_TX_CONFIRMATIONS_TOLD_MAX);
    expect(told).toHaveLength(count);

    // Every update from G; each state told once (never the same twice in a row), in this order:
    // unknown, pool, then in its block 1, 2, 3 and some depths up to the final one. (monerod may answer
    // "unknown" for a moment while it moves the transaction from its pool into the block.)
    expect(told.every((u) => u.guardian === G)).toBe(true);
    const states = told.map((u) => JSON.stringify(u.state));
    expect(states.filter((s, i) => i > 0 && s === states[i - 1])).toEqual([]);
    const inBlock = told.map((u) => u.state).filter((s) => s["state"] === "block");
    expect(inBlock.slice(0, 3)).toEqual(
      [1, 2, 3].map((confirmations) => ({ txid, state: "block", confirmations, blockHeight: minedAt })),
    );
    const depths = inBlock.map((s) => s["confirmations"] as number);
    expect(depths.every((d, i) => i === 0 || d > depths[i - 1]!)).toBe(true);
    const firstBlock = told.findIndex((u) => u.state["state"] === "block");
    expect(told.slice(0, firstBlock).map((u) => u.state["state"])).toEqual(
      expect.arrayContaining(["unknown", "pool"]),
    );
    expect(told[1]!.state["state"]).toBe("pool");
    expect(told.slice(firstBlock).every((u) => u.state["state"] === "block")).toBe(true);

    // A second watch now is told the final state first.
    const later: WatchUpdate[] = [];
    const w2 = watches!.watch({ kind: "monero-tx", key: txid }, (u) => later.push(u), [G]);
    await until("the later watch's first state", () => later.length > 0, later);
    expect(later[0]!.state).toEqual(final);
    w.stop();
    w2.stop();
  }, 600_000);
});
