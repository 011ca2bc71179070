// The federation config every guardian and client shares: who the guardians are (by key), where
// to reach them, and the consensus parameters. Validated with one schema library (zod) at the
// boundary; the federation id is a hash of what identifies the federation (keys and parameters,
// never addresses: a guardian may move without changing the federation).
import { z } from "zod";
import { fromHex } from "./bytes.js";
import { Writer } from "./codec.js";
import type { Hash } from "./crypto.js";

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, "a 32-byte value as 64 lowercase hex digits");
const port = z.number().int().min(1).max(65535);

export const guardianEntrySchema = z.strictObject({
  name: z.string().min(1).max(64),
  publicKey: hex32,
  p2p: z.strictObject({ host: z.string().min(1).max(253), port }),
  api: z.strictObject({ url: z.url() }).optional(),
});

export const consensusParamsSchema = z.strictObject({
  heightsPerSession: z.number().int().min(1).max(4096),
  timeouts: z
    .strictObject({
      proposeMs: z.number().int().min(1).max(600_000),
      prevoteMs: z.number().int().min(1).max(600_000),
      precommitMs: z.number().int().min(1).max(600_000),
      roundIncrementMs: z.number().int().min(0).max(600_000),
      rebroadcastMs: z.number().int().min(1).max(600_000),
      statusMs: z.number().int().min(1).max(600_000),
      catchUpMs: z.number().int().min(0).max(600_000),
    })
    .partial()
    .optional(),
});

export const moduleEntrySchema = z.strictObject({
  instanceId: z.number().int().min(0).max(0xffff),
  kind: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "a module kind: lowercase letters, digits and dashes"),
  /** The module's own public config (validated by the module itself). */
  config: z.record(z.string(), z.unknown()),
});

export const federationConfigSchema = z.strictObject({
  version: z.literal(1),
  name: z.string().min(1).max(128),
  /** "dev" federations may load test-only modules; the mark is part of the federation id. */
  environment: z.enum(["production", "dev"]).default("production"),
  guardians: z.array(guardianEntrySchema).min(1).max(64),
  consensus: consensusParamsSchema,
  modules: z.array(moduleEntrySchema).max(64).default([]),
  /** The federation's threshold BLS key from the key ceremony (G2, hex): any t guardians can sign. */
  threshold: z
    .strictObject({
      publicKey: z.string().regex(/^[0-9a-f]{192}$/),
      publicKeyShares: z.array(z.string().regex(/^[0-9a-f]{192}$/)),
    })
    .optional(),
});

export type FederationConfig = z.infer<typeof federationConfigSchema>;
export type FederationConfigInput = z.input<typeof federationConfigSchema>;
export type ModuleEntry = z.infer<typeof moduleEntrySchema>;
export type GuardianEntry = z.infer<typeof guardianEntrySchema>;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Parse untrusted JSON into a federation config, with a message that names the bad field. */
export function parseFederationConfig(json: unknown): FederationConfig {
  const parsed = federationConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join(".") || "(root)" : "(root)";
    throw new ConfigError(`invalid federation config at ${where}: ${issue?.message ?? "unknown error"}`);
  }
  const keys = new Set(parsed.data.guardians.map((g) => g.publicKey));
  if (keys.size !== parsed.data.guardians.length) throw new ConfigError("two guardians share a public key");
  const ids = new Set(parsed.data.modules.map((m) => m.instanceId));
  if (ids.size !== parsed.data.modules.length) throw new ConfigError("two modules share an instance id");
  return parsed.data;
}

export function federationId(config: FederationConfig, hash: Hash): Uint8Array {
  const w = new Writer()
    .raw(new TextEncoder().encode("conclave/federation-id/v1"))
    .u32(config.guardians.length);
  for (const g of config.guardians) w.fixed(fromHex(g.publicKey), 32);
  w.u32(config.consensus.heightsPerSession);
  w.bytes(new TextEncoder().encode(config.environment));
  w.bytes(new TextEncoder().encode(canonicalJson(config.modules)));
  w.bytes(new TextEncoder().encode(canonicalJson(config.threshold ?? null)));
  return hash(w.finish());
}

/** JSON with object keys sorted: one text per value, so it can be hashed. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
