import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CodecError, Reader, Writer } from "./codec.js";
import { fromHex, toHex } from "./bytes.js";

describe("binary codec", () => {
  it("round-trips any sequence of integers and byte strings", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.maxSafeNat(),
        fc.uint8Array({ maxLength: 300 }),
        (a, b, c, d, bytes) => {
          const enc = new Writer(1).u8(a).u16(b).u32(c).u64(d).bytes(bytes).finish();
          const r = new Reader(enc);
          expect([r.u8(), r.u16(), r.u32(), r.u64(), toHex(r.bytes(300))]).toEqual([
            a,
            b,
            c,
            d,
            toHex(bytes),
          ]);
          r.end();
        },
      ),
    );
  });

  it("refuses truncated input, oversized fields and trailing bytes with a CodecError", () => {
    const enc = new Writer().bytes(new Uint8Array(10)).finish();
    expect(() => new Reader(enc.subarray(0, 8)).bytes(100)).toThrow(CodecError);
    expect(() => new Reader(enc).bytes(9)).toThrow(/exceeds limit/);
    const r = new Reader(new Uint8Array([1, 2]));
    r.u8();
    expect(() => r.end()).toThrow(/trailing/);
    expect(() => new Reader(new Uint8Array(8).fill(0xff)).u64()).toThrow(/above 2\^53/);
  });

  it("parses hex strictly", () => {
    expect(toHex(fromHex("00ff10"))).toBe("00ff10");
    expect(() => fromHex("0")).toThrow(TypeError);
    expect(() => fromHex("zz")).toThrow(TypeError);
  });
});
