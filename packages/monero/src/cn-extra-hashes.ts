// The four "extra" hashes that end a CryptoNight hash (src/crypto/hash-extra-*.c in monero v0.18):
// BLAKE-256, Groestl-256, JH-256 and Skein-512-256, each the final SHA-3-competition version, each
// over whole bytes only. BLAKE-256 comes from @noble/hashes. The other three are written here by
// hand: no maintained pure-JS/wasm npm package does exactly these variants (noble has none of them;
// `groestl-hash-js` is an unmaintained Groestlcoin helper, the skein and jh packages on npm are
// native bindings or empty), and we need them only for CryptoNight's last step, over 200 bytes, once
// per wallet. They are straight transcriptions of the specifications, favouring clarity over speed;
// cryptonight.test.ts checks each against monero's tests/hash/tests-extra-*.txt vectors.
import { blake256 } from "@noble/hashes/blake1.js";

export function blake256Hash(data: Uint8Array): Uint8Array {
  return blake256(data);
}

// --- AES S-box (shared with Groestl and CryptoNight's AES rounds) ---------------------------------

/** GF(2^8) multiplication modulo x^8 + x^4 + x^3 + x + 1 (AES's and Groestl's field). */
export function gmul(a: number, b: number): number {
  let p = 0;
  let x = a;
  let y = b;
  while (y !== 0) {
    if ((y & 1) !== 0) p ^= x;
    x = (x << 1) ^ ((x & 0x80) !== 0 ? 0x11b : 0);
    y >>>= 1;
  }
  return p & 0xff;
}

/** The AES S-box, computed (multiplicative inverse then the affine map) instead of tabled. */
export const AES_SBOX: Uint8Array = (() => {
  const sbox = new Uint8Array(256);
  for (let x = 0; x < 256; x++) {
    let inv = 0;
    if (x !== 0) {
      for (let y = 1; y < 256; y++) {
        if (gmul(x, y) === 1) {
          inv = y;
          break;
        }
      }
    }
    let s = inv;
    for (let i = 1; i <= 4; i++) s ^= ((inv << i) | (inv >>> (8 - i))) & 0xff;
    sbox[x] = s ^ 0x63;
  }
  return sbox;
})();

// --- Groestl-256 (final round-3 version: 10 rounds of P512/Q512) -----------------------------------

const GROESTL_B = [2, 2, 3, 4, 5, 3, 5, 7];
const GROESTL_MUL: Uint8Array[] = [1, 2, 3, 4, 5, 7].reduce<Uint8Array[]>((acc, m) => {
  const t = new Uint8Array(256);
  for (let x = 0; x < 256; x++) t[x] = gmul(x, m);
  acc[m] = t;
  return acc;
}, []);
const P_SHIFT = [0, 1, 2, 3, 4, 5, 6, 7];
const Q_SHIFT = [1, 3, 5, 7, 0, 2, 4, 6];

/** One of Groestl's permutations P or Q on a 64-byte state (byte k is row k % 8, column k >> 3). */
function groestlPermute(state: Uint8Array, q: boolean): void {
  const t = new Uint8Array(64);
  for (let r = 0; r < 10; r++) {
    // AddRoundConstant
    if (!q) {
      for (let j = 0; j < 8; j++) state[j * 8] = state[j * 8]! ^ (j << 4) ^ r;
    } else {
      for (let k = 0; k < 64; k++) state[k] = state[k]! ^ 0xff;
      for (let j = 0; j < 8; j++) state[j * 8 + 7] = state[j * 8 + 7]! ^ (j << 4) ^ r;
    }
    // SubBytes
    for (let k = 0; k < 64; k++) state[k] = AES_SBOX[state[k]!]!;
    // ShiftBytes: row i moves left by shift[i]
    const shift = q ? Q_SHIFT : P_SHIFT;
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 8; j++) t[j * 8 + i] = state[((j + shift[i]!) & 7) * 8 + i]!;
    }
    // MixBytes: each column times circ(2, 2, 3, 4, 5, 3, 5, 7)
    for (let j = 0; j < 8; j++) {
      for (let i = 0; i < 8; i++) {
        let v = 0;
        for (let k = 0; k < 8; k++) v ^= GROESTL_MUL[GROESTL_B[(k - i + 8) & 7]!]![t[j * 8 + k]!]!;
        state[j * 8 + i] = v;
      }
    }
  }
}

