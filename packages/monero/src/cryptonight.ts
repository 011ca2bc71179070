// CryptoNight, variant 0 (Monero's `cn_slow_hash(data, len, hash, 0, 0, 0)`), written by hand in
// TypeScript after the portable C version in monero v0.18 src/crypto/slow-hash.c. Why by hand: no
// maintained npm package does it in pure JS or wasm (`cryptonight` 0.0.1 is empty,
// `node-cryptonight` and `cryptonight-hashing` are native builds, monero-ts and the mymonero wasm do
// not export it). We need it for one thing: wallet2 derives the chacha20 key that encrypts a multisig
// transaction set (and the wallet's other exports) as cn_slow_hash of the view secret key
// (src/crypto/chacha.h generate_chacha_key, kdf_rounds 1 for wallet-rpc). It runs once per view key
// and the caller caches the result. Keccak-f[1600] comes from @noble/hashes; AES rounds, the 2 MiB
// scratchpad loop and its 64x64->128 multiply are here; the four final hashes are in
// cn-extra-hashes.ts. Checked against monero's tests/hash/tests-slow.txt in cryptonight.test.ts.
import { keccakP } from "@noble/hashes/sha3.js";
import { AES_SBOX, blake256Hash, gmul, groestl256, jh256, skein512_256 } from "./cn-extra-hashes.js";

const MEMORY = 1 << 21; // 2 MiB scratchpad
const ITER = 1 << 20;
const KECCAK_RATE = 136; // HASH_DATA_AREA

/** The scratchpad and Keccak state are read as native 32-bit words: little-endian only. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Keccak with Monero's original padding (0x01 ... 0x80) returning the whole 200-byte state. */
function keccak1600State(data: Uint8Array): Uint32Array {
  const st = new Uint32Array(50);
  const st8 = new Uint8Array(st.buffer);
  let off = 0;
  for (; data.length - off >= KECCAK_RATE; off += KECCAK_RATE) {
    for (let i = 0; i < KECCAK_RATE; i++) st8[i] = st8[i]! ^ data[off + i]!;
    keccakP(st, 24);
  }
  const rest = data.length - off;
  for (let i = 0; i < rest; i++) st8[i] = st8[i]! ^ data[off + i]!;
  st8[rest] = st8[rest]! ^ 0x01;
  st8[KECCAK_RATE - 1] = st8[KECCAK_RATE - 1]! ^ 0x80;
  keccakP(st, 24);
  return st;
}

// AES encryption T-tables for little-endian column words (byte r of column c = bits 8r..8r+7).
const TE0 = new Uint32Array(256);
const TE1 = new Uint32Array(256);
const TE2 = new Uint32Array(256);
const TE3 = new Uint32Array(256);
for (let x = 0; x < 256; x++) {
  const s = AES_SBOX[x]!;
  const t = (gmul(s, 2) | (s << 8) | (s << 16) | (gmul(s, 3) << 24)) >>> 0;
  TE0[x] = t;
  TE1[x] = ((t << 8) | (t >>> 24)) >>> 0;
  TE2[x] = ((t << 16) | (t >>> 16)) >>> 0;
  TE3[x] = ((t << 24) | (t >>> 8)) >>> 0;
}

/** The first 10 round keys (40 words) of the AES-256 key schedule of `key` (8 words at `off`). */
function aesExpandKey(key: Uint32Array, off: number): Uint32Array {
  const w = new Uint32Array(40);
  for (let i = 0; i < 8; i++) w[i] = key[off + i]!;
  let rcon = 1;
  for (let i = 8; i < 40; i++) {
    let t = w[i - 1]!;
    if (i % 8 === 0) {
      t = (t >>> 8) | (t << 24); // RotWord, little-endian
      t = subWord(t) ^ rcon;
      rcon = gmul(rcon, 2);
    } else if (i % 8 === 4) {
      t = subWord(t);
    }
    w[i] = (w[i - 8]! ^ t) >>> 0;
  }
  return w;
}

function subWord(t: number): number {
  return (
    (AES_SBOX[t & 0xff]! |
      (AES_SBOX[(t >>> 8) & 0xff]! << 8) |
      (AES_SBOX[(t >>> 16) & 0xff]! << 16) |
      (AES_SBOX[t >>> 24]! << 24)) >>>
    0
  );
}

