// Builds the bridge module from its federation-config entry and this guardian's own settings
// (guardian.local.json: evmKeyFile, rpcUrl, pollMs). Both come from files: validated here.
import { z } from "zod";
import { BridgeConfigError, parseBridgeConfig } from "./common.js";
import { readEvmKey } from "./keys.js";
import { BridgeServerModule } from "./server.js";
import { ViemEvmSource } from "./watcher.js";
import { ViemMintLogSource } from "./lookup-index.js";

const localSchema = z.strictObject({
  evmKeyFile: z.string().min(1),
  rpcUrl: z.url().optional(),
  pollMs: z.number().int().min(10).max(600_000).default(2_000),
});

export function bridgeModuleFactory(
  instanceId: number,
  config: Record<string, unknown>,
  _shares: readonly bigint[],
  local: Readonly<Record<string, unknown>>,
): BridgeServerModule {
  const c = parseBridgeConfig(config);
  if (Object.keys(local).length === 0) return new BridgeServerModule(instanceId, c);
  const r = localSchema.safeParse(local);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new BridgeConfigError(
      `bridge module local settings (guardian.local.json): ${issue ? `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}` : "invalid"}`,
    );
  }
  const l = r.data;
  return new BridgeServerModule(instanceId, c, {
    evmKey: readEvmKey(l.evmKeyFile),
    ...(l.rpcUrl
      ? {
          source: new ViemEvmSource(l.rpcUrl, c.contract),
          mintLogs: new ViemMintLogSource(l.rpcUrl, c.contract),
        }
      : {}),
    pollMs: l.pollMs,
  });
}
