// npm run bench:relay-push — push latency from a state change to the client's wake-up, on loopback
// (docs/benchmarks.md, "Relay: watch and push"). One in-process guardian (core-server Guardian, LMDB,
// its HTTP API on 127.0.0.1) with the dummy and relay modules. Each round submits a transaction that
// three channels watch: a WebSocket watch (the SDK's WatchClient), a webhook (a local HTTP receiver
// that verifies the Standard Webhooks signature) and a Web Push registration whose endpoint is a local
// push-service stand-in (relay-push.test.ts checks its VAPID and decrypts it; here only its arrival
// counts: the hop from a real push service to the phone is not ours to measure). The change's moment is when the guardian's own transaction listener sees "accepted"
// (in-process, the same clock); the wake-up's is when the client has the message (WebSocket: the
// SDK's callback; webhook: the verified body; push: the stand-in has the request).
//
//   npm run bench:relay-push [-- --rounds 30]
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
import { relayModuleFactory } from "@conclave/module-relay";
import { WatchClient } from "@conclave/module-relay/client";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "30" } } });
const ROUNDS = Number(values.rounds);

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(1);
  return `median ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${s[s.length - 1]!.toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bench-relay-push-"));
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
    ],
  };
  const guardian = new Guardian({
    federation,
    secretSeed: seed,
    dataDir: join(dir, "data"),
    moduleFactories: {
      dummy: dummyModuleFactory,
      relay: (id, config, shares, local) =>
        relayModuleFactory(id, config, shares, { ...local, outboundAllowedOrigins: [origin] }),
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
  } finally {
    ws.close();
    await new Promise((r) => receiver.close(r));
    await api.close();
    await guardian.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
