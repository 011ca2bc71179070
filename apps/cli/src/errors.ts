// Turning a failure into one line on stderr that names the code and says what to do next. Expected
// failures (ConclaveError: a refusal, a damaged note string, an unreachable federation) never show
// a stack; anything else is a bug or a platform failure and says how to get the stack.
import { ConclaveError, ConfigError } from "@conclave/core-common";
import { UsageError } from "./usage-error.js";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** Not done yet, run again later (sysexits EX_TEMPFAIL): a federation shard not released yet. */
export const EXIT_PENDING = 75;
/** 128 + SIGINT, as shells report a Ctrl-C. */
export const EXIT_INTERRUPTED = 130;

/** A failure the CLI itself detects (no wallet in the directory, an unreadable file...). */
export class CliError extends ConclaveError {
  override readonly name = "CliError";
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, message, { status: 400, details });
  }
}

/** What to do next, by error code. The wallet's message says what is wrong; this says what to do. */
const HINTS: Readonly<Record<string, string>> = {
  malformed_notes: "copy the whole note string again from the sender; nothing was spent or lost",
  wrong_federation: "these notes belong to another federation; receive them with a wallet that joined it",
  invalid_note:
    "a note's signature does not verify: the note string was tampered with or forged; nothing was spent",
  insufficient_funds: "`conclave info` shows the balance; fees are charged per spent note",
  invalid_amount: "`conclave info` lists the denominations this federation issues",
  invalid_mnemonic: "check the words: 12 or 24 BIP39 words, spelled exactly, separated by spaces",
  already_joined: "this directory already holds a wallet; use another with --data DIR",
  not_joined:
    "run `conclave join <invite>` (or `conclave restore <invite>`) first, or pick the wallet with --data DIR",
  unknown_spend: "`conclave info` lists the outgoing spends that can still be cancelled",
  not_dev_federation: "only a dev federation has the test-only faucet; receive notes from someone instead",
  backup_unavailable:
    "no guardian holds a backup for this phrase; notes made after the last backup are still found by scanning",
  spent_input:
    "the note string was already spent (reissued before, by you or by whoever else had it); your balance did not change",
  no_quorum:
    "too few guardians answered alike; check your connection and retry (`conclave resume` finishes a started operation)",
  unreachable: "check your connection and retry; `conclave resume` finishes a started operation",
  federation_mismatch: "check the invite code with whoever gave it to you",
  invalid_invite: "copy the invite code again in full from the federation's guardians",
  unreadable_input: "check the file name, or pass the note string directly or with -",
  request_cancelled:
    "the wallet's owner cancelled this request and nothing was released; running the command again asks anew",
};

const ALL_UNREACHABLE_HINT =
  "no guardian could be reached: check your connection and that the federation is running " +
  "(`npm start` for the local one), then retry";

/** The hint for an error; `details` can refine it (every guardian unreachable is not a bad invite). */
export function hintFor(code: string, details: Record<string, unknown> = {}): string | undefined {
  if ((code === "federation_mismatch" || code === "no_quorum") && allUnreachable(details["answers"])) {
    return ALL_UNREACHABLE_HINT;
  }
  return HINTS[code];
}

function allUnreachable(answers: unknown): boolean {
  if (!Array.isArray(answers) || answers.length === 0) return false;
  return answers.every((a: unknown) => {
    const answer = typeof a === "object" && a !== null ? (a as { answer?: unknown }).answer : undefined;
    return typeof answer === "string" && answer.startsWith("unreachable");
  });
}

export interface ReportOptions {
  readonly json: boolean;
  readonly verbose: boolean;
}

/** Writes the error to stderr and returns the exit code. */
export function reportError(e: unknown, options: ReportOptions, stderr: (text: string) => void): number {
  if (e instanceof UsageError) {
    const help = e.command ? `conclave ${e.command} --help` : "conclave --help";
    if (options.json) {
      stderr(jsonLine({ error: { code: "usage", message: e.message, help } }));
    } else {
      stderr(`error [usage]: ${e.message} (see \`${help}\`)\n`);
    }
    return EXIT_USAGE;
  }
  // core-common's ConfigError (a config or invite that does not parse) is a plain Error, but a
  // user's mistake all the same: no stack.
  if (e instanceof ConfigError)
    return reportError(new CliError("invalid_config", e.message), options, stderr);
  if (e instanceof ConclaveError) {
    const hint = hintFor(e.code, e.details);
    if (options.json) {
      const error = { code: e.code, message: e.message, ...(hint ? { hint } : {}), details: e.details };
      stderr(jsonLine({ error }, options.verbose ? e.stack : undefined));
    } else {
      stderr(`error [${e.code}]: ${oneLine(e.message)}${hint ? ` — ${hint}` : ""}\n`);
      if (options.verbose && e.stack) stderr(`${e.stack}\n`);
    }
    return EXIT_FAILED;
  }
  const message = e instanceof Error ? e.message : String(e);
  if (options.json) {
    stderr(jsonLine({ error: { code: "unexpected", message } }, options.verbose ? stackOf(e) : undefined));
  } else {
    stderr(
      `error [unexpected]: ${oneLine(message)}` +
        (options.verbose
          ? "\n" + (stackOf(e) ?? "(no stack)") + "\n"
          : " (rerun with --verbose for the stack trace)\n"),
    );
  }
  return EXIT_FAILED;
}

function stackOf(e: unknown): string | undefined {
  return e instanceof Error ? e.stack : undefined;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

function jsonLine(value: Record<string, unknown>, stack?: string): string {
  return JSON.stringify(stack === undefined ? value : { ...value, stack }, bigintReplacer) + "\n";
}

/** JSON with every bigint as its decimal string (JSON numbers lose precision past 2^53). */
export function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
