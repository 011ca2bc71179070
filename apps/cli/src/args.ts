// The command line, parsed and validated with node:util parseArgs before anything touches the
// wallet. Global options may come before or after the command. Every mistake is a UsageError
// (exit 2) that names the command whose --help shows the right form.
//
// Libraries weighed (issue 12): the tokenizing is a library's already, Node's own parseArgs (no
// dependency). commander 15 would add subcommands and help, but it exits the process and prints its
// own error and help formats unless each is overridden, and knows no amounts; the command table
// (commands-spec.ts) with parseArgs keeps exit 2, one-line errors naming the command's --help and
// "did you mean" as the CLI tests pin them. citty 0.2 (still 0.x) offers the same with fewer
// hooks. So this file keeps parseArgs plus the table: what it writes by hand is the per-command
// validation (amounts, counts, note sources) that neither library does.
import { parseArgs } from "node:util";
import { parseAmountArg, parseCountArg, parseDenominationArg } from "./amount-arg.js";
import { CommandUsageError } from "@conclave/wallet-standard/commands";
import type { CommandInput, CommandInputNames, CommandParsers } from "@conclave/wallet-standard/commands";
import { BUILT_IN, GLOBAL_OPTIONS } from "./commands-spec.js";
import type { CommandSpec, CommandTable, OptionSpec } from "./commands-spec.js";
import { UsageError } from "./usage-error.js";

export interface GlobalOptions {
  readonly data?: string;
  readonly json: boolean;
  readonly verbose: boolean;
}

/** Where a note string comes from. */
export type NotesSource = CommandInput;

/** "-" means stdin; absent means: not given on the command line. */
export type MnemonicSource = { readonly kind: "words"; readonly words: string } | { readonly kind: "stdin" };

/** The CLI's own commands. */
export type CoreCommand =
  | { readonly name: "help"; readonly topic?: string }
  | { readonly name: "join"; readonly invite: string; readonly mnemonic?: MnemonicSource }
  | { readonly name: "restore"; readonly invite: string; readonly mnemonic?: MnemonicSource }
  | { readonly name: "info" }
  | { readonly name: "balance" }
  | { readonly name: "resume" }
  | {
      readonly name: "recovery-recover";
      readonly invite: string;
      readonly shards: NotesSource;
      /** Also the federation's shard: request it (or collect the request this directory keeps). */
      readonly federation: boolean;
      /** Wait for the federation's release instead of ending with "pending". */
      readonly wait: boolean;
    };

/** A half's command: its name and what the half's `parse` made of the command line. */
export interface HalfCommandLine {
  readonly name: string;
  readonly [field: string]: unknown;
}

export type Command = CoreCommand | HalfCommandLine;

const CORE_NAMES: ReadonlySet<string> = new Set([
  "help",
  "join",
  "restore",
  "info",
  "balance",
  "resume",
  "recovery-recover",
]);

export function isCoreCommand(command: Command): command is CoreCommand {
  return CORE_NAMES.has(command.name);
}

export interface Invocation {
  readonly global: GlobalOptions;
  readonly command: Command;
}

/** Longest argument accepted (a note string of many notes is long, but not unbounded). */
export const ARG_CHARS_MAX = 1_000_000;

type ParseArgsOptions = Record<string, { type: "string" | "boolean"; short?: string }>;

function toParseArgs(specs: Readonly<Record<string, OptionSpec>>): ParseArgsOptions {
  const out: ParseArgsOptions = {};
  for (const [name, s] of Object.entries(specs)) {
    out[name] = s.short === undefined ? { type: s.type } : { type: s.type, short: s.short };
  }
  return out;
}

/** Index of the command word: the first argument that is neither an option nor an option's value. */
function commandIndex(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") return i + 1 < argv.length ? i + 1 : -1;
    if (a === "--data" || a === "-d") {
      i++;
      continue;
    }
    if (a.startsWith("-") && a !== "-") continue;
    return i;
  }
  return -1;
}

