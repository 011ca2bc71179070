// How the CLI shows each half's command: its events while it runs (progress, an address) and its
// result, as lines, notices and an exit code. The halves give data (commands of
// @conclave/wallet-standard/commands); the terminal is this file's. Each presentation gets its
// command's own types (its result, arguments and events, from the command's declaration), so a
// change of a half's result type is a type error here. A command the CLI has no presentation for
// (a half it has never seen) gets the generic one: events as lines, the result as JSON.
import type {
  CommandArgs,
  CommandEvent,
  CommandEventOf,
  CommandResult,
  ProgressEvent,
  walletCommands,
} from "@conclave/wallet-standard/commands";
import type { ReissueResult, WalletApi } from "@conclave/wallet-standard";
import type { GlobalOptions, HalfCommandLine } from "./args.js";
import { EXIT_FAILED, bigintReplacer } from "./errors.js";
import type { CliIo } from "./io.js";
import {
  bridgeMintLines,
  sealedMintNotice,
  foundMintsLines,
  bridgeProgressLine,
  bridgeStatusLines,
  refundLines,
  burnLines,
  submissionLines,
} from "./bridge-presentations.js";
import {
  cardLines,
  contactLines,
  contactsLines,
  readLines,
  sentLines,
  setupLines,
  socialProgressLine,
} from "./relay-presentations.js";
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

/** What a half's command line was parsed into (its name aside). */
export type HalfArgs = Omit<HalfCommandLine, "name">;

export interface ShowContext<A = HalfArgs> {
  readonly w: WalletApi;
  readonly io: CliIo;
  readonly global: GlobalOptions;
  /** The data directory flag for messages (` --data DIR`). */
  readonly dataFlag: string;
  /** What the command's `parse` made of the command line. */
  readonly args: A;
}

export interface Presentation<R = unknown, A = HalfArgs, E extends CommandEvent = CommandEvent> {
  /** The wallet refuses an amount that is not a multiple of the smallest note: explain it. */
  readonly explainAmount?: boolean;
  /** Renders an event as it happens. */
  event?(e: E, x: ShowContext<A>): void;
  /** Called once the command ended (also when it failed), before the result is printed. */
  end?(x: ShowContext<A>): void;
  output(result: R, x: ShowContext<A>): Output | Promise<Output>;
}

type Built = (typeof walletCommands)[number];
type BuiltName = Built["name"];
type PresentationOf<C> = Presentation<CommandResult<C>, CommandArgs<C>, CommandEventOf<C>>;

/** A presentation per built-in command, typed by that command. */
type Presentations = {
  readonly [N in BuiltName]?: PresentationOf<Extract<Built, { readonly name: N }>>;
};

/** Progress as it happens: stdout lines, or JSON lines on stderr with --json (stdout keeps one JSON document). */
function progressLine<P>(line: (p: P) => string) {
  return (e: ProgressEvent<P>, x: ShowContext<unknown>): void => {
    if (x.global.json) x.io.stderr(JSON.stringify({ progress: e.value }, bigintReplacer) + "\n");
    else x.io.stdout(line(e.value) + "\n");
  };
}

function genericEvent(e: CommandEvent, x: ShowContext<unknown>): void {
  if (x.global.json) x.io.stderr(JSON.stringify({ [e.type]: e.value }, bigintReplacer) + "\n");
  else x.io.stdout(`${e.type}: ${JSON.stringify(e.value, bigintReplacer)}\n`);
}

const reissued =
  <A>(verb: string, nothingToDo?: (args: A) => string) =>
  (r: ReissueResult, x: ShowContext<A>): Output => ({
    json: r,
    lines: reissueLines(verb, r, nothingToDo?.(x.args)),
  });

/** Whether the deposit bar was drawn in place (a line end is due when the command ends). */
const drawnBars = new WeakSet<ShowContext<unknown>>();

