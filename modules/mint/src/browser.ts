// The mint's browser-safe half (no node: imports): wire formats, config schema and API schemas.
export * from "./common.js";
export * from "./api.js";
