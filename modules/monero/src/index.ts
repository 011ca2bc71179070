export * from "./common.js";
export * from "./api.js";
export * from "./client.js";
export * from "./state.js";
export * from "./watcher.js";
export * from "./server.js";
export * from "./factory.js";
