// A client half the CLI has never seen brings its own command: it appears in the help, parses its
// arguments with the CLI's parsers, runs against the wallet facade, emits events the CLI shows as
// they happen, and its usage errors exit 2 like the built-in commands'. (The wallet here is an
// in-memory WalletApi, as in run.test.ts; the built-in halves' commands run against real guardians
// in cli-federation.test.ts.)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { NodeWalletEntry, WalletApi, WalletInfo } from "@conclave/wallet-standard";
import { CommandUsageError, clientCommand, walletCommands } from "@conclave/wallet-standard/commands";
import type { ClientCommand } from "@conclave/wallet-standard/commands";
import { commandTable } from "./commands-spec.js";
import type { CliIo } from "./io.js";
import { runCli } from "./run.js";

const root = mkdtempSync(join(tmpdir(), "conclave-cli-half-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What the half's command needs of the wallet: only `info`. */
interface TipApi {
  info(): Promise<WalletInfo>;
}

/** A half's command: "tip AMOUNT [--to NAME]": says whether the balance covers the tip. */
const tipCommands: readonly ClientCommand<TipApi>[] = [
  clientCommand({
    name: "tip",
    args: ["amount"],
    options: { to: { type: "string", value: "name", help: "who gets the tip" } },
    summary: "check whether the balance covers a tip",
    details: ["A command of a half the CLI was not written for."],
    examples: ["conclave tip 0.1 --to alice"],
    movesNotes: false,
    parse: (p, v, parsers) => {
      const to = v["to"];
      if (to === "") throw new CommandUsageError("--to is empty");
      return { amount: parsers.amount(p[0]!), to: typeof to === "string" ? to : "anyone" };
    },
    run: async (api: TipApi, a, ctx) => {
      ctx.emit({ type: "checking", value: a.to });
      const { balance } = await api.info();
      return { to: a.to, amount: a.amount, covered: balance >= a.amount };
    },
  }),
];

const halves = [...walletCommands, ...tipCommands];

/** Every method but `info` and `close` fails: this test's command must not call them. */
const unused = (name: string) => () => Promise.reject(new Error(`the tip command called ${name}`));

const walletApi: WalletApi = {
  info: () =>
    Promise.resolve({
      federationId: "ab".repeat(32),
      federationName: "local",
      guardians: [],
      threshold: 1,
      balance: 5n,
      notes: [],
      outgoing: [],
      pendingOperations: 0,
      feePerNote: 0n,
      denominationsLog2: [0],
    }),
  close: () => Promise.resolve(),
  devFaucet: unused("devFaucet"),
  spend: unused("spend"),
  cancel: unused("cancel"),
  reissue: unused("reissue"),
  split: unused("split"),
  combine: unused("combine"),
  validate: unused("validate"),
  backup: unused("backup"),
  claimDeposit: unused("claimDeposit"),
  depositAddress: unused("depositAddress"),
  receiveDeposits: unused("receiveDeposits"),
  sealClaim: unused("sealClaim"),
  waitDeposit: unused("waitDeposit"),
  relaySealed: unused("relaySealed"),
  withdraw: unused("withdraw"),
  withdrawals: unused("withdrawals"),
  bridgeMint: unused("bridgeMint"),
  bridgeMintFromDeposit: unused("bridgeMintFromDeposit"),
  bridgeSealDepositMint: unused("bridgeSealDepositMint"),
  bridgeSubmit: unused("bridgeSubmit"),
  bridgeBurn: unused("bridgeBurn"),
  bridgeRedeem: unused("bridgeRedeem"),
  bridgeRefund: unused("bridgeRefund"),
  bridgeFindMints: unused("bridgeFindMints"),
  bridgeStatus: unused("bridgeStatus"),
  contactCard: unused("contactCard"),
  addContact: unused("addContact"),
  contacts: unused("contacts"),
  sendLetter: unused("sendLetter"),
  readInbox: unused("readInbox"),
  recoverySetup: unused("recoverySetup"),
  recoveryAdd: unused("recoveryAdd"),
  recoveryRequests: unused("recoveryRequests"),
  cancelRecoveryRequests: unused("cancelRecoveryRequests"),
  storeState: unused("storeState"),
  restoreState: unused("restoreState"),
  resume: unused("resume"),
  watchUntil: unused("watchUntil"),
};

const entry: NodeWalletEntry = {
  openWallet: () => Promise.resolve(walletApi),
  joinWallet: () => Promise.reject(new Error("not in this test")),
  restoreWallet: () => Promise.reject(new Error("not in this test")),
  relaySealed: () => Promise.reject(new Error("not in this test")),
  recoverSecret: () => Promise.reject(new Error("not in this test")),
  requestFederationShard: () => Promise.reject(new Error("not in this test")),
  waitFederationShard: () => Promise.reject(new Error("not in this test")),
};

async function cli(argv: string[], commands: readonly ClientCommand<WalletApi>[] = halves) {
  const cap = { out: "", err: "" };
  const io: CliIo = {
    stdout: (t) => void (cap.out += t),
    stderr: (t) => void (cap.err += t),
    env: {},
    homeDir: join(root, "home"),
    stdinIsTty: false,
    stdoutIsTty: false,
    readStdin: () => Promise.resolve(""),
    promptLine: () => Promise.resolve(""),
    readFile: () => Promise.reject(new Error("no files here")),
    onInterrupt: () => () => {},
    exit: (code) => {
      throw new Error(`exit ${code}`);
    },
  };
  const code = await runCli(argv, io, () => Promise.resolve(entry), commands);
  return { code, ...cap };
}

function walletDir(): string {
  const dir = join(root, "wallet");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "data.mdb"), "");
  return dir;
}

