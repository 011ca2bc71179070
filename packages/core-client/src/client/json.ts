// JSON records in the client database: UTF-8 bytes (the wallet's schema-1 layout uses the same).
import { utf8 } from "@conclave/core-common";

export function json(value: unknown): Uint8Array {
  return utf8.encode(JSON.stringify(value));
}

export function parseJson<T>(bytes: Uint8Array): T {
  return JSON.parse(utf8.decode(bytes)) as T;
}
