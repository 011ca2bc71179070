// The guardian API's answers, as the client validates them (zod). They mirror the response schemas
// of core-server's `api/schemas.ts`, which the client cannot import (the server package pulls in
// node:http and LMDB); the tests check both sides against each other on real guardians' answers.
import { z } from "zod";

const hex = z.string().regex(/^(?:[0-9a-f]{2})*$/, "lowercase hex of whole bytes");
const hex32 = z.string().regex(/^[0-9a-f]{64}$/, "32 bytes as 64 lowercase hex characters");
const uint = z.number().int().nonnegative();

export const TxidSchema = hex32;

export const ErrorBodySchema = z.object({
  code: z.string().max(128),
  message: z.string().max(4096),
  details: z.record(z.string(), z.unknown()).exactOptional(),
});

const ProposedSchema = z.object({ txid: TxidSchema, state: z.literal("proposed") });
const AcceptedSchema = z.object({
  txid: TxidSchema,
  state: z.literal("accepted"),
  height: uint,
  /** Decimal string: money is never a JSON number. */
  fee: z.string().regex(/^[0-9]+$/),
  /** One entry per output: the module's outcome (JSON), or null while it has none yet. */
  outcomes: z.array(z.unknown()).readonly(),
});
const RejectedSchema = z.object({
  txid: TxidSchema,
  state: z.literal("rejected"),
  height: uint,
  error: ErrorBodySchema,
});

export const TxStatusViewSchema = z.discriminatedUnion("state", [
  ProposedSchema,
  AcceptedSchema,
  RejectedSchema,
]);
export type TxStatusView = z.output<typeof TxStatusViewSchema>;
/** A status no guardian will change any more. */
export type FinalTxStatus = Exclude<TxStatusView, { readonly state: "proposed" }>;

export const GuardianStatusViewSchema = z.object({
  guardian: uint,
  name: z.string(),
  height: uint,
  round: uint,
  sessionsSigned: uint,
  peersConnected: uint,
  peersTotal: uint,
  mempoolItems: uint,
  halted: z.string().nullable(),
  version: z.string(),
});
export type GuardianStatusView = z.output<typeof GuardianStatusViewSchema>;

export const FederationViewSchema = z.object({ federationId: z.string(), config: z.unknown() });

export const SessionCountSchema = z.object({ count: uint });

export const SessionViewSchema = z.object({
  session: uint,
  sessionHash: hex32,
  blockIds: z.array(hex32).readonly(),
  signatures: z.array(z.object({ signer: uint, signature: hex })).readonly(),
});
export type SessionView = z.output<typeof SessionViewSchema>;
