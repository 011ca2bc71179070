import { describe, expect, it } from "vitest";
import {
  ADMIN_PASSWORD_BYTES_MAX,
  hashAdminPassword,
  parseAdminPasswordHash,
  verifyAdminPassword,
} from "./admin-password.js";

const FAST = { logN: 10, r: 8, p: 1 };

describe("admin password (scrypt, PHC string)", () => {
  it("stores a salted scrypt hash in the PHC form and verifies only the right password", async () => {
    const stored = await hashAdminPassword("s3cret pass", FAST);
    expect(stored).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    const hash = parseAdminPasswordHash(stored);
    expect(await verifyAdminPassword("s3cret pass", hash)).toBe(true);
    expect(await verifyAdminPassword("s3cret pas", hash)).toBe(false);
    expect(await verifyAdminPassword("s3cret pass ", hash)).toBe(false);
    expect(await verifyAdminPassword("", hash)).toBe(false);
    expect(await verifyAdminPassword("x".repeat(ADMIN_PASSWORD_BYTES_MAX + 1), hash)).toBe(false);
  });

  it("salts: the same password hashes differently twice", async () => {
    expect(await hashAdminPassword("same", FAST)).not.toBe(await hashAdminPassword("same", FAST));
  });

  it("refuses malformed stored forms and unreasonable costs with a message", () => {
    const salt = Buffer.alloc(16, 1).toString("base64").replace(/=+$/, "");
    const key = Buffer.alloc(32, 2).toString("base64").replace(/=+$/, "");
    expect(() => parseAdminPasswordHash("hunter2")).toThrow(/\$scrypt\$ln=15/);
    expect(() => parseAdminPasswordHash(`$scrypt$ln=15,r=8,p=1$${salt}`)).toThrow(TypeError);
    expect(() => parseAdminPasswordHash(`$scrypt$ln=4,r=8,p=1$${salt}$${key}`)).toThrow(/ln must be/);
    expect(() => parseAdminPasswordHash(`$scrypt$ln=22,r=32,p=1$${salt}$${key}`)).toThrow(/memory/);
    expect(() => parseAdminPasswordHash(`$scrypt$ln=15,r=8,p=1$AAAA$${key}`)).toThrow(/salt/);
    expect(parseAdminPasswordHash(`$scrypt$ln=15,r=8,p=1$${salt}$${key}`).params).toEqual({
      logN: 15,
      r: 8,
      p: 1,
    });
  });
});
