// How the CLI shows each half's command: its events while it runs (progress, an address) and its
// result, as lines, notices and an exit code. The halves give data (commands of
// @conclave/wallet-standard/commands); the terminal is this file's. A command the CLI has no presentation
// for (a half it has never seen) gets the generic one: events as lines, the result as JSON.
import type { CommandEvent } from "@conclave/wallet-standard/commands";
import type {
  ClaimDepositResult,
  DepositAddressResult,
  ReceiveDepositsResult,
  ReissueResult,
  RelayResult,
  SealClaimResult,
  SpendResult,
  SubaddressDepositProgress,
  ValidateResult,
  WalletApi,
  WithdrawalInfo,
  WithdrawResult,
  BackupResult,
} from "@conclave/wallet-standard";
import type { GlobalOptions, HalfCommandLine } from "./args.js";
import { EXIT_FAILED, bigintReplacer } from "./errors.js";
import type { CliIo } from "./io.js";
import {
  backupLines,
  claimLines,
  depositAddressLines,
  depositProgressLine,
  receivedLines,
  reissueLines,
  relayLines,
  sealNotice,
  spendNotice,
  subaddressProgressLine,
  validateLines,
  withdrawLines,
  withdrawalsLines,
  withdrawProgressLine,
} from "./render.js";

export interface Output {
  /** --json: this value, bigints as strings. */
  readonly json: unknown;
  /** Human mode: these lines on stdout. */
  readonly lines: readonly string[];
  /** Human mode: these lines on stderr (notices that must not mix with piped output). */
  readonly notices?: readonly string[];
  /** Human mode: stdout exactly this, instead of lines (the note string of `spend`). */
  readonly raw?: string;
  readonly exitCode?: number;
}

export interface ShowContext {
  readonly w: WalletApi;
  readonly io: CliIo;
  readonly global: GlobalOptions;
  /** The data directory flag for messages (` --data DIR`). */
  readonly dataFlag: string;
  readonly command: HalfCommandLine;
}

export interface Presentation {
  /** The wallet refuses an amount that is not a multiple of the smallest note: explain it. */
  readonly explainAmount?: boolean;
  /** Renders an event as it happens; returns what to print once the command ends (a line end). */
  event?(e: CommandEvent, x: ShowContext): void;
  /** Called once the command ended (also when it failed), before the result is printed. */
  end?(x: ShowContext): void;
  output(result: unknown, x: ShowContext): Output | Promise<Output>;
}

/** Progress as it happens: stdout lines, or JSON lines on stderr with --json (stdout keeps one JSON document). */
function progressLine<P>(line: (p: P) => string) {
  return (e: CommandEvent, x: ShowContext): void => {
    if (e.type !== "progress") return genericEvent(e, x);
    if (x.global.json) x.io.stderr(JSON.stringify({ progress: e.value }, bigintReplacer) + "\n");
    else x.io.stdout(line(e.value as P) + "\n");
  };
}

function genericEvent(e: CommandEvent, x: ShowContext): void {
  if (x.global.json) x.io.stderr(JSON.stringify({ [e.type]: e.value }, bigintReplacer) + "\n");
  else x.io.stdout(`${e.type}: ${JSON.stringify(e.value, bigintReplacer)}\n`);
}

const reissued =
  (verb: string, nothingToDo?: (c: HalfCommandLine) => string) =>
  (r: unknown, x: ShowContext): Output => ({
    json: r,
    lines: reissueLines(verb, r as ReissueResult, nothingToDo?.(x.command)),
  });

/** Whether the deposit bar was drawn in place (a line end is due when the command ends). */
const drawnBars = new WeakSet<ShowContext>();

