// The mint half's commands for a command-line front end (the contract: core-client commands.ts).
// Data and handlers only; apps/cli parses, reads inputs and renders the results.
import { CommandUsageError, clientCommand } from "@conclave/core-client";
import type { ClientCommand } from "@conclave/core-client";
import type { MintClient } from "./mint-client.js";

/** What the mint's commands need of the wallet: the half's own operations (the facade passes them on). */
export type MintCommandApi = Pick<
  MintClient,
  "spend" | "cancel" | "reissue" | "split" | "combine" | "validate" | "backup"
>;

const AMOUNT_FORMS =
  'Amounts: XMR with up to 12 decimals ("0.25") or base units with a "p" suffix ("250000000000p").';
const NOTES_FORMS =
  'NOTES: the note string itself, "-" to read it from stdin, or "@FILE" to read it from a file.';

export const mintCommands = [
  clientCommand({
    name: "spend",
    args: ["amount"],
    options: {},
    summary: "hand out notes worth AMOUNT as a note string (stdout) for someone to `reissue`",
    details: [
      "Prints the note string alone on stdout, so it can be piped or redirected, and the spend id",
      "on stderr. Until the receiver reissues the notes, `conclave cancel <spend-id>` takes them back.",
      AMOUNT_FORMS,
    ],
    examples: ["conclave spend 0.25 > notes.txt", "conclave spend 0.25 | conclave --data ./bob reissue -"],
    movesNotes: true,
    parse: (p, _v, parsers) => ({ amount: parsers.amount(p[0]!) }),
    run: (api: MintCommandApi, a) => api.spend(a.amount),
  }),
  clientCommand({
    name: "cancel",
    args: ["spend-id"],
    options: {},
    summary: "take back notes handed out by `spend` (if nobody reissued them yet)",
    details: ["The spend ids still outstanding are listed by `conclave info`."],
    examples: ["conclave cancel 3f2a..."],
    movesNotes: true,
    parse: (p) => ({ spendId: nonEmpty(p[0]!, "SPEND-ID") }),
    run: (api: MintCommandApi, a) => api.cancel(a.spendId),
  }),
  clientCommand({
    name: "reissue",
    args: ["notes"],
    options: {},
    summary: "receive a note string: redeem its notes into fresh notes of this wallet",
    details: [NOTES_FORMS, "A damaged or already spent note string is refused and nothing is lost."],
    examples: [
      "conclave reissue cnotes1...",
      "conclave reissue @notes.txt",
      "conclave reissue - < notes.txt",
    ],
    movesNotes: true,
    parse: (p, _v, parsers) => ({ notes: parsers.input(p[0]!) }),
    run: (api: MintCommandApi, a, ctx) => api.reissue(ctx.inputText(a.notes)),
  }),
  clientCommand({
    name: "split",
    args: ["denomination", "count"],
    options: {},
    summary: "reissue own notes so that at least COUNT notes of DENOMINATION exist",
    details: [
      "DENOMINATION: 2^N, or its amount (a power of two of the base unit) as `conclave info` lists it.",
    ],
    examples: ["conclave split 2^30 4", "conclave split 1073741824p 4"],
    movesNotes: true,
    parse: (p, _v, parsers) => ({
      denominationLog2: parsers.denomination(p[0]!),
      count: parsers.count(p[1]!),
    }),
    run: (api: MintCommandApi, a) => api.split(a.denominationLog2, a.count),
  }),
  clientCommand({
    name: "combine",
    args: [],
    options: {},
    summary: "reissue own notes into as few notes as possible",
    details: [],
    examples: ["conclave combine"],
    movesNotes: true,
    parse: () => ({}),
    run: (api: MintCommandApi) => api.combine(),
  }),
  clientCommand({
    name: "validate",
    args: ["notes"],
    options: {
      online: { type: "boolean", help: "also ask the guardians whether each note is already spent" },
    },
    summary: "check a note string offline: encoding, federation and signatures (and spent, with --online)",
    details: [NOTES_FORMS, "Exits with 1 if any note is invalid (or, with --online, already spent)."],
    examples: ["conclave validate @notes.txt", "conclave validate --online -  < notes.txt"],
    movesNotes: false,
    parse: (p, v, parsers) => ({ notes: parsers.input(p[0]!), online: v["online"] === true }),
    run: (api: MintCommandApi, a, ctx) => api.validate(ctx.inputText(a.notes), { online: a.online }),
  }),
  clientCommand({
    name: "backup",
    args: [],
    options: {},
    summary: "store the wallet's encrypted backup at every guardian",
    details: ["Only the recovery phrase can read it; `conclave restore` finds it and scans for newer notes."],
    examples: ["conclave backup"],
    movesNotes: false,
    parse: () => ({}),
    run: (api: MintCommandApi) => api.backup(),
  }),
] as const satisfies readonly ClientCommand<MintCommandApi>[];

function nonEmpty(text: string, what: string): string {
  const t = text.trim();
  if (t === "") throw new CommandUsageError(`${what} is empty`);
  return t;
}
