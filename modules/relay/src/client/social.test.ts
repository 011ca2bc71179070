// Shard sets with the audited shamir-secret-sharing library: any t of n recover the data key; mixed
// sets, forged shards and damaged text are detected; more than t shards find and name a forgery.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { combineShards, decodeShard, encodeShard, setDigest, splitSecret } from "./social.js";
import type { Shard } from "./social.js";

const fed = new Uint8Array(32).fill(5);
const random = (n: number) => new Uint8Array(randomBytes(n));
const secret = new TextEncoder().encode(
  "abandon ability able about above absent absorb abstract absurd abuse access accident",
);

async function set(t: number, n: number) {
  return splitSecret(
    fed,
    secret,
    t,
    Array.from({ length: n }, () => "offline" as const),
    random,
    1,
  );
}

function forge(s: Shard): Shard {
  const share = s.share.slice();
  share[0]! ^= 0x5a;
  return { ...s, share };
}

describe("shard sets", () => {
  it("recovers the data key from every t-subset of a 3-of-5 set, in any order, through the text form", async () => {
    const s = await set(3, 5);
    const texts = s.shards.map(encodeShard);
    for (const pick of [
      [0, 1, 2],
      [4, 2, 0],
      [1, 3, 4],
      [3, 4, 2, 0],
    ]) {
      const combined = await combineShards(pick.map((i) => decodeShard(texts[i]!)));
      expect(combined.dataKey).toEqual(s.dataKey);
      expect(combined.forged).toEqual([]);
    }
    expect(s.shards[0]!.digest).toEqual(setDigest(s.dataKey, s.setId));
  });

  it("refuses shards of two sets, naming the odd ones", async () => {
    const a = await set(2, 3);
    const b = await set(2, 3);
    await expect(combineShards([a.shards[0]!, b.shards[1]!])).rejects.toMatchObject({
      code: "mixed_shards",
      message: /shards 2 belong/,
    });
  });

  it("detects a forged shard among exactly t, and names it among t + 1", async () => {
    const s = await set(2, 3);
    await expect(combineShards([s.shards[0]!, forge(s.shards[1]!)])).rejects.toMatchObject({
      code: "forged_shards",
    });
    const found = await combineShards([s.shards[0]!, forge(s.shards[1]!), s.shards[2]!]);
    expect(found.dataKey).toEqual(s.dataKey);
    expect(found.forged).toEqual([1]);
  });

  it("refuses too few shards, a damaged character and a duplicate counted twice", async () => {
    const s = await set(3, 5);
    await expect(combineShards([s.shards[0]!, s.shards[0]!, s.shards[1]!])).rejects.toMatchObject({
      code: "not_enough_shards",
    });
    const text = encodeShard(s.shards[0]!);
    const damaged = text.slice(0, 20) + (text[20] === "A" ? "B" : "A") + text.slice(21);
    expect(() => decodeShard(damaged)).toThrow(/checksum|damaged/);
    expect(() => decodeShard("xshard1abc")).toThrow(/starts with cshard1/);
  });

  it("refuses a threshold outside 2..n and more than 16 shards", async () => {
    await expect(splitSecret(fed, secret, 1, ["device", "offline"], random, 1)).rejects.toMatchObject({
      code: "bad_threshold",
    });
    await expect(splitSecret(fed, secret, 2, Array(17).fill("offline"), random, 1)).rejects.toMatchObject({
      code: "bad_threshold",
    });
  });
});
