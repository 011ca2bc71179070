// The relay half's commands for a command-line front end (the contract: core-client commands.ts):
// contact cards, the mailbox and social recovery. Two-word commands (`inbox send`, `recovery setup`)
// are declared as `inbox-send`, `recovery-setup`; apps/cli accepts both spellings. Data and handlers
// only: progress goes out as events (`context.emit`), apps/cli renders it.
// `recovery recover` needs no wallet (a new device): it is the front end's own command, like `restore`
// (apps/cli), through the wallet entry's `recoverSecret`.
import { CommandUsageError, clientCommand } from "@conclave/core-client";
import type { ClientCommand, CommandContext, CommandValues, ProgressEvent } from "@conclave/core-client";
import type { CancelResult, escrowStatus } from "./escrow.js";
import type {
  ContactView,
  Holder,
  ReadResult,
  SendResult,
  SocialProgress,
  SocialSetupResult,
} from "./types.js";

/** A contact card as `contact show` gives it: the text, its QR code and the fingerprint to compare. */
export interface ContactCardResult {
  readonly name: string;
  readonly text: string;
  readonly fingerprint: string;
  /** The card's text as a QR code (text art for a terminal or a printer). */
  readonly qr: string;
  readonly label: string;
}

/** Social recovery set up (or grown), plus the recovery store written alongside. */
export interface RecoverySetupResult extends SocialSetupResult {
  /** Guardians that stored the wallet's recovery-store record (counters, operation log, contacts). */
  readonly stateStoredBy: readonly number[];
}

/** What the relay's commands need of the wallet (the facade's relay calls). */
export interface RelayCommandApi {
  contactCard(name: string, options?: { label?: string; address?: string }): Promise<ContactCardResult>;
  addContact(card: string): Promise<ContactView>;
  contacts(): Promise<ContactView[]>;
  sendLetter(to: string, text: string): Promise<SendResult>;
  readInbox(options?: { onProgress?: (p: InboxProgress) => void }): Promise<ReadResult>;
  /** `mnemonic` must be this wallet's (the facade checks it): it is what the shards recover. */
  recoverySetup(
    mnemonic: string,
    threshold: number,
    holders: readonly Holder[],
    options?: { onProgress?: (p: SocialProgress) => void },
  ): Promise<RecoverySetupResult>;
  recoveryAdd(
    mnemonic: string,
    threshold: number,
    added: readonly Holder[],
    options?: { onProgress?: (p: SocialProgress) => void },
  ): Promise<RecoverySetupResult>;
  /** Release requests for the current set's federation shard, at every guardian. */
  recoveryRequests(): Promise<RecoveryRequestsResult>;
  /** Cancels every open release request of the current set's federation shard, at every guardian. */
  cancelRecoveryRequests(): Promise<CancelResult>;
}

/** Every guardian's view of the set's federation-shard release requests (`recovery requests`). */
export type RecoveryRequestsResult = Awaited<ReturnType<typeof escrowStatus>>;

export type InboxProgress = { readonly step: "reading"; readonly guardians: number };

const NAME_MAX = 64;

function nameArg(text: string, what: string): string {
  const t = text.trim();
  if (t === "" || t.length > NAME_MAX) throw new CommandUsageError(`${what} is 1 to ${NAME_MAX} characters`);
  return t;
}

function countOption(values: CommandValues, name: string, fallback: number): number {
  const v = values[name];
  if (v === undefined || v === false) return fallback;
  const n = typeof v === "string" && /^\d{1,2}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isInteger(n)) throw new CommandUsageError(`--${name} is a whole number (0 to 16)`);
  return n;
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * `--federation-delay 90s|15m|24h|2d`: one number and one unit (written here: the four units need no
 * library). The guardians refuse a delay below their own minimum (a day unless configured).
 */
