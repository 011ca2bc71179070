// Keys and configs for tests and the simulator: deterministic keys from a label, never for production.
import { createHash } from "node:crypto";
import { NodeSigner, NodeVerifier, sha256 } from "../node-crypto.js";
import { DEFAULT_LIMITS, DEFAULT_TIMEOUTS } from "./config.js";
import type { ConsensusConfig, ConsensusLimits, ConsensusTimeouts } from "./config.js";
import type { EngineCrypto } from "./engine.js";

export function testSeed(label: string, index: number): Uint8Array {
  return new Uint8Array(createHash("sha256").update(`conclave-test-key/${label}/${index}`).digest());
}

export interface TestFederation {
  readonly config: ConsensusConfig;
  readonly seeds: readonly Uint8Array[];
  cryptoFor(index: number, verifier?: NodeVerifier): EngineCrypto;
}

export function testFederation(
  n: number,
  options: {
    label?: string;
    heightsPerSession?: number;
    timeouts?: Partial<ConsensusTimeouts>;
    limits?: Partial<ConsensusLimits>;
    quorumDelta?: number;
  } = {},
): TestFederation {
  const label = options.label ?? "default";
  const seeds = Array.from({ length: n }, (_, i) => testSeed(label, i));
  const signers = seeds.map((s) => new NodeSigner(s));
  const config: ConsensusConfig = {
    federationId: sha256(new TextEncoder().encode(`conclave-test-federation/${label}/${n}`)),
    publicKeys: signers.map((s) => s.publicKey),
    heightsPerSession: options.heightsPerSession ?? 4,
    timeouts: { ...DEFAULT_TIMEOUTS, ...options.timeouts },
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    ...(options.quorumDelta !== undefined ? { faultInjection: { quorumDelta: options.quorumDelta } } : {}),
  };
  return {
    config,
    seeds,
    cryptoFor: (i, verifier) => ({
      signer: signers[i]!,
      verifier: verifier ?? new NodeVerifier(),
      hash: sha256,
    }),
  };
}