export function groestl256(data: Uint8Array): Uint8Array {
  const blocks = Math.floor((data.length + 1 + 8 + 63) / 64);
  const padded = new Uint8Array(blocks * 64);
  padded.set(data);
  padded[data.length] = 0x80;
  let n = blocks;
  for (let i = 0; i < 8; i++) {
    padded[padded.length - 1 - i] = n % 256;
    n = Math.floor(n / 256);
  }
  const h = new Uint8Array(64);
  h[62] = 0x01; // the output length, 256, big-endian in the last bytes
  const p = new Uint8Array(64);
  const q = new Uint8Array(64);
  for (let b = 0; b < blocks; b++) {
    const m = padded.subarray(b * 64, b * 64 + 64);
    for (let k = 0; k < 64; k++) {
      p[k] = h[k]! ^ m[k]!;
      q[k] = m[k]!;
    }
    groestlPermute(p, false);
    groestlPermute(q, true);
    for (let k = 0; k < 64; k++) h[k] = h[k]! ^ p[k]! ^ q[k]!;
  }
  p.set(h);
  groestlPermute(p, false);
  const out = new Uint8Array(32);
  for (let k = 0; k < 32; k++) out[k] = p[32 + k]! ^ h[32 + k]!;
  return out;
}

// --- JH-256 (final round-3 version: E8 of 42 rounds), after the specification's bytewise form ---

const JH_S = [
  [9, 0, 4, 11, 13, 12, 3, 15, 1, 10, 2, 6, 7, 5, 8, 14],
  [3, 12, 6, 13, 5, 7, 1, 9, 15, 2, 0, 4, 11, 10, 14, 8],
];
/** C0: the first 256 bits of the fractional part of sqrt(2), as 64 nibbles. */
const JH_C0 = "6a09e667f3bcc908b2fb1366ea957d3e3adec17512775099da2f590b0667322a";

function jhL(t: Uint8Array, i: number): void {
  let a = t[i]!;
  let b = t[i + 1]!;
  b ^= ((a << 1) ^ (a >> 3) ^ ((a >> 2) & 2)) & 0xf;
  a ^= ((b << 1) ^ (b >> 3) ^ ((b >> 2) & 2)) & 0xf;
  t[i] = a;
  t[i + 1] = b;
}

/** The permutation P_d: swap pairs, then even/odd split, then swap pairs in the second half. */
function jhPermute(tem: Uint8Array, out: Uint8Array): void {
  const n = tem.length;
  for (let i = 0; i < n; i += 4) {
    const t = tem[i + 2]!;
    tem[i + 2] = tem[i + 3]!;
    tem[i + 3] = t;
  }
  for (let i = 0; i < n / 2; i++) {
    out[i] = tem[i << 1]!;
    out[i + n / 2] = tem[(i << 1) + 1]!;
  }
  for (let i = n / 2; i < n; i += 2) {
    const t = out[i]!;
    out[i] = out[i + 1]!;
    out[i + 1] = t;
  }
}

/** The 42 round constants of E8: C_{r+1} = R6(C_r) with all-zero round constants. */
const JH_ROUND_CONSTANTS: Uint8Array[] = (() => {
  const out: Uint8Array[] = [];
  let c = Uint8Array.from(JH_C0, (ch) => parseInt(ch, 16));
  for (let r = 0; r < 42; r++) {
    out.push(c);
    const tem = new Uint8Array(64);
    for (let i = 0; i < 64; i++) tem[i] = JH_S[0]![c[i]!]!;
    for (let i = 0; i < 64; i += 2) jhL(tem, i);
    const next = new Uint8Array(64);
    jhPermute(tem, next);
    c = next;
  }
  return out;
})();

