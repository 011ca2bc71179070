// A minimal binary codec for messages between guardians. Hand-written because every byte a
// peer sends must be bounds-checked before it is trusted, and because the encodings are hashed
// and signed: one canonical encoding per value, no optional fields, no maps.

export class CodecError extends Error {
  override readonly name = "CodecError";
}

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.reserve(1);
    this.view.setUint8(this.pos, v);
    this.pos += 1;
    return this;
  }

  u16(v: number): this {
    this.reserve(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
    return this;
  }

  u32(v: number): this {
    this.reserve(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
    return this;
  }

  /** An unsigned integer below 2^53, written as 8 bytes big-endian. */
  u64(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new CodecError(`u64 out of range: ${v}`);
    this.reserve(8);
    this.view.setBigUint64(this.pos, BigInt(v));
    this.pos += 8;
    return this;
  }

  /** A money amount or any unsigned 64-bit value, as a bigint. */
  u64big(v: bigint): this {
    if (v < 0n || v > 0xffffffffffffffffn) throw new CodecError(`u64 out of range: ${v}`);
    this.reserve(8);
    this.view.setBigUint64(this.pos, v);
    this.pos += 8;
    return this;
  }

  /** Fixed-length bytes: the length is part of the schema, not of the encoding. */
  fixed(bytes: Uint8Array, length: number): this {
    if (bytes.length !== length) throw new CodecError(`expected ${length} bytes, got ${bytes.length}`);
    this.reserve(length);
    this.buf.set(bytes, this.pos);
    this.pos += length;
    return this;
  }

  /** Variable-length bytes with a u32 length prefix. */
  bytes(bytes: Uint8Array): this {
    this.u32(bytes.length);
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export class Reader {
  private readonly view: DataView;
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new CodecError(`truncated: need ${n} bytes at offset ${this.pos}, have ${this.remaining}`);
    }
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.pos++);
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CodecError(`u64 above 2^53: ${v}`);
    return Number(v);
  }

  u64big(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  fixed(length: number): Uint8Array {
    this.need(length);
    const out = this.buf.slice(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  /** Variable-length bytes, refused when longer than `maxBytes` before anything is copied. */
  bytes(maxBytes: number): Uint8Array {
    const length = this.u32();
    if (length > maxBytes) throw new CodecError(`field of ${length} bytes exceeds limit ${maxBytes}`);
    return this.fixed(length);
  }

  /** A u32 element count, refused when above `max`. */
  count(max: number): number {
    const n = this.u32();
    if (n > max) throw new CodecError(`count ${n} exceeds limit ${max}`);
    return n;
  }

  /** Every decoder ends with this: trailing bytes would make two encodings of one value. */
  end(): void {
    if (this.pos !== this.buf.length) throw new CodecError(`${this.remaining} trailing bytes`);
  }
}
