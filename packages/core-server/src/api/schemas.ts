// The API's wire formats, as zod schemas: request schemas are what the server validates with;
// response schemas document what the backend returns. Both feed the OpenAPI document, so the
// document cannot drift from the validation. The type assertions at the bottom fail to compile if
// a response schema drifts from the backend's TypeScript types.
import { z } from "zod";
import { BackupRecordSchema, BackupStoredSchema, DEFAULT_TRANSACTION_LIMITS } from "@conclave/core-common";
import type { AuditView, GuardianStatusView, SessionView, TxStatusView } from "./backend.js";

const hexOfBytes = (bytesMax: number) =>
  z
    .string()
    .max(2 * bytesMax, `at most ${bytesMax} bytes`)
    .regex(/^(?:[0-9a-f]{2})*$/, "must be lowercase hex of whole bytes");

export const TxidSchema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, "a transaction id is 64 lowercase hex characters")
  .describe("Transaction id: 64 lowercase hex characters (32 bytes).");

/** Amounts and other u64 values travel as decimal strings: JSON numbers lose precision above 2^53. */
const DecimalSchema = z.string().regex(/^[0-9]+$/);

const decimalParam = (what: string, digitsMax: number) =>
  z
    .string()
    .regex(
      new RegExp(`^[0-9]{1,${digitsMax}}$`),
      `${what} is a decimal integer of at most ${digitsMax} digits`,
    )
    .transform(Number);

// ---- requests ---------------------------------------------------------------------------------

export const SubmitTransactionRequestSchema = z
  .strictObject({
    transaction: hexOfBytes(DEFAULT_TRANSACTION_LIMITS.txBytesMax)
      .min(2, "the transaction is empty")
      .describe("The transaction's canonical encoding, as lowercase hex."),
  })
  .describe("A transaction to check and propose to consensus.");

export const BackupIdParamsSchema = z.object({
  id: z.string().regex(/^[0-9a-f]{64}$/, "a backup id is 32 bytes as lowercase hex"),
});

export const TxidParamsSchema = z.object({ txid: TxidSchema });

export const WaitQuerySchema = z.object({
  wait: decimalParam("wait", 9)
    .optional()
    .describe(
      "Long-poll: wait up to this many milliseconds for a final status (accepted or rejected). " +
        "Capped by the server's waitTimeoutMsMax.",
    ),
});

export const SessionIndexParamsSchema = z.object({
  index: decimalParam("a session index", 15).describe("Session index, from 0."),
});

/** The headers of a WebSocket upgrade (RFC 6455 4.1), as documented for GET /v1/ws. */
export const WsUpgradeHeadersSchema = z.object({
  Upgrade: z.literal("websocket").describe("websocket (case-insensitive)."),
  Connection: z.string().describe("Contains the token Upgrade."),
  "Sec-WebSocket-Key": z.string().describe("16 random bytes, base64."),
  "Sec-WebSocket-Version": z.literal("13"),
});

export const ModuleParamsSchema = z.record(
  z.string(),
  z.string().max(512, "a path parameter is at most 512 characters"),
);

// ---- responses --------------------------------------------------------------------------------

export const ErrorBodySchema = z
  .object({
    code: z.string().describe("Stable machine-readable code, e.g. invalid_request, spent_input."),
    message: z.string().describe("What went wrong and what to do next."),
    details: z.record(z.string(), z.unknown()).exactOptional(),
  })
  .describe("Every error answer has this shape.");

const ProposedSchema = z.object({ txid: TxidSchema, state: z.literal("proposed") });
const AcceptedSchema = z.object({
  txid: TxidSchema,
  state: z.literal("accepted"),
  height: z.number().int(),
  fee: DecimalSchema,
  outcomes: z
    .array(z.unknown())
    .readonly()
    .describe("One entry per output: the module's outcome, or null while it has none yet."),
});
const RejectedSchema = z.object({
  txid: TxidSchema,
  state: z.literal("rejected"),
  height: z.number().int(),
  error: ErrorBodySchema,
});
export const TxStatusViewSchema = z
  .discriminatedUnion("state", [ProposedSchema, AcceptedSchema, RejectedSchema])
  .describe("A transaction's status: proposed, then accepted or rejected (final).");

export const GuardianStatusViewSchema = z.object({
  guardian: z.number().int(),
  name: z.string(),
  height: z.number().int(),
  round: z.number().int(),
  sessionsSigned: z.number().int(),
  peersConnected: z.number().int(),
  peersTotal: z.number().int(),
  mempoolItems: z.number().int(),
  halted: z.string().nullable().describe("Why the guardian stopped processing, or null."),
  version: z.string(),
  alerts: z
    .array(
      z.object({ module: z.string(), instanceId: z.number().int(), code: z.string(), message: z.string() }),
    )
    .readonly()
    .describe("What the modules report now, e.g. monero payouts paused (reserves_short); usually empty."),
});

