// A real guardian (core-server's Guardian, LMDB, its consensus node) with the bridge module and a
// real anvil: it starts when the contract on its EVM node matches its config, and refuses to start,
// before its consensus node runs, when it does not (the module's preflight).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toHex } from "@conclave/core-common";
import type { FederationConfig } from "@conclave/core-common";
import { Guardian, ed25519PublicKeyOf, freePort, generateEd25519Seed } from "@conclave/core-server";
import { deployWrappedMonero, startAnvil } from "@conclave/evm";
import type { Anvil } from "@conclave/evm";
import { bytesToHex } from "viem";
import { evmAddressOfKey } from "./eip712-mint.js";
import { bridgeModuleFactory } from "./factory.js";

let anvil: Anvil;
let dir: string;
const evmKey = new Uint8Array(32).fill(0x42);
let contract: `0x${string}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bridge-guardian-"));
  anvil = await startAnvil({ accounts: 1 });
  contract = (await deployWrappedMonero(anvil, { guardians: [evmAddressOfKey(evmKey)], threshold: 1 }))
    .address;
  writeFileSync(join(dir, "evm-key.json"), JSON.stringify({ privateKey: bytesToHex(evmKey) }), {
    mode: 0o600,
  });
});

afterAll(async () => {
  await anvil?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function guardianWith(chainId: number, name: string): Promise<Guardian> {
  const seed = generateEd25519Seed();
  const federation: FederationConfig = {
    version: 1,
    name: "bridge-start",
    environment: "dev",
    guardians: [
      {
        name: "guardian-0",
        publicKey: toHex(ed25519PublicKeyOf(seed)),
        p2p: { host: "127.0.0.1", port: await freePort() },
      },
    ],
    consensus: { heightsPerSession: 16 },
    modules: [
      {
        instanceId: 3,
        kind: "bridge",
        config: {
          chainId,
          contract,
          guardians: [evmAddressOfKey(evmKey)],
          threshold: 1,
          confirmations: 2,
          mintDeadlineSeconds: 3600,
          moneroNetwork: "regtest",
        },
      },
    ],
  };
  return new Guardian({
    federation,
    secretSeed: seed,
    dataDir: join(dir, name),
    moduleFactories: { bridge: bridgeModuleFactory },
    moduleLocal: { "3": { evmKeyFile: join(dir, "evm-key.json"), rpcUrl: anvil.rpcUrl, pollMs: 200 } },
  });
}

describe("a guardian with the bridge module (real anvil)", () => {
  it("starts when the chain and the contract's set match its config", async () => {
    const g = await guardianWith(anvil.chain.id, "matching");
    await g.start();
    await g.stop();
  });

  it("refuses to start, naming both chain ids, when its EVM node is on another chain", async () => {
    const g = await guardianWith(5, "other-chain");
    await expect(g.start()).rejects.toThrow(/EVM node is on chain 31337, the federation config says 5/);
    await g.stop();
  });
});
