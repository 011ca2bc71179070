// The module-agnostic client core: database, operation log and events, secrets per module
// instance, the client contract, and the core that runs client halves (docs/client-architecture.md).
export * from "./commands.js";
export * from "./contract.js";
export * from "./core.js";
export * from "./db.js";
export * from "./json.js";
export * from "./operations.js";
export * from "./secrets.js";
export * from "./errors.js";
