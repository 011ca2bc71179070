// `conclaved setup init` and `conclaved setup run`: the operator's side of the key ceremony.
//
//   conclaved setup init --data DIR --name alice --p2p 127.0.0.1:4001 --api http://127.0.0.1:5001
//       makes this guardian's identity key and prints its setup code (share it with the others)
//   conclaved setup run --data DIR --codes CODE,CODE,... --federation-name NAME [--environment dev]
//       [--modules FILE] [--local FILE]
//       checks the codes, connects to every peer, runs the DKG and the modules' exchanges (the Monero
//       multisig rounds between the guardians' own wallets), writes federation.json and the
//       guardian's secret into DIR, and prints the invite code for users. --modules adds module
//       entries ([{instanceId, kind, config}], the same file at every guardian); --local gives this
//       guardian's own settings for them ({"modules": {"<instance id>": {...}}}, never shared).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import {
  decodeSetupCode,
  encodeInvite,
  encodeSetupCode,
  federationId,
  fromHex,
  toHex,
} from "@conclave/core-common";
import type { FederationConfig, Invite, SetupCode } from "@conclave/core-common";
import {
  SOFTWARE_VERSION,
  ed25519PublicKeyOf,
  generateEd25519Seed,
  runCeremony,
  sha256,
} from "@conclave/core-server";
import type { CeremonyLocal, ModuleSetup } from "@conclave/core-server";
import { MODULE_SETUPS } from "./modules.js";
import { DEV_MODULES, MINT_PARAMS_XMR } from "./local-federation.js";

const identitySchema = z.strictObject({
  secretSeed: z.string().regex(/^[0-9a-f]{64}$/),
  name: z.string().min(1).max(64),
  p2p: z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }),
  api: z.url(),
});
type Identity = z.infer<typeof identitySchema>;

/** `setup run --local FILE`: the format of guardian.local.json. */
const setupLocalSchema = z.strictObject({
  modules: z.record(z.string().regex(/^\d+$/), z.record(z.string(), z.unknown())),
});

/** `setup run --modules FILE`: module entries of the federation parameters. */
const modulesFileSchema = z
  .array(
    z.strictObject({
      instanceId: z.number().int().min(0).max(0xffff),
      kind: z.string().min(1).max(64),
      config: z.record(z.string(), z.unknown()),
    }),
  )
  .max(64);

