// Builds the Monero module from its federation-config entry and this guardian's own settings
// (guardian.local.json). Both come from files: validated here, with messages that name the field.
import { parseAddress } from "@conclave/monero";
import type { ServerModule } from "@conclave/core-server";
import { quorumThreshold, moneroConfigSchema, moneroLocalSchema } from "./common.js";
import { KeepingLastSigner } from "./payout-byzantine.js";
import { RpcPayoutWallet } from "./payout-watcher.js";
import type { MoneroConfig, MoneroLocal } from "./common.js";
import { MoneroServerModule } from "./server.js";
import { RpcChainSource } from "./watcher.js";
import { RpcReservesSource } from "./reserves.js";

export class MoneroConfigError extends Error {
  override readonly name = "MoneroConfigError";
}

/** The federation-wide config: address checked for the network (Base58, checksum, keys on the curve). */
export function parseMoneroConfig(config: Record<string, unknown>): MoneroConfig {
  const r = moneroConfigSchema.safeParse(config);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new MoneroConfigError(
      `monero module config: ${issue ? `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}` : "invalid"}`,
    );
  }
  const c = r.data;
  try {
    // Primary or integrated addresses only: check_tx_key on a subaddress needs its own handling.
    parseAddress(c.address, c.network, ["standard"]);
  } catch (e) {
    throw new MoneroConfigError(`monero module config: address: ${(e as Error).message}`);
  }
  return {
    network: c.network,
    address: c.address,
    guardians: c.guardians,
    confirmations: c.confirmations,
    depositMinPiconero: BigInt(c.depositMinPiconero),
    claimExpiryBlocks: c.claimExpiryBlocks,
    openClaimsPerGuardianMax: c.openClaimsPerGuardianMax,
    payoutMinPiconero: BigInt(c.payoutMinPiconero),
    payoutFeeBytes: c.payoutFeeBytes,
    payoutFeeMinPiconero: BigInt(c.payoutFeeMinPiconero),
    payoutBatchMax: c.payoutBatchMax,
    payoutRoundBlocks: c.payoutRoundBlocks,
    payoutExportWaitBlocks: c.payoutExportWaitBlocks,
    payoutConfirmations: c.payoutConfirmations,
    subaddressesMax: c.subaddressesMax,
    subaddressesPerGuardianPerWindowMax: c.subaddressesPerGuardianPerWindowMax,
    subaddressWindowBlocks: c.subaddressWindowBlocks,
  };
}

/** This guardian's own nodes, or undefined when guardian.local.json has no entry for the module. */
export function parseMoneroLocal(local: Readonly<Record<string, unknown>>): MoneroLocal | undefined {
  if (Object.keys(local).length === 0) return undefined;
  const r = moneroLocalSchema.safeParse(local);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new MoneroConfigError(
      `monero module local settings (guardian.local.json): ${issue ? `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}` : "invalid"}`,
    );
  }
  return r.data;
}

/** The ModuleFactory of guardiand: (instance id, config entry, secret shares (none), local settings). */
export function moneroModuleFactory(
  instanceId: number,
  config: Record<string, unknown>,
  _shares: readonly bigint[],
  local: Readonly<Record<string, unknown>>,
): ServerModule {
  const c = parseMoneroConfig(config);
  const l = parseMoneroLocal(local);
  const chain = l ? new RpcChainSource(l.daemonUrl, l.walletRpcUrl) : undefined;
  return new MoneroServerModule(
    instanceId,
    c,
    l && chain
      ? {
          chain,
          // The same wallet: its subaddresses are the federation's (every share derives the same ones).
          subaddresses: chain,
          pollMs: l.pollMs,
          tipPollMs: l.tipPollMs,
          // The wallet open in wallet-rpc is this guardian's share of the multisig wallet.
          payoutWallet: new RpcPayoutWallet(l.walletRpcUrl, l.daemonUrl, {
            threshold: quorumThreshold(c.guardians),
            total: c.guardians,
            multisigAddress: c.address,
          }),
          // Its balance is the federation's reserves, unless a test says the wallet is not a share.
          ...(l.testWalletNotFederation
            ? { testWalletNotFederation: true }
            : { reserves: new RpcReservesSource(l.walletRpcUrl), reservesPollMs: l.reservesPollMs }),
          ...(l.testByzantinePayout ? { payoutByzantine: new KeepingLastSigner(l.testByzantinePayout) } : {}),
        }
      : undefined,
  );
}
