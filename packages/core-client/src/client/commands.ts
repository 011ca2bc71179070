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

/** The usual event: an operation's progress (its `OperationStream` progress values). */
export interface ProgressEvent<P> extends CommandEvent {
  readonly type: "progress";
  readonly value: P;
}

export interface CommandContext<Event extends CommandEvent = CommandEvent> {
  /** The text of an input argument (`CommandInput`), already read by the front end. */
  inputText(input: CommandInput): string;
  /** Reports an event while the command runs (progress, an address to show before waiting). */
  emit(event: Event): void;
}

/**
 * A command of a client half. `Api` is what `run` needs of the wallet, declared by the half (the
 * wallet facade provides it); `Args` what `parse` makes of the command line; `Result` what `run`
 * returns and `Event` what it emits, for the front end to render (typed, so that a front end's
 * rendering of a command gets the command's own types: apps/cli presentations.ts).
 */
export interface ClientCommand<
  Api,
  Args extends object = object,
  Result = unknown,
  Event extends CommandEvent = CommandEvent,
> extends CommandSpec {
  /** The command line's positionals (count already checked against `args`) and options, as `Args`. */
  parse(positionals: readonly string[], values: CommandValues, parsers: CommandParsers): Args;
  /** Runs the command; its result is the front end's to render. */
  run(api: Api, args: Args, context: CommandContext<Event>): Promise<Result>;
}

/**
 * Declares a command with its name (as a literal type), `Args`, `Result` and `Event` inferred from
 * `name`, `parse`, `run` and the type `run` gives its context.
 */
export function clientCommand<
  Api,
  Args extends object,
  Result,
  const Name extends string,
  Event extends CommandEvent = CommandEvent,
>(
  command: ClientCommand<Api, Args, Result, Event> & { readonly name: Name },
): ClientCommand<Api, Args, Result, Event> & { readonly name: Name } {
  return command;
}

/** What a command's `run` returns. */
export type CommandResult<C> = C extends ClientCommand<never, infer _A, infer R, infer _E> ? R : never;
/** What a command's `parse` makes of the command line. */
export type CommandArgs<C> = C extends ClientCommand<never, infer A, infer _R, infer _E> ? A : never;
/** What a command's `run` emits. */
export type CommandEventOf<C> = C extends ClientCommand<never, infer _A, infer _R, infer E> ? E : never;
