// npm run bench:relay-push — push latency from a state change to the client's wake-up, on loopback
// (docs/benchmarks.md, "Relay: watch and push"). One in-process guardian (core-server Guardian, LMDB,
// its HTTP API on 127.0.0.1) with the dummy and relay modules. Each round submits a transaction that
// three channels watch: a WebSocket watch (the SDK's WatchClient), a webhook (a local HTTP receiver
// that verifies the Standard Webhooks signature) and a Web Push registration whose endpoint is a local
// push-service stand-in (relay-push.test.ts checks its VAPID and decrypts it; here only its arrival
// counts: the hop from a real push service to the phone is not ours to measure). The change's moment is when the guardian's own transaction listener sees "accepted"
// (in-process, the same clock); the wake-up's is when the client has the message (WebSocket: the
// SDK's callback; webhook: the verified body; push: the stand-in has the request).
// `monero-tx` (the monero module's watch, tx-watch.ts): the same guardian runs the monero module's watch
// over monerod in regtest (no multisig: only the watch, reading monerod every `pollMs`, the guardian's
// default 2,000 ms unless --monero-poll-ms). A coinbase txid is watched over the WebSocket; each round
// mines one block (generateblocks) and times to the SDK's callback with the new depth, from the call
// (an upper bound: it includes making the block) and from monerod's answer (a lower bound: the block
// was in before the answer, and a poll may already have seen it). The latency is bounded by the poll:
// about pollMs / 2 on average.
//
// The bridge's kinds (`wxmr-mint`, `wxmr-burn`) need anvil and four guardian processes: their own
// bench, bench/relay-push-wxmr.ts (npm run bench:relay-push-wxmr).
//
//   npm run bench:relay-push [-- --rounds 30] [--monero-rounds 20] [--monero-poll-ms 2000] [--no-monero]
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createECDH, randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { WebSocket } from "ws";
import { encodeTransaction, toHex, transactionId } from "@conclave/core-common";
import type { FederationConfig } from "@conclave/core-common";
import {
  ApiServer,
  Guardian,
  NodeSigner,
  ed25519PublicKeyOf,
  freePort,
  generateEd25519Seed,
  sha256,
} from "@conclave/core-server";
import { buildTransaction, coinOutput, dummyModuleFactory, faucetInput } from "@conclave/module-dummy";
import {
  MONERO_TX_CONFIRMATIONS_TOLD_MAX,
  MoneroServerModule,
  RpcChainSource,
  parseMoneroConfig,
} from "@conclave/module-monero";
import { relayModuleFactory } from "@conclave/module-relay";
import { ensureMoneroInstalled, mineBlocks, startRegtest } from "@conclave/testing-monero";
import type { Regtest } from "@conclave/testing-monero";
import { WatchClient } from "@conclave/module-relay/client";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "30" },
    "monero-rounds": { type: "string", default: "20" },
    "monero-poll-ms": { type: "string", default: "2000" },
    "no-monero": { type: "boolean", default: false },
  },
});
const ROUNDS = Number(values.rounds);
const MONERO_ROUNDS = values["no-monero"] ? 0 : Number(values["monero-rounds"]);
const MONERO_POLL_MS = Number(values["monero-poll-ms"]);

