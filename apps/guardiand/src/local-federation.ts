// Files for a local federation on 127.0.0.1: one federation config and one secret per guardian.
// Dev and test only: here one process makes every key (a trusted dealer). Real federations run the
// key ceremony, where each guardian makes its own key and shares only the public half.
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { toHex } from "@conclave/core-common";
import type { FederationConfig } from "@conclave/core-common";
import { ed25519PublicKeyOf, generateEd25519Seed } from "@conclave/core-server";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A dev federation runs the test-only dummy module so transactions can be made without real money. */
export const DEV_MODULES: FederationConfig["modules"] = [
  { instanceId: 0, kind: "dummy", config: { faucetAmountMax: "1000000000000000", feePerInput: "0" } },
];

export interface LocalFederationFiles {
  readonly dir: string;
  readonly configPath: string;
  readonly secretPaths: readonly string[];
  readonly dataDirs: readonly string[];
  readonly config: FederationConfig;
}

export async function writeLocalFederation(
  dir: string,
  n: number,
  consensus: FederationConfig["consensus"] = { heightsPerSession: 16 },
  modules: FederationConfig["modules"] = DEV_MODULES,
): Promise<LocalFederationFiles> {
  mkdirSync(dir, { recursive: true });
  const seeds = Array.from({ length: n }, () => generateEd25519Seed());
  const guardians = [];
  for (let i = 0; i < n; i++) {
    guardians.push({
      name: `guardian-${i}`,
      publicKey: toHex(ed25519PublicKeyOf(seeds[i]!)),
      p2p: { host: "127.0.0.1", port: await freePort() },
      api: { url: `http://127.0.0.1:${await freePort()}` },
    });
  }
  const config: FederationConfig = {
    version: 1,
    name: "local",
    environment: "dev",
    guardians,
    consensus,
    modules,
  };
  const configPath = join(dir, "federation.json");
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const secretPaths = seeds.map((seed, i) => {
    const p = join(dir, `guardian-${i}.secret.json`);
    writeFileSync(p, JSON.stringify({ secretSeed: toHex(seed) }), { mode: 0o600 });
    return p;
  });
  const dataDirs = seeds.map((_, i) => join(dir, `guardian-${i}-data`));
  return { dir, configPath, secretPaths, dataDirs, config };
}
