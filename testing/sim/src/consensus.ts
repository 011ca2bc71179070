// The parts of the consensus engine the simulator drives, imported from the engine's own sources.
// Not through "@conclave/core-server": its index also loads the daemon (LMDB bindings, TLS links),
// which the simulator must not depend on, and it does not export the test federation helper.
export * from "../../../packages/core-server/src/consensus/index.js";
export { testFederation } from "../../../packages/core-server/src/consensus/test-federation.js";
export type { TestFederation } from "../../../packages/core-server/src/consensus/test-federation.js";
export { NodeSigner, NodeVerifier, sha256 } from "../../../packages/core-server/src/node-crypto.js";
