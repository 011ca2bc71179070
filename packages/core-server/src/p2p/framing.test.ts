import { describe, expect, it } from "vitest";
import { encodeFrame, FrameDecoder, FrameTooLargeError } from "./framing.js";

function drain(decoder: FrameDecoder): (Uint8Array | FrameTooLargeError)[] {
  const out: (Uint8Array | FrameTooLargeError)[] = [];
  for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
    out.push(frame);
    if (frame instanceof FrameTooLargeError) break;
  }
  return out;
}

describe("frame decoder", () => {
  it("decodes frames split at every byte boundary and several frames in one chunk", () => {
    const payloads = [Uint8Array.of(), Uint8Array.of(1), Uint8Array.from({ length: 300 }, (_, i) => i % 251)];
    const stream = Buffer.concat(payloads.map(encodeFrame));
    for (let step = 1; step <= stream.length; step++) {
      const decoder = new FrameDecoder(1000);
      const frames: (Uint8Array | FrameTooLargeError)[] = [];
      for (let at = 0; at < stream.length; at += step) {
        decoder.push(stream.subarray(at, at + step));
        frames.push(...drain(decoder));
      }
      expect(frames).toEqual(payloads);
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it("refuses a frame whose declared length exceeds frameBytesMax before its body arrives", () => {
    const decoder = new FrameDecoder(10);
    decoder.push(Buffer.concat([encodeFrame(Uint8Array.of(7)), Uint8Array.of(0, 0, 0, 11)]));
    const [first, second] = drain(decoder);
    expect(first).toEqual(Uint8Array.of(7));
    expect(second).toBeInstanceOf(FrameTooLargeError);
    expect(second).toMatchObject({ frameBytes: 11, frameBytesMax: 10 });
    decoder.push(Uint8Array.of(1, 2, 3));
    expect(decoder.next()).toBe(second);
  });

  it("applies a raised limit from the next frame on, within the same chunk", () => {
    const decoder = new FrameDecoder(1);
    decoder.push(Buffer.concat([encodeFrame(Uint8Array.of(1)), encodeFrame(new Uint8Array(50))]));
    expect(decoder.next()).toEqual(Uint8Array.of(1));
    decoder.frameBytesMax = 100;
    expect(decoder.next()).toEqual(new Uint8Array(50));
  });

  it("copies a large frame arriving in many small chunks once, in linear time", () => {
    const payload = Buffer.alloc(8 * 1024 * 1024, "conclave");
    const stream = encodeFrame(payload);
    const decoder = new FrameDecoder(payload.length);
    const started = performance.now();
    for (let at = 0; at < stream.length; at += 1024) decoder.push(stream.subarray(at, at + 1024));
    const frame = decoder.next();
    // 8192 chunks: a quadratic decoder copies ~32 GiB here and takes minutes.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(frame instanceof Uint8Array && Buffer.from(frame).equals(payload)).toBe(true);
  });
});
