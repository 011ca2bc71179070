// Test ports come from below Linux's ephemeral range (32768-60999), from this worker's own block,
// and a port that is held is never handed out.
import { once } from "node:events";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort } from "./ports.js";

describe("freePort in a test worker", () => {
  it("hands out distinct ports below the ephemeral range, inside this worker's block", async () => {
    const pool = Number(process.env["VITEST_POOL_ID"]);
    expect(Number.isInteger(pool) && pool >= 1).toBe(true);
    const base = 20_000 + (pool - 1) * 600;
    const ports = [];
    for (let i = 0; i < 20; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(20);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(base);
      expect(p).toBeLessThan(base + 600);
      expect(p).toBeLessThan(32_768);
    }
  });

  it("skips a port someone holds: the next one handed out is bindable", async () => {
    const held = createServer();
    const port = await freePort();
    held.listen(port, "127.0.0.1");
    await once(held, "listening");
    try {
      // Walk the whole block: the held port never comes back while it is held (other processes on
      // this machine may hold a few more of the block; those are skipped too).
      const seen = new Set<number>();
      for (let i = 0; i < 600; i++) seen.add(await freePort());
      expect(seen.has(port)).toBe(false);
      expect(seen.size).toBeGreaterThan(500);
      expect(seen.size).toBeLessThanOrEqual(599);
    } finally {
      held.close();
      await once(held, "close");
    }
  });
});
