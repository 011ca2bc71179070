import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { toHex } from "@conclave/core-common";
import { Replica } from "../consensus/replica.js";
import { testFederation } from "../consensus/test-federation.js";
import { LmdbConsensusStore } from "./lmdb-consensus-store.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("LMDB consensus store", () => {
  it("restores after reopening exactly the chain, sessions and own bundles the engine persisted", async () => {
    const n = 4;
    const fed = testFederation(n, { heightsPerSession: 2 });
    const paths = Array.from({ length: n }, () => {
      const d = mkdtempSync(join(tmpdir(), "conclave-lmdb-"));
      dirs.push(d);
      return d;
    });
    const stores = paths.map((p, i) => new LmdbConsensusStore(p, i, 2));
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
    const drain = () => {
      while (queue.length > 0) {
        const m = queue.shift()!;
        replicas[m.to]!.receive(m.from, m.bytes, 0);
      }
    };
    for (let h = 0; h < 5; h++) {
      replicas[h % n]!.submit([new TextEncoder().encode(`item-${h}`)], 0);
      drain();
    }
    const before = replicas[1]!.engine.status;
    expect(before.height).toBe(5);
    expect(before.sessionsSigned).toBe(2);
    // Leave one own bundle in flight at guardian 1, then "crash" (close) and reopen.
    replicas[1]!.submit([new TextEncoder().encode("in-flight")], 0);
    queue.length = 0;
    for (const s of stores) await s.close();

    const reopened = new LmdbConsensusStore(paths[1]!, 1, 2);
    const restored = reopened.load(n, 1, 2);
    expect(restored.chain.height).toBe(5);
    expect(toHex(restored.chain.lastBlockId)).toBe(toHex(before.lastBlockId));
    expect(restored.chain.sessionsSigned).toBe(2);
    expect(restored.ownBundles).toHaveLength(1);
    expect(restored.sessionBlockIds).toHaveLength(1);
    expect(restored.round?.height).toBe(5);
    expect(reopened.session(1)!.signatures.length).toBeGreaterThanOrEqual(3);
    expect(reopened.decided(4)!.certificate.length).toBeGreaterThanOrEqual(3);
    await reopened.close();
  });
});
