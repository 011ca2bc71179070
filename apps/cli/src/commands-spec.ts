// Every command's shape: its positional arguments, its own options, and its help text. The parser
// (args.ts) and `--help` both read this table, so the help cannot drift from what is accepted.

export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly value?: string;
  readonly help: string;
}

export interface CommandSpec {
  readonly name: string;
  /** Positional arguments, in order; a trailing "?" marks an optional one. */
  readonly args: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly summary: string;
  /** Longer explanation, lines. */
  readonly details: readonly string[];
  readonly examples: readonly string[];
  /** Moves notes: an interruption leaves a pending operation that `conclave resume` finishes. */
  readonly movesNotes: boolean;
}

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

const AMOUNT_FORMS =
  'Amounts: XMR with up to 12 decimals ("0.25") or base units with a "p" suffix ("250000000000p").';
const NOTES_FORMS =
  'NOTES: the note string itself, "-" to read it from stdin, or "@FILE" to read it from a file.';

export const COMMANDS: readonly CommandSpec[] = [
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
    name: "dev-faucet",
    args: ["amount"],
    options: {},
    summary: "get free notes from a dev federation's test-only faucet",
    details: [
      "Only a dev federation (like `npm start`'s) runs the faucet; a real one refuses.",
      AMOUNT_FORMS,
    ],
    examples: ["conclave dev-faucet 1.5", "conclave dev-faucet 1000000p"],
    movesNotes: true,
  },
  {
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
  },
  {
    name: "cancel",
    args: ["spend-id"],
    options: {},
    summary: "take back notes handed out by `spend` (if nobody reissued them yet)",
    details: ["The spend ids still outstanding are listed by `conclave info`."],
    examples: ["conclave cancel 3f2a..."],
    movesNotes: true,
  },
  {
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
  },
  {
    name: "split",
    args: ["denomination", "count"],
    options: {},
    summary: "reissue own notes so that at least COUNT notes of DENOMINATION exist",
    details: [
      "DENOMINATION: 2^N, or its amount (a power of two of the base unit) as `conclave info` lists it.",
    ],
    examples: ["conclave split 2^30 4", "conclave split 1073741824p 4"],
    movesNotes: true,
  },
  {
    name: "combine",
    args: [],
    options: {},
    summary: "reissue own notes into as few notes as possible",
    details: [],
    examples: ["conclave combine"],
    movesNotes: true,
  },
  {
    name: "validate",
    args: ["notes"],
    options: {
      online: { type: "boolean", help: "also ask the guardians whether each note is already spent" },
    },
    summary: "check a note string offline: encoding, federation and signatures (and spent, with --online)",
    details: [NOTES_FORMS, "Exits with 1 if any note is invalid (or, with --online, already spent)."],
    examples: ["conclave validate @notes.txt", "conclave validate --online -  < notes.txt"],
    movesNotes: false,
  },
  {
    name: "backup",
    args: [],
    options: {},
    summary: "store the wallet's encrypted backup at every guardian",
    details: ["Only the recovery phrase can read it; `conclave restore` finds it and scans for newer notes."],
    examples: ["conclave backup"],
    movesNotes: false,
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
    name: "claim",
    args: [],
    options: {
      txid: {
        type: "string",
        value: "hex",
        help: "the Monero transaction that paid the federation's address",
      },
      "tx-key": {
        type: "string",
        value: "hex",
        help: "its tx key, from the sending wallet (monero-wallet-cli: get_tx_key TXID)",
      },
      seal: {
        type: "boolean",
        help: "print the claim sealed to one guardian (for `conclave relay`) instead of sending it",
      },
      guardian: {
        type: "string",
        value: "n",
        help: "with --seal: the guardian to seal it to (default: random)",
      },
      wait: {
        type: "string",
        value: "txid",
        help: "finish a claim made before (e.g. sealed and relayed): wait, then take the notes",
      },
    },
    summary: "turn a Monero deposit to the federation into notes, by proof of payment (txid + tx key)",
    details: [
      "The tx key never leaves this machine: from it the wallet makes a payment proof (Monero's",
      "OutProofV2) bound to a claim key derived from this wallet's recovery phrase, and sends that to",
      "every guardian; each checks it against its own Monero node (check_tx_proof). A guardian that",
      "sees the proof cannot reuse it for its own key. Once t guardians agree and the deposit has the",
      "federation's confirmations, it is spent into fresh notes. Progress is printed as it goes.",
      "Anyone holding the tx key can claim the deposit: claim it before sharing the tx key.",
      "Interrupted or timed out, the claim stays pending: run the same command again, or `resume`.",
      "",
      "--seal sends nothing: it records the claim and prints it encrypted to one guardian (stdout), to",
      "reach that guardian over any relay (mail, I2P, another machine: `conclave relay`). Only that",
      "guardian can read it. This wallet never sends a sealed claim in clear; `claim --wait TXID` (or",
      "`resume`) turns the deposit into notes once the guardian has it and the deposit is confirmed.",
    ],
    examples: [
      "conclave claim --txid 5e3f... --tx-key 9a1c...",
      "conclave claim --txid 5e3f... --tx-key 9a1c... --seal --guardian 2 > claim.txt",
      "conclave claim --wait 5e3f...",
    ],
    movesNotes: true,
  },
  {
    name: "relay",
    args: ["sealed"],
    options: {
      url: {
        type: "string",
        value: "url",
        help: "the guardian's API URL (without it: from the wallet's federation)",
      },
    },
    summary: "deliver a sealed claim (`claim --seal`) to the guardian it is sealed to",
    details: [
      'SEALED: the csealed1... text, "-" to read it from stdin, or "@FILE" to read it from a file.',
      "Anyone may relay it: it reveals nothing but its federation and guardian, and only that guardian",
      "can open it. With a wallet of the federation (--data), the guardian's address comes from there;",
      "without one, give it with --url. Relaying the same claim twice is harmless.",
    ],
    examples: [
      "conclave relay @claim.txt",
      "conclave relay --url https://guardian2.example.org - < claim.txt",
    ],
    movesNotes: false,
  },
  {
    name: "withdraw",
    args: ["address", "amount"],
    options: {},
    summary: "pay AMOUNT from the wallet's notes to a Monero ADDRESS; prints the txid and tx key",
    details: [
      "Spends notes worth AMOUNT plus the payout's Monero fee and the mint's fee per note (the change",
      "comes back as fresh notes) into a payout that the guardians' multisig wallets sign in turn.",
      "The Monero fee is the guardians' quote (GET /v1/modules/monero/payouts/terms, t must agree):",
      "max(floor, agreed fee rate x bytes per payout), the rate agreed in consensus from each",
      "guardian's own monerod (get_fee_estimate). Waits, printing progress (queued, signing,",
      "submitted, confirmed), and prints the fee, the Monero txid and tx key: `check_tx_key TXID",
      "TXKEY ADDRESS` in any Monero wallet proves the payment. A refused payout (an address the",
      "guardians refuse, a fee rate that rose meanwhile: re-quoted and retried once) costs nothing:",
      "the notes stay in the wallet.",
      AMOUNT_FORMS,
    ],
    examples: ["conclave withdraw 4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx... 0.25"],
    movesNotes: true,
  },
  {
    name: "deposit",
    args: [],
    options: {
      "no-wait": {
        type: "boolean",
        help: "only print the deposit address (the wallet watches it later: `resume`)",
      },
    },
    summary: "show a deposit subaddress of the federation, wait for a payment, then issue e-cash",
    details: [
      "Asks the guardians for a Monero subaddress of the federation's wallet bound to a fresh claim key",
      "of this wallet (t guardians must agree on it) and prints it. Pay it from any Monero wallet: no",
      "tx key is needed, the guardians see the payment themselves. Then waits with a progress bar over",
      "the confirmations (plain lines when stdout is not a terminal; JSON lines on stderr with --json),",
      "turns the payment into notes and prints the new balance. Interrupted, the address stays this",
      "wallet's: `conclave resume` issues what it received meanwhile.",
    ],
    examples: ["conclave deposit", "conclave deposit --no-wait", "conclave --json deposit"],
    movesNotes: true,
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
  {
    name: "withdrawals",
    args: [],
    options: {},
    summary: "the wallet's withdrawals and where each one is; Monero txid and tx key once paid",
    details: [
      "Asks the guardians about every withdrawal not yet confirmed (a `withdraw` cut short by Ctrl-C,",
      "a timeout or a crash goes on at the federation), saves what they say, and lists all of them,",
      "newest first: state (submitting, queued, signing, submitted, confirmed), amount and address,",
      "and once paid the Monero txid and tx key with the `check_tx_key` line that proves the payment.",
    ],
    examples: ["conclave withdrawals", "conclave --json withdrawals"],
    movesNotes: false,
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

export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
