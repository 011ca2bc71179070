// The relay module's browser-safe half (no node: imports): its wire formats.
export * from "./common.js";
export * from "./watch-common.js";
