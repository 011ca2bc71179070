// The browser-safe invite decoder reads exactly what core-common's encoder writes, and refuses
// what core-common's decoder refuses.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError, decodeInvite, encodeInvite } from "@conclave/core-common";
import type { Invite } from "@conclave/core-common";
import { decodeInviteCode } from "./invite.js";
import { DEFAULT_CLIENT_LIMITS } from "./limits.js";

const charsMax = DEFAULT_CLIENT_LIMITS.inviteCodeCharsMax;

function outcome(f: () => Invite): { ok: true; value: Invite } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
}

// Mostly valid invites, with some broken field or other.
const inviteArb = fc.record({
  federationId: fc.oneof(
    {
      weight: 4,
      arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString("hex")),
    },
    { weight: 1, arbitrary: fc.string() },
  ),
  name: fc.string({ maxLength: 40, unit: "grapheme" }),
  guardians: fc.array(
    fc.record({
      name: fc.string({ unit: "grapheme" }),
      api: fc.oneof({ weight: 6, arbitrary: fc.webUrl() }, { weight: 1, arbitrary: fc.string() }),
    }),
    { maxLength: 4 },
  ),
});

describe("decodeInviteCode", () => {
  it("agrees with core-common's decodeInvite on any encoded invite, valid or not", () => {
    fc.assert(
      fc.property(inviteArb, (invite) => {
        const code = encodeInvite(invite);
        const ours = outcome(() => decodeInviteCode(code, charsMax));
        const theirs = outcome(() => decodeInvite(code));
        expect(ours.ok).toBe(theirs.ok);
        if (ours.ok && theirs.ok) expect(ours.value).toEqual(theirs.value);
        if (!ours.ok) expect(ours.error).toBeInstanceOf(ConfigError);
      }),
      { numRuns: 300 },
    );
  });

  const valid = encodeInvite({
    federationId: "ab".repeat(32),
    name: "local",
    guardians: [{ name: "g0", api: "http://127.0.0.1:1" }],
  });

  it("reads a valid invite", () => {
    expect(decodeInviteCode(`  ${valid}\n`, charsMax)).toEqual(decodeInvite(valid));
  });

  it.each([
    ["a damaged body", valid.replace(/:(.)/, (_m, c: string) => `:${c === "A" ? "B" : "A"}`), /checksum/],
    ["another prefix", valid.replace(/^conclave1/, "conclave2"), /not an invite code/],
    ["a setup code", "conclave-setup1:e30:00000000", /not an invite code/],
    ["missing parts", "conclave1:abc", /not an invite code/],
  ])("refuses %s", (_what, code, message) => {
    expect(() => decodeInviteCode(code, charsMax)).toThrow(message);
    expect(() => decodeInvite(code)).toThrow(ConfigError);
  });

  it("refuses a code longer than its limit before decoding it", () => {
    expect(() => decodeInviteCode(valid, 10)).toThrow(/longer than 10 characters/);
  });
});
