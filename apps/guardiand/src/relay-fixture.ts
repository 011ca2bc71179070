// Test fixture (not shipped): four guardian processes with the relay module (instance 1), and one of
// them (guardian 3) reachable only through a proxy on a real socket that the invite names instead of
// it, so that a test can make that guardian Byzantine (drop writes, replay or reorder fetches, forge
// recovery records) while its process stays honest. Wallets are the client core with the relay half.
import { createServer, request as httpRequest } from "node:http";
import type { IncomingMessage, Server } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { concatBytes, encodeInvite, federationId, fromHex, toHex } from "@conclave/core-common";
import { sealPiece } from "@conclave/module-relay";
import { ClientCore, MemoryClientDb } from "@conclave/core-client";
import { sha256 } from "@conclave/core-server";
import { relayClientFactory } from "@conclave/module-relay/client";
import type { RelayClient } from "@conclave/module-relay/client";
import { startGuardian, stopGuardian, waitConnected } from "./guardian-processes.js";
import type { GuardianProcess } from "./guardian-processes.js";
import { DEV_MODULES, DEV_MODULES_WITH_MINT, freePort, writeLocalFederation } from "./local-federation.js";
import type { LocalFederationFiles } from "./local-federation.js";

export const RELAY = 1;
export const BYZANTINE = 3;
export type ProxyMode =
  | "honest"
  | "drop-writes"
  | "replay"
  | "reverse"
  | "forge-recovery"
  | "old-recovery"
  // Escrowed pieces of the federation's shard (escrow.ts): guardian BYZANTINE hands its piece out at
  // once, ignoring the delay and any cancel ("early-escrow"), or hands out a made-up piece ("forge-escrow").
  | "early-escrow"
  | "forge-escrow";

