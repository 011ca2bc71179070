import { describe, expect, it } from "vitest";
import { ConfigError } from "../federation-config.js";
import { decodeInvite, decodeSetupCode, encodeInvite, encodeSetupCode } from "./codes.js";

const code = {
  name: "alice",
  publicKey: "ab".repeat(32),
  p2p: { host: "127.0.0.1", port: 4000 },
  api: "http://127.0.0.1:5000",
  software: "0.1.0",
};

describe("setup and invite codes", () => {
  it("round-trip", () => {
    expect(decodeSetupCode(encodeSetupCode(code))).toEqual(code);
    const invite = {
      federationId: "cd".repeat(32),
      name: "local",
      guardians: [{ name: "a", api: "http://127.0.0.1:1" }],
    };
    expect(decodeInvite(encodeInvite(invite))).toEqual(invite);
  });

  it("refuse a damaged, truncated or foreign code with a message that says what to do", () => {
    const text = encodeSetupCode(code);
    const damaged = text.slice(0, 30) + (text[30] === "A" ? "B" : "A") + text.slice(31);
    expect(() => decodeSetupCode(damaged)).toThrow(/damaged \(checksum mismatch\): copy it again/);
    expect(() => decodeSetupCode(text.slice(0, -3))).toThrow(ConfigError);
    expect(() => decodeSetupCode("hello")).toThrow(/must start with "conclave-setup1:"/);
    expect(() => decodeInvite(text)).toThrow(/not an invite code: it must start with "conclave1:"/);
  });
});
