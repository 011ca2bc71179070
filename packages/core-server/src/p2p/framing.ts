// Length-prefixed frames over a byte stream: a 4-byte big-endian length, then the payload.
// The decoder is pull-based (push chunks, then call next() until it returns undefined) so that
// the caller can change the size limit between two frames of the same chunk: the peer-link
// handshake accepts only a tiny first frame, then the full frame size.

export const FRAME_HEADER_BYTES = 4;
/** The largest length the 4-byte header can carry. */
export const FRAME_BYTES_LIMIT = 0xffff_ffff;

/** A peer declared a frame longer than we accept. The connection must be closed: the stream cannot resync. */
export class FrameTooLargeError extends Error {
  override readonly name = "FrameTooLargeError";

  constructor(
    readonly frameBytes: number,
    readonly frameBytesMax: number,
  ) {
    super(`a peer declared a frame of ${frameBytes} bytes; the limit is ${frameBytesMax} bytes`);
  }
}

/** Header and payload in one buffer, so that one write() puts a whole frame on the socket. */
export function encodeFrame(payload: Uint8Array): Buffer {
  if (payload.length > FRAME_BYTES_LIMIT) {
    throw new RangeError(`a frame carries at most ${FRAME_BYTES_LIMIT} bytes, got ${payload.length}`);
  }
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

export class FrameDecoder {
  /** May be changed between frames; applies to the next header read. */
  frameBytesMax: number;
  // Chunks are kept as received and copied exactly once, into the frame that needs them: no
  // re-concatenation of a growing buffer on every chunk (which is quadratic for big frames).
  private chunks: Uint8Array[] = [];
  private chunksHead = 0;
  private headOffset = 0;
  private buffered = 0;
  private bodyBytes: number | undefined;
  private failure: FrameTooLargeError | undefined;

  constructor(frameBytesMax: number) {
    if (!Number.isSafeInteger(frameBytesMax) || frameBytesMax < 0 || frameBytesMax > FRAME_BYTES_LIMIT) {
      throw new RangeError(`frameBytesMax must be an integer in [0, ${FRAME_BYTES_LIMIT}]`);
    }
    this.frameBytesMax = frameBytesMax;
  }

  /** Bytes received but not yet returned as frames. Below FRAME_HEADER_BYTES + frameBytesMax once drained. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): void {
    if (this.failure !== undefined || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * The next complete frame, undefined if more bytes are needed, or the error once a header
   * declared too long a frame (then every later call returns the same error).
   */
  next(): Uint8Array | FrameTooLargeError | undefined {
    if (this.failure !== undefined) return this.failure;
    if (this.bodyBytes === undefined) {
      if (this.buffered < FRAME_HEADER_BYTES) return undefined;
      const header = this.take(FRAME_HEADER_BYTES);
      const length = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getUint32(0);
      if (length > this.frameBytesMax) {
        this.failure = new FrameTooLargeError(length, this.frameBytesMax);
        this.chunks = [];
        this.chunksHead = 0;
        this.headOffset = 0;
        this.buffered = 0;
        return this.failure;
      }
      this.bodyBytes = length;
    }
    if (this.buffered < this.bodyBytes) return undefined;
    const frame = this.take(this.bodyBytes);
    this.bodyBytes = undefined;
    return frame;
  }

  private take(length: number): Uint8Array {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const chunk = this.chunks[this.chunksHead];
      if (chunk === undefined) throw new Error("FrameDecoder: buffered byte count out of sync with chunks");
      const n = Math.min(length - filled, chunk.length - this.headOffset);
      out.set(chunk.subarray(this.headOffset, this.headOffset + n), filled);
      filled += n;
      this.headOffset += n;
      if (this.headOffset === chunk.length) {
        this.chunksHead += 1;
        this.headOffset = 0;
      }
    }
    this.buffered -= length;
    if (this.chunksHead === this.chunks.length) {
      this.chunks = [];
      this.chunksHead = 0;
    } else if (this.chunksHead >= 64 && this.chunksHead * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.chunksHead);
      this.chunksHead = 0;
    }
    return out;
  }
}
