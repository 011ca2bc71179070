// Control over Node's IPC channel, for the benchmark and process-level tests only: enabled by
// --ipc-control when the guardian is forked by a harness, never reachable over the network.
// Load is generated inside the guardian so the figures measure consensus, not the IPC pipe.
import { fromHex, toHex } from "@conclave/core-common";
import type { ConsensusNode, Guardian } from "@conclave/core-server";

type Request =
  | { id: number; cmd: "status" }
  | { id: number; cmd: "submit"; items: string[] }
  | { id: number; cmd: "blockIds"; from: number; to: number }
  | { id: number; cmd: "stateHash" }
  | { id: number; cmd: "audit" }
  | { id: number; cmd: "probe"; count: number; itemBytes: number }
  | {
      id: number;
      cmd: "load";
      durationMs: number;
      itemBytes: number;
      itemsPerBatch: number;
      intervalMs: number;
      /** Closed loop: skip a tick while this many own items wait for a bundle (0: open loop). */
      queuedMax?: number;
      /** Paced: submit what this rate owes since the start (timers drift under load), capped per tick. */
      itemsPerSecond?: number;
    };

function makeItem(node: ConsensusNode, bytes: number): Uint8Array {
  const item = new Uint8Array(Math.max(16, bytes));
  const view = new DataView(item.buffer);
  view.setFloat64(0, node.now());
  view.setUint32(8, node.self);
  view.setUint32(12, Math.floor(Math.random() * 2 ** 32));
  return item;
}

function submittedAt(item: Uint8Array): number {
  return new DataView(item.buffer, item.byteOffset, item.byteLength).getFloat64(0);
}

export function attachIpcControl(guardian: Guardian): void {
  const node: ConsensusNode = guardian.node;
  if (!process.send) throw new Error("--ipc-control needs a parent process with an IPC channel");
  const reply = (id: number, body: Record<string, unknown>) => process.send?.({ id, ...body });
  let ownLatency: number[] | undefined;
  let committedItems = 0;
  let probeWaiter: ((latency: number) => void) | undefined;
  node.onCommit((commit) => {
    for (const b of commit.bundles) {
      committedItems += b.items.length;
      if (b.origin !== node.self) continue;
      const t = node.now();
      for (const item of b.items) {
        if (item.length < 16) continue;
        const latency = t - submittedAt(item);
        ownLatency?.push(latency);
        if (probeWaiter) {
          const w = probeWaiter;
          probeWaiter = undefined;
          w(latency);
        }
      }
    }
  });
  process.on("message", (raw: unknown) => {
    const req = raw as Request;
    void handle(req).catch((e: unknown) => reply(req.id, { error: String(e) }));
  });

  async function handle(req: Request): Promise<void> {
    switch (req.cmd) {
      case "audit":
        reply(req.id, { audit: guardian.audit() });
        return;
      case "status":
        reply(req.id, {
          status: node.engineStatus,
          counters: node.counters,
          links: node.links.counters,
          connected: node.config.publicKeys
            .map((_, i) => i !== node.self && node.links.isConnected(i))
            .filter(Boolean).length,
          rssBytes: process.memoryUsage().rss,
        });
        return;
      case "submit":
        reply(req.id, { taken: node.submit(req.items.map((h) => fromHex(h))) });
        return;
      case "stateHash":
        reply(req.id, { stateHash: guardian.stateHash(), height: node.engineStatus?.height ?? 0 });
        return;
      case "blockIds": {
        const ids: string[] = [];
        for (let h = req.from; h < req.to; h++) {
          const d = node.store.decided(h);
          if (!d) break;
          ids.push(toHex(d.blockId));
        }
        reply(req.id, { ids });
        return;
      }
      case "probe": {
        const latencies: number[] = [];
        for (let i = 0; i < req.count; i++) {
          const done = new Promise<number>((resolve) => (probeWaiter = resolve));
          node.submit([makeItem(node, req.itemBytes)]);
          latencies.push(await done);
        }
        reply(req.id, { latencies });
        return;
      }
      case "load": {
        ownLatency = [];
        const startCommitted = committedItems;
        const start = node.now();
        let submitted = 0;
        let refused = 0;
        await new Promise<void>((resolve) => {
          const timer = setInterval(() => {
            if (node.now() - start >= req.durationMs) {
              clearInterval(timer);
              resolve();
              return;
            }
            if (req.queuedMax && (node.engineStatus?.ownQueued ?? 0) >= req.queuedMax) return;
            const owed = req.itemsPerSecond
              ? Math.floor(((node.now() - start) * req.itemsPerSecond) / 1000) - submitted - refused
              : req.itemsPerBatch;
            const count = Math.max(0, Math.min(owed, req.itemsPerBatch));
            const batch = Array.from({ length: count }, () => makeItem(node, req.itemBytes));
            const taken = node.submit(batch);
            submitted += taken;
            refused += batch.length - taken;
          }, req.intervalMs);
        });
        const elapsed = node.now() - start;
        const latencies = ownLatency;
        ownLatency = undefined;
        reply(req.id, {
          elapsedMs: elapsed,
          committedItems: committedItems - startCommitted,
          submitted,
          refused,
          latencies,
        });
        return;
      }
    }
  }
}