export const PRESENTATIONS: Readonly<Record<string, Presentation>> = {
  "dev-faucet": { explainAmount: true, output: reissued("Got from the dev faucet") },
  spend: {
    explainAmount: true,
    output: (r) => ({
      json: r,
      lines: [],
      raw: `${(r as SpendResult).notes}\n`,
      notices: spendNotice(r as SpendResult),
    }),
  },
  cancel: {
    output: (r, x) => ({
      json: r,
      lines: reissueLines(`Cancelled spend ${String(x.command["spendId"])}: took back`, r as ReissueResult),
    }),
  },
  reissue: { output: reissued("Received") },
  split: {
    output: reissued(
      "Split: reissued",
      (c) =>
        `Nothing to do: the wallet already holds ${String(c["count"])} or more notes of 2^${String(c["denominationLog2"])}.`,
    ),
  },
  combine: {
    output: reissued(
      "Combined: reissued",
      () => "Nothing to do: the notes are already as few as they can be.",
    ),
  },
  validate: {
    output: (result) => {
      const r = result as ValidateResult;
      const invalid = r.notes.filter((n) => !n.valid).length;
      const spent = (r.spent ?? []).filter((s) => s).length;
      const verdict =
        invalid > 0
          ? `error [invalid_note]: ${invalid} of ${r.notes.length} notes do not verify; do not accept this note string`
          : spent > 0
            ? `error [spent_input]: ${spent} of ${r.notes.length} notes are already spent; do not accept this note string`
            : undefined;
      const tail =
        verdict === undefined ? [r.spent ? "All notes valid and unspent." : "All notes valid."] : [];
      return {
        json: r,
        lines: [...validateLines(r), ...tail],
        ...(verdict === undefined ? {} : { notices: [verdict], exitCode: EXIT_FAILED }),
      };
    },
  },
  backup: { output: (r) => ({ json: r, lines: backupLines(r as BackupResult) }) },
  claim: {
    event: progressLine(depositProgressLine),
    output: (r, x) =>
      x.command["seal"] !== undefined
        ? {
            json: r,
            lines: [],
            raw: `${(r as SealClaimResult).sealed}\n`,
            notices: sealNotice(r as SealClaimResult, x.dataFlag),
          }
        : { json: r, lines: claimLines(r as ClaimDepositResult) },
  },
  relay: { output: (r) => ({ json: r, lines: relayLines(r as RelayResult) }) },
  withdraw: {
    event: progressLine(withdrawProgressLine),
    output: (r, x) => ({ json: r, lines: withdrawLines(r as WithdrawResult, String(x.command["address"])) }),
  },
  deposit: {
    event: (e, x) => {
      if (e.type === "address") {
        const address = e.value as DepositAddressResult;
        if (x.global.json) x.io.stderr(JSON.stringify({ address }) + "\n");
        else for (const line of depositAddressLines(address, true)) x.io.stdout(line + "\n");
        return;
      }
      if (e.type !== "progress") return genericEvent(e, x);
      const p = e.value as SubaddressDepositProgress;
      // A bar redrawn in place on a terminal; one line per change otherwise; JSON lines with --json.
      if (x.global.json) x.io.stderr(JSON.stringify({ progress: p }, bigintReplacer) + "\n");
      else if (x.io.stdoutIsTty === true) {
        x.io.stdout(`\r\x1b[2K${subaddressProgressLine(p)}`);
        drawnBars.add(x);
      } else x.io.stdout(subaddressProgressLine(p) + "\n");
    },
    end: (x) => {
      if (drawnBars.has(x)) x.io.stdout("\n");
    },
    output: async (r, x) => {
      if (x.command["wait"] !== true)
        return { json: r, lines: depositAddressLines(r as DepositAddressResult, false) };
      const balance = (await x.w.info()).balance;
      return {
        json: { ...(r as ReceiveDepositsResult), balance },
        lines: receivedLines(r as ReceiveDepositsResult, balance),
      };
    },
  },
  withdrawals: {
    output: (r) => ({ json: { withdrawals: r }, lines: withdrawalsLines(r as WithdrawalInfo[]) }),
  },
};

/** A command of a half the CLI has no presentation for: events as lines, the result as JSON. */
export const GENERIC: Presentation = {
  event: genericEvent,
  output: (r) => ({
    json: r,
    lines: r === undefined ? [] : JSON.stringify(r, bigintReplacer, 2).split("\n"),
  }),
};
