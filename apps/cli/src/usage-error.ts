// A mistake in how the command was typed (unknown option, missing argument, an amount that does
// not parse). Exits with 2 and never reaches the wallet, so nothing can have happened.

export class UsageError extends Error {
  override readonly name = "UsageError";
  /** The command whose `--help` explains the right form, if known. */
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}
