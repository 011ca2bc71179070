// conclaved: the guardian daemon.
//
//   conclaved setup init --data DIR --name NAME --p2p HOST:PORT --api URL     print this guardian's setup code
//   conclaved setup run  --data DIR --codes C1,C2,... --federation-name NAME  run the key ceremony
//   conclaved run --data DIR [--durability fsync|os-buffered]                  run the guardian
//   conclaved run --config federation.json --secret guardian.secret.json --data DIR
//   conclaved bridge address / bridge deploy                                  the wXMR contract (bridge-deploy.ts)
//
// `run` serves the client API on the address of its own `api.url` in the federation config, and
// the admin routes if DIR/admin-password.hash exists (see `hashAdminPassword`), and the web page
// (apps/web's build) at / from --web FILE or, by default, web/index.html beside the bundle.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import { fromHex, parseFederationConfig } from "@conclave/core-common";
import { ApiServer, Guardian } from "@conclave/core-server";
import { attachIpcControl } from "./ipc-control.js";
import { MODULE_FACTORIES } from "./modules.js";
import { setupMain } from "./setup-cli.js";
import { bridgeMain } from "./bridge-deploy.js";

/** guardian.local.json: `{ "modules": { "<instance id>": { ...settings } } }`. */
const localSchema = z.strictObject({
  modules: z.record(z.string().regex(/^\d+$/), z.record(z.string(), z.unknown())),
});

const secretSchema = z.strictObject({
  secretSeed: z.string().regex(/^[0-9a-f]{64}$/),
  thresholdShare: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  moduleShares: z.record(z.string(), z.array(z.string().regex(/^[0-9a-f]{64}$/))).optional(),
});

function log(event: string, fields: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ t: new Date().toISOString(), event, ...fields }) + "\n");
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`cannot read the ${what} at ${path}: ${(e as Error).message}`);
  }
}

async function run(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: "string" },
      secret: { type: "string" },
      data: { type: "string" },
      "ipc-control": { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      durability: { type: "string", default: "fsync" },
      "no-api": { type: "boolean", default: false },
      local: { type: "string" },
      web: { type: "string" },
      "no-web": { type: "boolean", default: false },
    },
  });
  if (!values.data)
    throw new Error("usage: conclaved run --data DIR [--config federation.json --secret secret.json]");
  const configPath = values.config ?? join(values.data, "federation.json");
  const secretPath = values.secret ?? join(values.data, "guardian.secret.json");
  const federation = parseFederationConfig(readJson(configPath, "federation config"));
  const secret = secretSchema.parse(readJson(secretPath, "guardian secret"));
  // This guardian's own settings per module instance (e.g. its own monerod): optional.
  const localPath = values.local ?? join(values.data, "guardian.local.json");
  const local =
    values.local !== undefined || existsSync(localPath)
      ? localSchema.parse(readJson(localPath, "guardian's local settings"))
      : { modules: {} };
  const durability = values.durability;
  if (durability !== "fsync" && durability !== "os-buffered") {
    throw new Error(`--durability is "fsync" (default) or "os-buffered", not "${durability}"`);
  }
  const quiet = values.quiet;
  const guardian = new Guardian({
    federation,
    secretSeed: fromHex(secret.secretSeed),
    dataDir: join(values.data, "db"),
    durability,
    moduleFactories: MODULE_FACTORIES,
    ...(secret.moduleShares ? { moduleShares: secret.moduleShares } : {}),
    moduleLocal: local.modules,
    log: (event, fields) => {
      if (!quiet || event.startsWith("consensus.") || event.startsWith("guardian.")) log(event, fields);
    },
    onShutdownRequested: () => stop("admin-shutdown"),
  });
  const node = guardian.node;
  if (values["ipc-control"]) attachIpcControl(guardian);
  await guardian.start();

  let api: ApiServer | undefined;
  const ownApi = federation.guardians[node.self]!.api?.url;
  if (ownApi && !values["no-api"]) {
    const url = new URL(ownApi);
    const hashPath = join(values.data, "admin-password.hash");
    // The bundle's build puts the page at dist/web/index.html (scripts/build-binaries.mjs).
    const webPath = values.web ?? join(dirname(fileURLToPath(import.meta.url)), "web", "index.html");
    const webPage =
      values["no-web"] || (values.web === undefined && !existsSync(webPath))
        ? undefined
        : new Uint8Array(readFileSync(webPath));
    // The wallet page beside it (wallet.html), served at /wallet.
    const walletPath = join(dirname(webPath), "wallet.html");
    const walletPage =
      webPage === undefined || !existsSync(walletPath) ? undefined : new Uint8Array(readFileSync(walletPath));
    api = new ApiServer({
      backend: guardian,
      host: url.hostname,
      port: Number(url.port),
      ...(existsSync(hashPath) ? { adminPasswordHash: readFileSync(hashPath, "utf8").trim() } : {}),
      ...(webPage ? { webPage } : {}),
      ...(walletPage ? { walletPage } : {}),
      log: (event, fields) => {
        if (!quiet) log(event, fields);
      },
    });
    await api.start();
  }
  log("guardian.ready", {
    self: node.self,
    guardians: federation.guardians.length,
    api: api ? ownApi : null,
    web: api?.webPageSha256 ?? null,
  });

  let stopping = false;
  function stop(signal: string): void {
    if (stopping) return;
    stopping = true;
    log("guardian.stopping", { signal });
    Promise.all([api?.close(), guardian.stop()]).then(
      () => process.exit(0),
      (e: unknown) => {
        log("guardian.stop-failed", { error: String(e) });
        process.exit(1);
      },
    );
  }
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("disconnect", () => stop("parent-disconnected"));
}

const USAGE =
  "usage: conclaved setup init|run ... | conclaved run --data DIR\n" +
  "  setup init --data DIR --name NAME --p2p HOST:PORT --api URL\n" +
  "  setup run  --data DIR --codes C1,C2,... --federation-name NAME [--environment dev] [--dummy-module] [--mint [--mint-fee-per-note P]]\n" +
  "             [--modules FILE (JSON [{instanceId, kind, config}])] [--local FILE (this guardian's settings, e.g. its Monero wallet)]\n" +
  "  run        --data DIR [--config F --secret F --local F] [--durability fsync|os-buffered]\n" +
  "             [--web FILE (the page served at /; default web/index.html beside this program) | --no-web]\n" +
  "  bridge address --rpc URL --deployer-key FILE   (the contract address to put in the bridge config)\n" +
  "  bridge deploy  --data DIR --rpc URL --deployer-key FILE [--limits FILE] [--grace-seconds S] [--redeploy]\n";

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(`conclaved: the guardian daemon of a Conclave federation\n\n${USAGE}`);
    return;
  }
  if (command === "setup") return setupMain(rest);
  if (command === "run") return run(rest);
  if (command === "bridge") return bridgeMain(rest);
  // Without a command: the flags of `run` (kept for scripts written before subcommands).
  if (command?.startsWith("--")) return run(process.argv.slice(2));
  process.stderr.write(USAGE);
  process.exit(2);
}

main().catch((e: unknown) => {
  process.stderr.write(`conclaved: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
