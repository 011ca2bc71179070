import { nobleTbs } from "@conclave/core-common/tbs";
import type { TbsBackend } from "@conclave/core-common/tbs";
import { Fr } from "@conclave/core-common/threshold";
import { mintConfigOf, mintConfigSchema } from "./common.js";
import type { MintConfig } from "./common.js";
import { MintServerModule } from "./server.js";

/** Parses the mint's federation-config entry (validated: config comes from a file). */
export function parseMintConfig(config: Record<string, unknown>): MintConfig {
  return mintConfigOf(mintConfigSchema.parse(config));
}

/** A mint factory whose modules compute with `tbs` (the guardian passes the native blst backend). */
export function createMintModuleFactory(
  tbs: TbsBackend,
): (instanceId: number, config: Record<string, unknown>, shares: readonly bigint[]) => MintServerModule {
  return (instanceId, config, shares) => mintModuleFactory(instanceId, config, shares, tbs);
}

/** Builds the mint from its config entry and this guardian's secret shares (one per denomination). */
export function mintModuleFactory(
  instanceId: number,
  config: Record<string, unknown>,
  shares: readonly bigint[],
  tbs: TbsBackend = nobleTbs,
): MintServerModule {
  const c = parseMintConfig(config);
  if (shares.length !== c.denominationsLog2.length)
    throw new RangeError(
      `the mint needs ${c.denominationsLog2.length} secret shares (one per denomination), got ${shares.length}`,
    );
  for (const s of shares) {
    if (s <= 0n || s >= Fr.ORDER) throw new RangeError("a mint secret share is not a non-zero scalar");
  }
  return new MintServerModule(instanceId, c, shares, tbs);
}
