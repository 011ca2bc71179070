// The mint's part in the key ceremony: one threshold key per denomination.
import type { ModuleSetup } from "@conclave/core-server";
import { mintConfigSchema, mintParamsSchema } from "./common.js";

export const mintModuleSetup: ModuleSetup = {
  keyCount(config) {
    return mintParamsSchema.parse(config).denominationsLog2.length;
  },
  /** Puts `keys[i] = { publicKey, publicKeyShares }` (hex) for `denominationsLog2[i]` into the config. */
  finish(config, keys) {
    const params = mintParamsSchema.parse(config);
    if (keys.length !== params.denominationsLog2.length)
      throw new RangeError(
        `the mint needs ${params.denominationsLog2.length} keys (one per denomination), the DKG made ${keys.length}`,
      );
    const full = {
      ...params,
      keys: keys.map((k) => ({ publicKey: k.publicKey, publicKeyShares: [...k.publicKeyShares] })),
    };
    return mintConfigSchema.parse(full);
  },
};
