export * from "./bytes.js";
export * from "./codec.js";
export * from "./crypto.js";