export const PRESENTATIONS: Presentations = {
  "dev-faucet": { explainAmount: true, output: reissued("Got from the dev faucet") },
  spend: {
    explainAmount: true,
    output: (r) => ({ json: r, lines: [], raw: `${r.notes}\n`, notices: spendNotice(r) }),
  },
  cancel: {
    output: (r, x) => ({
      json: r,
      lines: reissueLines(`Cancelled spend ${x.args.spendId}: took back`, r),
    }),
  },
  reissue: { output: reissued("Received") },
  split: {
    output: reissued(
      "Split: reissued",
      (c) => `Nothing to do: the wallet already holds ${c.count} or more notes of 2^${c.denominationLog2}.`,
    ),
  },
  combine: {
    output: reissued(
      "Combined: reissued",
      () => "Nothing to do: the notes are already as few as they can be.",
    ),
  },
  validate: {
    output: (r) => {
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
  backup: { output: (r) => ({ json: r, lines: backupLines(r) }) },
  claim: {
    event: progressLine(depositProgressLine),
    output: (r, x) =>
      "sealed" in r
        ? { json: r, lines: [], raw: `${r.sealed}\n`, notices: sealNotice(r, x.dataFlag) }
        : { json: r, lines: claimLines(r) },
  },
  relay: { output: (r) => ({ json: r, lines: relayLines(r) }) },
  withdraw: {
    event: progressLine(withdrawProgressLine),
    output: (r, x) => ({ json: r, lines: withdrawLines(r, x.args.address) }),
  },
  deposit: {
    event: (e, x) => {
      if (e.type === "address") {
        const address = e.value;
        if (x.global.json) x.io.stderr(JSON.stringify({ address }) + "\n");
        else for (const line of depositAddressLines(address, true)) x.io.stdout(line + "\n");
        return;
      }
      const p = e.value;
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
      if (!("deposits" in r)) return { json: r, lines: depositAddressLines(r, false) };
      const balance = (await x.w.info()).balance;
      return { json: { ...r, balance }, lines: receivedLines(r, balance) };
    },
  },
  withdrawals: {
    output: (r) => ({ json: { withdrawals: r }, lines: withdrawalsLines(r) }),
  },
  "bridge-mint": {
    event: progressLine(bridgeProgressLine),
    output: (r, x) =>
      "sealed" in r
        ? { json: r, lines: [], raw: `${r.sealed}\n`, notices: sealedMintNotice(r, x.dataFlag) }
        : { json: r, lines: bridgeMintLines(r, x.dataFlag) },
  },
  "bridge-submit": { output: (r) => ({ json: r, lines: submissionLines(r) }) },
  "bridge-burn": {
    event: progressLine(bridgeProgressLine),
    output: (r) => ({ json: r, lines: burnLines(r) }),
  },
  "bridge-redeem": {
    event: progressLine(bridgeProgressLine),
    output: (r) => ({ json: r, lines: burnLines(r) }),
  },
  "bridge-refund": {
    event: progressLine(bridgeProgressLine),
    output: (r, x) =>
      "mints" in r ? { json: r, lines: foundMintsLines(r, x.dataFlag) } : { json: r, lines: refundLines(r) },
  },
  "bridge-status": { output: (r) => ({ json: r, lines: bridgeStatusLines(r) }) },
  "contact-show": { output: (r) => ({ json: r, lines: cardLines(r) }) },
  "contact-add": { output: (r) => ({ json: r, lines: contactLines(r, true) }) },
  "contact-list": { output: (r) => ({ json: { contacts: r }, lines: contactsLines(r) }) },
  "inbox-send": { output: (r, x) => ({ json: r, lines: sentLines(r, x.args.to) }) },
  "inbox-read": {
    event: progressLine((p) => `Reading the inbox at ${p.guardians} guardians…`),
    output: (r) => ({ json: r, lines: readLines(r) }),
  },
  "recovery-setup": {
    event: progressLine(socialProgressLine),
    output: (r) => ({ json: r, lines: setupLines(r) }),
  },
  "recovery-add": {
    event: progressLine(socialProgressLine),
    output: (r) => ({ json: r, lines: setupLines(r) }),
  },
  watch: {
    event: progressLine(
      (p) => `guardian ${p.guardian}: ${p.kind} ${p.key.slice(0, 16)}… ${watchStateText(p.state)}`,
    ),
    output: (r) => ({
      json: r,
      lines: [`${r.kind} ${r.key}: ${watchStateText(r.state)} (guardian ${r.guardian})`],
    }),
  },
};

/** A watched state in a line: a transaction's state and height, else its JSON. */
function watchStateText(state: Readonly<Record<string, unknown>>): string {
  if (typeof state["state"] === "string")
    return [
      state["state"],
      typeof state["height"] === "number" ? `at height ${state["height"]}` : "",
      typeof state["error"] === "object" && state["error"] !== null ? JSON.stringify(state["error"]) : "",
    ]
      .filter((s) => s !== "")
      .join(" ");
  return JSON.stringify(state);
}

/** The presentation of a command: its own, or the generic one. */
export function presentationOf(name: string): Presentation {
  return (hasPresentation(name) ? PRESENTATIONS[name] : undefined) ?? GENERIC;
}

function hasPresentation(name: string): name is BuiltName {
  return Object.hasOwn(PRESENTATIONS, name);
}

/** A command of a half the CLI has no presentation for: events as lines, the result as JSON. */
export const GENERIC: Presentation = {
  event: genericEvent,
  output: (r) => ({
    json: r,
    lines: r === undefined ? [] : JSON.stringify(r, bigintReplacer, 2).split("\n"),
  }),
};
