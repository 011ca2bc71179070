export * from "./byzantine.js";
export * from "./checkers.js";
export * from "./disk.js";
export * from "./memo-verifier.js";
export * from "./network.js";
export * from "./queue.js";
export * from "./rng.js";
export * from "./simulator.js";
