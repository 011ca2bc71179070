// The mint's HTTP API, under /v1/modules/mint/ on every guardian: request and answer schemas shared
// by the server half and the wallet (browser-safe: zod only).
//
//   POST notes/spent   { nonces: hex32[] }            -> { spent: boolean[] }
//        Which notes (by nonce = spend key) are spent. Consensus state: the client asks every
//        guardian and trusts the answer t of them agree on.
//   POST notes/issued  { blindedMessages: hex48[] }   -> { issued: (IssuedNote | null)[] }
//        For each blinded message the federation signed: where (txid, output index), which
//        denomination, and THIS guardian's blind signature share. Shares differ per guardian: the
//        client verifies each against the guardian's public key share. Restore uses it to find
//        notes from re-derived nonces without knowing the transactions that issued them.
import { z } from "zod";

/** Most nonces or blinded messages in one query (keeps a request under the API's body limit). */
export const MINT_QUERY_ITEMS_MAX = 1000;

const hexBytes = (bytes: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `${bytes} bytes as lowercase hex`);

export const SpentQuerySchema = z.strictObject({
  nonces: z.array(hexBytes(32)).min(1).max(MINT_QUERY_ITEMS_MAX),
});
export type SpentQuery = z.infer<typeof SpentQuerySchema>;

export const SpentAnswerSchema = z.strictObject({ spent: z.array(z.boolean()) });
export type SpentAnswer = z.infer<typeof SpentAnswerSchema>;

export const IssuedQuerySchema = z.strictObject({
  blindedMessages: z.array(hexBytes(48)).min(1).max(MINT_QUERY_ITEMS_MAX),
});
export type IssuedQuery = z.infer<typeof IssuedQuerySchema>;

export const IssuedNoteSchema = z.strictObject({
  txid: hexBytes(32),
  index: z.number().int().min(0),
  denominationLog2: z.number().int().min(0).max(62),
  amount: z.string().regex(/^\d{1,20}$/),
  blindShare: hexBytes(48),
});
export type IssuedNote = z.infer<typeof IssuedNoteSchema>;

export const IssuedAnswerSchema = z.strictObject({ issued: z.array(IssuedNoteSchema.nullable()) });
export type IssuedAnswer = z.infer<typeof IssuedAnswerSchema>;

/** A mint output's outcome in GET /v1/transactions/:txid (per guardian: its own share). */
export const MintOutputOutcomeSchema = z.strictObject({
  denominationLog2: z.number().int().min(0).max(62),
  amount: z.string().regex(/^\d{1,20}$/),
  blindShare: hexBytes(48),
});
export type MintOutputOutcomeJson = z.infer<typeof MintOutputOutcomeSchema>;
