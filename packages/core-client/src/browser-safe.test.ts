// The client runs in browsers: nothing it loads may import a Node module, and its own code may not
// use Node's globals. This walks the import graph from index.ts, through core-common, to the
// packages it ends in.
import { readFileSync, readdirSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const WORKSPACE: Record<string, string> = {
  "@conclave/core-common": join(root, "packages/core-common/src/index.ts"),
};
/**
 * Third-party packages the client may load, all written for browsers and Node alike (the @hpke ones:
 * core-common's sealed messages, HPKE over WebCrypto, run in Chromium by the wallet's browser.test.ts).
 */
const ALLOWED_PACKAGES = [
  "zod",
  "@noble/curves",
  "@noble/hashes",
  "@hpke/core",
  "@hpke/common",
  "@hpke/dhkem-x25519",
  "@hpke/chacha20poly1305",
];
/**
 * Reachable files that use Node's Buffer in functions the client never calls: core-common's
 * invite and setup codes (the client reads invites with its own invite.ts instead).
 */
const NODE_GLOBALS_TOLERATED = new Set(["packages/core-common/src/setup/codes.ts"]);

function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']/g))
    found.push(m[1]!);
  for (const m of source.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) found.push(m[1]!);
  return found;
}

function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

function walk(entry: string) {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const nodeImports: string[] = [];
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of specifiers(readFileSync(file, "utf8"))) {
      if (spec.startsWith(".")) stack.push(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
      else if (WORKSPACE[spec]) stack.push(WORKSPACE[spec]);
      else if (spec.startsWith("node:") || builtinModules.includes(packageOf(spec)))
        nodeImports.push(`${relative(root, file)}: ${spec}`);
      else packages.add(packageOf(spec));
    }
  }
  return { files: [...seen].map((f) => relative(root, f)), packages, nodeImports };
}

describe("browser safety", () => {
  const graph = walk(join(here, "index.ts"));

  it("loads no Node module, directly or through core-common", () => {
    expect(graph.files).toContain("packages/core-common/src/index.ts");
    expect(graph.nodeImports).toEqual([]);
  });

  it("loads only browser-ready third-party packages", () => {
    for (const p of graph.packages) expect(ALLOWED_PACKAGES).toContain(p);
  });

  it("uses no Node globals (Buffer, process, require, __dirname) outside tests", () => {
    const offenders = graph.files.filter(
      (f) =>
        !NODE_GLOBALS_TOLERATED.has(f) &&
        /\b(?:Buffer|process|require|__dirname|__filename)\b/.test(
          // Comments may name them.
          readFileSync(join(root, f), "utf8").replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, ""),
        ),
    );
    expect(offenders).toEqual([]);
  });

  it("walks every source file of the client (none is left out of index.ts)", () => {
    const sources = readdirSync(here)
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
      .map((f) => `packages/core-client/src/${f}`);
    for (const s of sources) expect(graph.files).toContain(s);
  });
});
