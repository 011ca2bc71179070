// The commands a client half offers to a command-line front end (apps/cli), as data and a handler.
// Nothing here reads a terminal or prints: the half says what its command is called, what it
// accepts and what it does with the wallet; the front end parses the command line, reads inputs,
// renders results and progress, and picks exit codes. The core (ClientCore) never uses this file.

/** One option of a command: `--name <value>` (string) or `--name` (boolean). */
export interface CommandOptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  /** The placeholder of a string option's value in help texts. */
  readonly value?: string;
  readonly help: string;
}

/** A command's shape and help. */
export interface CommandSpec {
  readonly name: string;
  /** Positional arguments, in order; a trailing "?" marks an optional one. */
  readonly args: readonly string[];
  readonly options: Readonly<Record<string, CommandOptionSpec>>;
  readonly summary: string;
  /** Longer explanation, lines. */
  readonly details: readonly string[];
  readonly examples: readonly string[];
  /** Moves notes: an interruption leaves a pending operation that resuming finishes. */
  readonly movesNotes: boolean;
}

/** Where a text argument comes from: itself, stdin ("-"), or a file ("@path"). */
export type CommandInput =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "stdin" }
  | { readonly kind: "file"; readonly path: string };

/** What a text-or-stdin-or-@FILE argument is called in messages. */
export interface CommandInputNames {
  readonly arg: string;
  readonly thing: string;
  readonly file: string;
}

/** The front end's parsers of common argument forms (each throws CommandUsageError). */
export interface CommandParsers {
  amount(text: string): bigint;
  count(text: string): number;
  denomination(text: string): number;
  /** A text argument that may come from stdin or a file; the front end reads it before `run`. */
  input(text: string, names?: CommandInputNames): CommandInput;
}

/** A command line the command cannot accept: the front end reports it as a usage error. */
export class CommandUsageError extends Error {
  override readonly name = "CommandUsageError";
}

/** The parsed options of a command line: a string or boolean per option given. */
export type CommandValues = Readonly<Record<string, string | boolean | undefined>>;

/** An event of a running command, for the front end to render as it happens. */
export interface CommandEvent {
  /** What happened, e.g. "progress" or "address". */
  readonly type: string;
  readonly value: unknown;
}

export interface CommandContext {
  /** The text of an input argument (`CommandInput`), already read by the front end. */
  inputText(input: CommandInput): string;
  /** Reports an event while the command runs (progress, an address to show before waiting). */
  emit(event: CommandEvent): void;
}

/**
 * A command of a client half. `Api` is what `run` needs of the wallet, declared by the half
 * structurally (the wallet facade provides it); `Args` what `parse` makes of the command line.
 */
export interface ClientCommand<Api, Args extends object = object> extends CommandSpec {
  /** The command line's positionals (count already checked against `args`) and options, as `Args`. */
  parse(positionals: readonly string[], values: CommandValues, parsers: CommandParsers): Args;
  /** Runs the command; its result is the front end's to render. */
  run(api: Api, args: Args, context: CommandContext): Promise<unknown>;
}

/** Declares a command with its `Args` type inferred from `parse`. */
export function clientCommand<Api, Args extends object>(
  command: ClientCommand<Api, Args>,
): ClientCommand<Api, Args> {
  return command;
}
