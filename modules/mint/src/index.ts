export * from "./common.js";
export * from "./api.js";
export * from "./server.js";
export * from "./setup.js";
export * from "./factory.js";
export * from "./client.js";
