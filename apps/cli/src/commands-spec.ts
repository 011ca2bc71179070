// Every command's shape: its positional arguments, its own options, and its help text. The parser
// (args.ts) and `--help` both read this table, so the help cannot drift from what is accepted.
// The CLI's own commands (the wallet as a whole: join, restore, info, balance, resume) are here;
// every other command comes from a client half the CLI is built with (`walletCommands` of
// @conclave/wallet-standard/commands: each half's `<kind>Commands`), with its parser and handler.
import { walletCommands } from "@conclave/wallet-standard/commands";
import type {
  CommandOptionSpec,
  CommandSpec as HalfCommandSpec,
  WalletCommand,
} from "@conclave/wallet-standard/commands";

export type OptionSpec = CommandOptionSpec;
export type CommandSpec = HalfCommandSpec;

export const GLOBAL_OPTIONS = {
  data: {
    type: "string",
    short: "d",
    value: "dir",
    help: "wallet directory (default: $CONCLAVE_WALLET_DIR, else ~/.conclave/wallet)",
  },
  json: { type: "boolean", help: "machine-readable output (amounts as decimal strings of base units)" },
  verbose: { type: "boolean", short: "v", help: "print stack traces of unexpected errors" },
  help: { type: "boolean", short: "h", help: "show help" },
} as const satisfies Record<string, OptionSpec>;

/**
 * The commands the CLI runs itself (they concern the wallet as a whole, not one module). The help
 * lists those of `CORE_FIRST`, then the halves' commands in the order the halves give them, then
 * those of `CORE_LAST`.
 */
const CORE_FIRST: readonly CommandSpec[] = [
  {
    name: "join",
    args: ["invite"],
    options: {
      mnemonic: {
        type: "string",
        value: "words|-",
        help: 'use this recovery phrase instead of a new one ("-" reads it from stdin)',
      },
    },
    summary: "join a federation with its invite code and create the wallet",
    details: [
      "Creates a wallet in the data directory (which must not hold one yet) for the federation of the",
      "invite code, and prints the federation, its guardians and threshold, and the wallet's new",
      "recovery phrase (mnemonic). Write the phrase down: it is printed this once, never again, and",
      "it alone restores the wallet's notes (`conclave restore`).",
    ],
    examples: ["conclave join conclave1:AbC...", "conclave --data ./bob join conclave1:AbC..."],
    movesNotes: false,
  },
  {
    name: "info",
    args: [],
    options: {},
    summary: "balance, notes per denomination, outgoing spends, pending operations, last backup",
    details: [
      "A withdrawal costs the amount, the mint's fee per note spent and a Monero fee that the guardians",
      "quote from the fee rate they agree on in consensus (each reads its own monerod): `withdraw --help`.",
    ],
    examples: ["conclave info", "conclave --json info"],
    movesNotes: false,
  },
  {
    name: "balance",
    args: [],
    options: {},
    summary: "the wallet's balance (the short form of `info`)",
    details: [],
    examples: ["conclave balance", "conclave --json balance"],
    movesNotes: false,
  },
];

const CORE_LAST: readonly CommandSpec[] = [
  {
    name: "recovery-recover",
    args: ["invite", "shards"],
    options: {
      federation: {
        type: "boolean",
        help: "also get the federation's shard: ask the guardians (first run), collect it (later runs)",
      },
      wait: { type: "boolean", help: "with --federation: wait for the release, showing how long remains" },
    },
    summary: "recover a wallet on a new device from t recovery shards (into an empty data directory)",
    details: [
      "SHARDS: the shard texts (cshard1...) separated by spaces, commas or new lines; - reads them",
      "from stdin, @FILE from a file. Shards of two sets, or a forged one, are refused and named. The",
      "recovery phrase they give is printed once (write it down); the wallet is restored from it (notes),",
      "then its state (counters, operation log, contacts) from the guardians' recovery store.",
      "Shards are made by `conclave recovery setup` (and `recovery add`).",
      "--federation: the federation's shard is one of them. The first run asks every guardian for its",
      "piece, sealed to a temporary key kept in the data directory (federation-request.json, mode 0600);",
      "each guardian releases it after the owner's delay unless the owner cancels (`recovery cancel`).",
      "Without --wait the command then ends with exit code 75 and says when to run it again; with --wait",
      "it shows how long remains and goes on once t guardians released. Give the other shards (a",
      "friend's, a printed one) each time. A cancelled request is forgotten (exit 1, request_cancelled).",
    ],
    examples: [
      "conclave --data ./new recovery recover conclave1:AbC... @shards.txt",
      "conclave --data ./new recovery recover conclave1:AbC... - < shards.txt",
      "conclave --data ./new recovery recover conclave1:AbC... cshard1... --federation --wait",
    ],
    movesNotes: true,
  },
  {
    name: "restore",
    args: ["invite"],
    options: {
      mnemonic: {
        type: "string",
        value: "words|-",
        help: 'the recovery phrase ("-" reads it from stdin); default: $CONCLAVE_MNEMONIC, else stdin',
      },
    },
    summary: "recreate a wallet from its recovery phrase into an empty data directory",
    details: [
      "Downloads the encrypted backup and asks the guardians which notes derived from the phrase were",
      "issued and are unspent. Keep the phrase out of your shell history: pipe it in, let conclave ask",
      "for it, or set CONCLAVE_MNEMONIC (e.g. `read -rs CONCLAVE_MNEMONIC; export CONCLAVE_MNEMONIC`).",
    ],
    examples: [
      "conclave --data ./restored restore conclave1:AbC...          # asks for the phrase",
      "conclave --data ./restored restore conclave1:AbC... < phrase.txt",
    ],
    movesNotes: true,
  },
  {
    name: "resume",
    args: [],
    options: {},
    summary: "finish operations that were interrupted (Ctrl-C, a crash, guardians unreachable)",
    details: ["Every command that opens the wallet also does this first."],
    examples: ["conclave resume"],
    movesNotes: true,
  },
];

export const CORE_COMMANDS: readonly CommandSpec[] = [...CORE_FIRST, ...CORE_LAST];

export type CoreCommandName = "join" | "restore" | "info" | "balance" | "resume" | "recovery-recover";

/** The command table: the CLI's own commands plus those of the halves it is built with. */
export interface CommandTable {
  readonly all: readonly CommandSpec[];
  /** A half's command by name (undefined for the CLI's own). */
  half(name: string): WalletCommand | undefined;
  spec(name: string): CommandSpec | undefined;
}

export function commandTable(halves: readonly WalletCommand[]): CommandTable {
  const names = new Set(CORE_COMMANDS.map((c) => c.name));
  for (const h of halves) {
    if (names.has(h.name)) throw new Error(`two commands are called "${h.name}"`);
    names.add(h.name);
  }
  const all = [...CORE_FIRST, ...halves, ...CORE_LAST];
  return {
    all,
    half: (name) => halves.find((h) => h.name === name),
    spec: (name) => all.find((c) => c.name === name),
  };
}

/** The table of the halves this CLI is built with. */
export const BUILT_IN = commandTable(walletCommands);

export const COMMANDS: readonly CommandSpec[] = BUILT_IN.all;

export function commandSpec(name: string): CommandSpec | undefined {
  return BUILT_IN.spec(name);
}