describe("a half's own command", () => {
  it("is listed in the help with its summary, and has its own help page", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/\n {2}tip +check whether the balance covers a tip\n/);
    const without = await cli(["--help"], walletCommands);
    expect(without.out).not.toContain("tip");
    const page = await cli(["tip", "--help"]);
    expect(page.code).toBe(0);
    expect(page.out).toContain("Usage: conclave [options] tip AMOUNT [--to <name>]");
    expect(page.out).toContain("--to <name>");
    expect(page.out).toContain("conclave tip 0.1 --to alice");
  });

  it("runs against the wallet: its events as they happen, then its result", async () => {
    const dir = walletDir();
    const human = await cli(["--data", dir, "tip", "3p", "--to", "alice"]);
    expect(human).toMatchObject({ code: 0, err: "" });
    expect(human.out).toBe(
      'checking: "alice"\n{\n  "to": "alice",\n  "amount": "3",\n  "covered": true\n}\n',
    );
    const json = await cli(["--data", dir, "--json", "tip", "6p"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toEqual({ to: "anyone", amount: "6", covered: false });
    expect(json.err).toBe('{"checking":"anyone"}\n');
  });

  it("gets the CLI's usage errors (exit 2, pointing at its --help), from the CLI's parsers and its own", async () => {
    const dir = walletDir();
    const missing = await cli(["--data", dir, "tip"]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/missing AMOUNT.*conclave tip --help/);
    const comma = await cli(["--data", dir, "tip", "1,5"]);
    expect(comma.code).toBe(2);
    expect(comma.err).toMatch(/comma.*conclave tip --help/);
    const own = await cli(["--data", dir, "tip", "1p", "--to", ""]);
    expect(own.code).toBe(2);
    expect(own.err).toMatch(/--to is empty.*conclave tip --help/);
    expect((await cli(["--data", dir, "tpi", "1p"])).err).toContain('did you mean "tip"');
  });

  it("is listed in the order the halves give their commands, between the CLI's own", () => {
    const table = commandTable([...walletCommands, ...tipCommands]);
    const halves = [...walletCommands, ...tipCommands].map((c) => c.name);
    expect(table.all.map((c) => c.name)).toEqual([
      "join",
      "info",
      "balance",
      ...halves,
      "recovery-recover",
      "restore",
      "resume",
    ]);
  });

  it("cannot take the name of another command", () => {
    const clash = clientCommand({ ...tipCommands[0]!, name: "spend" });
    expect(() => commandTable([...walletCommands, clash])).toThrow('two commands are called "spend"');
    expect(() => commandTable([...walletCommands, { ...clash, name: "info" }])).toThrow(
      'two commands are called "info"',
    );
  });
});
