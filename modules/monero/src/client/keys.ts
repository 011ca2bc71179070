// The Monero half's secret per claim, from its secret (the federation root: `compat: "wallet-v1"`,
// so that existing mnemonics re-derive the same claim keys; packages/wallet/src/keys.ts):
//   claimSeed(j) = HKDF-Expand(root, "conclave/wallet/v1/deposit/claim" | u64be(j), 32)
// Its Ed25519 public key is the claim key a deposit is bound to.
import { expand } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { labelled } from "@conclave/core-client";
import { utf8 } from "@conclave/core-common";

const LABEL_CLAIM = utf8.encode("conclave/wallet/v1/deposit/claim");

export function claimSeed(root: Uint8Array, index: number): Uint8Array {
  return expand(sha256, root, labelled(LABEL_CLAIM, index), 32);
}
