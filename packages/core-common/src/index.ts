export * from "./bytes.js";
export * from "./codec.js";
export * from "./crypto.js";
export * from "./federation-config.js";
export * from "./errors.js";
export * from "./transaction.js";
export * from "./amount.js";
export * from "./setup/codes.js";
