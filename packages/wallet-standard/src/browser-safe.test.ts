// The standard wallet's browser entry (index.ts) must load nothing from Node and no native package:
// this walks its import graph through the workspace packages it uses (@conclave/wallet and the
// client halves included), to the third-party packages.
import { readFileSync, readdirSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const WORKSPACE: Record<string, string> = {
  "@conclave/core-common": join(root, "packages/core-common/src/index.ts"),
  "@conclave/core-common/tbs": join(root, "packages/core-common/src/tbs/index.ts"),
  "@conclave/core-common/threshold": join(root, "packages/core-common/src/threshold/index.ts"),
  "@conclave/core-client": join(root, "packages/core-client/src/index.ts"),
  // What every wallet needs (databases, crypto, mnemonic), whatever halves it is built with.
  "@conclave/wallet": join(root, "packages/wallet/src/index.ts"),
  "@conclave/module-mint/browser": join(root, "modules/mint/src/browser.ts"),
  "@conclave/module-dummy/browser": join(root, "modules/dummy/src/browser.ts"),
  "@conclave/module-monero/browser": join(root, "modules/monero/src/browser.ts"),
  // The client halves the wallet is built with (browser-safe, like the core).
  "@conclave/module-mint/client": join(root, "modules/mint/src/client/index.ts"),
  "@conclave/module-dummy/client": join(root, "modules/dummy/src/client/index.ts"),
  "@conclave/module-monero/client": join(root, "modules/monero/src/client/index.ts"),
  "@conclave/module-relay/client": join(root, "modules/relay/src/client/index.ts"),
  "@conclave/module-bridge/client": join(root, "modules/bridge/src/client/index.ts"),
  // The wXMR contract's ABI and EIP-712 types (generated and viem-only files).
  "@conclave/evm/abi": join(root, "packages/evm/src/generated/wrapped-monero.ts"),
  "@conclave/evm/typed-data": join(root, "packages/evm/src/typed-data.ts"),
  // Claim proofs (OutProofV2) are made in the wallet from the tx key: @noble only.
  "@conclave/monero/tx-proof": join(root, "packages/monero/src/tx-proof.ts"),
  // The Monero JSON schemas (hex32, txKeyHex) the module and bridge API schemas share: zod only.
  "@conclave/monero/json": join(root, "packages/monero/src/json.ts"),
  // Monero address checks (checksum, network, kind): @noble only; the bridge half checks a refund
  // address with it before claiming a deposit (8ec1f6e), as the guardians will.
  "@conclave/monero/address": join(root, "packages/monero/src/address.ts"),
};
/** Browser-ready third-party packages the wallet may load. */
const ALLOWED_PACKAGES = [
  "zod",
  "@noble/curves",
  "@noble/hashes",
  "@noble/ciphers",
  "@scure/bip39",
  // HPKE for sealed claims (pure TypeScript over WebCrypto; browser.test.ts runs it in Chromium).
  "@hpke/core",
  "@hpke/common",
  "@hpke/dhkem-x25519",
  "@hpke/chacha20poly1305",
  // The bridge half's EVM calls (the web's standard EVM library; browser.test.ts loads it in Chromium).
  "viem",
  // The relay half's social recovery: Shamir over GF(2^8) (its browser build draws randomness from
  // crypto.getRandomValues) and QR codes for printed shards (pure TypeScript).
  "shamir-secret-sharing",
  "@paulmillr/qr",
];
/** The wallet's two packages, and the files of each that only the Node entry loads. */
const PACKAGES: Readonly<Record<string, readonly string[]>> = {
  "packages/wallet-standard/src": ["node.ts"],
  "packages/wallet/src": ["node.ts", "lmdb-db.ts", "node-crypto.ts"],
};
/** Reachable files of other packages that use Buffer in functions the wallet never calls. */
const NODE_GLOBALS_TOLERATED = new Set([
  "packages/core-common/src/setup/codes.ts",
  // Reached through tx-proof.ts → address.ts (the federation address's view key): "process" only
  // in error message text ("is the Monero process running?").
  "packages/monero/src/errors.ts",
]);

function specifiers(source: string): string[] {
  const found: string[] = [];
  // A specifier has no spaces or commas: the generated ABI's `name: "from", type: "address"` is none.
  for (const m of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["']([^"'\s,]+)["']/g))
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
  const forbidden: string[] = [];
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of specifiers(readFileSync(file, "utf8"))) {
      if (spec.startsWith(".")) stack.push(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
      else if (WORKSPACE[spec]) stack.push(WORKSPACE[spec]);
      else if (spec.startsWith("@conclave/")) forbidden.push(`${relative(root, file)}: ${spec}`);
      else if (spec.startsWith("node:") || builtinModules.includes(packageOf(spec)))
        forbidden.push(`${relative(root, file)}: ${spec}`);
      else packages.add(packageOf(spec));
    }
  }
  return { files: [...seen].map((f) => relative(root, f)), packages, forbidden };
}

describe("browser safety of @conclave/wallet-standard (and @conclave/wallet)", () => {
  const graph = walk(join(here, "index.ts"));

  it("loads no Node module and no workspace package beyond the browser-safe entries", () => {
    expect(graph.files).toContain("packages/core-client/src/index.ts");
    expect(graph.forbidden).toEqual([]);
  });

  it("loads only browser-ready third-party packages (no lmdb, no native blst)", () => {
    for (const p of graph.packages) expect(ALLOWED_PACKAGES).toContain(p);
  });

  it("uses no Node globals (Buffer, process, require, __dirname) in what it loads", () => {
    const offenders = graph.files.filter(
      (f) =>
        !NODE_GLOBALS_TOLERATED.has(f) &&
        /\b(?:Buffer|process|require|__dirname|__filename)\b/.test(
          readFileSync(join(root, f), "utf8").replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, ""),
        ),
    );
    expect(offenders).toEqual([]);
  });

  it("reaches every source file of the wallet except the Node-only ones", () => {
    for (const [dir, nodeOnly] of Object.entries(PACKAGES)) {
      const sources = readdirSync(join(root, dir))
        .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !nodeOnly.includes(f))
        .map((f) => `${dir}/${f}`);
      for (const s of sources) expect(graph.files).toContain(s);
      for (const f of nodeOnly) expect(graph.files).not.toContain(`${dir}/${f}`);
    }
  });
});
