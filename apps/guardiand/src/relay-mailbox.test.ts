// The relay's mailbox in real guardian processes (4 conclaved on 127.0.0.1, each with its own LMDB
// mailbox) and the relay's client half: letters sealed to an inbox key reach their recipient from
// every guardian and are deleted on acknowledgement; a Byzantine guardian (an honest process behind a
// proxy on a real socket that the invite names instead of it) that drops, replays or reorders items
// is caught by the client; floods from one address, oversized items, tokens not registered and
// fetches signed by the wrong key are refused with clear codes.
import { createServer, request as httpRequest } from "node:http";
import type { IncomingMessage, Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeInvite, federationId, toHex } from "@conclave/core-common";
import { ClientCore, MemoryClientDb } from "@conclave/core-client";
import { sha256 } from "@conclave/core-server";
import { ed25519 } from "@noble/curves/ed25519.js";
import { authArgs, authSigningBytes } from "@conclave/module-relay";
import { b64url, relayClientFactory, sealItem } from "@conclave/module-relay/client";
import type { RelayClient } from "@conclave/module-relay/client";
import { startGuardian, stopGuardian, waitConnected } from "./guardian-processes.js";
import type { GuardianProcess } from "./guardian-processes.js";
import { DEV_MODULES, freePort, writeLocalFederation } from "./local-federation.js";
import type { LocalFederationFiles } from "./local-federation.js";

const RELAY = 1;
const BYZANTINE = 3;
type ProxyMode = "honest" | "drop-writes" | "replay" | "reverse";

let dir: string;
let files: LocalFederationFiles;
let invite: string;
let proxy: Server;
let proxyMode: ProxyMode = "honest";
/** Fetch answers the proxy has seen (what a replaying guardian keeps). */
const recorded: { id: string; item: string }[] = [];
const guardians: GuardianProcess[] = [];

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Guardian BYZANTINE as the invite names it: its honest process behind this proxy. */
function startProxy(target: URL, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = req.url ?? "/";
      if (proxyMode === "drop-writes" && /\/inbox\/[0-9a-f]{64}\/items$/.test(path)) {
        // Says it stored the item, stores nothing.
        const sent = JSON.parse(body.toString()) as { item: string };
        const item = Buffer.from(sent.item, "base64url");
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ id: toHex(sha256(item)), stored: true }));
        return;
      }
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, path, method: req.method, headers: req.headers },
        (up) => {
          void readBody(up).then((answer) => {
            let out = answer;
            if (up.statusCode === 200 && path.endsWith("/fetch")) {
              const page = JSON.parse(answer.toString()) as {
                items: { id: string; item: string }[];
                more: boolean;
              };
              for (const it of page.items) if (!recorded.some((r) => r.id === it.id)) recorded.push(it);
              if (proxyMode === "replay") page.items = [...recorded];
              if (proxyMode === "reverse") page.items.reverse();
              out = Buffer.from(JSON.stringify(page));
            }
            const headers = { ...up.headers, "content-length": String(out.length) };
            res.writeHead(up.statusCode ?? 502, headers);
            res.end(out);
          });
        },
      );
      upstream.on("error", () => {
        res.writeHead(502);
        res.end();
      });
      upstream.end(body);
    })();
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

async function wallet(): Promise<{ relay: RelayClient; core: ClientCore }> {
  const core = await ClientCore.create(
    new MemoryClientDb(),
    { invite, client: await ClientCore.join(invite), root: new Uint8Array(randomBytes(32)) },
    [relayClientFactory],
  );
  return { relay: core.module<RelayClient>("relay")!, core };
}

async function pair(): Promise<{ alice: RelayClient; bob: RelayClient }> {
  const alice = (await wallet()).relay;
  const bob = (await wallet()).relay;
  await alice.addContact((await bob.card("bob")).text);
  await bob.addContact((await alice.card("alice")).text);
  return { alice, bob };
}

