export * from "./common.js";
export * from "./factory.js";
export * from "./server/server.js";
export * from "./server/mailbox-store.js";
export * from "./server/challenges.js";