function stats(xs: number[], withMin = false): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(1);
  const min = withMin ? `min ${s[0]!.toFixed(1)} ms, ` : "";
  return `${min}median ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${s[s.length - 1]!.toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bench-relay-push-"));
  let net: Regtest | undefined;
  let moneroAddress = "";
  if (MONERO_ROUNDS > 0) {
    ensureMoneroInstalled();
    net = await startRegtest({ walletRpcs: 1, dir: join(dir, "monero") });
    await net.walletRpcs[0]!.rpc.createWallet({ filename: "bench", password: "" });
    moneroAddress = (await net.walletRpcs[0]!.rpc.getAddress()).address;
    await mineBlocks(net.daemon.rpc, 3, moneroAddress);
  }
  try {
    await measure(dir, net, moneroAddress);
  } finally {
    await net?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(dir: string, net: Regtest | undefined, moneroAddress: string): Promise<void> {
  const seed = generateEd25519Seed();
  const apiPort = await freePort();
  const hookPort = await freePort();
  const origin = `http://127.0.0.1:${hookPort}`;
  const federation: FederationConfig = {
    version: 1,
    name: "bench-relay-push",
    environment: "dev",
    guardians: [
      {
        name: "guardian-0",
        publicKey: toHex(ed25519PublicKeyOf(seed)),
        p2p: { host: "127.0.0.1", port: await freePort() },
        api: { url: `http://127.0.0.1:${apiPort}` },
      },
    ],
    consensus: { heightsPerSession: 16 },
    modules: [
      { instanceId: 0, kind: "dummy", config: { faucetAmountMax: "1000000", feePerInput: "0" } },
      { instanceId: 1, kind: "relay", config: {} },
      ...(net
        ? [
            {
              instanceId: 2,
              kind: "monero",
              config: { network: "mainnet", address: moneroAddress, guardians: 1 },
            },
          ]
        : []),
    ],
  };
  const guardian = new Guardian({
    federation,
    secretSeed: seed,
    dataDir: join(dir, "data"),
    moduleFactories: {
      dummy: dummyModuleFactory,
      relay: (id, config, shares, local) =>
        relayModuleFactory(id, config, shares, {
          ...local,
          outboundAllowedOrigins: [origin],
          coverWakeupsPerDay: 0,
        }),
      // Only the monero-tx watch over monerod (autoPoll false: no chain watcher, no payouts).
      monero: (id, config) =>
        new MoneroServerModule(id, parseMoneroConfig(config), {
          chain: new RpcChainSource(net!.daemon.url, net!.walletRpcs[0]!.url),
          pollMs: MONERO_POLL_MS,
          autoPoll: false,
        }),
    },
  });
  await guardian.start();
  const api = new ApiServer({ backend: guardian, host: "127.0.0.1", port: apiPort, log: () => {} });
  await api.start();

  // The client's counterparts: webhook receiver and push-service stand-in, one HTTP server.
  const arrived = new Map<string, number>();
  let secret = "";
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const at = performance.now();
      const body = Buffer.concat(chunks);
      if (req.url === "/hook") {
        const b = new Webhook(secret).verify(body.toString(), req.headers as Record<string, string>) as {
          key: string;
          state: { state: string };
        };
        if (b.state.state === "accepted") arrived.set(`hook:${b.key}`, at);
        res.writeHead(200).end();
      } else {
        pushArrivals.push(at);
        res.writeHead(201).end();
      }
    });
  });
  const pushArrivals: number[] = [];
  await new Promise<void>((r) => receiver.listen(hookPort, "127.0.0.1", () => r()));
  const url = `http://127.0.0.1:${apiPort}/v1/modules/relay`;
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${url}/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as Record<string, unknown>;
  };
  const ws = new WatchClient({
    guardians: [`http://127.0.0.1:${apiPort}`],
    connect: (u) => new WebSocket(u),
  });
  const owner = new NodeSigner(new Uint8Array(32).fill(5));
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const subscription = {
    endpoint: `${origin}/push`,
    keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") },
  };
  const lat = { ws: [] as number[], hook: [] as number[], push: [] as number[] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const tx = buildTransaction([faucetInput(0, 1n)], [coinOutput(0, 1n, owner.publicKey)], [], sha256);
      const txid = toHex(transactionId(tx, sha256));
      const watches = [{ kind: "tx", key: txid }];
      const hook = await post("watch/webhooks", { url: `${origin}/hook`, watches, ttlSeconds: 600 });
      secret = String(hook["secret"]);
      const push = await post("watch/push", { subscription, watches, ttlSeconds: 600 });
      let wsAt = 0;
      const wsDone = ws
        .until({ kind: "tx", key: txid }, (u) => u.state["state"] === "accepted")
        .then(() => (wsAt = performance.now()));
      let changedAt = 0;
      const unsubscribe = guardian.subscribeTransaction(txid, (s) => {
        if (s.state === "accepted" && changedAt === 0) changedAt = performance.now();
      });
      await new Promise((r) => setTimeout(r, 100)); // the WebSocket watch is registered
      const pushesBefore = pushArrivals.length;
      const r = await fetch(`http://127.0.0.1:${apiPort}/v1/transactions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ transaction: Buffer.from(encodeTransaction(tx)).toString("hex") }),
      });
      if (r.status !== 202) throw new Error(`submit: ${r.status}`);
      await wsDone;
      while (!arrived.has(`hook:${txid}`) || pushArrivals.length === pushesBefore)
        await new Promise((res) => setTimeout(res, 2));
      unsubscribe();
      lat.ws.push(wsAt - changedAt);
      lat.hook.push(arrived.get(`hook:${txid}`)! - changedAt);
      lat.push.push(pushArrivals[pushesBefore]! - changedAt);
      for (const reg of [hook, push])
        await post(`watch/registrations/${String(reg["id"])}/delete`, { secret: reg["secret"] });
    }
    console.log(`push latency, state change -> client, loopback, ${ROUNDS} rounds, one guardian:`);
    console.log(`  WebSocket watch (SDK callback):         ${stats(lat.ws)}`);
    console.log(`  webhook (signature verified):          ${stats(lat.hook)}`);
    console.log(`  Web Push wake-up (at the push service):${stats(lat.push)}`);
    if (net) {
      const m = await moneroRounds(ws, net, moneroAddress);
      console.log(
        `monero-tx watch, monerod block -> client (WebSocket), ${m.fromCall.length} blocks, poll ${MONERO_POLL_MS} ms:`,
      );
      console.log(`  from the generateblocks call:   ${stats(m.fromCall, true)}`);
      console.log(`  from monerod's answer:          ${stats(m.fromAnswer, true)}`);
    }
  } finally {
    ws.close();
    await new Promise((r) => receiver.close(r));
    await api.close();
    await guardian.stop();
  }
}

/** A coinbase txid watched over the WebSocket; per round one block mined, timed to the new depth told. */
async function moneroRounds(
  ws: WatchClient,
  net: Regtest,
  address: string,
): Promise<{ fromCall: number[]; fromAnswer: number[] }> {
  const txid = (await net.daemon.rpc.getLastBlockHeader()).minerTxHash;
  if (!txid) throw new Error("monerod named no coinbase txid");
  let depth = 0;
  let toldAt = 0;
  const w = ws.watch({ kind: "monero-tx", key: txid }, (u) => {
    depth = Number(u.state["confirmations"]);
    toldAt = performance.now();
  });
  const out = { fromCall: [] as number[], fromAnswer: [] as number[] };
  try {
    while (depth === 0) await new Promise((r) => setTimeout(r, 10));
    for (let round = 0; round < MONERO_ROUNDS && depth < MONERO_TX_CONFIRMATIONS_TOLD_MAX; round++) {
      const before = depth;
      const calledAt = performance.now();
      await mineBlocks(net.daemon.rpc, 1, address);
      const minedAt = performance.now();
      while (depth === before) await new Promise((r) => setTimeout(r, 2));
      out.fromCall.push(toldAt - calledAt);
      out.fromAnswer.push(toldAt - minedAt);
      // Off the poll's phase: the next block comes at a random point of the poll interval.
      await new Promise((r) => setTimeout(r, Math.random() * MONERO_POLL_MS));
    }
  } finally {
    w.stop();
  }
  return out;
}

await main();
