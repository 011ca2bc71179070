import { describe, expect, it } from "vitest";
import { parseInvocation } from "./args.js";
import type { Invocation } from "./args.js";
import { COMMANDS } from "./commands-spec.js";
import { UsageError } from "./usage-error.js";

const parse = (...argv: string[]): Invocation => parseInvocation(argv);

function usage(...argv: string[]): UsageError {
  try {
    parseInvocation(argv);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`expected a UsageError for ${argv.join(" ")}`);
}

describe("parseInvocation: commands", () => {
  it("parses each command's arguments into typed values", () => {
    expect(parse("join", "conclave1:abc").command).toEqual({ name: "join", invite: "conclave1:abc" });
    expect(parse("join", "conclave1:abc", "--mnemonic", " a  b c ").command).toEqual({
      name: "join",
      invite: "conclave1:abc",
      mnemonic: { kind: "words", words: "a b c" },
    });
    expect(parse("info").command).toEqual({ name: "info" });
    expect(parse("dev-faucet", "1.5").command).toEqual({ name: "dev-faucet", amount: 1_500_000_000_000n });
    expect(parse("spend", "250p").command).toEqual({ name: "spend", amount: 250n });
    expect(parse("cancel", "abc123").command).toEqual({ name: "cancel", spendId: "abc123" });
    expect(parse("split", "2^20", "4").command).toEqual({ name: "split", denominationLog2: 20, count: 4 });
    expect(parse("combine").command).toEqual({ name: "combine" });
    expect(parse("backup").command).toEqual({ name: "backup" });
    expect(parse("resume").command).toEqual({ name: "resume" });
    expect(parse("restore", "conclave1:abc").command).toEqual({ name: "restore", invite: "conclave1:abc" });
  });

  it("parses withdraw's Monero address (95 or 106 base58 characters) and amount", () => {
    const address = `4${"A".repeat(94)}`;
    const integrated = `4${"B".repeat(105)}`;
    expect(parse("withdraw", ` ${address} `, "0.25").command).toEqual({
      name: "withdraw",
      address,
      amount: 250_000_000_000n,
    });
    expect(parse("withdraw", integrated, "7p").command).toEqual({
      name: "withdraw",
      address: integrated,
      amount: 7n,
    });
    for (const bad of ["4abc", `4${"A".repeat(95)}`, `4${"0".repeat(94)}`, `4${"l".repeat(94)}`]) {
      const e = usage("withdraw", bad, "1");
      expect(e.message).toMatch(/ADDRESS is a Monero address/);
      expect(e.command).toBe("withdraw");
    }
    expect(usage("withdraw", address).message).toMatch(/missing AMOUNT/);
  });

  it("reads a note string argument as text, '-' as stdin and '@path' as a file", () => {
    expect(parse("reissue", "cnotes1xyz").command).toEqual({
      name: "reissue",
      notes: { kind: "text", text: "cnotes1xyz" },
    });
    expect(parse("reissue", "-").command).toEqual({ name: "reissue", notes: { kind: "stdin" } });
    expect(parse("reissue", "@notes.txt").command).toEqual({
      name: "reissue",
      notes: { kind: "file", path: "notes.txt" },
    });
    expect(parse("validate", "--online", "-").command).toEqual({
      name: "validate",
      notes: { kind: "stdin" },
      online: true,
    });
    expect(parse("validate", "cnotes1xyz").command).toMatchObject({ online: false });
  });

  it("reads '--mnemonic -' as: take the phrase from stdin", () => {
    expect(parse("restore", "conclave1:abc", "--mnemonic", "-").command).toEqual({
      name: "restore",
      invite: "conclave1:abc",
      mnemonic: { kind: "stdin" },
    });
    expect(parse("restore", "conclave1:abc", "--mnemonic=-").command).toMatchObject({
      mnemonic: { kind: "stdin" },
    });
  });
});

