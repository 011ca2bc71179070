// Each guardian's secp256k1 EVM signing key, and the bridge's part in the key ceremony.
//
// The key is this guardian's own (like its Monero wallet): made at random on its machine, kept in
// the file its guardian.local.json names (`evmKeyFile`, mode 0600), never sent. The ceremony's
// module exchange (core-server setup/exchange.ts) has one round: every guardian sends its address,
// and the result, the same at every guardian, puts the addresses (by guardian index) and the
// threshold t = n - f into the module's config. The contract is then deployed for that set.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { ModuleExchange, ModuleSetup } from "@conclave/core-server";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, getAddress, hexToBytes, isAddress } from "viem";
import { z } from "zod";
import { evmAddressOfKey } from "./eip712-mint.js";

const keyFileSchema = z.strictObject({ privateKey: z.string().regex(/^0x[0-9a-f]{64}$/) });

/** Reads the key file, or makes a new key there (0600) when it does not exist yet. */
export function loadOrCreateEvmKey(path: string): Uint8Array {
  if (existsSync(path)) return readEvmKey(path);
  let key: Uint8Array;
  do key = new Uint8Array(randomBytes(32));
  while (!secp256k1.utils.isValidSecretKey(key));
  writeFileSync(path, JSON.stringify({ privateKey: bytesToHex(key) }), { mode: 0o600, flag: "wx" });
  return key;
}

export function readEvmKey(path: string): Uint8Array {
  const parsed = keyFileSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success)
    throw new Error(`${path}: not an EVM key file ({"privateKey": "0x" + 64 lowercase hex})`);
  const key = hexToBytes(parsed.data.privateKey as `0x${string}`);
  if (!secp256k1.utils.isValidSecretKey(key)) throw new Error(`${path}: not a valid secp256k1 secret key`);
  return key;
}

const localKeySchema = z.looseObject({ evmKeyFile: z.string().min(1) });

/** The exchange: round 0 is each guardian's address; the result is the set and the threshold. */
export const bridgeKeyExchange: ModuleExchange = {
  messageBytesMax: 42,
  start(ctx) {
    const local = localKeySchema.safeParse(ctx.local ?? {});
    if (!local.success)
      return Promise.reject(
        new Error(
          `bridge module: this guardian's local settings need "evmKeyFile" (where its EVM signing key is kept)`,
        ),
      );
    return Promise.resolve(evmAddressOfKey(loadOrCreateEvmKey(local.data.evmKeyFile)));
  },
  step(ctx, round, messages) {
    if (round !== 0) return Promise.reject(new Error(`bridge key exchange has one round, not ${round + 1}`));
    const guardians = messages.map((m) => getAddress(m));
    if (new Set(guardians.map((g) => g.toLowerCase())).size !== guardians.length)
      return Promise.reject(new Error("bridge key exchange: two guardians sent the same EVM address"));
    return Promise.resolve({ result: { guardians, threshold: ctx.threshold } });
  },
  checkMessage(_round, message) {
    return isAddress(message, { strict: false }) ? undefined : "not an EVM address";
  },
};

/** The bridge's ModuleSetup: no DKG keys; the exchange's result completes the config. */
export const bridgeModuleSetup: ModuleSetup = {
  keyCount: () => 0,
  finish: (config) => config,
  exchange: bridgeKeyExchange,
};
