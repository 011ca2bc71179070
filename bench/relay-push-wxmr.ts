// npm run bench:relay-push-wxmr — push latency of the bridge's watch kinds (`wxmr-mint`, `wxmr-burn`)
// on loopback (docs/benchmarks.md, "Relay: watch and push"): anvil with the wXMR contract, four
// guardian processes running the mint, the bridge (confirmations 1, EVM watcher polling every 200 ms)
// and the relay (bridge-federation-fixture.ts with `relay`), a wallet on LMDB, and the SDK's
// WatchClient over a real WebSocket at guardian G's /v1/modules/relay/ws.
//
// Burn rounds: a burn is sent to anvil's pool (automine off) and watched while unknown; the clock
// starts when anvil's evm_mine returns (the block is at depth: its own block counts) and stops at the
// WebSocket callbacks: the first change of the view (the first committed federation block with a
// guardian's vote) and `accepted` (t votes). Meanwhile G's HTTP view of the burn is read every 5 ms;
// its first `accepted` is when the committed state at G says so (seen late by at most one read), and
// the WebSocket's `accepted` minus that is the relay's own hop from the committed view to the client.
// Mint rounds: a mint is signed, sent and mined; its view stays `open` until its deadline; the clock
// starts when the block after an evm_increaseTime past the deadline is mined and stops at `minted`.
//
//   npm run bench:relay-push-wxmr [-- --rounds 10]
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { WebSocket } from "ws";
import { bytesToHex } from "viem";
import type { Hex } from "viem";
import { WatchClient } from "@conclave/module-relay/client";
import type { WatchTarget, WatchUpdate, WebSocketLike } from "@conclave/module-relay/client";
import { nodeWallets } from "@conclave/wallet-standard/node";
import type { Wallet } from "@conclave/wallet-standard/node";
import { startBridgeFederation } from "../modules/bridge/src/client/bridge-federation-fixture.js";
import type { BridgeFederation } from "../modules/bridge/src/client/bridge-federation-fixture.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "10" } } });
const ROUNDS = Number(values.rounds);
const XMR = 1_000_000_000_000n;
/** The guardian whose socket the watches use. */
const G = 2;

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(1);
  return `min ${s[0]!.toFixed(1)}, median ${q(0.5)}, p95 ${q(0.95)}, max ${s[s.length - 1]!.toFixed(1)} ms`;
}

/** Watches `target` at G; `next(pred)` resolves with the time of the first update `pred` accepts. */
function watchAtG(watches: WatchClient, target: WatchTarget) {
  const seen: { u: WatchUpdate; at: number }[] = [];
  const waiting: { pred: (u: WatchUpdate) => boolean; done: (at: number) => void }[] = [];
  const w = watches.watch(
    target,
    (u) => {
      const at = performance.now();
      seen.push({ u, at });
      for (const x of waiting.filter((x) => x.pred(u))) {
        waiting.splice(waiting.indexOf(x), 1);
        x.done(at);
      }
    },
    [G],
  );
  const next = (pred: (u: WatchUpdate) => boolean, timeoutMs = 120_000) =>
    new Promise<number>((done, fail) => {
      const had = seen.find((s) => pred(s.u));
      if (had) return done(had.at);
      const t = setTimeout(
        () => fail(new Error(`no matching update of ${target.kind} ${target.key}`)),
        timeoutMs,
      );
      waiting.push({
        pred,
        done: (at) => {
          clearTimeout(t);
          done(at);
        },
      });
    });
  return { next, stop: () => w.stop() };
}

const stateOf = (u: WatchUpdate) => u.state["state"];

/** Reads G's burn view every 5 ms until it says accepted; resolves with that moment. */
async function httpAccepted(fed: BridgeFederation, hash: string, stop: { done: boolean }): Promise<number> {
  const url = `${fed.guardianUrls[G]}/v1/modules/bridge/burns/${hash}/1`;
  while (!stop.done) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (r.ok) {
        const at = performance.now();
        const view = (await r.json()) as { state?: string };
        if (view.state === "accepted") return at;
      }
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return NaN;
}

