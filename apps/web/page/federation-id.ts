// The federation id as core-common's federationId computes it (packages/core-common/src/
// federation-config.ts), so the page can check that a config a guardian serves is the one its id
// names. No DOM here: federation-id.test.ts runs it in Node against core-common's own function.
//
// SHA-256 over: "conclave/federation-id/v1" | u32be(n) | each guardian's 32-byte public key |
// u32be(heightsPerSession) | bytes(environment) | bytes(canonical JSON of modules) |
// bytes(canonical JSON of threshold ?? null), where bytes(x) = u32be(length) | x.
//
// What it covers: the guardians' keys, the consensus parameter, the environment, every module's
// config (the bridge's chain, contract, EVM addresses and t among them) and the threshold key. What
// it does not: guardian names and API URLs (a guardian can state other URLs for its peers).
import { sha256 } from "viem";

/** JSON with object keys sorted (core-common's canonicalJson). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

const text = (s: string) => new TextEncoder().encode(s);
const withLength = (b: Uint8Array) => [u32(b.length), b];

function rec(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** The id (64 hex) of a federation config as GET /v1/federation returns it, or an error saying what is missing. */
export function federationIdOf(config: unknown): string {
  const c = rec(config);
  const guardians = c?.["guardians"];
  const heightsPerSession = rec(c?.["consensus"])?.["heightsPerSession"];
  const environment = c?.["environment"];
  if (!c || !Array.isArray(guardians)) throw new Error("the config has no guardian list");
  if (typeof heightsPerSession !== "number" || !Number.isInteger(heightsPerSession) || heightsPerSession < 0)
    throw new Error("the config has no consensus.heightsPerSession");
  if (typeof environment !== "string") throw new Error("the config has no environment");
  const parts: Uint8Array[] = [text("conclave/federation-id/v1"), u32(guardians.length)];
  for (const [i, g] of guardians.entries()) {
    const key = rec(g)?.["publicKey"];
    if (typeof key !== "string" || !/^[0-9a-fA-F]{64}$/.test(key))
      throw new Error(`guardian ${i} has no 32-byte public key in the config`);
    parts.push(Uint8Array.from(key.match(/../g)!.map((h) => parseInt(h, 16))));
  }
  parts.push(u32(heightsPerSession));
  parts.push(...withLength(text(environment)));
  parts.push(...withLength(text(canonicalJson(c["modules"]))));
  parts.push(...withLength(text(canonicalJson(c["threshold"] ?? null))));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return sha256(all).slice(2);
}
