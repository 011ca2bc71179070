// The client's session check (noble, browser-safe) against core-server's (node:crypto): the same
// encodings byte for byte, and the same verdict on valid and tampered session headers (the client
// sees no blocks; core-server's check is given the real ones). Real sessions from
// running guardians are checked the same way in federation-client.test.ts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_LIMITS,
  DEFAULT_TIMEOUTS,
  NodeSigner,
  NodeVerifier,
  blockId as serverBlockId,
  encodeBlock,
  quorumThreshold,
  sessionHash as serverSessionHash,
  sessionSigningBytes as serverSigningBytes,
  sha256,
  verifySignedSession,
} from "@conclave/core-server";
import type { ConsensusConfig } from "@conclave/core-server";
import { blockId, sessionHash, sessionSigningBytes, verifySession } from "./session-verify.js";
import type { SessionTrust, SignedSession } from "./session-verify.js";

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe("session encodings", () => {
  it("block id, session hash and signed bytes are byte for byte core-server's", () => {
    fc.assert(
      fc.property(
        bytes32,
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.array(bytes32, { maxLength: 20 }),
        fc.uint8Array({ maxLength: 300 }),
        (fid, session, ids, block) => {
          expect(blockId(block)).toEqual(serverBlockId(block, sha256));
          const hash = sessionHash(fid, session, ids);
          expect(hash).toEqual(serverSessionHash(fid, session, ids, sha256));
          expect(sessionSigningBytes(fid, session, hash)).toEqual(serverSigningBytes(fid, session, hash));
        },
      ),
    );
  });
});

/** A session header with the blocks it names: the guardians hold both, the public the header only. */
type Signed = SignedSession & { readonly blocks: readonly Uint8Array[] };

/** A federation of n guardians with fixed keys, and a session of it signed by `signers`. */
function federation(n: number, k: number) {
  const keys = Array.from({ length: n }, (_, i) => new NodeSigner(new Uint8Array(32).fill(i + 1)));
  const fid = new Uint8Array(32).fill(7);
  const config: ConsensusConfig = {
    federationId: fid,
    publicKeys: keys.map((s) => s.publicKey),
    heightsPerSession: k,
    timeouts: DEFAULT_TIMEOUTS,
    limits: DEFAULT_LIMITS,
  };
  const trust: SessionTrust = {
    federationId: fid,
    publicKeys: config.publicKeys,
    heightsPerSession: k,
    threshold: quorumThreshold(n),
  };
  const sign = (session: number, prev: Uint8Array, signers: readonly number[]): Signed => {
    const blocks: Uint8Array[] = [];
    let p = prev;
    for (let i = 0; i < k; i++) {
      const block = encodeBlock({
        height: session * k + i,
        prevBlockId: p,
        bundles: [new Uint8Array([i, 1, 2])],
      });
      blocks.push(block);
      p = blockId(block);
    }
    const blockIds = blocks.map(blockId);
    const hash = sessionHash(fid, session, blockIds);
    const message = sessionSigningBytes(fid, session, hash);
    const signatures = signers.map((signer) => ({ signer, signature: keys[signer]!.sign(message) }));
    return { session, sessionHash: hash, blockIds, signatures, blocks };
  };
  return { config, trust, sign, keys };
}

/** Both verdicts, so that a test can require them to agree. */
function verdicts(
  fed: ReturnType<typeof federation>,
  s: Signed,
  index: number,
): { client: boolean; server: boolean; reason: string } {
  const client = verifySession(fed.trust, s, index);
  const server = verifySignedSession(fed.config, s, s.blocks, { verifier: new NodeVerifier(), hash: sha256 });
  return { client: client.ok, server: server.ok, reason: client.ok ? "" : client.reason };
}

describe("verifySession", () => {
  const fed = federation(4, 3);
  const genesis = new Uint8Array(32);
  const good = fed.sign(2, genesis, [0, 1, 3]);

  it("accepts a session signed by t guardians, naming them, as core-server does", () => {
    expect(verifySession(fed.trust, good, 2)).toEqual({ ok: true, signers: [0, 1, 3] });
    expect(verdicts(fed, good, 2)).toEqual({ client: true, server: true, reason: "" });
  });

  const flip = (b: Uint8Array, at: number) => {
    const c = b.slice();
    c[at]! ^= 1;
    return c;
  };
  const outsider = new NodeSigner(new Uint8Array(32).fill(99));
  const tampered: [string, Signed, RegExp][] = [
    ["signed by t - 1 guardians", fed.sign(2, genesis, [0, 1]), /2 valid guardian signatures, 3 needed/],
    [
      "one guardian's signature repeated t times",
      { ...good, signatures: [good.signatures[0]!, good.signatures[0]!, good.signatures[0]!] },
      /1 valid/,
    ],
    [
      "a signature by a key outside the federation",
      {
        ...good,
        signatures: [
          ...good.signatures.slice(0, 2),
          {
            signer: 2,
            signature: outsider.sign(sessionSigningBytes(fed.trust.federationId, 2, good.sessionHash)),
          },
        ],
      },
      /2 valid/,
    ],
    [
      "a changed block id, hash recomputed",
      (() => {
        const blockIds = [...good.blockIds.slice(0, 2), flip(good.blockIds[2]!, 31)];
        return { ...good, blockIds, sessionHash: sessionHash(fed.trust.federationId, 2, blockIds) };
      })(),
      /valid guardian signatures/,
    ],
    ["a changed session hash", { ...good, sessionHash: flip(good.sessionHash, 0) }, /hash does not match/],
    ["block ids out of order", { ...good, blockIds: [...good.blockIds].reverse() }, /hash does not match/],
    ["a block id left out", { ...good, blockIds: good.blockIds.slice(0, 2) }, /names 3 block ids, got 2/],
    [
      "a signer index beyond the federation",
      { ...good, signatures: [{ signer: 9, signature: good.signatures[0]!.signature }] },
      /0 valid/,
    ],
  ];

  it.each(tampered)("refuses a session %s, as core-server does", (_what, s, reason) => {
    const v = verdicts(fed, s, 2);
    expect(v).toMatchObject({ client: false, server: false });
    expect(v.reason).toMatch(reason);
  });

  it("refuses a session that is not the one asked for", () => {
    expect(verifySession(fed.trust, good, 3)).toEqual({
      ok: false,
      reason: "asked for session 3, got session 2",
    });
  });

  it("verifies at most one signature per guardian, however many are sent", () => {
    const padded: Signed = {
      ...good,
      signatures: [
        ...Array.from({ length: 1000 }, () => ({ signer: 2, signature: new Uint8Array(64) })),
        ...good.signatures,
      ],
    };
    // Guardian 2's first signature is bad, so its later ones are not tried; 0, 1 and 3 still make t.
    expect(verifySession(fed.trust, padded, 2)).toEqual({ ok: true, signers: [0, 1, 3] });
  });
});
