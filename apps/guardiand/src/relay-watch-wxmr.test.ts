// The bridge's watch kinds through a guardian process's relay socket, end to end: anvil with the
// WrappedMonero contract, four guardian processes running the bridge and the relay
// (bridge-federation-fixture.ts with `relay`), a wallet on LMDB, and the SDK's WatchClient over a real
// WebSocket at one guardian's /v1/modules/relay/ws. A wXMR mint output is watched while signed and not
// sent: the socket tells its state (`open`), then, once it is on chain and past its deadline, the
// guardians' decision `minted`. A
// burn sent to anvil's pool (automine off) is watched before it is mined (`unknown`): once mined the
// socket tells the guardians' vote and acceptance. (The module-level checks of these kinds, with four
// in-memory guardians, are modules/bridge/src/watch.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { parseEventLogs } from "viem";
import type { Hex } from "viem";
import { bytesToHex } from "viem";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import { WatchClient } from "@conclave/module-relay/client";
import type { WatchTarget, WatchUpdate, WebSocketLike } from "@conclave/module-relay/client";
import { nodeWallets } from "@conclave/wallet-standard/node";
import type { Wallet } from "@conclave/wallet-standard/node";
import { startBridgeFederation } from "../../../modules/bridge/src/client/bridge-federation-fixture.js";
import type { BridgeFederation } from "../../../modules/bridge/src/client/bridge-federation-fixture.js";

const XMR = 1_000_000_000_000n;
/** The guardian whose socket the watches use (any one answers alone). */
const G = 2;
let fed: BridgeFederation;
let wallet: Wallet;
let watches: WatchClient;

beforeAll(async () => {
  fed = await startBridgeFederation("relay-watch-wxmr-", { relay: true });
  wallet = (await nodeWallets({ awaitTimeoutMs: 30_000 }).joinWallet(`${fed.dir}/wallet`, fed.invite)).wallet;
  await wallet.devFaucet(2n * XMR);
  watches = new WatchClient({
    guardians: fed.guardianUrls,
    connect: (url: string): WebSocketLike => new WebSocket(url),
  });
}, 240_000);

afterAll(async () => {
  watches?.close();
  await wallet?.close().catch(() => undefined);
  await fed?.stop();
});

/** Watches `target` at guardian G; `next(pred)` resolves with the first update (past or future) it accepts. */
function watchAtG(target: WatchTarget) {
  const updates: WatchUpdate[] = [];
  const waiting: { pred: (u: WatchUpdate) => boolean; done: (u: WatchUpdate) => void }[] = [];
  const w = watches.watch(
    target,
    (u) => {
      updates.push(u);
      for (const x of waiting.filter((x) => x.pred(u))) {
        waiting.splice(waiting.indexOf(x), 1);
        x.done(u);
      }
    },
    [G],
  );
  const next = (pred: (u: WatchUpdate) => boolean) =>
    new Promise<WatchUpdate>((done) => {
      const had = updates.find(pred);
      if (had) done(had);
      else waiting.push({ pred, done });
    });
  return { updates, next, stop: () => w.stop() };
}

const stateOf = (u: WatchUpdate) => u.state["state"];

describe("wxmr-mint and wxmr-burn watched over a guardian process's relay socket", () => {
  it("a mint output: its state first (open: signed, not sent), then minted once it is on chain and its deadline passed", async () => {
    const account = fed.anvil.accounts[0]!;
    const minted = await wallet.bridgeMint(account.address, XMR / 2n);
    const w = watchAtG({ kind: "wxmr-mint", key: `${minted.txid}:${minted.output}` });
    const first = await w.next(() => true);
    expect(first.guardian).toBe(G);
    // The wallet's mints carry a refund key: their state is their return's, open until the deadline.
    expect(stateOf(first)).toBe("open");
    expect(first.state).toMatchObject({ recipient: account.address, amount: (XMR / 2n).toString() });
    const sent = await wallet.bridgeSubmit(minted.txid, {
      privateKey: bytesToHex(account.getHdKey().privateKey!),
      rpcUrl: fed.anvil.rpcUrl,
    });
    expect(sent.status).toBe("success");
    // Its return is decided past the deadline (the fixture's mints have 3,600 s): an hour and two
    // minutes later on the chain, the guardians find the deposit id used and vote it minted.
    await fed.anvil.testClient.increaseTime({ seconds: 3_720 });
    await fed.anvil.testClient.mine({ blocks: 1 });
    const done = await w.next((u) => stateOf(u) === "minted");
    expect(done.guardian).toBe(G);
    // Every change told once (the votes move within "due"), never the same state twice in a row.
    const states = w.updates.map((u) => JSON.stringify(u.state));
    expect(states.filter((s, i) => i > 0 && s === states[i - 1])).toEqual([]);
    // open, then due while the guardians vote (unless both came in one block), then minted.
    const steps = w.updates.map(stateOf).filter((s, i, all) => s !== all[i - 1]);
    expect([
      ["open", "minted"],
      ["open", "due", "minted"],
    ]).toContainEqual(steps);
    w.stop();
  }, 180_000);

  it("a burn: watched before it is mined (unknown), then the guardians' vote and acceptance", async () => {
    const burn = await wallet.bridgeBurn(XMR / 4n, { toClaim: true });
    expect(burn.call).toBeDefined();
    await fed.anvil.testClient.setAutomine(false);
    let hash: Hex;
    let w: ReturnType<typeof watchAtG>;
    try {
      hash = await fed.anvil.walletClient.sendTransaction({ to: burn.call!.contract, data: burn.call!.data });
      // In a block of its own, the contract's burn logs Transfer (index 0), then Burned (index 1);
      // checked against the receipt below.
      w = watchAtG({ kind: "wxmr-burn", key: `${hash}:1` });
      expect(stateOf(await w.next(() => true))).toBe("unknown");
      await fed.anvil.testClient.mine({ blocks: 1 });
    } finally {
      await fed.anvil.testClient.setAutomine(true);
    }
    const receipt = await fed.anvil.publicClient.waitForTransactionReceipt({ hash });
    const burned = parseEventLogs({ abi: wrappedMoneroAbi, logs: receipt.logs, eventName: "Burned" });
    expect(burned.map((l) => l.logIndex)).toEqual([1]);
    const accepted = await w.next((u) => stateOf(u) === "accepted");
    expect(accepted.guardian).toBe(G);
    expect(accepted.state).toMatchObject({ amount: (XMR / 4n).toString() });
    expect(w.updates.map(stateOf)[0]).toBe("unknown");
    w.stop();
  }, 180_000);
});