async function post(
  g: number,
  path: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = files.config.guardians[g]!.api!.url;
  const r = await fetch(`${url}/v1/modules/relay/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "relay-mailbox-"));
  files = await writeLocalFederation(dir, 4, undefined, [
    ...DEV_MODULES,
    { instanceId: RELAY, kind: "relay", config: {} },
  ]);
  for (let i = 0; i < 4; i++) guardians.push(await startGuardian(files, i, { quiet: true }));
  await waitConnected(guardians);
  const port = await freePort();
  proxy = await startProxy(new URL(files.config.guardians[BYZANTINE]!.api!.url), port);
  invite = encodeInvite({
    federationId: toHex(federationId(files.config, sha256)),
    name: "relay-test",
    guardians: files.config.guardians.map((g, i) => ({
      name: g.name,
      api: i === BYZANTINE ? `http://127.0.0.1:${port}` : g.api!.url,
    })),
  });
}, 120_000);

afterAll(async () => {
  await new Promise((r) => proxy?.close(r));
  await Promise.all(guardians.map((g) => stopGuardian(g)));
  rmSync(dir, { recursive: true, force: true });
});

describe("the mailbox at four guardian processes", () => {
  it("delivers a sealed letter from every guardian once, with its sender inside, and deletes it on acknowledgement", async () => {
    proxyMode = "honest";
    const { alice, bob } = await pair();
    const sent = await alice.send("bob", "meet at noon");
    expect(sent.storedAt).toEqual([0, 1, 2, 3]);
    const read = await bob.read();
    expect(read.letters).toHaveLength(1);
    expect(read.letters[0]).toMatchObject({
      text: "meet at noon",
      from: toHex(alice.keys.inbox),
      fromName: "alice",
      foundAt: [0, 1, 2, 3],
      missingAt: [],
    });
    // Acknowledged at every guardian: nothing left to read anywhere.
    const again = await bob.read();
    expect(again.letters).toEqual([]);
    expect(again.replayed).toEqual([]);
  });

  it("stores an item sent twice once (de-duplicated by hash), and the item is only the ciphertext's size class", async () => {
    const { alice, bob } = await pair();
    const item = await sealItem(bob.keys.inbox, alice.keys.inboxSeed, {
      sender: alice.keys.inbox,
      messageId: new Uint8Array(16).fill(7),
      sentAtMs: 1,
      kind: "text",
      writtenTo: [0],
      body: new TextEncoder().encode("hi"),
    });
    expect(item.length).toBe(512);
    const inbox = toHex(bob.keys.inbox);
    const first = await post(0, `inbox/${inbox}/items`, { item: b64url(item) });
    const second = await post(0, `inbox/${inbox}/items`, { item: b64url(item) });
    expect(first).toMatchObject({ status: 200, body: { stored: true } });
    expect(second).toMatchObject({ status: 200, body: { stored: false, id: first.body["id"] } });
    expect((await bob.read()).letters.map((l) => l.text)).toEqual(["hi"]);
  });

  it("names a guardian that said it stored a letter and dropped it", async () => {
    proxyMode = "drop-writes";
    try {
      const { alice, bob } = await pair();
      const sent = await alice.send("bob", "are you there?");
      expect(sent.storedAt).toContain(BYZANTINE); // it lied
      const read = await bob.read();
      expect(read.letters).toHaveLength(1);
      expect(read.letters[0]).toMatchObject({ foundAt: [0, 1, 2], missingAt: [BYZANTINE] });
    } finally {
      proxyMode = "honest";
    }
  });

  it("recognises letters a guardian serves again after they were read and acknowledged", async () => {
    proxyMode = "honest";
    recorded.length = 0;
    const { alice, bob } = await pair();
    await alice.send("bob", "one");
    const first = await bob.read();
    expect(first.letters.map((l) => l.text)).toEqual(["one"]);
    proxyMode = "replay";
    try {
      const second = await bob.read();
      expect(second.letters).toEqual([]);
      expect(second.replayed).toEqual([{ messageId: first.letters[0]!.messageId, guardians: [BYZANTINE] }]);
    } finally {
      proxyMode = "honest";
    }
  });

  it("orders letters by their signed sending time whatever order a guardian serves them in", async () => {
    proxyMode = "reverse";
    try {
      const { alice, bob } = await pair();
      for (const text of ["first", "second", "third", "fourth"]) await alice.send("bob", text);
      const read = await bob.read();
      expect(read.letters.map((l) => l.text)).toEqual(["first", "second", "third", "fourth"]);
    } finally {
      proxyMode = "honest";
    }
  });

  it("refuses a fetch signed by another key, a reused challenge and one it never issued", async () => {
    const { bob } = await pair();
    const inbox = toHex(bob.keys.inbox);
    const ask = async () => (await post(1, "challenge", {})).body["challenge"] as string;
    const sign = (challenge: string, seed: Uint8Array) =>
      toHex(
        ed25519.sign(
          authSigningBytes(
            sha256,
            "fetch",
            RELAY,
            1,
            bob.keys.inbox,
            Buffer.from(challenge, "hex"),
            authArgs([""]),
          ),
          seed,
        ),
      );
    const c1 = await ask();
    const wrong = await post(1, `inbox/${inbox}/fetch`, {
      challenge: c1,
      signature: sign(c1, new Uint8Array(randomBytes(32))),
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body["message"]).toMatch(/signature does not verify/);
    const good = await post(1, `inbox/${inbox}/fetch`, {
      challenge: c1,
      signature: sign(c1, bob.keys.inboxSeed),
    });
    expect(good).toMatchObject({ status: 200, body: { items: [], more: false } });
    const reused = await post(1, `inbox/${inbox}/fetch`, {
      challenge: c1,
      signature: sign(c1, bob.keys.inboxSeed),
    });
    expect(reused).toMatchObject({ status: 401, body: { code: "bad_challenge" } });
    const forged = "00".repeat(40);
    const made = await post(1, `inbox/${inbox}/fetch`, {
      challenge: forged,
      signature: sign(forged, bob.keys.inboxSeed),
    });
    expect(made).toMatchObject({ status: 401, body: { code: "bad_challenge" } });
  });

  it("takes items only with a registered delivery token once the owner registered its cards' tokens", async () => {
    const { alice, bob } = await pair();
    expect((await bob.registerTokens()).registeredAt).toEqual([0, 1, 2, 3]);
    const item = await sealItem(bob.keys.inbox, alice.keys.inboxSeed, {
      sender: alice.keys.inbox,
      messageId: new Uint8Array(16).fill(9),
      sentAtMs: 1,
      kind: "text",
      writtenTo: [2],
      body: new Uint8Array(3),
    });
    const inbox = toHex(bob.keys.inbox);
    expect(await post(2, `inbox/${inbox}/items`, { item: b64url(item) })).toMatchObject({
      status: 403,
      body: { code: "token_refused" },
    });
    expect(
      await post(2, `inbox/${inbox}/items`, { item: b64url(item), token: "ab".repeat(16) }),
    ).toMatchObject({
      status: 403,
      body: { code: "token_refused" },
    });
    // Alice holds Bob's card: her tokens (one per guardian) are registered.
    const sent = await alice.send("bob", "with a token");
    expect(sent.storedAt).toEqual([0, 1, 2, 3]);
    expect((await bob.read()).letters.map((l) => l.text)).toEqual(["with a token"]);
  });

  it("refuses an oversized item and a flood of items from one address with clear codes", async () => {
    const inbox = toHex(ed25519.getPublicKey(new Uint8Array(randomBytes(32))));
    const big = await post(0, `inbox/${inbox}/items`, { item: b64url(new Uint8Array(8193)) });
    expect(big.status).toBe(400);
    expect(big.body["code"]).toBe("invalid_request");
    // Guardian 2's budget for this address: a burst of 120 items, then 1 a second.
    const answers: number[] = [];
    for (let i = 0; i < 130; i++) {
      const r = await post(2, `inbox/${inbox}/items`, { item: b64url(new Uint8Array(randomBytes(512))) });
      answers.push(r.status);
    }
    expect(answers.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(answers.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    const limited = await post(2, `inbox/${inbox}/items`, { item: b64url(new Uint8Array(512)) });
    expect(limited).toMatchObject({ status: 429, body: { code: "rate_limited" } });
  });
});
