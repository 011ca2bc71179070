export * from "./config.js";
export * from "./engine.js";
export * from "./messages.js";
export * from "./replica.js";
export * from "./store.js";
export * from "./types.js";
export * from "./session-verify.js";
export * from "./block-content.js";
