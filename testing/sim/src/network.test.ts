import { describe, expect, it } from "vitest";
import { HEALED_LINKS, SimNetwork, drawLinkFaults } from "./network.js";
import type { Delivery, LinkFaults } from "./network.js";
import { EventQueue } from "./queue.js";
import { Rng } from "./rng.js";

const LOSSY: LinkFaults = {
  lossRate: 0.2,
  duplicateRate: 0.1,
  delayMinMs: 5,
  jitterMs: 100,
  slowRate: 0.05,
  slowMs: 1_000,
};

/** Random traffic through a network until it drains; returns what was delivered and the trace hash. */
function traffic(seed: number, faults: LinkFaults, n = 5): { deliveries: Delivery[]; trace: string } {
  const rng = new Rng(seed, "traffic");
  const net = new SimNetwork(n, new Rng(seed, "network"), faults);
  for (let t = 0; t < 1_000; t += 7) {
    const from = rng.int(n);
    const frame = rng.bytes(rng.range(1, 80));
    if (rng.chance(0.3)) net.broadcast(from, frame, t);
    else net.send(from, (from + 1 + rng.int(n - 1)) % n, frame, t);
  }
  const deliveries: Delivery[] = [];
  while (net.nextTime() < Infinity) {
    const d = net.step();
    if (d !== undefined) deliveries.push(d);
  }
  return { deliveries, trace: net.traceHash() };
}

describe("event queue", () => {
  it("pops by time, and events at the same time in the order they were pushed", () => {
    const q = new EventQueue<string>();
    const rng = new Rng(1);
    const pushed: { time: number; label: string }[] = [];
    for (let i = 0; i < 500; i++) {
      const time = rng.int(20);
      pushed.push({ time, label: `e${i}` });
      q.push(time, `e${i}`);
    }
    const expected = [...pushed].sort((a, b) => a.time - b.time).map((e) => e.label);
    const popped: string[] = [];
    for (let e = q.pop(); e !== undefined; e = q.pop()) popped.push(e.value);
    expect(popped).toEqual(expected);
    expect(q.peekTime()).toBe(Infinity);
  });
});

