// A wallet's secrets, derived from its federation root (the mnemonic and the root: @conclave/wallet's
// keys.ts, where the labels are listed): the mint half's (MintKeys) and the Monero half's claim
// seeds, each computed by its own half; here for the tests and tools that want them all.
import { MintKeys } from "@conclave/module-mint/client";
import { claimSeed } from "@conclave/module-monero/client";

export { NOTE_INDEX_MAX } from "@conclave/module-mint/client";

export class WalletKeys extends MintKeys {
  /** Ed25519 seed of deposit claim `index` (its public key is the claim key). */
  claimSeed(index: number): Uint8Array {
    return claimSeed(this.root, index);
  }
}
