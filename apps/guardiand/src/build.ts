// The guardian bundle (apps/guardiand/dist/conclaved.mjs), built by scripts/build-binaries.mjs: the
// same file `npx conclaved` runs. Guardian processes start with plain `node`: no TypeScript loader
// thread, ~0.3 s faster start and tens of MB less memory per guardian.
import { fileURLToPath } from "node:url";
import { CONCLAVED_BUNDLE, buildConclaved } from "../../../scripts/build-binaries.mjs";

export const BUNDLE = CONCLAVED_BUNDLE;

let built: Promise<string> | undefined;

/** Builds the bundle once per process (about 0.5 s), so it always matches the sources. */
export function buildGuardianBundle(): Promise<string> {
  built ??= buildConclaved();
  return built;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildGuardianBundle();
  process.stdout.write(`built ${BUNDLE}\n`);
}
