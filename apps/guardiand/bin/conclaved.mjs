#!/usr/bin/env node
// bin `conclaved`: the guardian daemon built to one plain JavaScript file (apps/guardiand/dist,
// made by `npm run build`, which `npm ci` runs through the root `prepare` script). An operator can
// run that directory alone: see docs/operations.md.
import { existsSync } from "node:fs";
import process from "node:process";
import { URL } from "node:url";

const bundle = new URL("../dist/conclaved.mjs", import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write("conclaved is not built yet: run `npm run build` in the repository root\n");
  process.exit(1);
}
process.setSourceMapsEnabled(true);
await import(bundle.href);
