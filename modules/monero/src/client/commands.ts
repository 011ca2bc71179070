// The Monero half's commands for a command-line front end (the contract: core-client commands.ts).
// Data and handlers only: progress goes out as events (`context.emit`), apps/cli renders it.
import { CommandUsageError, clientCommand } from "@conclave/core-client";
import type { ClientCommand, CommandContext, CommandValues, ProgressEvent } from "@conclave/core-client";
import type { MoneroClient } from "./monero-client.js";
import type {
  ClaimDepositResult,
  DepositAddressResult,
  DepositProgress,
  ReceiveDepositsResult,
  SealClaimResult,
  SubaddressDepositProgress,
  WithdrawProgress,
} from "./types.js";

/** What the Monero half's commands need of the wallet: the half's own operations (the facade passes them on). */
export type MoneroCommandApi = Pick<
  MoneroClient,
  | "claimDeposit"
  | "sealClaim"
  | "waitDeposit"
  | "relaySealed"
  | "depositAddress"
  | "receiveDeposits"
  | "withdraw"
  | "withdrawals"
>;

const AMOUNT_FORMS =
  'Amounts: XMR with up to 12 decimals ("0.25") or base units with a "p" suffix ("250000000000p").';
const TXID_FORM = /^[0-9a-fA-F]{64}$/;

/** claim --txid --tx-key [--seal [--guardian N]], or claim --wait TXID. */
export type ClaimArgs =
  | { readonly txid: string; readonly txKey: string; readonly seal?: { readonly guardian?: number } }
  | { readonly wait: string };

function claimArgs(values: CommandValues): ClaimArgs {
  const given = (name: string) => values[name] !== undefined && values[name] !== false;
  if (given("wait")) {
    const clash = ["txid", "tx-key", "seal", "guardian"].find(given);
    if (clash) throw new CommandUsageError(`--wait finishes a claim already made: leave out --${clash}`);
    return { wait: hexOption(values["wait"], "--wait", TXID_FORM, "a txid: 64 hex characters") };
  }
  if (given("guardian") && !given("seal")) throw new CommandUsageError("--guardian goes with --seal");
  const proof = {
    txid: hexOption(values["txid"], "--txid", TXID_FORM, "64 hex characters"),
    txKey: hexOption(
      values["tx-key"],
      "--tx-key",
      /^([0-9a-fA-F]{64}){1,17}$/,
      "64 hex characters (or several such keys joined)",
    ),
  };
  if (!given("seal")) return proof;
  const g = values["guardian"];
  if (g === undefined) return { ...proof, seal: {} };
  if (typeof g !== "string" || !/^\d{1,2}$/.test(g.trim()))
    throw new CommandUsageError(
      "--guardian is a guardian's index (0, 1, 2, ...; `conclave info` lists them)",
    );
  return { ...proof, seal: { guardian: Number(g.trim()) } };
}

function urlOption(value: string | boolean | undefined): string | undefined {
  if (typeof value !== "string") return undefined;
  const v = value.trim();
  let url: URL | undefined;
  try {
    url = new URL(v);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:"))
    throw new CommandUsageError(
      `--url is a guardian's API URL (http:// or https://), not "${v.slice(0, 60)}"`,
    );
  return v;
}

function hexOption(
  value: string | boolean | undefined,
  flag: string,
  form: RegExp,
  formText: string,
): string {
  if (typeof value !== "string" || value.trim() === "") throw new CommandUsageError(`missing ${flag}`);
  const v = value.trim().toLowerCase();
  if (!form.test(v)) throw new CommandUsageError(`${flag} is ${formText}`);
  return v;
}

/** A Monero address's form (base58, 95 or 106 characters); the guardians check the rest. */
function moneroAddress(text: string): string {
  const a = text.trim();
  if (a === "") throw new CommandUsageError("ADDRESS is empty");
  if (!/^[1-9A-HJ-NP-Za-km-z]{95}$|^[1-9A-HJ-NP-Za-km-z]{106}$/.test(a))
    throw new CommandUsageError(
      `ADDRESS is a Monero address: 95 base58 characters (106 for an integrated address), not ${
        a.length > 40 ? `"${a.slice(0, 40)}…"` : `"${a}"`
      }`,
    );
  return a;
}

/** `deposit`'s events: the address to pay (before the wait), then the payments' progress. */
export type DepositEvent =
  | { readonly type: "address"; readonly value: DepositAddressResult }
  | ProgressEvent<SubaddressDepositProgress>;

const SEALED_INPUT = { arg: "SEALED", thing: "sealed claim", file: "claim.txt" };

export const moneroCommands = [
  clientCommand({
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
    parse: (_p, v) => claimArgs(v),
    run: async (
      api: MoneroCommandApi,
      a,
      ctx: CommandContext<ProgressEvent<DepositProgress>>,
    ): Promise<ClaimDepositResult | SealClaimResult> => {
      const progress = { onProgress: (value: DepositProgress) => ctx.emit({ type: "progress", value }) };
      if ("wait" in a) return api.waitDeposit(a.wait, progress);
      const proof = { txid: a.txid, txKey: a.txKey };
      if (a.seal) {
        return api.sealClaim(a.seal.guardian === undefined ? proof : { ...proof, guardian: a.seal.guardian });
      }
      return api.claimDeposit(proof, progress);
    },
  }),
  clientCommand({
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
    parse: (p, v, parsers) => {
      const url = urlOption(v["url"]);
      const sealed = parsers.input(p[0]!, SEALED_INPUT);
      return url === undefined ? { sealed } : { sealed, url };
    },
    run: (api: MoneroCommandApi, a, ctx) => api.relaySealed(ctx.inputText(a.sealed)),
  }),
  clientCommand({
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
    parse: (p, _v, parsers) => ({ address: moneroAddress(p[0]!), amount: parsers.amount(p[1]!) }),
    run: (api: MoneroCommandApi, a, ctx: CommandContext<ProgressEvent<WithdrawProgress>>) =>
      api.withdraw(a.address, a.amount, {
        onProgress: (value) => ctx.emit({ type: "progress", value }),
      }),
  }),
  clientCommand({
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
    parse: (_p, v) => ({ wait: v["no-wait"] !== true }),
    run: async (
      api: MoneroCommandApi,
      a,
      ctx: CommandContext<DepositEvent>,
    ): Promise<DepositAddressResult | ReceiveDepositsResult> => {
      const address = await api.depositAddress();
      if (!a.wait) return address;
      ctx.emit({ type: "address", value: address });
      return api.receiveDeposits(address.address, {
        onProgress: (value) => ctx.emit({ type: "progress", value }),
      });
    },
  }),
  clientCommand({
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
    parse: () => ({}),
    run: (api: MoneroCommandApi) => api.withdrawals({ refresh: true }),
  }),
] as const satisfies readonly ClientCommand<MoneroCommandApi>[];