function durationMs(text: string): number {
  const m = /^(\d{1,6})([smhd])$/.exec(text.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : NaN;
  if (!(ms >= 1000 && ms <= 30 * UNIT_MS.d))
    throw new CommandUsageError(
      "--federation-delay is a number and a unit s, m, h or d (1s to 30d), e.g. 24h",
    );
  return ms;
}

/** `--friends a,b --offline N` (and the device unless `--no-device`) as shard holders. */
function holdersOf(values: CommandValues, withDevice: boolean): Holder[] {
  const friends =
    typeof values["friends"] === "string"
      ? values["friends"]
          .split(",")
          .map((f) => f.trim())
          .filter((f) => f !== "")
      : [];
  const offline = countOption(values, "offline", 0);
  const hours = values["federation-delay-hours"];
  const delay = values["federation-delay"];
  let federation: Holder[] = [];
  if (typeof hours === "string" && typeof delay === "string")
    throw new CommandUsageError("give --federation-delay or --federation-delay-hours, not both");
  if (typeof hours === "string") {
    const h = /^\d{1,4}$/.test(hours.trim()) ? Number(hours.trim()) : NaN;
    if (!Number.isInteger(h) || h < 1)
      throw new CommandUsageError("--federation-delay-hours is a whole number of hours (1 to 9999)");
    federation = [{ kind: "federation", delayMs: h * 3_600_000 }];
  }
  if (typeof delay === "string") federation = [{ kind: "federation", delayMs: durationMs(delay) }];
  return [
    ...(withDevice ? [{ kind: "device" as const }] : []),
    ...federation,
    ...friends.map((contact) => ({ kind: "friend" as const, contact })),
    ...Array.from({ length: offline }, () => ({ kind: "offline" as const })),
  ];
}

const holderOptions = {
  threshold: { type: "string", short: "t", value: "t", help: "shards needed to recover (default 2)" },
  friends: {
    type: "string",
    value: "names",
    help: "contacts that each get a shard by the mailbox, comma-separated",
  },
  offline: { type: "string", value: "n", help: "printed shards (text and QR code) to keep offline" },
  "federation-delay-hours": {
    type: "string",
    value: "h",
    help: "the federation holds a shard, released to a requester only H hours after the request unless you cancel",
  },
  "federation-delay": {
    type: "string",
    value: "duration",
    help: "the same with a unit: 90s, 15m, 24h, 2d (the guardians' minimum applies, a day by default)",
  },
  mnemonic: {
    type: "string",
    value: "words|-|@file",
    help: 'this wallet\'s recovery phrase, which the shards recover (default "-": stdin)',
  },
} as const;

const HOLDERS_HELP = [
  "A random data key is split t-of-n (shamir-secret-sharing); the recovery phrase is stored at every",
  "guardian encrypted under it; each shard names its set, t, n and a digest, so that shards of another",
  "set or a forged one are detected. Holders: this device (kept in the wallet), friends (a contact each,",
  "sent by the mailbox), printed copies (text and QR code). The wallet's state (counters, operation",
  "log, contacts) is stored encrypted at every guardian too (the recovery store).",
];

type SocialCtx = CommandContext<ProgressEvent<SocialProgress>>;

export const relayCommands = [
  clientCommand({
    name: "contact-show",
    args: [],
    options: {
      name: { type: "string", value: "name", help: "the name your contact sees (default: me)" },
      for: { type: "string", value: "label", help: "a card for one contact (revocable alone)" },
      address: { type: "string", value: "address", help: "a Monero address to put on the card" },
    },
    summary: "this wallet's contact card: text, QR code and the fingerprint to compare",
    details: [
      "The card names your inbox key, the federation and its guardians, a delivery secret (each guardian",
      "sees a different token from it), optionally a Monero address, signed by the inbox key. Read the",
      "fingerprint to your contact (in person or by phone): theirs must show the same after `contact add`.",
    ],
    examples: ["conclave contact show --name alice", "conclave contact show --name alice --for bob"],
    movesNotes: false,
    parse: (_p, v) => ({
      // Not `name`: that is the command's own field on the parsed command line.
      cardName: nameArg(typeof v["name"] === "string" ? v["name"] : "me", "--name"),
      ...(typeof v["for"] === "string" ? { label: nameArg(v["for"], "--for") } : {}),
      ...(typeof v["address"] === "string" ? { address: v["address"].trim() } : {}),
    }),
    run: (api: RelayCommandApi, a) =>
      api.contactCard(a.cardName, {
        ...("label" in a ? { label: a.label } : {}),
        ...("address" in a ? { address: a.address } : {}),
      }),
  }),
  clientCommand({
    name: "contact-add",
    args: ["card"],
    options: {},
    summary: "add a contact from their card (text, - for stdin or @FILE); prints its fingerprint",
    details: [
      "The card's signature is checked: a changed card is refused. Compare the fingerprint printed",
      "with the one your contact reads from `contact show`.",
    ],
    examples: ["conclave contact add ccard1eyJ2Ijox...", "conclave contact add @bob-card.txt"],
    movesNotes: false,
    parse: (p, _v, parsers) => ({
      card: parsers.input(p[0]!, { arg: "CARD", thing: "contact card", file: "card.txt" }),
    }),
    run: (api: RelayCommandApi, a, ctx) => api.addContact(ctx.inputText(a.card)),
  }),
  clientCommand({
    name: "contact-list",
    args: [],
    options: {},
    summary: "the contacts this wallet holds, with their fingerprints",
    details: [],
    examples: ["conclave contact list"],
    movesNotes: false,
    parse: () => ({}),
    run: (api: RelayCommandApi) => api.contacts(),
  }),
  clientCommand({
    name: "inbox-send",
    args: ["contact", "text"],
    options: {},
    summary: "send TEXT to a contact's inbox, sealed to their key (no guardian can read it)",
    details: [
      "Written to every guardian; it counts once f + 1 stored it. The guardians see the recipient's",
      "inbox and an opaque item of a padded size, not the sender. TEXT: the text, - or @FILE.",
    ],
    examples: ['conclave inbox send bob "lunch at noon?"', "conclave inbox send bob @note.txt"],
    movesNotes: false,
    parse: (p, _v, parsers) => ({
      to: nameArg(p[0]!, "CONTACT"),
      text: parsers.input(p[1]!, { arg: "TEXT", thing: "letter", file: "letter.txt" }),
    }),
    run: (api: RelayCommandApi, a, ctx) => api.sendLetter(a.to, ctx.inputText(a.text)),
  }),
  clientCommand({
    name: "inbox-read",
    args: [],
    options: {},
    summary: "read new letters from every guardian (then they delete them)",
    details: [
      "Letters are de-duplicated and ordered by the time their senders signed. A guardian that lacks a",
      "letter its sender wrote to it, serves one already read, or serves a forgery is named.",
    ],
    examples: ["conclave inbox read", "conclave --json inbox read"],
    movesNotes: false,
    parse: () => ({}),
    run: (api: RelayCommandApi, _a, ctx: CommandContext<ProgressEvent<InboxProgress>>) =>
      api.readInbox({ onProgress: (value) => ctx.emit({ type: "progress", value }) }),
  }),
  clientCommand({
    name: "recovery-setup",
    args: [],
    options: { ...holderOptions, "no-device": { type: "boolean", help: "keep no shard on this device" } },
    summary: "split recovery among this device, friends and printed copies (t of them recover)",
    details: [
      ...HOLDERS_HELP,
      "Setting up again replaces the previous set: its shards then recover nothing.",
    ],
    examples: [
      "conclave recovery setup --threshold 2 --friends bob --offline 1 < phrase.txt",
      "conclave recovery setup -t 2 --offline 2 --mnemonic @phrase.txt",
    ],
    movesNotes: false,
    parse: (_p, v, parsers) => {
      const holders = holdersOf(v, v["no-device"] !== true);
      const threshold = countOption(v, "threshold", 2);
      if (threshold < 2 || threshold > holders.length)
        throw new CommandUsageError(
          `--threshold is 2 to the number of holders (${holders.length}: add --friends or --offline)`,
        );
      const mnemonic = parsers.input(typeof v["mnemonic"] === "string" ? v["mnemonic"] : "-", {
        arg: "--mnemonic",
        thing: "recovery phrase",
        file: "phrase.txt",
      });
      return { threshold, holders, mnemonic };
    },
    run: (api: RelayCommandApi, a, ctx: SocialCtx) =>
      api.recoverySetup(ctx.inputText(a.mnemonic), a.threshold, a.holders, {
        onProgress: (value) => ctx.emit({ type: "progress", value }),
      }),
  }),
  clientCommand({
    name: "recovery-add",
    args: [],
    options: holderOptions,
    summary: "grow the shard set (e.g. 2-of-3 to 3-of-5): new holders, re-keyed",
    details: [
      "The current holders keep a place and get new shards (friends by the mailbox, printed ones",
      "printed again); the old set's record at the guardians is replaced, so old shards recover nothing.",
    ],
    examples: ["conclave recovery add --threshold 3 --friends carol --offline 1 < phrase.txt"],
    movesNotes: false,
    parse: (_p, v, parsers) => {
      const added = holdersOf(v, false);
      if (added.length === 0) throw new CommandUsageError("add holders: --friends or --offline");
      const threshold = countOption(v, "threshold", 2);
      if (threshold < 2) throw new CommandUsageError("--threshold is 2 or more");
      const mnemonic = parsers.input(typeof v["mnemonic"] === "string" ? v["mnemonic"] : "-", {
        arg: "--mnemonic",
        thing: "recovery phrase",
        file: "phrase.txt",
      });
      return { threshold, added, mnemonic };
    },
    run: (api: RelayCommandApi, a, ctx: SocialCtx) =>
      api.recoveryAdd(ctx.inputText(a.mnemonic), a.threshold, a.added, {
        onProgress: (value) => ctx.emit({ type: "progress", value }),
      }),
  }),
  clientCommand({
    name: "recovery-requests",
    args: [],
    options: {},
    summary: "who asked the federation for its shard: release requests at every guardian",
    details: [
      "Requests for the current set's federation shard as each guardian holds them, with when each",
      "guardian would release its piece. Cancel those you did not make (recovery cancel) before then.",
    ],
    examples: ["conclave recovery requests", "conclave --json recovery requests"],
    movesNotes: false,
    parse: () => ({}),
    run: (api: RelayCommandApi) => api.recoveryRequests(),
  }),
  clientCommand({
    name: "recovery-cancel",
    args: [],
    options: {},
    summary: "cancel every open request for the federation's shard, at every guardian",
    details: [
      "Each cancel is signed by this wallet's key for one guardian and one request; cancelled at f + 1",
      "guardians, a request can never gather the t pieces it needs.",
    ],
    examples: ["conclave recovery cancel"],
    movesNotes: false,
    parse: () => ({}),
    run: (api: RelayCommandApi) => api.cancelRecoveryRequests(),
  }),
] as const satisfies readonly ClientCommand<RelayCommandApi>[];