async function main(): Promise<void> {
  console.log(`set-up starting at load ${load()}`);
  const fed = await startBridgeFederation("bench-relay-push-wxmr-", { relay: true });
  let wallet: Wallet | undefined;
  const watches = new WatchClient({
    guardians: fed.guardianUrls,
    connect: (url: string): WebSocketLike => new WebSocket(url),
  });
  try {
    wallet = (await nodeWallets({ awaitTimeoutMs: 60_000 }).joinWallet(`${fed.dir}/wallet`, fed.invite))
      .wallet;
    await wallet.devFaucet(BigInt(ROUNDS + 2) * XMR);
    const account = fed.anvil.accounts[0]!;
    const privateKey = bytesToHex(account.getHdKey().privateKey!);
    console.log(`set-up done at load ${load()}; ${ROUNDS} mint rounds, then ${ROUNDS} burn rounds`);

    const mintMinted: number[] = [];
    const mintFirst: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const minted = await wallet.bridgeMint(account.address, XMR / 2n);
      const w = watchAtG(watches, { kind: "wxmr-mint", key: `${minted.txid}:${minted.output}` });
      await w.next((u) => stateOf(u) === "open");
      const sent = await wallet.bridgeSubmit(minted.txid, { privateKey, rpcUrl: fed.anvil.rpcUrl });
      if (sent.status !== "success") throw new Error(`mint not sent: ${sent.status}`);
      await fed.anvil.testClient.increaseTime({ seconds: 3_720 });
      await fed.anvil.testClient.mine({ blocks: 1 });
      const mined = performance.now();
      const first = await w.next((u) => stateOf(u) !== "open");
      const done = await w.next((u) => stateOf(u) === "minted");
      mintFirst.push(first - mined);
      mintMinted.push(done - mined);
      w.stop();
      console.log(
        `mint ${r}: block -> first change ${(first - mined).toFixed(1)} ms, -> minted ${(done - mined).toFixed(1)} ms (load ${load()})`,
      );
    }

    const burnFirst: number[] = [];
    const burnAccepted: number[] = [];
    const relayHop: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const burn = await wallet.bridgeBurn(XMR / 100n, { toClaim: true });
      if (!burn.call) throw new Error("no burn call");
      await fed.anvil.testClient.setAutomine(false);
      let hash: Hex;
      let mined: number;
      let w: ReturnType<typeof watchAtG>;
      const stop = { done: false };
      let http: Promise<number>;
      try {
        hash = await fed.anvil.walletClient.sendTransaction({ to: burn.call.contract, data: burn.call.data });
        w = watchAtG(watches, { kind: "wxmr-burn", key: `${hash}:1` });
        await w.next((u) => stateOf(u) === "unknown");
        http = httpAccepted(fed, hash, stop);
        await fed.anvil.testClient.mine({ blocks: 1 });
        mined = performance.now();
      } finally {
        await fed.anvil.testClient.setAutomine(true);
      }
      const first = await w.next((u) => stateOf(u) !== "unknown");
      const accepted = await w.next((u) => stateOf(u) === "accepted");
      const seen = await Promise.race([http, new Promise<number>((r) => setTimeout(() => r(NaN), 10_000))]);
      stop.done = true;
      w.stop();
      burnFirst.push(first - mined);
      burnAccepted.push(accepted - mined);
      if (!Number.isNaN(seen)) relayHop.push(accepted - seen);
      console.log(
        `burn ${r}: block -> first change ${(first - mined).toFixed(1)} ms, -> accepted ${(accepted - mined).toFixed(1)} ms; G's HTTP view accepted -> socket ${(accepted - seen).toFixed(1)} ms (load ${load()})`,
      );
    }

    console.log(`\nwxmr-mint (${ROUNDS} rounds, anvil block past the deadline -> WebSocket callback at G):`);
    console.log(`  first change (due or minted)   ${stats(mintFirst)}`);
    console.log(`  minted                         ${stats(mintMinted)}`);
    console.log(`wxmr-burn (${ROUNDS} rounds, anvil block with the burn -> WebSocket callback at G):`);
    console.log(`  first change (a vote)          ${stats(burnFirst)}`);
    console.log(`  accepted                       ${stats(burnAccepted)}`);
    console.log(
      `  G's HTTP view says accepted -> socket says so (${relayHop.length} rounds)  ${stats(relayHop)}`,
    );
    console.log(`load average at the end: ${load()}`);
  } finally {
    watches.close();
    await wallet?.close().catch(() => undefined);
    await fed.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
