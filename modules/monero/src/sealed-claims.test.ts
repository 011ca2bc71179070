// POST sealed-claims on one guardian's module (no monerod): a claim sealed to this guardian is opened
// through the guardian's real unseal capability (core-server sealOpener) and taken exactly as a claim
// in clear; anything else is refused with a clear error and leaves nothing queued.
import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import {
  ConclaveError,
  encodeConsensusItem,
  encodeSealed,
  decodeSealed,
  federationId,
  parseFederationConfig,
  sealTo,
  toHex,
} from "@conclave/core-common";
import { FederationProcessor, MemoryKv, NodeSigner, sealOpener, sha256 } from "@conclave/core-server";
import { NodeVerifier, ed25519PublicKeyOf } from "@conclave/core-server";
import type { ModuleContext } from "@conclave/core-server";
import { encodeAddress } from "@conclave/monero";
import { SEALED_CLAIM_CHARS_MAX, SEALED_CLAIM_PURPOSE } from "./api.js";
import { claimProof, encodeMoneroItem } from "./common.js";
import { parseMoneroConfig } from "./factory.js";
import { sealClaim } from "./sealed-claim.js";
import { MoneroServerModule } from "./server.js";

const MONERO = 2;
const N = 4;
const seeds = Array.from({ length: N }, (_, i) => new Uint8Array(32).fill(0x10 + i));
const federation = parseFederationConfig({
  version: 1,
  name: "sealed claims",
  guardians: seeds.map((s, i) => ({
    name: `guardian-${i}`,
    publicKey: toHex(ed25519PublicKeyOf(s)),
    p2p: { host: "127.0.0.1", port: 3000 + i },
    api: { url: `http://127.0.0.1:${4000 + i}` },
  })),
  consensus: { heightsPerSession: 8 },
});
const fid = federationId(federation, sha256);
const CONFIG = parseMoneroConfig({
  network: "mainnet",
  address: encodeAddress({
    network: "mainnet",
    kind: "standard",
    publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(7)),
    publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(8)),
  }),
  guardians: N,
  confirmations: 3,
});
const claimKey = new NodeSigner(new Uint8Array(32).fill(1)).publicKey;
const txid = new Uint8Array(32).fill(0xab);
/** A canonical tx key (little-endian scalar below the group order): it stays with the wallet. */
const txKey = Uint8Array.from([...new Uint8Array(31).fill(0x42), 0x01]);
/** What is sealed instead: the proof made from it for this claim key. */
const proof = claimProof({ federationAddress: CONFIG.address, txid, txKey, claimKey });

/** Guardian `self`'s module, started as the guardian starts it (with its unseal capability). */
function guardianModule(self: number, withUnseal = true) {
  const monero = new MoneroServerModule(MONERO, CONFIG);
  const context: ModuleContext = {
    self,
    wake: () => {},
    log: () => {},
    ...(withUnseal
      ? {
          unseal: sealOpener({
            federation,
            federationId: fid,
            self,
            secretSeed: seeds[self]!,
            instanceId: MONERO,
          }),
        }
      : {}),
  };
  monero.start(context);
  const db = new MemoryKv();
  const p = new FederationProcessor([monero], { verifier: new NodeVerifier(), hash: sha256 });
  const read = () => p.moduleReadDb(db, MONERO);
  const endpoint = (path: string) => monero.api.find((e) => e.path === path)!;
  const postSealed = (body: unknown) =>
    Promise.resolve(endpoint("sealed-claims").handle({ params: {}, body, db: read() }));
  const postClear = (body: unknown) => endpoint("claims").handle({ params: {}, body, db: read() });
  const proposal = () => monero.consensusProposal(read()).map(toHex);
  let height = 0;
  const order = () => {
    const own = monero.consensusProposal(read());
    const bundles = Array.from({ length: N }, (_, origin) => ({
      origin,
      items: (origin === self ? own : []).map((payload) =>
        encodeConsensusItem({ kind: "module", module: MONERO, payload }),
      ),
    }));
    p.processBlock(db, height++, bundles);
  };
  return { monero, postSealed, postClear, proposal, order, view: () => monero.depositView(read(), txid) };
}

const sealedTo = (guardian: number, p = proof) =>
  sealClaim({
    guardianPublicKey: ed25519PublicKeyOf(seeds[guardian]!),
    guardian,
    federationId: fid,
    instanceId: MONERO,
    txid,
    claimKey,
    proof: p,
  });

async function refusal(p: Promise<unknown>): Promise<ConclaveError> {
  const e: unknown = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ConclaveError);
  return e as ConclaveError;
}