export function parseInvocation(argv: readonly string[], table: CommandTable = BUILT_IN): Invocation {
  for (const a of argv) {
    if (a.length > ARG_CHARS_MAX) {
      throw new UsageError(`an argument is longer than ${ARG_CHARS_MAX} characters; pass it with @FILE or -`);
    }
  }
  let at = commandIndex(argv);
  const before = at < 0 ? argv : argv.slice(0, at);
  const pre = parse(
    before.filter((a) => a !== "--"),
    toParseArgs(GLOBAL_OPTIONS),
    undefined,
    false,
  );
  if (at < 0) {
    const global = globalsOf(pre.values);
    if (pre.values["help"] === true) return { global, command: { name: "help" } };
    throw new UsageError("no command given");
  }
  const word = twoWords(argv, at, table);
  if (word !== argv[at]) at++;
  if (word === "help") {
    const topic = argv[at + 1] === undefined ? undefined : twoWords(argv, at + 1, table);
    if (topic !== undefined && !table.spec(topic)) throw new UsageError(`unknown command "${topic}"`);
    return {
      global: globalsOf(pre.values),
      command: topic === undefined ? { name: "help" } : { name: "help", topic },
    };
  }
  const spec = table.spec(word);
  if (!spec) throw new UsageError(unknownCommandMessage(word, table));
  const rest = parse(
    argv.slice(at + 1),
    { ...toParseArgs(GLOBAL_OPTIONS), ...toParseArgs(spec.options) },
    spec.name,
    true,
  );
  const global = globalsOf({ ...pre.values, ...definedOnly(rest.values) });
  if (rest.values["help"] === true || pre.values["help"] === true) {
    return { global, command: { name: "help", topic: spec.name } };
  }
  return { global, command: buildCommand(spec, rest.positionals, rest.values, table) };
}

/**
 * Two-word commands (`inbox send`, `recovery setup`) are declared as `inbox-send`, `recovery-setup`:
 * the word at `at` joined to the next one when that names a command and the word alone does not.
 */
function twoWords(argv: readonly string[], at: number, table: CommandTable): string {
  const word = argv[at]!;
  const next = argv[at + 1];
  if (next === undefined || table.spec(word)) return word;
  return table.spec(`${word}-${next}`) ? `${word}-${next}` : word;
}

/** The second words of a two-word command group (`inbox` -> send, read), for its usage error. */
function groupWords(word: string, table: CommandTable): string[] {
  return table.all.filter((c) => c.name.startsWith(`${word}-`)).map((c) => c.name.slice(word.length + 1));
}

type Values = Record<string, string | boolean | undefined>;

function definedOnly(values: Values): Values {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}

function parse(
  args: readonly string[],
  options: ParseArgsOptions,
  command: string | undefined,
  allowPositionals: boolean,
): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, allowPositionals, strict: true });
    return { values, positionals };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
      // node's messages go on to explain "--" at length; the first sentence is what matters here.
      const first = (e as Error).message.split(/\.\s/)[0] ?? "bad arguments";
      throw new UsageError(first.replace(/\.$/, ""), command);
    }
    throw e;
  }
}

function globalsOf(values: Values): GlobalOptions {
  const data = values["data"];
  if (data === "") throw new UsageError("--data needs a directory");
  const base = { json: values["json"] === true, verbose: values["verbose"] === true };
  return typeof data === "string" ? { ...base, data } : base;
}

function unknownCommandMessage(word: string, table: CommandTable): string {
  const group = groupWords(word, table);
  if (group.length > 0) return `"${word}" is followed by one of: ${group.join(", ")}`;
  const ranked = table.all
    .map((c) => ({ name: c.name, d: editDistance(word, c.name) }))
    .sort((a, b) => a.d - b.d);
  const close = ranked[0] !== undefined && ranked[0].d <= 2 ? ranked[0].name : undefined;
  return `unknown command "${word}"${close ? ` (did you mean "${close}"?)` : ""}`;
}