export interface RelayFederation {
  readonly files: LocalFederationFiles;
  readonly invite: string;
  /** What guardian BYZANTINE does to what passes through it. */
  mode: ProxyMode;
  /** Items guardian BYZANTINE served in fetches (what a replaying guardian keeps). */
  readonly recorded: { id: string; item: string }[];
  /** Recovery records it served (what a rolling-back guardian keeps), by id. */
  readonly recoveryServed: Map<string, string>;
  /** Escrow deposits that passed through it (the piece is plaintext to its guardian), by set id. */
  readonly escrowDeposits: Map<string, Record<string, unknown>>;
  /** Release requests that passed through it: request id -> temporary key. */
  readonly escrowRequests: Map<string, string>;
  wallet(root?: Uint8Array): Promise<{ relay: RelayClient; core: ClientCore }>;
  /** Stops guardian g's process (SIGTERM) and starts it again on the same data directory. */
  restart(g: number): Promise<void>;
  /** POSTs straight to guardian g's relay routes (no client), with the HTTP status. */
  post(g: number, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  stop(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function rewrite(fed: RelayFederation, path: string, answer: Buffer): Buffer {
  if (path.endsWith("/fetch")) {
    const page = JSON.parse(answer.toString()) as { items: { id: string; item: string }[]; more: boolean };
    for (const it of page.items) if (!fed.recorded.some((r) => r.id === it.id)) fed.recorded.push(it);
    if (fed.mode === "replay") page.items = [...fed.recorded];
    if (fed.mode === "reverse") page.items.reverse();
    return Buffer.from(JSON.stringify(page));
  }
  const recovery = /\/recovery\/([0-9a-f]{64})\/read$/.exec(path);
  if (recovery) {
    const id = recovery[1]!;
    const first = fed.recoveryServed.get(id);
    if (first === undefined) fed.recoveryServed.set(id, answer.toString());
    if (fed.mode === "old-recovery" && first !== undefined) return Buffer.from(first);
    if (fed.mode === "forge-recovery") {
      const r = JSON.parse(answer.toString()) as { version: number };
      return Buffer.from(JSON.stringify({ ...r, version: r.version + 1_000_000 }));
    }
  }
  return answer;
}

function startProxy(fed: RelayFederation, target: URL, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = req.url ?? "/";
      const escrow = /\/escrow\/([0-9a-f]{32})\/(deposit|request|collect)$/.exec(path);
      if (escrow) {
        const sent = JSON.parse(body.toString()) as { piece?: string; requestId?: string; tempKey?: string };
        if (escrow[2] === "deposit" && sent.piece) fed.escrowDeposits.set(escrow[1]!, { ...sent });
        if (escrow[2] === "request" && sent.requestId && sent.tempKey)
          fed.escrowRequests.set(sent.requestId, sent.tempKey);
        const tempKey = sent.requestId === undefined ? undefined : fed.escrowRequests.get(sent.requestId);
        const own = fed.escrowDeposits.get(escrow[1]!)?.["piece"];
        if (
          escrow[2] === "collect" &&
          tempKey &&
          typeof own === "string" &&
          (fed.mode === "early-escrow" || fed.mode === "forge-escrow")
        ) {
          const setId = fromHex(escrow[1]!);
          const piece =
            fed.mode === "early-escrow" ? fromHex(own) : concatBytes(setId, new Uint8Array(randomBytes(66)));
          const sealed = await sealPiece(fromHex(tempKey), setId, fromHex(sent.requestId!), BYZANTINE, piece);
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ sealed: Buffer.from(sealed).toString("base64url") }));
          return;
        }
      }
      if (fed.mode === "drop-writes" && /\/inbox\/[0-9a-f]{64}\/items$/.test(path)) {
        // Says it stored the item, stores nothing.
        const sent = JSON.parse(body.toString()) as { item: string };
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ id: toHex(sha256(Buffer.from(sent.item, "base64url"))), stored: true }));
        return;
      }
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, path, method: req.method, headers: req.headers },
        (up) => {
          void readBody(up).then((answer) => {
            const out = up.statusCode === 200 ? rewrite(fed, path, answer) : answer;
            res.writeHead(up.statusCode ?? 502, { ...up.headers, "content-length": String(out.length) });
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

export async function startRelayFederation(
  prefix: string,
  options: {
    readonly relayLocal?: Readonly<Record<string, unknown>>;
    /** The relay's federation config (e.g. escrowDelayMsMin for tests). */
    readonly relayConfig?: Record<string, unknown>;
    /** Guardians (default 4); with fewer than BYZANTINE + 1 there is no proxy and no Byzantine one. */
    readonly guardians?: number;
    /** Also run the mint (instance 1; the relay is then instance 2): for the standard Wallet. */
    readonly mint?: boolean;
  } = {},
): Promise<RelayFederation> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // Each guardian's own relay settings (guardian.local.json), e.g. outboundAllowedOrigins for tests.
  const localPath = join(dir, "guardian.local.json");
  const relay = options.mint ? RELAY + 1 : RELAY;
  writeFileSync(localPath, JSON.stringify({ modules: { [relay]: options.relayLocal ?? {} } }));
  const n = options.guardians ?? 4;
  const files = await writeLocalFederation(dir, n, undefined, [
    ...(options.mint ? DEV_MODULES_WITH_MINT : DEV_MODULES),
    { instanceId: relay, kind: "relay", config: options.relayConfig ?? {} },
  ]);
  const guardians: GuardianProcess[] = [];
  let proxy: Server | undefined;
  const stop = async () => {
    await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)));
    await Promise.all(guardians.map((g) => stopGuardian(g)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < n; i++)
      guardians.push(await startGuardian(files, i, { quiet: true, runArgs: ["--local", localPath] }));
    await waitConnected(guardians);
    const port = await freePort();
    const invite = encodeInvite({
      federationId: toHex(federationId(files.config, sha256)),
      name: "relay-test",
      guardians: files.config.guardians.map((g, i) => ({
        name: g.name,
        api: i === BYZANTINE && n > BYZANTINE ? `http://127.0.0.1:${port}` : g.api!.url,
      })),
    });
    const fed: RelayFederation = {
      files,
      invite,
      mode: "honest",
      recorded: [],
      recoveryServed: new Map(),
      escrowDeposits: new Map(),
      escrowRequests: new Map(),
      async wallet(root = new Uint8Array(randomBytes(32))) {
        const core = await ClientCore.create(
          new MemoryClientDb(),
          { invite, client: await ClientCore.join(invite), root },
          [relayClientFactory],
        );
        return { relay: core.module<RelayClient>("relay")!, core };
      },
      async post(g, path, body) {
        const r = await fetch(`${files.config.guardians[g]!.api!.url}/v1/modules/relay/${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        return { status: r.status, body: (await r.json()) as Record<string, unknown> };
      },
      async restart(g) {
        await stopGuardian(guardians[g]!);
        guardians[g] = await startGuardian(files, g, { quiet: true, runArgs: ["--local", localPath] });
        await waitConnected(guardians);
      },
      stop,
    };
    if (n > BYZANTINE)
      proxy = await startProxy(fed, new URL(files.config.guardians[BYZANTINE]!.api!.url), port);
    return fed;
  } catch (e) {
    await stop();
    throw e;
  }
}