function readJsonFile<T>(path: string, what: string, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`cannot read ${what} from ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new Error(`${what} in ${path} is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function identityPath(dataDir: string): string {
  return join(dataDir, "identity.secret.json");
}

function parseHostPort(text: string): { host: string; port: number } {
  const m = /^([^:]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new Error(`--p2p takes host:port, not "${text}"`);
  return { host: m[1]!, port };
}

/** `secretSeed`: this guardian's key if it has none yet (default: a fresh random one). */
export function setupInit(
  dataDir: string,
  name: string,
  p2p: string,
  api: string,
  secretSeed: Uint8Array = generateEd25519Seed(),
): SetupCode {
  mkdirSync(dataDir, { recursive: true });
  const path = identityPath(dataDir);
  let identity: Identity;
  if (existsSync(path)) {
    identity = identitySchema.parse(JSON.parse(readFileSync(path, "utf8")));
  } else {
    identity = identitySchema.parse({
      secretSeed: toHex(secretSeed),
      name,
      p2p: parseHostPort(p2p),
      api,
    });
    writeFileSync(path, JSON.stringify(identity), { mode: 0o600 });
  }
  return {
    name: identity.name,
    publicKey: toHex(ed25519PublicKeyOf(fromHex(identity.secretSeed))),
    p2p: identity.p2p,
    api: identity.api,
    software: SOFTWARE_VERSION,
  };
}

export function inviteOf(config: FederationConfig): Invite {
  return {
    federationId: toHex(federationId(config, sha256)),
    name: config.name,
    guardians: config.guardians.map((g) => ({ name: g.name, api: g.api?.url ?? "" })),
  };
}

export async function setupRun(options: {
  dataDir: string;
  codes: readonly string[];
  federationName: string;
  environment: "production" | "dev";
  heightsPerSession: number;
  modules: FederationConfig["modules"];
  moduleSetups?: Readonly<Record<string, ModuleSetup>>;
  /** This guardian's own settings for the modules' exchanges (e.g. its Monero wallet). */
  local?: CeremonyLocal;
  log?: (event: string, fields: Record<string, unknown>) => void;
}): Promise<{ config: FederationConfig; invite: string }> {
  const identity = identitySchema.parse(JSON.parse(readFileSync(identityPath(options.dataDir), "utf8")));
  const result = await runCeremony({
    dataDir: options.dataDir,
    secretSeed: fromHex(identity.secretSeed),
    moduleSetups: options.moduleSetups ?? MODULE_SETUPS,
    codes: options.codes.map(decodeSetupCode),
    params: {
      federationName: options.federationName,
      environment: options.environment,
      heightsPerSession: options.heightsPerSession,
      modules: options.modules,
    },
    ...(options.local ? { local: options.local } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  return { config: result.config, invite: encodeInvite(inviteOf(result.config)) };
}

export async function setupMain(argv: readonly string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({
    args: [...rest],
    options: {
      data: { type: "string" },
      name: { type: "string" },
      p2p: { type: "string" },
      api: { type: "string" },
      codes: { type: "string" },
      "federation-name": { type: "string" },
      environment: { type: "string", default: "production" },
      "heights-per-session": { type: "string", default: "16" },
      "dummy-module": { type: "boolean", default: false },
      mint: { type: "boolean", default: false },
      "mint-fee-per-note": { type: "string", default: MINT_PARAMS_XMR.feePerInput },
      modules: { type: "string" },
      local: { type: "string" },
    },
  });
  if (!values.data) throw new Error("--data DIR is required");
  if (sub === "init") {
    if (!values.name || !values.p2p || !values.api)
      throw new Error("setup init needs --name, --p2p host:port and --api URL");
    process.stdout.write(encodeSetupCode(setupInit(values.data, values.name, values.p2p, values.api)) + "\n");
    return;
  }
  if (sub === "run") {
    if (!values.codes || !values["federation-name"])
      throw new Error("setup run needs --codes and --federation-name");
    const environment = values.environment;
    if (environment !== "production" && environment !== "dev")
      throw new Error('--environment is "production" or "dev"');
    const extraModules = values.modules
      ? readJsonFile(values.modules, "module entries", modulesFileSchema)
      : [];
    const local = values.local ? readJsonFile(values.local, "local settings", setupLocalSchema) : undefined;
    const modules = [
      ...(values["dummy-module"] ? DEV_MODULES : []),
      ...(values.mint
        ? [
            {
              instanceId: values["dummy-module"] ? 1 : 0,
              kind: "mint",
              config: { ...MINT_PARAMS_XMR, feePerInput: values["mint-fee-per-note"] },
            },
          ]
        : []),
      ...extraModules,
    ];
    const ids = modules.map((m) => m.instanceId);
    if (new Set(ids).size !== ids.length) {
      throw new Error(
        `module instance ids must differ (--modules adds to --dummy-module / --mint): ${ids.join(", ")}`,
      );
    }
    const { invite } = await setupRun({
      dataDir: values.data,
      codes: values.codes.split(",").filter((c) => c.length > 0),
      federationName: values["federation-name"],
      environment,
      heightsPerSession: Number(values["heights-per-session"]),
      modules,
      ...(local ? { local } : {}),
      log: (event, fields) => process.stderr.write(JSON.stringify({ event, ...fields }) + "\n"),
    });
    process.stdout.write(invite + "\n");
    return;
  }
  throw new Error(`unknown command "setup ${sub ?? ""}": use "setup init" or "setup run"`);
}
