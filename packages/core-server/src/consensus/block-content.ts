// The items of a decided block, for consensus processing. Blocks are validated before they are
// decided, so a failure to decode here is a bug, not peer input.
import type { ConsensusLimits } from "./config.js";
import { MessageType, decodeBlock, decodeEnvelope } from "./messages.js";
import type { CommittedBundle } from "./types.js";

export function blockBundles(blockBytes: Uint8Array, limits: ConsensusLimits, n: number): CommittedBundle[] {
  const block = decodeBlock(blockBytes, limits, n);
  return block.bundles.map((bytes) => {
    const env = decodeEnvelope(bytes, limits, n);
    if (env.body.type !== MessageType.Bundle) throw new Error("decided block holds a non-bundle (bug)");
    return { origin: env.sender, seq: env.body.bundle.seq, items: env.body.bundle.items };
  });
}