function jhE8(h: Uint8Array): void {
  const bit = (i: number): number => (h[i >> 3]! >> (7 - (i & 7))) & 1;
  const tem = new Uint8Array(256);
  for (let i = 0; i < 256; i++)
    tem[i] = (bit(i) << 3) | (bit(i + 256) << 2) | (bit(i + 512) << 1) | bit(i + 768);
  let a = new Uint8Array(256);
  for (let i = 0; i < 128; i++) {
    a[i << 1] = tem[i]!;
    a[(i << 1) + 1] = tem[i + 128]!;
  }
  const next = new Uint8Array(256);
  for (let r = 0; r < 42; r++) {
    const c = JH_ROUND_CONSTANTS[r]!;
    for (let i = 0; i < 256; i++) tem[i] = JH_S[(c[i >> 2]! >> (3 - (i & 3))) & 1]![a[i]!]!;
    for (let i = 0; i < 256; i += 2) jhL(tem, i);
    jhPermute(tem, next);
    const swap = a;
    a = next.slice();
    swap.fill(0);
  }
  for (let i = 0; i < 128; i++) {
    tem[i] = a[i << 1]!;
    tem[i + 128] = a[(i << 1) + 1]!;
  }
  h.fill(0);
  for (let i = 0; i < 256; i++) {
    const sh = 7 - (i & 7);
    h[i >> 3] = h[i >> 3]! | (((tem[i]! >> 3) & 1) << sh);
    h[(i + 256) >> 3] = h[(i + 256) >> 3]! | (((tem[i]! >> 2) & 1) << sh);
    h[(i + 512) >> 3] = h[(i + 512) >> 3]! | (((tem[i]! >> 1) & 1) << sh);
    h[(i + 768) >> 3] = h[(i + 768) >> 3]! | ((tem[i]! & 1) << sh);
  }
}

function jhF8(h: Uint8Array, m: Uint8Array): void {
  for (let i = 0; i < 64; i++) h[i] = h[i]! ^ m[i]!;
  jhE8(h);
  for (let i = 0; i < 64; i++) h[i + 64] = h[i + 64]! ^ m[i]!;
}

export function jh256(data: Uint8Array): Uint8Array {
  const h = new Uint8Array(128);
  h[0] = 0x01; // the output length, 256, big-endian in the first two bytes
  jhF8(h, new Uint8Array(64));
  const full = Math.floor(data.length / 64);
  for (let b = 0; b < full; b++) jhF8(h, data.subarray(b * 64, b * 64 + 64));
  const rest = data.length % 64;
  // Padding: a 1 bit, zeros, and the 128-bit big-endian bit length, over one or two blocks.
  const tail = new Uint8Array(rest === 0 ? 64 : 128);
  tail.set(data.subarray(full * 64));
  tail[rest] = 0x80;
  let bits = data.length * 8;
  for (let i = 0; i < 8; i++) {
    tail[tail.length - 1 - i] = bits % 256;
    bits = Math.floor(bits / 256);
  }
  for (let off = 0; off < tail.length; off += 64) jhF8(h, tail.subarray(off, off + 64));
  return h.slice(96, 128);
}

// --- Skein-512-256 (Skein 1.3: Threefish-512, 72 rounds) ------------------------------------------