describe("simulated network", () => {
  it("replays exactly from its seed: same seed, same deliveries and trace hash", () => {
    const a = traffic(11, LOSSY);
    const b = traffic(11, LOSSY);
    expect(b.trace).toBe(a.trace);
    expect(b.deliveries).toEqual(a.deliveries);
    expect(traffic(12, LOSSY).trace).not.toBe(a.trace);
  });

  it("delivers in time order, loses, duplicates and reorders messages as configured", () => {
    const { deliveries } = traffic(5, LOSSY);
    for (let i = 1; i < deliveries.length; i++) {
      expect(deliveries[i]!.time).toBeGreaterThanOrEqual(deliveries[i - 1]!.time);
    }
    const net = new SimNetwork(2, new Rng(5), { ...LOSSY, duplicateRate: 0, slowRate: 0 });
    for (let i = 0; i < 10_000; i++) net.send(0, 1, Uint8Array.of(i & 0xff, i >> 8), 0);
    expect(net.stats.lost / 10_000).toBeCloseTo(0.2, 1);
    // Sent all at t=0 with jitter: they arrive in another order than sent.
    const order: number[] = [];
    for (let d = net.step(); d !== undefined; d = net.step()) order.push(d.bytes[0]! | (d.bytes[1]! << 8));
    expect(order).not.toEqual([...order].sort((x, y) => x - y));
    const dup = new SimNetwork(2, new Rng(6), { ...HEALED_LINKS, duplicateRate: 0.5 });
    for (let i = 0; i < 1_000; i++) dup.send(0, 1, Uint8Array.of(1), 0);
    expect(dup.inFlight).toBe(1_000 + dup.stats.duplicated);
    expect(dup.stats.duplicated).toBeGreaterThan(400);
  });

  it("cuts messages across a partition (both ways, or one way), and heals", () => {
    const net = new SimNetwork(4, new Rng(2), HEALED_LINKS);
    net.partition([0, 0, 1, 1]);
    net.send(0, 1, Uint8Array.of(1), 0);
    net.send(0, 2, Uint8Array.of(2), 0);
    net.send(3, 1, Uint8Array.of(3), 0);
    expect(net.stats.cut).toBe(2);
    net.partition([0, 0, 1, 1], true);
    net.send(0, 2, Uint8Array.of(4), 0);
    net.send(2, 0, Uint8Array.of(5), 0);
    expect(net.stats.cut).toBe(3);
    net.healPartition();
    net.send(0, 3, Uint8Array.of(6), 0);
    const got: number[] = [];
    while (net.inFlight > 0) {
      const d = net.step();
      if (d !== undefined) got.push(d.bytes[0]!);
    }
    expect(got.sort()).toEqual([1, 5, 6]);
  });

  it("delivers nothing to a crashed guardian, and again once it is back", () => {
    const net = new SimNetwork(3, new Rng(3), HEALED_LINKS);
    net.send(0, 2, Uint8Array.of(1), 0);
    net.setUp(2, false);
    net.send(1, 2, Uint8Array.of(2), 0);
    expect(net.step()).toBeUndefined();
    expect(net.step()).toBeUndefined();
    expect(net.stats.toDown).toBe(2);
    net.setUp(2, true);
    net.send(1, 2, Uint8Array.of(3), 10);
    expect(net.step()?.bytes[0]).toBe(3);
  });

  it("draws safety-phase faults within 0-30% loss, and heals to bounded delay without loss", () => {
    const rng = new Rng(4);
    for (let i = 0; i < 200; i++) {
      const f = drawLinkFaults(rng);
      expect(f.lossRate).toBeGreaterThanOrEqual(0);
      expect(f.lossRate).toBeLessThanOrEqual(0.3);
      expect(f.delayMinMs).toBeGreaterThanOrEqual(1);
    }
    const net = new SimNetwork(2, new Rng(8), HEALED_LINKS);
    for (let i = 0; i < 1_000; i++) net.send(0, 1, Uint8Array.of(1), 100);
    let latest = 0;
    for (let d = net.step(); d !== undefined; d = net.step()) latest = Math.max(latest, d.time);
    expect(net.stats.delivered).toBe(1_000);
    expect(latest - 100).toBeLessThanOrEqual(HEALED_LINKS.delayMinMs + HEALED_LINKS.jitterMs);
  });
});

describe("hold-then-release", () => {
  it("delivers everything sent to a held guardian at the release instant, in sending order; others on time", () => {
    const net = new SimNetwork(3, new Rng(9, "network"), HEALED_LINKS);
    net.hold(1, 500);
    for (let t = 0; t < 10; t++) {
      net.send(0, 1, new Uint8Array([t]), t * 10);
      net.send(0, 2, new Uint8Array([t]), t * 10);
    }
    net.send(2, 1, new Uint8Array([99]), 600); // after the release: on time
    const to1: Delivery[] = [];
    const to2: Delivery[] = [];
    while (net.nextTime() < Infinity) {
      const d = net.step()!;
      (d.to === 1 ? to1 : to2).push(d);
    }
    expect(to1.slice(0, 10).map((d) => [d.time, d.bytes[0]])).toEqual(
      Array.from({ length: 10 }, (_, t) => [500, t]),
    );
    expect(to1[10]!.time).toBeGreaterThan(600);
    expect(to1[10]!.time).toBeLessThanOrEqual(626);
    expect(to2.every((d) => d.time <= d.bytes[0]! * 10 + 26)).toBe(true);
    expect(net.stats.held).toBe(10);
  });

  it("stops holding new messages after releaseHolds", () => {
    const net = new SimNetwork(2, new Rng(9, "network"), HEALED_LINKS);
    net.hold(1, 10_000);
    net.releaseHolds();
    net.send(0, 1, new Uint8Array([1]), 0);
    expect(net.nextTime()).toBeLessThanOrEqual(26);
  });
});
