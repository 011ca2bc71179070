// The guardian's client API: HTTP + JSON, WebSocket status push, OpenAPI, metrics.
export { ApiServer, API_VERSION, DEFAULT_API_LIMITS } from "./server.js";
export type { ApiLimits, ApiLog, ApiServerOptions } from "./server.js";
export type { AuditView, GuardianBackend, GuardianStatusView, SessionView, TxStatusView } from "./backend.js";
export {
  ADMIN_PASSWORD_BYTES_MAX,
  DEFAULT_ADMIN_SCRYPT_PARAMS,
  hashAdminPassword,
  parseAdminPasswordHash,
  verifyAdminPassword,
} from "./admin-password.js";
export type { AdminPasswordHash, ScryptParams } from "./admin-password.js";
export {
  ErrorBodySchema,
  SubmitTransactionRequestSchema,
  TxStatusViewSchema,
  WsClientMessageSchema,
  WsServerMessageSchema,
} from "./schemas.js";
export type { WsServerMessage } from "./schemas.js";
export { WS_PATH } from "./websocket.js";
export { moduleOpenApiDocument } from "./openapi.js";
export { TokenBuckets, clientKey } from "./rate-limit.js";
export type { TokenBucketOptions } from "./rate-limit.js";
