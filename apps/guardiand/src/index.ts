export * from "./local-federation.js";
export * from "./guardian-processes.js";
export * from "./monero-federation.js";
export * from "./notes-to-wxmr.js";
