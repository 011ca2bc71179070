import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sha256 } from "@noble/hashes/sha2.js";
import { Writer, concatBytes, toHex, utf8 } from "@conclave/core-common";
import { base64UrlDecode, base64UrlEncode } from "./base64.js";
import { WalletError } from "@conclave/core-client";
import { NOTES_PER_STRING_MAX, NOTES_PREFIX, decodeNoteString, encodeNoteString } from "./note-string.js";
import type { NoteString } from "./note-string.js";

const FED = toHex(new Uint8Array(32).fill(7));
const note = (log2: number, fill: number) => ({
  denominationLog2: log2,
  spendSeed: new Uint8Array(32).fill(fill),
  signature: new Uint8Array(48).fill(fill ^ 0xff),
});
const sample: NoteString = { federationId: FED, notes: [note(20, 1), note(21, 2), note(45, 3)] };

function problemOf(text: string): { problem: unknown; message: string } {
  try {
    decodeNoteString(text);
  } catch (e) {
    if (e instanceof WalletError && e.code === "malformed_notes")
      return { problem: e.details["problem"], message: e.message };
    throw e;
  }
  throw new Error("decoded");
}

/** A string with a valid checksum over any body (to reach the checks behind the checksum). */
function withChecksum(body: Uint8Array): string {
  const sum = sha256.create().update(utf8.encode("conclave/notes")).update(body).digest().subarray(0, 4);
  return NOTES_PREFIX + base64UrlEncode(concatBytes(body, sum));
}

const noteArb = fc.record({
  denominationLog2: fc.integer({ min: 0, max: 62 }),
  spendSeed: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  signature: fc.uint8Array({ minLength: 48, maxLength: 48 }),
});
const stringArb = fc.record({
  federationId: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex),
  notes: fc.array(noteArb, { minLength: 1, maxLength: 20 }),
});

describe("note string", () => {
  it("round-trips federation and notes, starting with the versioned prefix", () => {
    const text = encodeNoteString(sample);
    expect(text.startsWith("cnotes1")).toBe(true);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeNoteString(text)).toEqual(sample);
  });

  it("round-trips any notes (property)", () => {
    fc.assert(
      fc.property(stringArb, (s) => {
        expect(decodeNoteString(encodeNoteString(s))).toEqual(s);
      }),
    );
  });

  it("survives line breaks and spaces inserted when pasting", () => {
    const text = encodeNoteString(sample);
    const broken = `  ${text.slice(0, 40)}\n${text.slice(40, 90)} \r\n\t${text.slice(90)}\n`;
    expect(decodeNoteString(broken)).toEqual(sample);
  });

  it("detects any single changed character (property)", () => {
    const text = encodeNoteString(sample);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    fc.assert(
      fc.property(
        fc.integer({ min: NOTES_PREFIX.length, max: text.length - 1 }),
        fc.integer({ min: 1, max: 63 }),
        (pos, shift) => {
          const c = alphabet[(alphabet.indexOf(text[pos]!) + shift) % 64]!;
          const changed = text.slice(0, pos) + c + text.slice(pos + 1);
          expect(() => decodeNoteString(changed)).toThrow(WalletError);
        },
      ),
    );
  });

  it("names each malformation: empty, prefix, unknown version prefix, character, length, checksum", () => {
    const text = encodeNoteString(sample);
    expect(problemOf("").message).toMatch(/empty/);
    expect(problemOf("hello").problem).toBe("prefix");
    expect(problemOf("cnotes2" + text.slice(7)).message).toMatch(/version this wallet does not know/);
    const bad = problemOf(text.slice(0, 20) + "!" + text.slice(21));
    expect(bad.problem).toBe("encoding");
    expect(bad.message).toMatch(/at character 21: character "!" is not allowed/);
    expect(problemOf(text.slice(0, 30)).message).toMatch(/too short/);
    expect(problemOf(text.slice(0, NOTES_PREFIX.length + 76)).problem).toBe("checksum");
    expect(problemOf(NOTES_PREFIX + "AAAA").problem).toBe("length");
    expect(problemOf(text.slice(0, -4)).problem).toBe("checksum");
    expect(problemOf(NOTES_PREFIX + "A".repeat(200_000)).problem).toBe("length");
  });

  it("names an unknown version and a count that does not match the bytes, behind a valid checksum", () => {
    const body = (version: number, count: number, notes: number) => {
      const w = new Writer().u8(version).fixed(new Uint8Array(32), 32).u16(count);
      for (let i = 0; i < notes; i++) w.u8(20).fixed(new Uint8Array(32), 32).fixed(new Uint8Array(48), 48);
      return w.finish();
    };
    expect(problemOf(withChecksum(body(2, 1, 1)))).toMatchObject({
      problem: "version",
      message: expect.stringMatching(/version 2 is not supported/) as unknown,
    });
    expect(problemOf(withChecksum(body(1, 2, 1)))).toMatchObject({
      problem: "length",
      message: expect.stringMatching(/holds 2 notes but has 81 bytes/) as unknown,
    });
    expect(problemOf(withChecksum(body(1, 0, 0))).problem).toBe("length");
    expect(decodeNoteString(withChecksum(body(1, 1, 1))).notes).toHaveLength(1);
  });

  it("refuses to encode no notes or more than the maximum", () => {
    expect(() => encodeNoteString({ federationId: FED, notes: [] })).toThrow(RangeError);
    const many = Array.from({ length: NOTES_PER_STRING_MAX + 1 }, () => note(20, 1));
    expect(() => encodeNoteString({ federationId: FED, notes: many })).toThrow(RangeError);
  });
});

describe("base64url", () => {
  it("round-trips any bytes and refuses non-canonical endings (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const d = base64UrlDecode(base64UrlEncode(bytes));
        expect(d.ok && toHex(d.bytes)).toBe(toHex(bytes));
      }),
    );
    expect(base64UrlDecode("AB").ok).toBe(false); // last character carries non-zero spare bits
    expect(base64UrlDecode("AA").ok).toBe(true);
  });
});
