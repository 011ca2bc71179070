// A deposit claim sealed to one guardian (browser-safe): the Claim consensus item (txid, claim key,
// payment proof) in its binary form, HPKE-encrypted to the guardian's identity key with core-common's seal,
// for that guardian's POST sealed-claims. The text can travel over any relay; only that guardian
// opens it, and only for this federation and module instance (HPKE's info binds them).
import { encodeSealed, sealTo } from "@conclave/core-common";
import { SEALED_CLAIM_PURPOSE } from "./api.js";
import { encodeMoneroItem } from "./common.js";

export interface SealClaimParams {
  /** The target guardian's Ed25519 identity key (federation.json) and index. */
  readonly guardianPublicKey: Uint8Array;
  readonly guardian: number;
  readonly federationId: Uint8Array;
  /** The Monero module's instance id. */
  readonly instanceId: number;
  readonly txid: Uint8Array;
  readonly claimKey: Uint8Array;
  /** common.ts claimProof(…): the tx key itself is never sealed nor sent. */
  readonly proof: Uint8Array;
}

/** The `csealed1…` text of the claim, sealed to guardian `guardian`. */
export async function sealClaim(p: SealClaimParams): Promise<string> {
  const plaintext = encodeMoneroItem({ kind: "claim", txid: p.txid, claimKey: p.claimKey, proof: p.proof });
  const sealed = await sealTo(
    p.guardianPublicKey,
    { federationId: p.federationId, instanceId: p.instanceId, guardian: p.guardian },
    SEALED_CLAIM_PURPOSE,
    plaintext,
  );
  return encodeSealed(sealed);
}
