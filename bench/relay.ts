// npm run bench:relay — the relay module's figures (docs/benchmarks.md, "Relay"):
//   1. mailbox items stored per second by one guardian: a real Guardian (LMDB, fsync) with the relay
//      module and its HTTP API on 127.0.0.1, items of 512 bytes POSTed with `--concurrency` requests in
//      flight (the per-address limits raised, so that what is measured is the guardian, not the limit);
//   2. the recovery store's size for the state that 1,000 notes leave (synthetic records in the
//      formats the mint and the core write: see `walletState`);
//   3. the time to recover a secret from 3 shards of a 3-of-5 set: decode, combine, fetch the set's
//      record from the guardian, verify and decrypt.
// Push latency: npm run bench:relay-push (bench/relay-push.ts).
//
//   npm run bench:relay [-- --items 3000 --concurrency 32 --recoveries 20]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { encodeInvite, federationId, fromHex, toHex } from "@conclave/core-common";
import type { FederationConfig } from "@conclave/core-common";
import { FederationClient, json } from "@conclave/core-client";
import {
  ApiServer,
  DEFAULT_BACKUP_STORE_LIMITS,
  Guardian,
  ed25519PublicKeyOf,
  freePort,
  generateEd25519Seed,
  sha256,
} from "@conclave/core-server";
import { RelayServerModule } from "@conclave/module-relay";
import {
  b64url,
  encodeShard,
  recoverSecret,
  sealRecovery,
  splitSecret,
  uploadRecord,
} from "@conclave/module-relay/client";

const { values } = parseArgs({
  options: {
    items: { type: "string", default: "3000" },
    concurrency: { type: "string", default: "32" },
    recoveries: { type: "string", default: "20" },
  },
});
const ITEMS = Number(values.items);
const CONCURRENCY = Number(values.concurrency);
const RECOVERIES = Number(values.recoveries);
const random = (n: number) => new Uint8Array(randomBytes(n));

/** What the core, the mint and the Monero half hold after issuing `notes` notes (8 per transaction). */
function walletState(notes: number): [string, Uint8Array][] {
  const entries: [string, Uint8Array][] = [["counter", json({ next: notes })]];
  const txs = Math.ceil(notes / 8);
  for (let i = 0; i < txs; i++) {
    const id = `${String(1_765_000_000_000 + i * 1000).padStart(13, "0")}-${toHex(random(4))}`;
    entries.push([
      `oplog/${id}`,
      json({
        id,
        instanceId: 1,
        module: "mint",
        kind: i % 3 === 0 ? "deposit" : "reissue",
        state: "done",
        createdAtMs: 1_765_000_000_000 + i * 1000,
        updatedAtMs: 1_765_000_000_900 + i * 1000,
        meta: { txid: toHex(random(32)) },
        result: { txid: toHex(random(32)), amount: String(2n ** 40n), notesIssued: 8, fee: "0" },
      }),
    ]);
  }
  entries.push(["claim-counter", json({ next: Math.ceil(txs / 3) })]);
  return entries;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bench-relay-"));
  const seed = generateEd25519Seed();
  const apiPort = await freePort();
  const federation: FederationConfig = {
    version: 1,
    name: "bench-relay",
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
    modules: [{ instanceId: 1, kind: "relay", config: {} }],
  };
  const unlimited = {
    itemsPerClientPerMinute: 1e9,
    itemsBurstPerClient: 1e9,
    authPerClientPerMinute: 1e9,
    recovery: { ...DEFAULT_BACKUP_STORE_LIMITS, newKeysPerClientPerDay: 1e6 },
  };
  const guardian = new Guardian({
    federation,
    secretSeed: seed,
    dataDir: join(dir, "data"),
    moduleFactories: { relay: (id) => new RelayServerModule(id, { limits: unlimited }) },
  });
  await guardian.start();
  const api = new ApiServer({
    backend: guardian,
    host: "127.0.0.1",
    port: apiPort,
    limits: { requestsPerSecondPerIpMax: 1e9, requestsBurstPerIpMax: 1e9 },
    log: () => {},
  });
  await api.start();
  try {
    // 1. Mailbox items per second.
    const url = `http://127.0.0.1:${apiPort}/v1/modules/relay`;
    const inboxes = Array.from({ length: 64 }, () => toHex(random(32)));
    const bodies = Array.from({ length: ITEMS }, () => JSON.stringify({ item: b64url(random(512)) }));
    let next = 0;
    let failed = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < ITEMS) {
          const i = next++;
          const r = await fetch(`${url}/inbox/${inboxes[i % inboxes.length]}/items`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: bodies[i]!,
          });
          if (r.status !== 200) failed++;
          await r.arrayBuffer();
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `mailbox: ${ITEMS} items of 512 B to 64 inboxes, ${CONCURRENCY} in flight: ${(ITEMS / seconds).toFixed(0)} items/s (${seconds.toFixed(2)} s, ${failed} refused)`,
    );

    // 2. Recovery store size per 1,000 notes.
    for (const notes of [1000, 2000, 4000, 5000]) {
      const entries = walletState(notes);
      const raw = entries.reduce((n, [k, v]) => n + k.length + v.length, 0);
      const stored = await sealRecovery(entries, random(32), random(32), 1, random(24)).then(
        (sealed) => `${sealed.length} B stored (padded ciphertext)`,
        (e: unknown) => `refused: ${e instanceof Error ? e.message : String(e)}`,
      );
      console.log(
        `recovery store: ${notes} notes (${entries.length} records, ${raw} B of keys and values): ${stored}`,
      );
    }

    // 3. Time to recover from 3 shards of a 3-of-5 set.
    const invite = encodeInvite({
      federationId: toHex(federationId(federation, sha256)),
      name: "bench-relay",
      guardians: [{ name: "guardian-0", api: `http://127.0.0.1:${apiPort}` }],
    });
    const client = await FederationClient.join(invite);
    const mnemonic = new TextEncoder().encode("abandon ".repeat(23) + "art");
    const times: number[] = [];
    for (let i = 0; i < RECOVERIES; i++) {
      const set = await splitSecret(
        fromHex(client.federationId),
        mnemonic,
        3,
        ["device", "offline", "offline", "offline", "offline"],
        random,
        1,
      );
      if ((await uploadRecord(client, set.record)).storedBy.length !== 1)
        throw new Error("the record was not stored");
      const texts = [0, 2, 4].map((k) => encodeShard(set.shards[k]!));
      const t0 = performance.now();
      const r = await recoverSecret(client, texts);
      times.push(performance.now() - t0);
      if (r.secret.length !== mnemonic.length) throw new Error("recovered the wrong secret");
    }
    times.sort((a, b) => a - b);
    console.log(
      `social recovery: 3 shards of 3-of-5, ${RECOVERIES} runs: median ${times[Math.floor(times.length / 2)]!.toFixed(1)} ms, max ${times[times.length - 1]!.toFixed(1)} ms (decode, combine, fetch, verify, decrypt; one guardian on loopback)`,
    );
  } finally {
    await api.close();
    await guardian.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
