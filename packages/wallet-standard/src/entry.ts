// Opening standard wallets by location (a directory in Node, a database name in the browser): the
// NodeWalletEntry shape of types.ts over any client database (@conclave/wallet's locatedWallets).
import { locatedWallets } from "@conclave/wallet";
import type { ClientDb, LocatedWallets } from "@conclave/wallet";
import { ClientCore } from "@conclave/core-client";
import { utf8 } from "@conclave/core-common";
import { relaySealedClaim } from "@conclave/module-monero/client";
import { recoverSecret, requestFederationShard, waitFederationShard } from "@conclave/module-relay/client";
import type { NodeWalletEntry, RestoreResult } from "./types.js";
import { Wallet } from "./wallet.js";
import type { WalletOptions } from "./wallet.js";

/** NodeWalletEntry, typed with the Wallet class (its extra `warnings` field included). */
export interface WalletEntry
  extends
    LocatedWallets<Wallet, RestoreResult>,
    Pick<
      NodeWalletEntry,
      "relaySealed" | "recoverSecret" | "requestFederationShard" | "waitFederationShard"
    > {}

/** The three ways to get a wallet, over databases that `openDb` opens by location. */
export function walletEntry(
  openDb: (location: string) => Promise<ClientDb>,
  options: WalletOptions,
): WalletEntry {
  const join = (invite: string) => ClientCore.join(invite, options.client ? { client: options.client } : {});
  return {
    ...locatedWallets(openDb, {
      open: (db) => Wallet.open(db, options),
      join: (db, invite, mnemonic) => Wallet.join(db, invite, mnemonic, options),
      restore: (db, invite, mnemonic) => Wallet.restore(db, invite, mnemonic, options),
    }),
    relaySealed(url, sealed) {
      return relaySealedClaim(url, sealed, options.client);
    },
    async recoverSecret(invite, shards) {
      const r = await recoverSecret(await join(invite), shards);
      return { ...r, mnemonic: utf8.decode(r.secret) };
    },
    async requestFederationShard(invite, shard) {
      return requestFederationShard(await join(invite), shard, (n) =>
        crypto.getRandomValues(new Uint8Array(n)),
      );
    },
    async waitFederationShard(invite, request, { wait, onProgress }) {
      return waitFederationShard(await join(invite), request, onProgress ? { wait, onProgress } : { wait });
    },
  };
}
