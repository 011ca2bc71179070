// Run as a child process by links.test.ts: the process must exit on its own once close() has
// returned. Any socket, server or timer left behind (the redial and handshake timers here are a
// minute long) keeps it alive and fails the test. Prints "closed" just before returning.
import { once } from "node:events";
import * as net from "node:net";
import { ed25519PublicKeyOf, generateEd25519Seed } from "../node-crypto.js";
import { PeerLinks, type PeerAddress } from "./links.js";
import { freePort } from "../ports.js";

const HOST = "127.0.0.1";

const seeds: [Uint8Array, Uint8Array, Uint8Array] = [
  generateEd25519Seed(),
  generateEd25519Seed(),
  generateEd25519Seed(),
];
const peers: PeerAddress[] = await Promise.all(
  seeds.map(async (seed, index) => ({
    index,
    publicKey: ed25519PublicKeyOf(seed),
    host: HOST,
    port: await freePort(),
  })),
);
const federationId = generateEd25519Seed();
const guardian = (index: number, secretSeed: Uint8Array): PeerLinks =>
  new PeerLinks({
    selfIndex: index,
    secretSeed,
    peers,
    federationId,
    handshakeTimeoutMs: 60_000,
    reconnectDelayMsMin: 60_000,
    reconnectDelayMsMax: 60_000,
  });
const a = guardian(0, seeds[0]);
const b = guardian(1, seeds[1]);
await Promise.all([a.start(), b.start()]); // guardian 2 never starts: both redial it

const connected = new Promise<void>((resolve) => a.onPeerConnected(() => resolve()));
await connected;
const midHandshake = net.connect(peers.find((p) => p.index === 0)?.port ?? 0, HOST);
midHandshake.on("error", () => undefined);
await once(midHandshake, "connect");
a.send(1, Uint8Array.of(1));
a.send(2, Uint8Array.of(2));

await Promise.all([a.close(), b.close(), once(midHandshake, "close")]);
console.log("closed");
