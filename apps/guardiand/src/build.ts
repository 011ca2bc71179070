// Bundles the guardian daemon into one ESM file (apps/guardiand/dist/conclaved.mjs) with esbuild.
// Guardian processes then start with plain `node`: no TypeScript loader thread, ~0.3 s faster
// start and tens of MB less memory per guardian. Native and optional packages stay external.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

export const BUNDLE = fileURLToPath(new URL("../dist/conclaved.mjs", import.meta.url));
const ENTRY = fileURLToPath(new URL("./main.ts", import.meta.url));

let built: Promise<string> | undefined;

/** Builds the bundle once per process (about 0.3 s), so it always matches the sources. */
export function buildGuardianBundle(): Promise<string> {
  built ??= build({
    entryPoints: [ENTRY],
    outfile: BUNDLE,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "inline",
    external: ["lmdb", "@chainsafe/blst", "@chainsafe/blst/*", "bufferutil", "utf-8-validate"],
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: "warning",
  }).then(() => BUNDLE);
  return built;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildGuardianBundle();
  process.stdout.write(`built ${BUNDLE}\n`);
}
