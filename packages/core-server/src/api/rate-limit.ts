// Per-client token buckets: each client may spend `burst` requests at once and then `perSecond`
// requests per second. A client is an IPv4 address or an IPv6 /64 (anyone holding one IPv6 address
// usually holds its whole /64, so limiting single IPv6 addresses would limit nothing).

export interface TokenBucketOptions {
  readonly perSecond: number;
  readonly burst: number;
  /** Milliseconds from any fixed origin (monotonic). */
  readonly now: () => number;
  /** Buckets tracked at most; beyond it, full buckets are forgotten, then the oldest. */
  readonly keysMax?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly keysMax: number;

  constructor(private readonly options: TokenBucketOptions) {
    if (!(options.perSecond > 0) || !(options.burst >= 1))
      throw new TypeError("a rate limit needs perSecond > 0 and burst >= 1");
    this.keysMax = options.keysMax ?? 65_536;
  }

  /** Take one token for `key`: 0 when allowed, otherwise how many milliseconds until one is available. */
  take(key: string): number {
    const now = this.options.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.keysMax) this.evict(now);
      b = { tokens: this.options.burst, at: now };
      this.buckets.set(key, b);
    } else {
      this.refill(b, now);
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - b.tokens) * 1000) / this.options.perSecond));
  }

  /**
   * For a cost known only afterwards (milliseconds of verification): 0 when `key` has a positive
   * balance, so that the work may start, otherwise how many milliseconds until it has one. Takes
   * nothing; `charge` takes the cost once it is known.
   */
  waitMs(key: string): number {
    const b = this.buckets.get(key);
    if (!b) return 0;
    this.refill(b, this.options.now());
    return b.tokens > 0 ? 0 : Math.max(1, Math.ceil((-b.tokens * 1000) / this.options.perSecond));
  }

  /**
   * Takes `cost` tokens from `key`, going into debt if need be: a debt is paid back by refill before
   * `waitMs` lets the key start work again, so over time a key gets no more than `perSecond`.
   */
  charge(key: string, cost: number): void {
    if (!(cost >= 0)) throw new TypeError(`a charge must be a non-negative number, got ${cost}`);
    const now = this.options.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.keysMax) this.evict(now);
      b = { tokens: this.options.burst, at: now };
      this.buckets.set(key, b);
    } else {
      this.refill(b, now);
    }
    b.tokens -= cost;
  }

  get size(): number {
    return this.buckets.size;
  }

  private refill(b: Bucket, now: number): void {
    const elapsedMs = Math.max(0, now - b.at);
    b.tokens = Math.min(this.options.burst, b.tokens + (elapsedMs * this.options.perSecond) / 1000);
    b.at = now;
  }

  private evict(now: number): void {
    // A full bucket says nothing a fresh one would not: forget those first.
    for (const [key, b] of this.buckets) {
      this.refill(b, now);
      if (b.tokens >= this.options.burst) this.buckets.delete(key);
    }
    // Still full of active clients (many addresses at once): forget the oldest ones. Memory stays
    // bounded; the price is that those clients get a fresh burst.
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.keysMax) break;
      this.buckets.delete(key);
    }
  }
}

/** The rate-limit key of a remote address: IPv4 as is, IPv6 by its /64 prefix. */
export function clientKey(address: string | undefined): string {
  if (address === undefined || address === "") return "unknown";
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(":")) return address;
  const groups = expandIPv6(address);
  return groups ? `${groups.slice(0, 4).join(":")}::/64` : address;
}

function expandIPv6(address: string): string[] | undefined {
  const bare = address.split("%")[0]!; // drop a zone id (fe80::1%eth0)
  const halves = bare.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return groups.map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""));
}
