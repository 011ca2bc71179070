// The bridge's look-up by any id through the SDK (GET /v1/modules/bridge/lookup/…, the server's
// lookup.ts): what t guardians answer the same, with the per-guardian fields (a mint view's guardian
// index) left out of the comparison. Pages: pass the previous answer's `next` as `cursor`.
// Browser-safe: a FederationClient and zod schemas only.
import type { Agreement, FederationClient } from "@conclave/core-client";
import { NoQuorumError } from "@conclave/core-client";
import { canonicalJson } from "@conclave/core-common";
import { z } from "zod";
import {
  AddressViewSchema,
  DepositLookupViewSchema,
  TxBurnsViewSchema,
  TxMintsViewSchema,
} from "../lookup-api.js";
import type { AddressView, DepositLookupView, TxBurnsView, TxMintsView } from "../lookup-api.js";

const BASE = "/v1/modules/bridge/lookup";
const page = (cursor: string | undefined): string => (cursor === undefined ? "" : `/after/${cursor}`);

/** JSON equality without the fields one guardian gives differently from another (its index, key). */
function sameIgnoringGuardian(a: unknown, b: unknown): boolean {
  const strip = (v: unknown): unknown =>
    JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === "guardian" || k === "signer" ? undefined : x)));
  return canonicalJson(strip(a)) === canonicalJson(strip(b));
}

/** Every wXMR mint output of one federation transaction (64 lowercase hex). */
export function bridgeLookupTx(
  client: FederationClient,
  txid: string,
  cursor?: string,
): Promise<Agreement<TxMintsView>> {
  return client.queryConsensus(`${BASE}/tx/${txid}${page(cursor)}`, TxMintsViewSchema, sameIgnoringGuardian);
}

/** The mint with this deposit id (0x + 64 hex): a federation output or a burn's re-mint. */
export function bridgeLookupDeposit(
  client: FederationClient,
  depositId: string,
): Promise<Agreement<DepositLookupView>> {
  return client.queryConsensus(`${BASE}/deposit/${depositId}`, DepositLookupViewSchema, sameIgnoringGuardian);
}

/** Every burn of one EVM transaction (0x + 64 hex) the guardians voted or accepted. */
export function bridgeLookupBurns(
  client: FederationClient,
  txHash: string,
  cursor?: string,
): Promise<Agreement<TxBurnsView>> {
  return client.queryConsensus(
    `${BASE}/burns/${txHash}${page(cursor)}`,
    TxBurnsViewSchema,
    sameIgnoringGuardian,
  );
}

/**
 * What the chain shows for an EVM address: its mints on chain and its accepted burns. Guardians
 * read mint logs from their own nodes: compared on the lists only (their blocks read may differ).
 */
export function bridgeLookupAddress(
  client: FederationClient,
  address: string,
  cursor?: string,
): Promise<Agreement<AddressView>> {
  return client.queryConsensus(
    `${BASE}/address/${address}${page(cursor)}`,
    AddressViewSchema,
    (a, b) =>
      canonicalJson({ m: a.mints, b: a.burns, n: a.next ?? null }) ===
      canonicalJson({ m: b.mints, b: b.burns, n: b.next ?? null }),
  );
}

/**
 * The fields of the Monero module's deposit view (GET /v1/modules/monero/deposits/:txid) a look-up
 * compares: its state and the federation transaction that spent it. The rest (attestations,
 * confirmations at each guardian's agreed height) is left out: it moves with each guardian's height.
 */
export const MoneroDepositSpendSchema = z.object({
  txid: z.string().regex(/^[0-9a-f]{64}$/),
  state: z.string(),
  spentIn: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
export type MoneroDepositSpend = z.infer<typeof MoneroDepositSpendSchema>;

/** A Monero deposit txid's life cycle through to the wXMR minted from it. */
export interface MoneroDepositLookup {
  /** The deposit's state and spender, t guardians agreeing. */
  readonly deposit: Agreement<MoneroDepositSpend>;
  /**
   * The wXMR mint outputs of the federation transaction that spent it (`deposit.value.spentIn`), t
   * agreeing; absent when it has none t agree on (a deposit spent into e-cash notes has none).
   */
  readonly mints?: Agreement<TxMintsView>;
}

/**
 * A claimed Monero deposit (its Monero txid, 64 lowercase hex) and, once a federation transaction
 * spent it, that transaction's wXMR mint outputs: a deposit minted straight to wXMR
 * (`bridgeMintFromDeposit`, `bridge-mint --from-deposit`) leads to its mint.
 */
export async function bridgeLookupMoneroDeposit(
  client: FederationClient,
  moneroTxid: string,
): Promise<MoneroDepositLookup> {
  const deposit = await client.queryConsensus(
    `/v1/modules/monero/deposits/${moneroTxid}`,
    MoneroDepositSpendSchema,
  );
  const spentIn = deposit.value.spentIn;
  if (spentIn === undefined) return { deposit };
  try {
    return { deposit, mints: await bridgeLookupTx(client, spentIn) };
  } catch (e) {
    if (e instanceof NoQuorumError) return { deposit };
    throw e;
  }
}
