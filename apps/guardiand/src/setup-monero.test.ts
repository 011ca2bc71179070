// The key ceremony's Monero multisig step against real software: monerod in regtest, four
// monero-wallet-rpc processes (one fresh wallet each) and four `conclaved setup run` processes, each
// pointed at its own wallet-rpc by --local. The guardians' wallets become one 3-of-4 multisig wallet
// through the ceremony's links (prepare, which turns on enable-multisig-experimental, make, two
// exchange rounds) and its address lands in every guardian's federation.json.
// Installs monero first when it is missing (scripts/ensure-system-packages.mjs).
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeSetupCode, parseFederationConfig } from "@conclave/core-common";
import { parseAddress } from "@conclave/monero";
import { ensureMoneroInstalled, startRegtest } from "@conclave/testing-monero";
import type { Regtest } from "@conclave/testing-monero";
import { runConclaved } from "./guardian-processes.js";
import { freePort } from "./local-federation.js";
import { setupInit } from "./setup-cli.js";

const GUARDIANS = 4;
const PASSWORD = "ceremony-password";
const INSTANCE = 2;

let net: Regtest | undefined;
const children: ChildProcess[] = [];
const dirs: string[] = [];
const timings: Record<string, number> = {};

beforeAll(async () => {
  ensureMoneroInstalled();
  const t0 = Date.now();
  net = await startRegtest({ walletRpcs: GUARDIANS });
  await Promise.all(
    net.walletRpcs.map((w, i) => w.rpc.createWallet({ filename: `guardian-${i}`, password: PASSWORD })),
  );
  timings["monerod + 4 wallet-rpc + 4 wallets"] = Date.now() - t0;
}, 180_000);

afterAll(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) process.kill(c.pid, "SIGKILL");
  }
  await net?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  console.log(`monero ceremony timings (ms): ${JSON.stringify(timings)}`);
});

describe("key ceremony with a Monero module (real monerod, monero-wallet-rpc and conclaved processes)", () => {
  it("four guardians' wallets become one 3-of-4 multisig wallet whose address every federation.json records", async () => {
    if (net === undefined) throw new Error("regtest did not start");
    const wallets = net.walletRpcs;
    const root = mkdtempSync(join(tmpdir(), "conclave-ceremony-monero-"));
    dirs.push(root);
    const data = Array.from({ length: GUARDIANS }, (_, i) => join(root, `g${i}`));
    const codes: string[] = [];
    for (let i = 0; i < GUARDIANS; i++) {
      const p2p = `127.0.0.1:${await freePort()}`;
      codes.push(encodeSetupCode(setupInit(data[i]!, `g${i}`, p2p, `http://127.0.0.1:${await freePort()}`)));
    }
    // The same module entry at every guardian; each guardian's own wallet in its local file.
    const modulesFile = join(root, "modules.json");
    const moneroParams = { network: "mainnet", confirmations: 2, depositMinPiconero: "1" };
    writeFileSync(
      modulesFile,
      JSON.stringify([{ instanceId: INSTANCE, kind: "monero", config: moneroParams }]),
    );
    const localFiles = wallets.map((w, i) => {
      const path = join(root, `g${i}.setup-local.json`);
      const settings = {
        walletRpcUrl: w.url,
        walletName: `guardian-${i}`,
        walletPassword: PASSWORD,
      };
      writeFileSync(path, JSON.stringify({ modules: { [String(INSTANCE)]: settings } }), { mode: 0o600 });
      return path;
    });

    const t0 = Date.now();
    const runs = await Promise.all(
      data.map((d, i) =>
        runConclaved([
          "setup",
          "run",
          "--data",
          d,
          "--codes",
          codes.join(","),
          "--federation-name",
          "monero",
          "--environment",
          "dev",
          "--modules",
          modulesFile,
          "--local",
          localFiles[i]!,
        ]),
      ),
    );
    children.push(...runs.map((r) => r.child));
    const invites = await Promise.all(runs.map((r) => r.done));
    timings["ceremony (4 processes, DKG + multisig)"] = Date.now() - t0;
    expect(new Set(invites.map((s) => s.trim())).size).toBe(1);

    const texts = data.map((d) => readFileSync(join(d, "federation.json"), "utf8"));
    expect(new Set(texts).size).toBe(1);
    const config = parseFederationConfig(JSON.parse(texts[0]!));
    const monero = config.modules.find((m) => m.instanceId === INSTANCE);
    expect(monero?.kind).toBe("monero");
    const address = String(monero?.config.address);
    expect(monero?.config).toEqual({ ...moneroParams, address, guardians: GUARDIANS });
    expect(parseAddress(address, "mainnet", ["standard"]).kind).toBe("standard");

    // Every wallet is a ready 3-of-4 multisig wallet with that very address.
    const statuses = await Promise.all(wallets.map((w) => w.rpc.isMultisig()));
    expect(statuses).toEqual(Array(GUARDIANS).fill({ multisig: true, ready: true, threshold: 3, total: 4 }));
    const addresses = await Promise.all(wallets.map(async (w) => (await w.rpc.getAddress()).address));
    expect(addresses).toEqual(Array(GUARDIANS).fill(address));
    for (const d of data) {
      expect(existsSync(join(d, "ceremony-exchange.json"))).toBe(false);
      expect(existsSync(join(d, "ceremony-dkg.json"))).toBe(false);
    }
  }, 240_000);
});