describe("parseInvocation: global options", () => {
  it("accepts --data, --json and --verbose before or after the command", () => {
    expect(parse("--data", "/w", "--json", "info").global).toEqual({
      data: "/w",
      json: true,
      verbose: false,
    });
    expect(parse("info", "--data", "/w", "--json", "--verbose").global).toEqual({
      data: "/w",
      json: true,
      verbose: true,
    });
    expect(parse("-d", "/w", "info").global).toMatchObject({ data: "/w" });
    expect(parse("--data=/w", "spend", "1").global).toMatchObject({ data: "/w" });
    expect(parse("info").global).toEqual({ json: false, verbose: false });
  });

  it("lets the option after the command win when --data is given twice", () => {
    expect(parse("--data", "/a", "info", "--data", "/b").global.data).toBe("/b");
  });

  it("turns --help anywhere, and `help <command>`, into the help of that command", () => {
    expect(parse("--help").command).toEqual({ name: "help" });
    expect(parse("-h").command).toEqual({ name: "help" });
    expect(parse("help").command).toEqual({ name: "help" });
    expect(parse("help", "spend").command).toEqual({ name: "help", topic: "spend" });
    expect(parse("spend", "--help").command).toEqual({ name: "help", topic: "spend" });
    expect(parse("--help", "spend").command).toEqual({ name: "help", topic: "spend" });
    // --help wins over arguments that would not parse: the user is asking how to write them.
    expect(parse("spend", "nonsense", "-h").command).toEqual({ name: "help", topic: "spend" });
  });

  it("gives every command a help page", () => {
    for (const c of COMMANDS)
      expect(parse(c.name, "--help").command).toEqual({ name: "help", topic: c.name });
  });
});

describe("parseInvocation: usage errors", () => {
  it.each([
    [[], "no command given"],
    [["--json"], "no command given"],
    [["pay", "1"], 'unknown command "pay"'],
    [["spnd", "1"], 'unknown command "spnd"'],
    [["help", "pay"], 'unknown command "pay"'],
    [["info", "--bogus"], "Unknown option '--bogus'"],
    [["--bogus", "info"], "Unknown option '--bogus'"],
    [["info", "extra"], 'unexpected argument "extra"'],
    [["spend"], "missing AMOUNT"],
    [["spend", "1", "2"], 'unexpected argument "2"'],
    [["spend", "1,5"], "uses a comma"],
    [["spend", "0"], "more than zero"],
    [["dev-faucet", "lots"], "not a number"],
    [["split", "2^20"], "missing COUNT"],
    [["split"], "missing DENOMINATION and COUNT"],
    [["split", "3p", "2"], "not a power of two"],
    [["split", "2^20", "0"], "from 1 to"],
    [["join"], "missing INVITE"],
    [["join", "  "], "INVITE is empty"],
    [["join", "conclave1:x", "--mnemonic"], "argument missing"],
    [["join", "conclave1:x", "--mnemonic", "  "], "--mnemonic is empty"],
    [["join", "conclave1:x", "abandon", "ability"], "quote the words"],
    [["restore"], "missing INVITE"],
    [["cancel"], "missing SPEND-ID"],
    [["reissue"], "missing NOTES"],
    [["reissue", "@"], '"@" needs a file name'],
    [["reissue", " "], "NOTES is empty"],
    [["validate", "x", "--offline"], "Unknown option '--offline'"],
    [["info", "--online"], "Unknown option '--online'"],
    [["info", "--data"], "argument missing"],
    [["--data", "", "info"], "--data needs a directory"],
    [["info", "--json=yes"], "--json"],
  ])("%j is a usage error: %s", (argv, message) => {
    expect(usage(...argv).message).toContain(message);
  });

  it("names the command whose --help shows the right form", () => {
    expect(usage("spend", "1,5").command).toBe("spend");
    expect(usage("split", "3p", "1").command).toBe("split");
    expect(usage("info", "--bogus").command).toBe("info");
    expect(usage("pay").command).toBeUndefined();
  });

  it("suggests the command meant by a near miss", () => {
    expect(usage("spnd", "1").message).toContain('did you mean "spend"');
    expect(usage("reissu", "x").message).toContain('did you mean "reissue"');
  });

  it("refuses an argument past the length limit instead of parsing it", () => {
    expect(usage("reissue", "c".repeat(1_000_001)).message).toContain("longer than");
  });
});