export const FederationViewSchema = z.object({
  federationId: z.string().describe("The federation id (hex)."),
  config: z.unknown().describe("The public federation config, as clients join with."),
});

export const SessionCountSchema = z.object({ count: z.number().int() });

export const SessionViewSchema = z
  .object({
    session: z.number().int(),
    sessionHash: z
      .string()
      .describe("sha256 over the federation id, the session index and its block ids, hex."),
    blockIds: z.array(z.string()).readonly(),
    signatures: z.array(z.object({ signer: z.number().int(), signature: z.string() })).readonly(),
  })
  .describe(
    "A session's header and the guardians' signatures over its hash: enough to check that t guardians signed it. The blocks themselves are not public (they travel only between guardians).",
  );

export const AuditViewSchema = z.object({
  modules: z
    .array(
      z.object({
        instanceId: z.number().int(),
        kind: z.string(),
        assets: DecimalSchema,
        liabilities: DecimalSchema,
      }),
    )
    .readonly(),
  assets: DecimalSchema,
  liabilities: DecimalSchema,
});

export const WebPageViewSchema = z
  .object({
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .describe("SHA-256 of the page this guardian serves at /, hex."),
    bytes: z.number().int(),
    wallet: z
      .object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int() })
      .optional()
      .describe("The wallet page this guardian serves at /wallet, when it serves one."),
  })
  .describe(
    "The web page this guardian serves at / (one self-contained HTML file): compare its hash across guardians " +
      "and with your own build of apps/web (docs/web.md).",
  );

export const ApiStatusSchema = z.object({
  websocketsOpen: z.number().int(),
  websocketSubscriptions: z.number().int(),
  waitsInFlight: z.number().int(),
  limits: z.record(z.string(), z.number()),
});

export const AdminStatusSchema = z.object({ guardian: GuardianStatusViewSchema, api: ApiStatusSchema });

export const OpenApiDocumentSchema = z
  .object({
    openapi: z.string(),
    info: z.object({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.record(z.string(), z.unknown())),
    components: z.record(z.string(), z.unknown()),
  })
  .describe("An OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0).");

export const AcceptedForShutdownSchema = z.object({ shuttingDown: z.literal(true) });

// ---- WebSocket messages -------------------------------------------------------------------------

export const WsClientMessageSchema = z
  .discriminatedUnion("type", [
    z.strictObject({ type: z.literal("subscribe"), txid: TxidSchema }),
    z.strictObject({ type: z.literal("unsubscribe"), txid: TxidSchema }),
    z
      .strictObject({ type: z.literal("subscribe-status") })
      .describe("This guardian's status now and at every change (one status computed per second for all)."),
    z.strictObject({ type: z.literal("unsubscribe-status") }),
  ])
  .describe("What a client sends on /v1/ws (text frames of JSON).");

export const WsServerMessageSchema = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("subscribed"), txid: TxidSchema }),
    z.object({ type: z.literal("unsubscribed"), txid: TxidSchema }),
    z.object({ type: z.literal("transaction"), status: TxStatusViewSchema }),
    z.object({ type: z.literal("status"), status: GuardianStatusViewSchema }),
    z.object({ type: z.literal("unsubscribed-status") }),
    z.object({
      type: z.literal("error"),
      code: z.string(),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).exactOptional(),
    }),
  ])
  .describe(
    "What the server sends on /v1/ws: acknowledgements, the current status right after subscribing " +
      "(when known), every later status change (a status may repeat), and errors.",
  );

export type WsServerMessage = z.output<typeof WsServerMessageSchema>;

/** Named schemas that become components.schemas in the OpenAPI document. */
export const COMPONENT_SCHEMAS = {
  ErrorBody: ErrorBodySchema,
  SubmitTransactionRequest: SubmitTransactionRequestSchema,
  BackupRecord: BackupRecordSchema,
  BackupStored: BackupStoredSchema,
  TxStatusView: TxStatusViewSchema,
  GuardianStatusView: GuardianStatusViewSchema,
  FederationView: FederationViewSchema,
  SessionCount: SessionCountSchema,
  SessionView: SessionViewSchema,
  AuditView: AuditViewSchema,
  WebPageView: WebPageViewSchema,
  AdminStatus: AdminStatusSchema,
  ShutdownAccepted: AcceptedForShutdownSchema,
  OpenApiDocument: OpenApiDocumentSchema,
  WsClientMessage: WsClientMessageSchema,
  WsServerMessage: WsServerMessageSchema,
} as const;

export type ComponentName = keyof typeof COMPONENT_SCHEMAS;

// ---- compile-time checks: response schemas describe exactly the backend's types -----------------

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type SchemasMatchBackend = [
  Assert<Same<z.output<typeof TxStatusViewSchema>, TxStatusView>>,
  Assert<Same<z.output<typeof GuardianStatusViewSchema>, GuardianStatusView>>,
  Assert<Same<z.output<typeof SessionViewSchema>, SessionView>>,
  Assert<Same<z.output<typeof AuditViewSchema>, AuditView>>,
];
