// The admin password, stored as a scrypt hash (node:crypto) in the PHC string format that passlib
// and others write for scrypt:
//
//   $scrypt$ln=<log2 N>,r=<block size>,p=<parallelism>$<salt, base64>$<derived key, base64>
//
// (standard base64 alphabet without padding). The guardian keeps only this string in its config;
// an operator makes one with `hashAdminPassword`. A presented password is run through scrypt with
// the stored parameters and the two keys are compared in constant time.
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/** ~100 ms and 32 MiB per check on a current server core: slow for guessing, fine for an admin. */
export const DEFAULT_ADMIN_SCRYPT_PARAMS: ScryptParams = { logN: 15, r: 8, p: 1 };

export interface AdminPasswordHash {
  readonly params: ScryptParams;
  readonly salt: Uint8Array;
  readonly key: Uint8Array;
}

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Bounds on what a stored hash may ask for, so that a bad config cannot make each check take minutes. */
const SCRYPT_MEMORY_BYTES_MAX = 256 * 1024 * 1024;
/** Longer presented passwords are refused before scrypt runs. */
export const ADMIN_PASSWORD_BYTES_MAX = 1024;

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64").replace(/=+$/, "");
}

function scryptMemoryBytes(params: ScryptParams): number {
  return 128 * 2 ** params.logN * params.r;
}

function checkParams(params: ScryptParams): void {
  const { logN, r, p } = params;
  if (!Number.isInteger(logN) || logN < 10 || logN > 22) throw new TypeError("scrypt ln must be in 10..22");
  if (!Number.isInteger(r) || r < 1 || r > 32) throw new TypeError("scrypt r must be in 1..32");
  if (!Number.isInteger(p) || p < 1 || p > 16) throw new TypeError("scrypt p must be in 1..16");
  if (scryptMemoryBytes(params) > SCRYPT_MEMORY_BYTES_MAX)
    throw new TypeError(`scrypt parameters need more than ${SCRYPT_MEMORY_BYTES_MAX} bytes of memory`);
}

function derive(password: string, salt: Uint8Array, params: ScryptParams, keyBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password,
      salt,
      keyBytes,
      {
        N: 2 ** params.logN,
        r: params.r,
        p: params.p,
        maxmem: 2 * scryptMemoryBytes(params),
      },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/** Make the stored form of an admin password (operator tooling and tests). */
export async function hashAdminPassword(
  password: string,
  params: ScryptParams = DEFAULT_ADMIN_SCRYPT_PARAMS,
): Promise<string> {
  checkParams(params);
  if (password.length === 0) throw new TypeError("the admin password must not be empty");
  const salt = new Uint8Array(randomBytes(SALT_BYTES));
  const key = await derive(password, salt, params, KEY_BYTES);
  return `$scrypt$ln=${params.logN},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

/** Parse the stored form; throws a TypeError that says what is wrong (a config error: fail at start). */
export function parseAdminPasswordHash(stored: string): AdminPasswordHash {
  const m = PHC.exec(stored);
  if (!m)
    throw new TypeError(
      "the admin password hash must look like $scrypt$ln=15,r=8,p=1$<salt>$<key> (make one with hashAdminPassword)",
    );
  const params = { logN: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  checkParams(params);
  const salt = new Uint8Array(Buffer.from(m[4]!, "base64"));
  const key = new Uint8Array(Buffer.from(m[5]!, "base64"));
  if (salt.length < 16 || salt.length > 64)
    throw new TypeError("the admin password salt must be 16..64 bytes");
  if (key.length < 16 || key.length > 64) throw new TypeError("the admin password key must be 16..64 bytes");
  return { params, salt, key };
}

/** Whether `password` is the admin password. Runs scrypt once; the comparison takes constant time. */
export async function verifyAdminPassword(password: string, hash: AdminPasswordHash): Promise<boolean> {
  if (password.length === 0 || Buffer.byteLength(password, "utf8") > ADMIN_PASSWORD_BYTES_MAX) return false;
  const key = await derive(password, hash.salt, hash.params, hash.key.length);
  return timingSafeEqual(key, hash.key);
}