const M64 = (1n << 64n) - 1n;
const SKEIN_PARITY = 0x1bd11bdaa9fc1a22n;
/** Rotation constants of Threefish-512 (Skein 1.3), rounds d mod 8, pairs 0..3. */
const SKEIN_R = [
  [46, 36, 19, 37],
  [33, 27, 14, 42],
  [17, 49, 36, 39],
  [44, 9, 54, 56],
  [39, 30, 34, 24],
  [13, 50, 10, 17],
  [25, 29, 39, 43],
  [8, 35, 56, 22],
];
/** Word permutation of Threefish-512, applied as the order of the mixes of each round. */
const SKEIN_ORDER = [
  [0, 1, 2, 3, 4, 5, 6, 7],
  [2, 1, 4, 7, 6, 5, 0, 3],
  [4, 1, 6, 3, 0, 5, 2, 7],
  [6, 1, 0, 7, 2, 5, 4, 3],
];
const T1_FIRST = 1n << 62n;
const T1_FINAL = 1n << 63n;
const TYPE_CFG = 4n << 56n;
const TYPE_MSG = 48n << 56n;
const TYPE_OUT = 63n << 56n;

const rotl64 = (x: bigint, n: number): bigint => ((x << BigInt(n)) | (x >> BigInt(64 - n))) & M64;

function readWords(block: Uint8Array): bigint[] {
  const w: bigint[] = [];
  for (let i = 0; i < 8; i++) {
    let v = 0n;
    for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(block[i * 8 + k]!);
    w.push(v);
  }
  return w;
}

/** UBI step: Threefish-512 of `block` under key `x` and tweak (t0, t1), fed forward. */
function skeinBlock(x: bigint[], block: Uint8Array, t0: bigint, t1: bigint): bigint[] {
  const w = readWords(block);
  const ks = [...x, x.reduce((a, b) => a ^ b, SKEIN_PARITY)];
  const ts = [t0, t1, t0 ^ t1];
  const v = w.map((wi, i) => (wi + ks[i]!) & M64);
  v[5] = (v[5]! + ts[0]!) & M64;
  v[6] = (v[6]! + ts[1]!) & M64;
  for (let d = 0; d < 72; d++) {
    const order = SKEIN_ORDER[d % 4]!;
    const rot = SKEIN_R[d % 8]!;
    for (let j = 0; j < 4; j++) {
      const a = order[2 * j]!;
      const b = order[2 * j + 1]!;
      v[a] = (v[a]! + v[b]!) & M64;
      v[b] = rotl64(v[b]!, rot[j]!) ^ v[a];
    }
    if (d % 4 === 3) {
      const s = (d + 1) / 4;
      for (let i = 0; i < 8; i++) v[i] = (v[i]! + ks[(s + i) % 9]!) & M64;
      v[5] = (v[5] + ts[s % 3]!) & M64;
      v[6] = (v[6] + ts[(s + 1) % 3]!) & M64;
      v[7] = (v[7]! + BigInt(s)) & M64;
    }
  }
  return v.map((vi, i) => vi ^ w[i]!);
}

export function skein512_256(data: Uint8Array): Uint8Array {
  // Configuration block: "SHA3", version 1, output length 256 bits, sequential tree parameters.
  const cfg = new Uint8Array(64);
  cfg.set([0x53, 0x48, 0x41, 0x33, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01]);
  let x = skeinBlock([0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n], cfg, 32n, T1_FIRST | T1_FINAL | TYPE_CFG);
  // Message: every block but the last as-is; the last (possibly empty, zero-padded) block is final.
  const blocks = Math.max(1, Math.ceil(data.length / 64));
  for (let b = 0; b < blocks; b++) {
    const last = b === blocks - 1;
    const chunk = new Uint8Array(64);
    chunk.set(data.subarray(b * 64, Math.min(data.length, b * 64 + 64)));
    const pos = BigInt(last ? data.length : (b + 1) * 64);
    x = skeinBlock(x, chunk, pos, (b === 0 ? T1_FIRST : 0n) | (last ? T1_FINAL : 0n) | TYPE_MSG);
  }
  // Output: UBI of the 8-byte counter 0.
  const out = skeinBlock(x, new Uint8Array(64), 8n, T1_FIRST | T1_FINAL | TYPE_OUT);
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 4; i++) {
    let v = out[i]!;
    for (let k = 0; k < 8; k++) {
      bytes[i * 8 + k] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  return bytes;
}
