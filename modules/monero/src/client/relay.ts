// Relaying a sealed claim (`csealed1…`, Wallet.sealClaim) without a wallet: what a relay operator, or
// the user on another machine, does with the text and the guardian's API URL. The guardian opens it
// only if it is the one the claim is sealed to, and says which guardian is otherwise.
import { GuardianHttp } from "@conclave/core-client";
import type { ClientOptions } from "@conclave/core-client";
import { decodeSealed } from "@conclave/core-common";
import { ClaimAnswerSchema } from "../api.js";
import type { RelayResult } from "./types.js";

export const SEALED_CLAIMS_PATH = "/v1/modules/monero/sealed-claims";

/** Posts `sealed` to the guardian API at `url` (refused at once, before sending, if malformed). */
export async function relaySealedClaim(
  url: string,
  sealed: string,
  options: ClientOptions = {},
): Promise<RelayResult> {
  const { guardian } = decodeSealed(sealed);
  const http = new GuardianHttp(url, {
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const answer = await http.post(SEALED_CLAIMS_PATH, { sealed }, ClaimAnswerSchema);
  return { txid: answer.txid, guardian, state: answer.state };
}
