#!/usr/bin/env node
// Builds the two programs to plain JavaScript with esbuild, so that they run with `node` alone (no
// TypeScript loader at run time):
//
//   apps/cli/dist/conclave.mjs (+ chunks)   the wallet CLI     (bin `conclave`, apps/cli/bin/conclave.mjs)
//   apps/guardiand/dist/conclaved.mjs       the guardian       (bin `conclaved`, apps/guardiand/bin/conclaved.mjs)
//   apps/guardiand/dist/package.json        the guardian's runtime dependencies, exact versions
//   apps/guardiand/dist/web/index.html      the web page the guardian serves at / (scripts/build-web.mjs)
//   apps/guardiand/dist/web/wallet.html     the wallet page it serves at /wallet
//
// The root package's `prepare` script runs it after `npm ci` / `npm install` (npm runs the root
// project's own lifecycle scripts; dependencies' install scripts stay off). Native and optional
// packages stay external: they are the only things a guardian needs besides the bundle, and
// dist/package.json names them so an operator installs them with `npm install --omit=dev` there
// (docs/operations.md).
//
//   node scripts/build-binaries.mjs [conclave] [conclaved]     (default: both)
//
// Importable too: apps/guardiand/src/build.ts rebuilds the guardian bundle before tests start it.
import { build } from "esbuild";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { writeWalletPage, writeWebPage } from "./build-web.mjs";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Packages left out of the bundles: native code (lmdb, blst) and ws's optional native helpers. */
export const EXTERNAL_PACKAGES = ["lmdb", "@chainsafe/blst", "bufferutil", "utf-8-validate"];
/** Of those, what ws loads only if present (inside a try): not a dependency of the bundle. */
const OPTIONAL_PACKAGES = new Set(["bufferutil", "utf-8-validate"]);

/** The guardian bundle's path (tests fork it; the bin wrapper imports it). */
export const CONCLAVED_BUNDLE = join(REPO_ROOT, "apps/guardiand/dist/conclaved.mjs");
/** The CLI's entry in its output directory (the wallet code is a chunk loaded on first use). */
export const CONCLAVE_BUNDLE = join(REPO_ROOT, "apps/cli/dist/conclave.mjs");

/** @type {import("esbuild").BuildOptions & { banner: { js: string } }} */
const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "inline",
  external: EXTERNAL_PACKAGES.flatMap((p) => [p, `${p}/*`]),
  // Bundled CommonJS code calls require(); an ES module has none of its own.
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: "warning",
  metafile: true,
};

/**
 * The versions installed here of the packages the bundle imports (its runtime dependencies).
 * @param {import("esbuild").Metafile} metafile
 */
function runtimeDependencies(metafile) {
  /** @type {Set<string>} */
  const imported = new Set();
  for (const output of Object.values(metafile.outputs)) {
    for (const i of output.imports) {
      if (!i.external || i.path.startsWith("node:")) continue;
      const name = EXTERNAL_PACKAGES.find((p) => i.path === p || i.path.startsWith(`${p}/`));
      if (name !== undefined && !OPTIONAL_PACKAGES.has(name)) imported.add(name);
    }
  }
  /** @type {Record<string, string>} */
  const deps = {};
  for (const name of [...imported].sort()) {
    // Workspaces hoist them to the root node_modules (their "exports" may hide package.json).
    deps[name] = versionOf(join(REPO_ROOT, "node_modules", name, "package.json"));
  }
  return deps;
}

/** @param {string} packageJson */
function versionOf(packageJson) {
  /** @type {unknown} */
  const pkg = JSON.parse(readFileSync(packageJson, "utf8"));
  const version = typeof pkg === "object" && pkg !== null && "version" in pkg ? pkg.version : undefined;
  if (typeof version !== "string") throw new Error(`no version in ${packageJson}`);
  return version;
}

/** Builds the guardian bundle and its dist/package.json; resolves with the bundle's path. */
export async function buildConclaved() {
  const result = await build({
    ...common,
    // For an operator's `npm install -g` of dist/ (its package.json names this file as the bin).
    banner: { js: `#!/usr/bin/env node\n${common.banner.js}` },
    entryPoints: [join(REPO_ROOT, "apps/guardiand/src/main.ts")],
    outfile: CONCLAVED_BUNDLE,
  });
  const pkg = {
    name: "conclaved",
    version: versionOf(join(REPO_ROOT, "apps/guardiand/package.json")),
    private: true,
    type: "module",
    description: "The Conclave guardian daemon, bundled: node conclaved.mjs run --data DIR",
    bin: { conclaved: "conclaved.mjs" },
    engines: { node: ">=20.19" },
    dependencies: runtimeDependencies(result.metafile),
  };
  writeFileSync(join(dirname(CONCLAVED_BUNDLE), "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  await writeWebPage(join(dirname(CONCLAVED_BUNDLE), "web", "index.html"));
  await writeWalletPage(join(dirname(CONCLAVED_BUNDLE), "web", "wallet.html"));
  return CONCLAVED_BUNDLE;
}

/** Builds the CLI (split: `--help` and usage errors load neither LMDB nor the native crypto). */
export async function buildConclave() {
  // Chunk names carry a hash: clear the directory so old chunks do not pile up.
  rmSync(dirname(CONCLAVE_BUNDLE), { recursive: true, force: true });
  await build({
    ...common,
    entryPoints: { conclave: join(REPO_ROOT, "apps/cli/src/main.ts") },
    outdir: dirname(CONCLAVE_BUNDLE),
    outExtension: { ".js": ".mjs" },
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
  });
  return CONCLAVE_BUNDLE;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2);
  const wanted = names.length > 0 ? names : ["conclave", "conclaved"];
  /** @type {Map<string, () => Promise<string>>} */
  const builders = new Map([
    ["conclave", buildConclave],
    ["conclaved", buildConclaved],
  ]);
  for (const name of wanted) {
    const builder = builders.get(name);
    if (builder === undefined) {
      process.stderr.write(`build-binaries: unknown program "${name}" (conclave, conclaved)\n`);
      process.exit(2);
    }
    const started = Date.now();
    const out = await builder();
    process.stdout.write(`built ${out} in ${Date.now() - started} ms\n`);
  }
}