/** aesb_pseudo_round: 10 full AES rounds (SubBytes, ShiftRows, MixColumns, AddRoundKey) in place. */
function aesPseudoRounds(b: Uint32Array, o: number, k: Uint32Array): void {
  let s0 = b[o]!;
  let s1 = b[o + 1]!;
  let s2 = b[o + 2]!;
  let s3 = b[o + 3]!;
  for (let r = 0; r < 40; r += 4) {
    const t0 = TE0[s0 & 0xff]! ^ TE1[(s1 >>> 8) & 0xff]! ^ TE2[(s2 >>> 16) & 0xff]! ^ TE3[s3 >>> 24]! ^ k[r]!;
    const t1 =
      TE0[s1 & 0xff]! ^ TE1[(s2 >>> 8) & 0xff]! ^ TE2[(s3 >>> 16) & 0xff]! ^ TE3[s0 >>> 24]! ^ k[r + 1]!;
    const t2 =
      TE0[s2 & 0xff]! ^ TE1[(s3 >>> 8) & 0xff]! ^ TE2[(s0 >>> 16) & 0xff]! ^ TE3[s1 >>> 24]! ^ k[r + 2]!;
    const t3 =
      TE0[s3 & 0xff]! ^ TE1[(s0 >>> 8) & 0xff]! ^ TE2[(s1 >>> 16) & 0xff]! ^ TE3[s2 >>> 24]! ^ k[r + 3]!;
    s0 = t0;
    s1 = t1;
    s2 = t2;
    s3 = t3;
  }
  b[o] = s0;
  b[o + 1] = s1;
  b[o + 2] = s2;
  b[o + 3] = s3;
}

/** cn_slow_hash variant 0 of `data`: 32 bytes. Takes about a second (2 MiB, 2^20 iterations). */
export function cnSlowHashV0(data: Uint8Array): Uint8Array {
  if (!LITTLE_ENDIAN) throw new Error("cnSlowHashV0 runs on little-endian platforms only");
  const state = keccak1600State(data); // 50 words: k = words 0..15, init = words 16..47
  const ls = new Uint32Array(MEMORY / 4);
  const text = state.slice(16, 48);

  let keys = aesExpandKey(state, 0);
  for (let i = 0; i < MEMORY / 4; i += 32) {
    for (let j = 0; j < 32; j += 4) aesPseudoRounds(text, j, keys);
    ls.set(text, i);
  }

  // a = k[0..15] ^ k[32..47], b = k[16..31] ^ k[48..63], as four 32-bit words each.
  let a0 = (state[0]! ^ state[8]!) >>> 0;
  let a1 = (state[1]! ^ state[9]!) >>> 0;
  let a2 = (state[2]! ^ state[10]!) >>> 0;
  let a3 = (state[3]! ^ state[11]!) >>> 0;
  let b0 = (state[4]! ^ state[12]!) >>> 0;
  let b1 = (state[5]! ^ state[13]!) >>> 0;
  let b2 = (state[6]! ^ state[14]!) >>> 0;
  let b3 = (state[7]! ^ state[15]!) >>> 0;

  for (let i = 0; i < ITER / 2; i++) {
    // Iteration 1: c = AES round of scratchpad[a] keyed by a; scratchpad[a] = c ^ b.
    let j = (a0 & 0x1ffff0) >>> 2;
    const s0 = ls[j]!;
    const s1 = ls[j + 1]!;
    const s2 = ls[j + 2]!;
    const s3 = ls[j + 3]!;
    const c0 =
      (TE0[s0 & 0xff]! ^ TE1[(s1 >>> 8) & 0xff]! ^ TE2[(s2 >>> 16) & 0xff]! ^ TE3[s3 >>> 24]! ^ a0) >>> 0;
    const c1 =
      (TE0[s1 & 0xff]! ^ TE1[(s2 >>> 8) & 0xff]! ^ TE2[(s3 >>> 16) & 0xff]! ^ TE3[s0 >>> 24]! ^ a1) >>> 0;
    const c2 =
      (TE0[s2 & 0xff]! ^ TE1[(s3 >>> 8) & 0xff]! ^ TE2[(s0 >>> 16) & 0xff]! ^ TE3[s1 >>> 24]! ^ a2) >>> 0;
    const c3 =
      (TE0[s3 & 0xff]! ^ TE1[(s0 >>> 8) & 0xff]! ^ TE2[(s1 >>> 16) & 0xff]! ^ TE3[s2 >>> 24]! ^ a3) >>> 0;
    ls[j] = c0 ^ b0;
    ls[j + 1] = c1 ^ b1;
    ls[j + 2] = c2 ^ b2;
    ls[j + 3] = c3 ^ b3;

    // Iteration 2: d = scratchpad[c]; (hi, lo) = c.lo64 * d.lo64; a += (hi, lo); scratchpad[c] = a;
    // a ^= d; b = c.
    j = (c0 & 0x1ffff0) >>> 2;
    const d0 = ls[j]!;
    const d1 = ls[j + 1]!;
    const d2 = ls[j + 2]!;
    const d3 = ls[j + 3]!;
    mul64(c0, c1, d0, d1);
    // a.lo64 += hi, a.hi64 += lo (64-bit additions modulo 2^64)
    let sum = a0 + PROD[2]!;
    a0 = sum >>> 0;
    a1 = (a1 + PROD[3]! + (sum > 0xffffffff ? 1 : 0)) >>> 0;
    sum = a2 + PROD[0]!;
    a2 = sum >>> 0;
    a3 = (a3 + PROD[1]! + (sum > 0xffffffff ? 1 : 0)) >>> 0;
    ls[j] = a0;
    ls[j + 1] = a1;
    ls[j + 2] = a2;
    ls[j + 3] = a3;
    a0 = (a0 ^ d0) >>> 0;
    a1 = (a1 ^ d1) >>> 0;
    a2 = (a2 ^ d2) >>> 0;
    a3 = (a3 ^ d3) >>> 0;
    b0 = c0;
    b1 = c1;
    b2 = c2;
    b3 = c3;
  }

  text.set(state.subarray(16, 48));
  keys = aesExpandKey(state, 8);
  for (let i = 0; i < MEMORY / 4; i += 32) {
    for (let j = 0; j < 32; j++) text[j] = text[j]! ^ ls[i + j]!;
    for (let j = 0; j < 32; j += 4) aesPseudoRounds(text, j, keys);
  }
  state.set(text, 16);
  keccakP(state, 24);
  const bytes = new Uint8Array(state.buffer);
  const final = [blake256Hash, groestl256, jh256, skein512_256][bytes[0]! & 3]!;
  return final(bytes);
}

