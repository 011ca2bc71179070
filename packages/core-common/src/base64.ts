// Base64 (RFC 4648) by hand: core-common and the browser SDK may not use Node's Buffer, and atob/btoa
// work on binary strings. Decoders return the bytes, or the position of the first bad character.
// (Moved here from packages/wallet so that sealed messages and note strings share one codec.)

const STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function table(alphabet: string): Int16Array {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) t[alphabet.charCodeAt(i)] = i;
  return t;
}
const STD_T = table(STD);
const URL_T = table(URL);

function encode(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += alphabet[v >> 18]! + alphabet[(v >> 12) & 63]! + alphabet[(v >> 6) & 63]! + alphabet[v & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const v = bytes[i]! << 16;
    out += alphabet[v >> 18]! + alphabet[(v >> 12) & 63]! + (pad ? "==" : "");
  } else if (rest === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += alphabet[v >> 18]! + alphabet[(v >> 12) & 63]! + alphabet[(v >> 6) & 63]! + (pad ? "=" : "");
  }
  return out;
}

export type Base64Decoded =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly position: number; readonly reason: string };

function decode(text: string, t: Int16Array): Base64Decoded {
  if (text.length % 4 === 1) return { ok: false, position: text.length, reason: "impossible length" };
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? t[c]! : -1;
    if (v < 0) return { ok: false, position: i, reason: `character "${text[i]}" is not allowed` };
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Leftover bits must be zero (one encoding per byte string).
  if ((acc & ((1 << bits) - 1)) !== 0)
    return { ok: false, position: text.length - 1, reason: "non-canonical last character" };
  return { ok: true, bytes: out.subarray(0, o) };
}

export function base64UrlEncode(bytes: Uint8Array): string {
  return encode(bytes, URL, false);
}

export function base64UrlDecode(text: string): Base64Decoded {
  return decode(text, URL_T);
}

export function base64Encode(bytes: Uint8Array): string {
  return encode(bytes, STD, true);
}

export function base64Decode(text: string): Base64Decoded {
  const stripped = text.replace(/={1,2}$/, "");
  if (text.length % 4 !== 0)
    return { ok: false, position: text.length, reason: "length is not a multiple of 4" };
  return decode(stripped, STD_T);
}
