import { describe, expect, it } from "vitest";
import { TokenBuckets, clientKey } from "./rate-limit.js";

describe("token buckets", () => {
  it("allows a burst, then the sustained rate, and says how long to wait", () => {
    let now = 0;
    const b = new TokenBuckets({ perSecond: 4, burst: 2, now: () => now });
    expect([b.take("a"), b.take("a")]).toEqual([0, 0]);
    expect(b.take("a")).toBe(250);
    expect(b.take("b")).toBe(0); // another client has its own bucket
    now += 250;
    expect(b.take("a")).toBe(0);
    expect(b.take("a")).toBe(250);
    now += 10_000; // refills to the burst, not beyond
    expect([b.take("a"), b.take("a"), b.take("a")]).toEqual([0, 0, 250]);
  });

  it("charges a cost known only afterwards, into debt, and lets work start again once it is paid back", () => {
    let now = 0;
    const b = new TokenBuckets({ perSecond: 50, burst: 100, now: () => now });
    expect(b.waitMs("a")).toBe(0); // an unknown client starts with a full burst
    b.charge("a", 80);
    expect(b.waitMs("a")).toBe(0); // 20 left: the next check may start
    b.charge("a", 120);
    expect(b.waitMs("a")).toBe(2000); // 100 in debt at 50 a second
    expect(b.waitMs("b")).toBe(0);
    now += 1999;
    expect(b.waitMs("a")).toBeGreaterThan(0);
    now += 2;
    expect(b.waitMs("a")).toBe(0);
    expect(() => b.charge("a", -1)).toThrow(TypeError);
  });

  it("tracks a bounded number of clients, forgetting full buckets first", () => {
    let now = 0;
    const b = new TokenBuckets({ perSecond: 1, burst: 1, now: () => now, keysMax: 3 });
    for (const k of ["a", "b", "c"]) b.take(k);
    now += 5_000; // all full again
    b.take("d");
    expect(b.size).toBe(1);
    for (const k of ["e", "f", "g", "h"]) b.take(k); // all empty: the oldest go
    expect(b.size).toBeLessThanOrEqual(3);
  });
});

describe("client keys", () => {
  it("keys IPv4 by address and IPv6 by /64", () => {
    expect(clientKey("192.0.2.7")).toBe("192.0.2.7");
    expect(clientKey("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(clientKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:db8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:DB8:0001:0002::9")).toBe("2001:db8:1:2::/64");
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
    expect(clientKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(clientKey(undefined)).toBe("unknown");
    expect(clientKey("not:an:address:::")).toBe("not:an:address:::");
  });
});