/** PROD = [lo32, lo-hi32, hi-lo32, hi32] of the last mul64: words 0,1 the low 64 bits, 2,3 the high. */
const PROD = new Uint32Array(4);

/** 32x32 -> 64 multiply into (lo, hi) without BigInt: 16-bit halves keep every product exact. */
function mul32(x: number, y: number, out: Uint32Array, at: number): void {
  const xl = x & 0xffff;
  const xh = x >>> 16;
  const yl = y & 0xffff;
  const yh = y >>> 16;
  const ll = xl * yl;
  const lh = xl * yh;
  const hl = xh * yl;
  const hh = xh * yh;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  out[at] = ((mid & 0xffff) << 16) | (ll & 0xffff);
  out[at + 1] = hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16);
}

const T = new Uint32Array(8);

/** (x1:x0) * (y1:y0), 64x64 -> 128, into PROD. */
function mul64(x0: number, x1: number, y0: number, y1: number): void {
  mul32(x0, y0, T, 0); // weight 0
  mul32(x0, y1, T, 2); // weight 32
  mul32(x1, y0, T, 4); // weight 32
  mul32(x1, y1, T, 6); // weight 64
  PROD[0] = T[0]!;
  // word 1 = hi(x0y0) + lo(x0y1) + lo(x1y0), carries into word 2
  const w1 = T[1]! + T[2]! + T[4]!;
  PROD[1] = w1 >>> 0;
  const carry1 = Math.floor(w1 / 0x100000000);
  const w2 = T[3]! + T[5]! + T[6]! + carry1;
  PROD[2] = w2 >>> 0;
  const carry2 = Math.floor(w2 / 0x100000000);
  PROD[3] = (T[7]! + carry2) >>> 0;
}
