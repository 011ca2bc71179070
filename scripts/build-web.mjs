#!/usr/bin/env node
// Builds the web page (apps/web/page) into ONE self-contained HTML file: the script and the style
// inline, their SHA-256 hashes in the page's own content security policy, nothing loaded from
// anywhere. Reproducible: the same sources and dependencies give the same bytes (esbuild is
// deterministic; no timestamps, paths or random names go in), so anyone can rebuild it and compare
// its SHA-256 with what each guardian serves (docs/web.md).
//
//   node scripts/build-web.mjs        # writes apps/web/dist/index.html, prints its SHA-256 and size
//
// Importable: scripts/build-binaries.mjs puts the same page beside the guardian bundle
// (apps/guardiand/dist/web/index.html), which `conclaved run` serves at /.
import { build, transform } from "esbuild";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PAGE_DIR = join(REPO_ROOT, "apps/web/page");
export const WEB_PAGE_OUT = join(REPO_ROOT, "apps/web/dist/index.html");
export const WALLET_PAGE_OUT = join(REPO_ROOT, "apps/web/dist/wallet.html");

/** The two pages: the status page (main.tsx) and the wallet (wallet.tsx), each one HTML file. */
const PAGES = {
  web: {
    entry: "main.tsx",
    styles: ["style.css"],
    title: "Conclave",
    noscript: "This page needs JavaScript: it asks every guardian directly from your browser.",
  },
  wallet: {
    entry: "wallet.tsx",
    styles: ["style.css", "wallet/wallet.css"],
    title: "Conclave wallet",
    noscript: "The wallet needs JavaScript: it keeps your notes in this browser and talks to the guardians.",
  },
};

/** @param {string | Uint8Array} data */
function sha256(data) {
  return createHash("sha256").update(data).digest();
}

/**
 * The status page, built in memory.
 * @returns {Promise<{ html: Uint8Array, sha256: string, scriptBytes: number, styleBytes: number }>}
 */
export function buildWebPage() {
  return buildPage(PAGES.web);
}

/**
 * The wallet page, built in memory (its own file: the wallet SDK is ~25 times the status page).
 * @returns {Promise<{ html: Uint8Array, sha256: string, scriptBytes: number, styleBytes: number }>}
 */
export function buildWalletPage() {
  return buildPage(PAGES.wallet);
}

/**
 * zod's `locales` namespace (`z.locales`, `core.locales`): its error messages in 64 languages, 194 KB
 * of the wallet's minified script, kept whole because the SDK imports `z` as one namespace object.
 * Nothing here reads another language (zod configures English itself, from locales/en.js): the
 * namespace is bundled with English only.
 * @type {import("esbuild").Plugin}
 */
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]v4[\\/]/.test(args.importer)
        ? {
            path: "locales",
            namespace: "zod-english-only",
            pluginData: join(dirname(args.importer), "../locales"),
          }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "zod-english-only" }, (args) => ({
      contents: 'export { default as en } from "./en.js";\n',
      resolveDir: String(args.pluginData),
      loader: "js",
    }));
  },
};

/** @param {{ entry: string, styles: string[], title: string, noscript: string }} spec */
async function buildPage(spec) {
  const result = await build({
    entryPoints: [join(PAGE_DIR, spec.entry)],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: "es2022",
    minify: true,
    charset: "utf8",
    jsx: "automatic",
    jsxImportSource: "preact",
    tsconfig: join(PAGE_DIR, "tsconfig.json"),
    legalComments: "eof",
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "warning",
    metafile: true,
    plugins: [zodEnglishOnly],
  });
  const script = result.outputFiles[0]?.text;
  if (script === undefined) throw new Error("esbuild produced no script");
  if (/<\/script/i.test(script)) throw new Error("the script contains </script: it cannot be inlined");
  const sheets = spec.styles.map((f) => readFileSync(join(PAGE_DIR, f), "utf8"));
  const css = await transform(sheets.join("\n"), {
    loader: "css",
    minify: true,
    charset: "utf8",
  });
  const style = css.code;
  if (/<\/style/i.test(style)) throw new Error("the style contains </style");
  const policy = [
    "default-src 'none'",
    `script-src 'sha256-${sha256(script).toString("base64")}'`,
    `style-src 'sha256-${sha256(style).toString("base64")}'`,
    // The guardians: any origin (a federation's guardians are on several), HTTP(S) and WebSocket.
    "connect-src http: https: ws: wss:",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  const html =
    "<!doctype html>\n" +
    '<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    `<meta http-equiv="Content-Security-Policy" content="${policy}">\n` +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    '<meta name="referrer" content="no-referrer">\n' +
    `<title>${spec.title}</title>\n` +
    `<style>${style}</style>\n</head>\n<body>\n` +
    `<div id="app"><noscript>${spec.noscript}</noscript></div>\n` +
    `<script>${script}</script>\n</body>\n</html>\n`;
  const bytes = new Uint8Array(Buffer.from(html, "utf8"));
  return {
    html: bytes,
    sha256: sha256(bytes).toString("hex"),
    scriptBytes: Buffer.byteLength(script),
    styleBytes: Buffer.byteLength(style),
    modules: modulesOf(result.metafile),
  };
}

/**
 * What each source file weighs in the minified script (esbuild's metafile, `bytesInOutput`), heaviest
 * first, paths relative to the repository (`node_modules/...` for dependencies).
 * @param {import("esbuild").Metafile} metafile
 * @returns {{ path: string, bytes: number }[]}
 */
function modulesOf(metafile) {
  const output = Object.values(metafile.outputs)[0];
  if (output === undefined) return [];
  return Object.entries(output.inputs)
    .map(([path, { bytesInOutput }]) => ({
      path: relative(REPO_ROOT, resolve(process.cwd(), path)),
      bytes: bytesInOutput,
    }))
    .filter((m) => m.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : 1));
}

/**
 * Builds the status page and writes it to `out` (default apps/web/dist/index.html).
 * @param {string} [out]
 */
export async function writeWebPage(out = WEB_PAGE_OUT) {
  const page = await buildWebPage();
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, page.html);
  return { ...page, path: out };
}

/**
 * Builds the wallet page and writes it to `out` (default apps/web/dist/wallet.html; a guardian
 * serves wallet.html beside its index.html at /wallet).
 * @param {string} [out]
 */
export async function writeWalletPage(out = WALLET_PAGE_OUT) {
  const page = await buildWalletPage();
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, page.html);
  return { ...page, path: out };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const page of [await writeWebPage(), await writeWalletPage()])
    process.stdout.write(
      `${page.sha256}  ${page.path}\n(${page.html.length} bytes: script ${page.scriptBytes}, style ${page.styleBytes})\n`,
    );
}
