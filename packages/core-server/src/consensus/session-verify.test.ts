import { describe, expect, it } from "vitest";
import { NodeVerifier, sha256 } from "../node-crypto.js";
import { Replica } from "./replica.js";
import { verifySignedSession } from "./session-verify.js";
import { MemoryConsensusStore } from "./store.js";
import { testFederation } from "./test-federation.js";

function signedHistory() {
  const n = 4;
  const fed = testFederation(n, { heightsPerSession: 3 });
  const stores = Array.from({ length: n }, (_, i) => new MemoryConsensusStore(i, 3));
  const queue: { from: number; to: number; bytes: Uint8Array }[] = [];
  const replicas = stores.map(
    (s, i) =>
      new Replica(
        fed.config,
        fed.cryptoFor(i),
        i,
        s,
        {
          send: (to, bytes) => queue.push({ from: i, to, bytes }),
          broadcast: (bytes) => {
            for (let j = 0; j < n; j++) if (j !== i) queue.push({ from: i, to: j, bytes });
          },
        },
        {},
        0,
      ),
  );
  for (let h = 0; h < 6; h++) {
    replicas[h % n]!.submit([new TextEncoder().encode(`x${h}`)], 0);
    while (queue.length > 0) {
      const m = queue.shift()!;
      replicas[m.to]!.receive(m.from, m.bytes, 0);
    }
  }
  const store = stores[2]!;
  const blocksOf = (s: number) => [0, 1, 2].map((i) => store.decided(s * 3 + i)!.block);
  return { fed, store, blocksOf };
}

const crypto = { verifier: new NodeVerifier(), hash: sha256 };

describe("verifying a signed session without trusting its source", () => {
  const { fed, store, blocksOf } = signedHistory();

  it("accepts each session served by any guardian, chained to the previous one", () => {
    const s0 = store.session(0)!;
    const s1 = store.session(1)!;
    expect(verifySignedSession(fed.config, s0, blocksOf(0), crypto)).toEqual({ ok: true });
    expect(verifySignedSession(fed.config, s1, blocksOf(1), crypto, s0.blockIds[2])).toEqual({ ok: true });
  });

  it("rejects a session with fewer than t valid signatures", () => {
    const s0 = store.session(0)!;
    const weak = { ...s0, signatures: s0.signatures.slice(0, 2) };
    expect(verifySignedSession(fed.config, weak, blocksOf(0), crypto)).toMatchObject({ ok: false });
    const duplicated = { ...s0, signatures: [s0.signatures[0]!, s0.signatures[0]!, s0.signatures[0]!] };
    expect(verifySignedSession(fed.config, duplicated, blocksOf(0), crypto)).toMatchObject({
      ok: false,
      reason: "1 valid signatures, 3 needed",
    });
  });

  it("rejects a session whose blocks were swapped or altered", () => {
    const s0 = store.session(0)!;
    const blocks = blocksOf(0);
    expect(verifySignedSession(fed.config, s0, [blocks[1]!, blocks[0]!, blocks[2]!], crypto).ok).toBe(false);
    const tampered = blocks.map((b) => b.slice());
    tampered[1]![tampered[1]!.length - 1]! ^= 1;
    expect(verifySignedSession(fed.config, s0, tampered, crypto).ok).toBe(false);
  });

  it("rejects a session that does not extend the claimed previous history", () => {
    const s1 = store.session(1)!;
    expect(
      verifySignedSession(fed.config, s1, blocksOf(1), crypto, new Uint8Array(32).fill(5)),
    ).toMatchObject({
      ok: false,
      reason: "block 0 does not extend the chain",
    });
  });
});
