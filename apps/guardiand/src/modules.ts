// The module kinds this guardian build can run, by the name federation configs use.
import type { ModuleFactory, ModuleSetup } from "@conclave/core-server";
import { bridgeModuleFactory, bridgeModuleSetup } from "@conclave/module-bridge";
import { dummyModuleFactory } from "@conclave/module-dummy";
import { createMintModuleFactory, mintModuleSetup } from "@conclave/module-mint";
import { moneroModuleFactory } from "@conclave/module-monero";
import { relayModuleFactory } from "@conclave/module-relay";
import { moneroMultisigExchange } from "@conclave/monero";
import { blstTbs } from "@conclave/tbs-native";

export const MODULE_FACTORIES: Readonly<Record<string, ModuleFactory>> = {
  dummy: dummyModuleFactory,
  // The guardian signs and verifies notes with native blst (about 20x the pure-TypeScript speed).
  mint: createMintModuleFactory(blstTbs),
  // Deposits by proof of payment, verified by each guardian against its own monerod and wallet-rpc
  // (guardian.local.json: daemonUrl, walletRpcUrl).
  monero: moneroModuleFactory,
  // wXMR on an EVM chain: each guardian's own EVM key and node (guardian.local.json: evmKeyFile,
  // rpcUrl); at start it refuses to run unless the contract's set and threshold equal the config.
  bridge: bridgeModuleFactory,
  // Wallet services with no consensus (mailbox, recovery store): each guardian keeps its own copy in
  // LMDB environments under DATA/db/modules/<instanceId>/ (docs/relay.md).
  relay: relayModuleFactory,
};

/** Setup steps for the key ceremony, by module kind (the dummy module needs no keys). */
export const MODULE_SETUPS: Readonly<Record<string, ModuleSetup>> = {
  mint: mintModuleSetup,
  // No DKG keys: the guardians' own wallets run the multisig rounds (setup run --local FILE names
  // each guardian's wallet-rpc and wallet) and the address they agree on enters the config.
  monero: { keyCount: () => 0, finish: (config) => config, exchange: moneroMultisigExchange() },
  // No DKG keys: each guardian's EVM key is its own (evmKeyFile); the exchange collects the addresses.
  bridge: bridgeModuleSetup,
};
