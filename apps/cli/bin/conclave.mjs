#!/usr/bin/env node
// bin `conclave`: the wallet CLI built to plain JavaScript (apps/cli/dist, made by `npm run build`,
// which `npm ci` runs through the root `prepare` script). No TypeScript loader at run time.
import { existsSync } from "node:fs";
import process from "node:process";
import { URL } from "node:url";

const bundle = new URL("../dist/conclave.mjs", import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write("conclave is not built yet: run `npm run build` in the repository root\n");
  process.exit(1);
}
process.setSourceMapsEnabled(true);
await import(bundle.href);
