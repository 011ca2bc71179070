// conclaved: the guardian daemon. Today it runs consensus between guardians; the federation core
// (API, modules) plugs into the commits it produces.
//
//   conclaved --config federation.json --secret guardian.secret.json --data DIR [--durability fsync|os-buffered]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { fromHex, parseFederationConfig } from "@conclave/core-common";
import { Guardian } from "@conclave/core-server";
import { MODULE_FACTORIES } from "./modules.js";
import { attachIpcControl } from "./ipc-control.js";

const secretSchema = z.strictObject({ secretSeed: z.string().regex(/^[0-9a-f]{64}$/) });

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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: "string" },
      secret: { type: "string" },
      data: { type: "string" },
      "ipc-control": { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      durability: { type: "string", default: "fsync" },
    },
  });
  if (!values.config || !values.secret || !values.data) {
    process.stderr.write(
      "usage: conclaved --config federation.json --secret guardian.secret.json --data DIR\n",
    );
    process.exit(2);
  }
  const federation = parseFederationConfig(readJson(values.config, "federation config"));
  const secret = secretSchema.parse(readJson(values.secret, "guardian secret"));
  const quiet = values.quiet;
  const durability = values.durability;
  if (durability !== "fsync" && durability !== "os-buffered") {
    throw new Error(`--durability is "fsync" (default) or "os-buffered", not "${durability}"`);
  }
  const guardian = new Guardian({
    federation,
    secretSeed: fromHex(secret.secretSeed),
    dataDir: values.data,
    durability,
    moduleFactories: MODULE_FACTORIES,
    log: (event, fields) => {
      if (!quiet || event.startsWith("consensus.") || event.startsWith("guardian.")) log(event, fields);
    },
  });
  const node = guardian.node;
  if (values["ipc-control"]) attachIpcControl(guardian);
  await guardian.start();
  log("guardian.ready", { self: node.self, guardians: federation.guardians.length });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("guardian.stopping", { signal });
    guardian.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        log("guardian.stop-failed", { error: String(e) });
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("disconnect", () => stop("parent-disconnected"));
}

main().catch((e: unknown) => {
  process.stderr.write(`conclaved: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
