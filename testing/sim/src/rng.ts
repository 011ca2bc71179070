// The simulator's only source of randomness: xoshiro128** (Blackman and Vigna), seeded through
// splitmix64. Hand-written because it must be bit-for-bit reproducible from one integer seed on
// every machine and Node version, and small enough to read in one sitting. Math.random is never
// used: a run is a pure function of its seed.

const MASK64 = (1n << 64n) - 1n;

/** splitmix64: turns any 64-bit seed into well-mixed words (the seeding recommended for xoshiro). */
function splitmix64(state: bigint): { next: bigint; value: bigint } {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return { next, value: z ^ (z >> 31n) };
}

/** FNV-1a over a label, to derive independent streams from one seed by name. */
function labelHash(label: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < label.length; i++) {
    h ^= BigInt(label.charCodeAt(i));
    h = (h * 0x100000001b3n) & MASK64;
  }
  return h;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** Seeds from a non-negative safe integer; `stream` names an independent sequence for the same seed. */
  constructor(seed: number, stream = "") {
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new RangeError(`seed must be a safe integer >= 0: ${seed}`);
    let state = BigInt(seed) ^ labelHash(stream);
    const words: number[] = [];
    for (let i = 0; i < 2; i++) {
      const r = splitmix64(state);
      state = r.next;
      words.push(Number(r.value & 0xffffffffn), Number(r.value >> 32n));
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    // xoshiro's one forbidden state; splitmix64 cannot produce it in practice, but make it impossible.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator at a raw xoshiro128** state (for test vectors against the reference implementation). */
  static fromState(state: readonly [number, number, number, number]): Rng {
    const r = new Rng(0);
    [r.s0, r.s1, r.s2, r.s3] = state.map((w) => w >>> 0) as [number, number, number, number];
    return r;
  }

  /** The next 32-bit output, as an unsigned integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 bits of precision. */
  float(): number {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992;
  }

  /** Uniform integer in [0, bound), without modulo bias (bound <= 2^32). */
  int(bound: number): number {
    if (!Number.isInteger(bound) || bound < 1 || bound > 0x100000000) {
      throw new RangeError(`int bound must be an integer in 1..2^32: ${bound}`);
    }
    const limit = 0x100000000 - (0x100000000 % bound);
    for (;;) {
      const x = this.u32();
      if (x < limit) return x % bound;
    }
  }

  /** Uniform integer in [lo, hi], both inclusive. */
  range(lo: number, hi: number): number {
    if (hi < lo) throw new RangeError(`empty range ${lo}..${hi}`);
    return lo + this.int(hi - lo + 1);
  }

  /** Uniform real in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  chance(probability: number): boolean {
    return probability > 0 && this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick from an empty list");
    return items[this.int(items.length)]!;
  }

  /** Fisher-Yates, in place; returns its argument. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 4) {
      let w = this.u32();
      for (let k = 0; k < 4 && i + k < length; k++, w >>>= 8) out[i + k] = w & 0xff;
    }
    return out;
  }

  /** Exponentially distributed delay with the given mean (a Poisson process's inter-arrival time). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.float());
  }

  /** A child generator with its own independent sequence, drawn from this one. */
  fork(): Rng {
    return new Rng(this.u32() * 0x200000 + (this.u32() >>> 11));
  }
}
