export * from "./common.js";
export * from "./factory.js";
export * from "./server/server.js";
export * from "./server/mailbox-store.js";
export * from "./server/challenges.js";
export * from "./watch-common.js";
export * from "./server/watch-socket.js";
