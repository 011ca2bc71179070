// What the page's browser tests and its benchmark share: Chromium (Debian's, driven by
// playwright-core), a local federation of real guardian processes serving the page, and a plain
// static file server standing in for "anyone can host it".
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { Browser } from "playwright-core";
import { encodeInvite, encodeTransaction, federationId, toHex } from "@conclave/core-common";
import type { FederationConfig, Transaction } from "@conclave/core-common";
import { NodeSigner, sha256 } from "@conclave/core-server";
import { buildTransaction, coinOutput, faucetInput } from "@conclave/module-dummy";
import {
  DEV_MODULES_WITH_MINT,
  startGuardian,
  stopGuardian,
  waitConnected,
  writeLocalFederation,
} from "../../guardiand/src/index.js";
import type { GuardianProcess, LocalFederationFiles } from "../../guardiand/src/index.js";
import { REPO_ROOT } from "../../guardiand/src/npm-start-harness.js";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"];

/** Installs Chromium through scripts/ensure-system-packages.mjs when missing (as root), else throws. */
export function ensureChromiumInstalled(): void {
  const script = join(REPO_ROOT, "scripts", "ensure-system-packages.mjs");
  const r = spawnSync(process.execPath, [script, "chromium"], {
    stdio: ["ignore", "inherit", "pipe"],
    encoding: "utf8",
  });
  if (r.status !== 0)
    throw new Error(`Chromium is missing and could not be installed (${script}): ${r.stderr}`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export function inviteOf(config: FederationConfig): string {
  return encodeInvite({
    federationId: toHex(federationId(config, sha256)),
    name: config.name,
    guardians: config.guardians.map((g) => ({ name: g.name, api: g.api?.url ?? "" })),
  });
}

export interface TestFederation {
  readonly files: LocalFederationFiles;
  readonly guardians: GuardianProcess[];
  readonly urls: string[];
  readonly invite: string;
  stop(): Promise<void>;
}

/** Four guardian processes (dummy faucet + mint), each serving the built page at its API origin. */
export async function startFederation(dir: string): Promise<TestFederation> {
  const files = await writeLocalFederation(dir, 4, { heightsPerSession: 8 }, DEV_MODULES_WITH_MINT);
  const guardians: GuardianProcess[] = [];
  const started = await Promise.allSettled([0, 1, 2, 3].map((i) => startGuardian(files, i)));
  for (const s of started) if (s.status === "fulfilled") guardians.push(s.value);
  const stop = async () => {
    await Promise.all(guardians.map((g) => stopGuardian(g, "SIGKILL")));
  };
  const failed = started.find((s) => s.status === "rejected");
  if (failed) {
    await stop();
    throw failed.reason;
  }
  await waitConnected(guardians);
  return {
    files,
    guardians,
    urls: files.config.guardians.map((g) => g.api?.url ?? ""),
    invite: inviteOf(files.config),
    stop,
  };
}

const faucetOwner = new NodeSigner(new Uint8Array(32).fill(9));

/** Prints `amount` with the dummy faucet; resolves with the txid once the guardian says accepted. */
export async function faucet(url: string, amount: bigint): Promise<string> {
  const tx: Transaction = buildTransaction(
    [faucetInput(0, amount)],
    [coinOutput(0, amount, faucetOwner.publicKey)],
    [],
    sha256,
  );
  const bytes = encodeTransaction(tx);
  const r = await fetch(`${url}/v1/transactions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ transaction: Buffer.from(bytes).toString("hex") }),
  });
  const body = (await r.json()) as { txid: string; state: string };
  if (r.status >= 300) throw new Error(`faucet refused: ${JSON.stringify(body)}`);
  const done = (await (await fetch(`${url}/v1/transactions/${body.txid}?wait=20000`)).json()) as {
    state: string;
  };
  if (done.state !== "accepted") throw new Error(`faucet transaction ${body.txid} is ${done.state}`);
  return body.txid;
}

/** Serves one file at / from 127.0.0.1 (a static host of the page, not a guardian). */
export async function serveFile(path: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if ((req.url ?? "/").split("?")[0] !== "/") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    res.end(readFileSync(path));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/` };
}