describe("POST sealed-claims", () => {
  it("opens a claim sealed to this guardian and proposes the same item as the claim in clear", async () => {
    const g = guardianModule(2);
    const sealed = await sealedTo(2);
    expect(await g.postSealed({ sealed })).toEqual({ txid: toHex(txid), state: "queued" });
    const clear = guardianModule(2);
    await clear.postClear({ txid: toHex(txid), proof: toHex(proof), claimKey: toHex(claimKey) });
    expect(g.proposal()).toEqual(clear.proposal());
    expect(g.proposal()).toContain(toHex(encodeMoneroItem({ kind: "claim", txid, claimKey, proof })));
    g.order();
    expect(g.view()).toMatchObject({ state: "open", claimedBy: 2, claimKey: toHex(claimKey) });
    // Relayed again (twice by a relay, or by the user and a relay): consensus already bound it.
    expect(await g.postSealed({ sealed })).toEqual({ txid: toHex(txid), state: "already" });
    // Line breaks inserted by a mail program do not matter.
    expect(await g.postSealed({ sealed: sealed.replace(/(.{50})/g, "$1\r\n") })).toEqual({
      txid: toHex(txid),
      state: "already",
    });
  });

  it("refuses a claim sealed to another guardian, naming it, and queues nothing", async () => {
    const g = guardianModule(1);
    const e = await refusal(g.postSealed({ sealed: await sealedTo(2) }));
    expect(e.code).toBe("misdirected_sealed");
    expect(e.status).toBe(400);
    expect(e.message).toContain("for guardian 2 (guardian-2, http://127.0.0.1:4002)");
    expect(e.details).toMatchObject({ guardian: 2, name: "guardian-2" });
    expect(g.proposal()).toEqual([]);
  });

  it("refuses tampered, damaged, oversized and malformed bodies with clear errors, and queues nothing", async () => {
    const g = guardianModule(2);
    const sealed = decodeSealed(await sealedTo(2));
    const flipped = Uint8Array.from(sealed.ciphertext);
    flipped[3]! ^= 0x80;
    const cases: [unknown, string, RegExp][] = [
      [{ sealed: encodeSealed({ ...sealed, ciphertext: flipped }) }, "unsealable", /changed on the way/],
      [{ sealed: encodeSealed({ ...sealed, instanceId: 7 }) }, "misdirected_sealed", /module instance 7/],
      [{ sealed: (await sealedTo(2)).slice(0, -10) }, "malformed_sealed", /cut|checksum|length/],
      [{ sealed: "hello" }, "malformed_sealed", /must start with "csealed1"/],
      [{ sealed: "x".repeat(SEALED_CLAIM_CHARS_MAX + 1) }, "invalid_request", /at most 3072 characters/],
      [{ sealed: 42 }, "invalid_request", /sealed/],
      [{}, "invalid_request", /sealed/],
      [{ sealed: "csealed1abc", extra: 1 }, "invalid_request", /request body/],
    ];
    for (const [body, code, message] of cases) {
      const e = await refusal(g.postSealed(body));
      expect(e.code).toBe(code);
      expect(e.status).toBe(400);
      expect(e.message).toMatch(message);
    }
    expect(g.proposal()).toEqual([]);
  });

  it("checks the opened claim exactly as a claim in clear: a malformed proof or a non-claim is refused", async () => {
    const g = guardianModule(2);
    // s not below the group order: never sent to a wallet-rpc (docs/monero.md).
    const broken = Uint8Array.from([...proof.subarray(0, 64), ...new Uint8Array(32).fill(0xff)]);
    const e = await refusal(g.postSealed({ sealed: await sealedTo(2, broken) }));
    expect(e.code).toBe("invalid_request");
    expect(e.message).toContain("proof is not a claim proof");
    const height = encodeMoneroItem({ kind: "height", height: 5 });
    const notClaim = encodeSealed(
      await sealTo(
        ed25519PublicKeyOf(seeds[2]!),
        { federationId: fid, instanceId: MONERO, guardian: 2 },
        SEALED_CLAIM_PURPOSE,
        height,
      ),
    );
    const e2 = await refusal(g.postSealed({ sealed: notClaim }));
    expect(e2.code).toBe("invalid_request");
    expect(e2.message).toContain("holds no deposit claim");
    // Sealed for another purpose (another endpoint's messages): it does not open here.
    const otherPurpose = encodeSealed(
      await sealTo(
        ed25519PublicKeyOf(seeds[2]!),
        { federationId: fid, instanceId: MONERO, guardian: 2 },
        "mint/other",
        encodeMoneroItem({ kind: "claim", txid, claimKey, proof }),
      ),
    );
    expect((await refusal(g.postSealed({ sealed: otherPurpose }))).code).toBe("unsealable");
    expect(g.proposal()).toEqual([]);
  });

  it("seals the largest claim (17 proof parts) within SEALED_CLAIM_CHARS_MAX, and opens it", async () => {
    const keys = new Uint8Array(17 * 32);
    for (let i = 0; i < 17; i++)
      keys.set(
        txKey.map((b, j) => (j === 0 ? b + i : b)),
        i * 32,
      );
    const big = claimProof({ federationAddress: CONFIG.address, txid, txKey: keys, claimKey });
    const sealed = await sealedTo(2, big);
    expect(sealed.length).toBe(2390);
    expect(sealed.length).toBeLessThanOrEqual(SEALED_CLAIM_CHARS_MAX);
    expect((await sealedTo(2)).length).toBe(342);
    const g = guardianModule(2);
    expect(await g.postSealed({ sealed })).toEqual({ txid: toHex(txid), state: "queued" });
    expect(g.proposal()).toContain(toHex(encodeMoneroItem({ kind: "claim", txid, claimKey, proof: big })));
  });

  it("answers 503 where the module runs without a guardian's unseal capability", async () => {
    const g = guardianModule(2, false);
    const e = await refusal(g.postSealed({ sealed: await sealedTo(2) }));
    expect(e.code).toBe("unavailable");
    expect(e.status).toBe(503);
  });
});