/** Levenshtein distance, for "did you mean": the words are short, so the table is tiny. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function buildCommand(
  spec: CommandSpec,
  positionals: readonly string[],
  values: Values,
  table: CommandTable,
): Command {
  const required = spec.args.filter((a) => !a.endsWith("?"));
  if (positionals.length < required.length) {
    const missing = required.slice(positionals.length).map((a) => a.toUpperCase());
    throw new UsageError(`missing ${missing.join(" and ")}`, spec.name);
  }
  if (positionals.length > spec.args.length) {
    const extra = positionals.slice(spec.args.length).join(" ");
    const hint =
      spec.name === "join" || spec.name === "restore" ? ' (quote the words: --mnemonic "w1 w2 ...")' : "";
    throw new UsageError(`unexpected argument${extra.includes(" ") ? "s" : ""} "${extra}"${hint}`, spec.name);
  }
  const p = (i: number) => positionals[i]!;
  const withCommand = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof UsageError && e.command === undefined) throw new UsageError(e.message, spec.name);
      if (e instanceof CommandUsageError) throw new UsageError(e.message, spec.name);
      throw e;
    }
  };
  return withCommand((): Command => {
    const half = table.half(spec.name);
    if (half) return { name: half.name, ...half.parse(positionals, values, PARSERS) };
    switch (spec.name) {
      case "join":
      case "restore": {
        const invite = nonEmpty(p(0), "INVITE");
        const mnemonic = mnemonicOption(values["mnemonic"]);
        return mnemonic === undefined ? { name: spec.name, invite } : { name: spec.name, invite, mnemonic };
      }
      case "balance":
      case "info":
      case "resume":
        return { name: spec.name };
      case "recovery-recover":
        return {
          name: spec.name,
          invite: nonEmpty(p(0), "INVITE"),
          shards: notesSource(p(1), { arg: "SHARDS", thing: "recovery shards", file: "shards.txt" }),
          federation: values["federation"] === true,
          wait: values["wait"] === true,
        };
      default:
        throw new Error(`command table and parser disagree on "${spec.name}"`);
    }
  });
}

/** The argument forms the CLI parses for the halves' commands. */
const PARSERS: CommandParsers = {
  amount: parseAmountArg,
  count: parseCountArg,
  denomination: parseDenominationArg,
  input: (text, names) => notesSource(text, names),
};

function nonEmpty(text: string, what: string): string {
  const t = text.trim();
  if (t === "") throw new UsageError(`${what} is empty`);
  return t;
}

function mnemonicOption(value: string | boolean | undefined): MnemonicSource | undefined {
  if (typeof value !== "string") return undefined;
  if (value === "-") return { kind: "stdin" };
  const words = value.trim().split(/\s+/).join(" ");
  if (words === "") throw new UsageError("--mnemonic is empty");
  return { kind: "words", words };
}

/** What a text-or-stdin-or-@FILE argument is called in messages. */
export type InputNames = CommandInputNames;

const NOTES_INPUT: InputNames = { arg: "NOTES", thing: "note string", file: "notes.txt" };

/** The names of each stdin or file input, for the prompt and messages when the CLI reads it. */
export const INPUT_NAMES = new WeakMap<NotesSource, InputNames>();

export function notesSource(arg: string, names: InputNames = NOTES_INPUT): NotesSource {
  const source = sourceOf(arg, names);
  INPUT_NAMES.set(source, names);
  return source;
}

function sourceOf(arg: string, names: InputNames): NotesSource {
  if (arg === "-") return { kind: "stdin" };
  if (arg.startsWith("@")) {
    const path = arg.slice(1);
    if (path === "") throw new UsageError(`"@" needs a file name, e.g. @${names.file}`);
    return { kind: "file", path };
  }
  const text = arg.trim();
  if (text === "")
    throw new UsageError(`${names.arg} is empty; pass the ${names.thing}, "-" for stdin or @FILE`);
  return { kind: "text", text };
}
