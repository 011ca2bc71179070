// `conclaved setup init` and `conclaved setup run`: the operator's side of the key ceremony.
//
//   conclaved setup init --data DIR --name alice --p2p 127.0.0.1:4001 --api http://127.0.0.1:5001
//       makes this guardian's identity key and prints its setup code (share it with the others)
//   conclaved setup run --data DIR --codes CODE,CODE,... --federation-name NAME [--environment dev]
//       checks the codes, connects to every peer, runs the DKG, writes federation.json and the
//       guardian's secret into DIR, and prints the invite code for users
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
import type { ModuleSetup } from "@conclave/core-server";
import { MODULE_SETUPS } from "./modules.js";
import { DEV_MODULES, MINT_PARAMS_XMR } from "./local-federation.js";

const identitySchema = z.strictObject({
  secretSeed: z.string().regex(/^[0-9a-f]{64}$/),
  name: z.string().min(1).max(64),
  p2p: z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }),
  api: z.url(),
});
type Identity = z.infer<typeof identitySchema>;

export function identityPath(dataDir: string): string {
  return join(dataDir, "identity.secret.json");
}

function parseHostPort(text: string): { host: string; port: number } {
  const m = /^([^:]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new Error(`--p2p takes host:port, not "${text}"`);
  return { host: m[1]!, port };
}

export function setupInit(dataDir: string, name: string, p2p: string, api: string): SetupCode {
  mkdirSync(dataDir, { recursive: true });
  const path = identityPath(dataDir);
  let identity: Identity;
  if (existsSync(path)) {
    identity = identitySchema.parse(JSON.parse(readFileSync(path, "utf8")));
  } else {
    identity = identitySchema.parse({
      secretSeed: toHex(generateEd25519Seed()),
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
    const { invite } = await setupRun({
      dataDir: values.data,
      codes: values.codes.split(",").filter((c) => c.length > 0),
      federationName: values["federation-name"],
      environment,
      heightsPerSession: Number(values["heights-per-session"]),
      modules: [
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
      ],
      log: (event, fields) => process.stderr.write(JSON.stringify({ event, ...fields }) + "\n"),
    });
    process.stdout.write(invite + "\n");
    return;
  }
  throw new Error(`unknown command "setup ${sub ?? ""}": use "setup init" or "setup run"`);
}
