// The bridge half's commands for a command-line front end (the contract: core-client commands.ts).
// Data and handlers only: progress goes out as events (`context.emit`), apps/cli renders it.
import { CommandUsageError, clientCommand } from "@conclave/core-client";
import type {
  ClientCommand,
  CommandContext,
  CommandInput,
  CommandParsers,
  CommandValues,
  ProgressEvent,
} from "@conclave/core-client";
import type { BridgeClient } from "./bridge-client.js";
import type { BurnProgress } from "./burns.js";
import type { EvmSender } from "./config.js";
import type { SealedDepositMint } from "./deposit-mints.js";
import type { BridgeMintProgress, BridgeMintResult } from "./mints.js";
import type { FindMintsResult } from "./recover.js";
import type { RefundProgress, RefundResult } from "./refunds.js";

/** What the bridge's commands need of the wallet: the half's own operations (the facade passes them on). */
export type BridgeCommandApi = Pick<
  BridgeClient,
  | "bridgeMint"
  | "bridgeMintFromDeposit"
  | "bridgeSealDepositMint"
  | "bridgeSubmit"
  | "bridgeBurn"
  | "bridgeRedeem"
  | "bridgeRefund"
  | "bridgeFindMints"
  | "bridgeStatus"
>;

const AMOUNT_FORMS =
  'Amounts: XMR with up to 12 decimals ("0.25") or base units with a "p" suffix ("250000000000p").';
const KEY_FILE =
  '--evm-key-file F: a file holding the EVM private key (0x and 64 hex digits, or JSON {"privateKey": "0x..."}).';
const KEY_INPUT = { arg: "--evm-key-file", thing: "EVM private key", file: "key.txt" };

const evmOptions = {
  "evm-key-file": { type: "string", value: "file", help: "the EVM private key that signs and pays the gas" },
  rpc: { type: "string", value: "url", help: "the EVM node's JSON-RPC URL (http:// or https://)" },
} as const;

function urlOption(value: string | boolean | undefined, flag: string): string | undefined {
  if (value === undefined || value === false) return undefined;
  const v = typeof value === "string" ? value.trim() : "";
  let url: URL | undefined;
  try {
    url = new URL(v);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:"))
    throw new CommandUsageError(
      `${flag} is an EVM node's URL (http:// or https://), not "${v.slice(0, 60)}"`,
    );
  return v;
}

/**
 * `--evm-key-file F --rpc URL`, both or neither (`required`: both). The key file is an input the
 * front end reads before the command runs (so it is a top-level field of the command's arguments).
 */
function evmArgs(
  values: CommandValues,
  parsers: CommandParsers,
  required: boolean,
): { keyFile: CommandInput; rpcUrl: string } | undefined {
  const file = values["evm-key-file"];
  const rpcUrl = urlOption(values["rpc"], "--rpc");
  if (typeof file !== "string" || file.trim() === "") {
    if (required) throw new CommandUsageError("--evm-key-file F and --rpc URL are needed to send it");
    if (rpcUrl) throw new CommandUsageError("--rpc goes with --evm-key-file F (the key that sends)");
    return undefined;
  }
  if (!rpcUrl) throw new CommandUsageError("--evm-key-file goes with --rpc URL (the node that sends it)");
  return { keyFile: parsers.input(`@${file.trim()}`, KEY_INPUT), rpcUrl };
}

/** The private key in a key file: 0x and 64 hex digits (the 0x optional), or JSON {"privateKey": ...}. */
export function evmKeyFromText(text: string): `0x${string}` {
  let t = text.trim();
  if (t.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch {
      parsed = undefined;
    }
    const key =
      parsed !== null && typeof parsed === "object" && "privateKey" in parsed ? parsed.privateKey : undefined;
    if (typeof key !== "string")
      throw new CommandUsageError('the EVM key file is JSON without a "privateKey" string');
    t = key.trim();
  }
  if (/^[0-9a-fA-F]{64}$/.test(t)) t = `0x${t}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(t))
    throw new CommandUsageError("the EVM key file holds no private key (0x and 64 hex digits)");
  return t as `0x${string}`;
}

function sender(rpcUrl: string, keyText: string): EvmSender {
  return { privateKey: evmKeyFromText(keyText), rpcUrl };
}

function evmAddressArg(text: string): string {
  const a = text.trim();
  if (!/^0x[0-9a-fA-F]{40}$/.test(a))
    throw new CommandUsageError(
      `EVM-ADDRESS is 0x and 40 hex digits, not "${a.length > 50 ? `${a.slice(0, 50)}…` : a}"`,
    );
  return a;
}

export const bridgeCommands = [
  clientCommand({
    name: "bridge-mint",
    args: ["evm-address", "amount?"],
    options: {
      submit: { type: "boolean", help: "send the mint from --evm-key-file through --rpc (pays the gas)" },
      ...evmOptions,
      "from-deposit": {
        type: "string",
        value: "txid",
        help: "mint this Monero deposit to the federation, less the refundable mint's fee (no e-cash in between)",
      },
      "tx-key": {
        type: "string",
        value: "hex",
        help: "with --from-deposit: the deposit's tx key (without it: this wallet's pending claim)",
      },
      seal: {
        type: "boolean",
        help: "with --from-deposit and --tx-key: print the claim sealed to one guardian (for `conclave relay`)",
      },
      guardian: {
        type: "string",
        value: "n",
        help: "with --seal: the guardian to seal it to (default: random)",
      },
      "refund-to": {
        type: "string",
        value: "monero-address",
        help: "with --from-deposit: if the mint never happens, the federation pays it back here in Monero",
      },
    },
    summary:
      "turn AMOUNT of e-cash, or a whole Monero deposit, into wXMR at EVM-ADDRESS (one federation transaction)",
    details: [
      "Spends notes worth AMOUNT (plus the mint's fee per note and the federation's fee for a",
      "refundable mint, refundableMintFeePiconero in its config, both printed; change comes back as",
      'notes) into the output "wXMR to EVM-ADDRESS". Once t guardians accepted it, collects each guardian\'s EIP-712',
      "signature, keeps only those by the guardian's configured address (a bad one is skipped and",
      "named), and prints the contract call: recipient, amount, depositId, deadline, setIndex and t",
      "signatures sorted by signer. Anyone may send it before the deadline (the sender pays the gas).",
      "With --submit it is sent from --evm-key-file through --rpc (gas limit: the estimate + 50 %).",
      "A bad address (wrong EIP-55 checksum, zero, the contract) or amount is refused before anything",
      "is spent. Interrupted, `conclave resume` collects the signatures and `bridge-submit` sends it.",
      "",
      "--from-deposit TXID --tx-key K (no AMOUNT): straight from a Monero payment to the federation's",
      "address. The claim is made as `claim` makes it (the tx key never leaves this machine); once t",
      "guardians agree the deposit is credited and confirmed, one transaction spends it into the",
      '"wXMR to EVM-ADDRESS" output worth the deposit less the federation\'s fee for a refundable mint',
      "(printed), never into notes. --seal prints the claim sealed to one guardian instead (relay it",
      "with `conclave relay`), then `bridge-mint EVM-ADDRESS --from-deposit TXID` (no tx key) waits for",
      "it and mints. A deposit below the refundable mint's minimum plus that fee becomes notes.",
      "--refund-to MONERO-ADDRESS: if the mint is never minted (not sent by its deadline, the contract",
      "paused, a mint above the cap cancelled), t guardians pay it back to this address in Monero, less",
      "the Monero fee, with no wallet involved; without it, it comes back as e-cash (`bridge-refund`).",
      "Interrupted, `resume` continues it into the same output.",
      KEY_FILE,
      AMOUNT_FORMS,
    ],
    examples: [
      "conclave bridge-mint 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 0.5",
      "conclave bridge-mint 0x7099...79C8 0.5 --submit --evm-key-file key.txt --rpc http://127.0.0.1:8545",
      "conclave bridge-mint 0x7099...79C8 --from-deposit 5e3f... --tx-key 9a1c... --submit --evm-key-file key.txt --rpc URL",
      "conclave bridge-mint 0x7099...79C8 --from-deposit 5e3f... --tx-key 9a1c... --seal > claim.txt",
    ],
    movesNotes: true,
    parse: (p, v, parsers) => {
      const recipient = evmAddressArg(p[0]!);
      const evm = evmArgs(v, parsers, v["submit"] === true);
      if (evm && v["submit"] !== true)
        throw new CommandUsageError("--evm-key-file and --rpc send the mint: add --submit");
      const fromDeposit = v["from-deposit"];
      const txKeyValue = v["tx-key"];
      const txKey = typeof txKeyValue === "string" ? txKeyValue.trim() : undefined;
      const seal = v["seal"] === true;
      const guardianText = v["guardian"];
      const refundText = v["refund-to"];
      const refundTo = typeof refundText === "string" ? refundText.trim() : undefined;
      if (refundTo !== undefined && !/^[1-9A-HJ-NP-Za-km-z]{95}$/.test(refundTo))
        throw new CommandUsageError(
          "--refund-to is a Monero standard address or subaddress: 95 base58 characters",
        );
      if (typeof fromDeposit !== "string") {
        if (txKey !== undefined || seal || guardianText !== undefined || refundTo !== undefined)
          throw new CommandUsageError(
            "--tx-key, --seal, --guardian and --refund-to go with --from-deposit TXID",
          );
        if (p[1] === undefined)
          throw new CommandUsageError("give AMOUNT (of e-cash), or --from-deposit TXID");
        const amount = parsers.amount(p[1]);
        return evm ? { recipient, amount, ...evm } : { recipient, amount };
      }
      if (p[1] !== undefined)
        throw new CommandUsageError(
          "--from-deposit mints the deposit (less the refundable mint's fee): give no AMOUNT",
        );
      const txid = fromDeposit.trim().toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(txid))
        throw new CommandUsageError("--from-deposit is a Monero txid: 64 hex characters");
      if (guardianText !== undefined && !seal) throw new CommandUsageError("--guardian goes with --seal");
      if (seal) {
        if (txKey === undefined) throw new CommandUsageError("--seal needs the deposit's --tx-key");
        if (evm) throw new CommandUsageError("--seal sends nothing: mint after relaying, without --seal");
        let guardian: number | undefined;
        if (typeof guardianText === "string") {
          if (!/^\d{1,3}$/.test(guardianText.trim()))
            throw new CommandUsageError("--guardian is a guardian's index (0, 1, ...)");
          guardian = Number(guardianText.trim());
        }
        return {
          recipient,
          seal: {
            txid,
            txKey,
            ...(guardian === undefined ? {} : { guardian }),
            ...(refundTo === undefined ? {} : { refundTo }),
          },
        };
      }
      const deposit = { txid, ...(txKey === undefined ? {} : { txKey }) };
      const refund = refundTo === undefined ? {} : { refundTo };
      return evm ? { recipient, deposit, ...refund, ...evm } : { recipient, deposit, ...refund };
    },
    run: (
      api: BridgeCommandApi,
      a,
      ctx: CommandContext<ProgressEvent<BridgeMintProgress>>,
    ): Promise<BridgeMintResult | SealedDepositMint> => {
      if ("seal" in a) return api.bridgeSealDepositMint(a.recipient, a.seal);
      const options = {
        ...("keyFile" in a ? { submit: sender(a.rpcUrl, ctx.inputText(a.keyFile)) } : {}),
        ...("refundTo" in a && a.refundTo !== undefined ? { refundTo: a.refundTo } : {}),
        onProgress: (value: BridgeMintProgress) => ctx.emit({ type: "progress", value }),
      };
      if ("deposit" in a) return api.bridgeMintFromDeposit(a.recipient, a.deposit, options);
      return api.bridgeMint(a.recipient, a.amount, options);
    },
  }),
  clientCommand({
    name: "bridge-submit",
    args: ["id"],
    options: evmOptions,
    summary: "send a signed wXMR mint (this wallet's, any mint output, or a burn's re-mint) from an EVM key",
    details: [
      "ID: a federation txid for a mint of this wallet (a `bridge-mint` run without --submit, or cut",
      "short before sending), TXID:OUTPUT for any mint output, or the EVM tx hash of a burn the",
      "federation re-minted to its burner (HASH:LOG for one of several). Collects the signatures t",
      "guardians give now and sends the mint (gas limit: the estimate + 50 %): an expired mint without",
      "refund key goes out under its current re-issue (attempt and deadline printed), never an",
      "earlier one. A mint already on chain is refused by the contract (DepositUsed) before anything",
      "is paid.",
      KEY_FILE,
    ],
    examples: [
      "conclave bridge-submit 5e3f... --evm-key-file key.txt --rpc http://127.0.0.1:8545",
      "conclave bridge-submit 5e3f...:1 --evm-key-file key.txt --rpc http://127.0.0.1:8545",
      "conclave bridge-submit 0x9a1c...:0 --evm-key-file key.txt --rpc http://127.0.0.1:8545",
    ],
    movesNotes: false,
    parse: (p, v, parsers) => {
      const id = p[0]!.trim();
      if (!/^[0-9a-fA-F]{64}(:\d{1,5})?$/.test(id) && !/^0x[0-9a-fA-F]{64}(:\d{1,10})?$/.test(id))
        throw new CommandUsageError(
          "ID is a federation txid (64 hex; TXID:OUTPUT) or a burn's EVM tx hash (0x and 64 hex; HASH:LOG)",
        );
      return { id, ...evmArgs(v, parsers, true)! };
    },
    run: (api: BridgeCommandApi, a, ctx) =>
      api.bridgeSubmit(a.id, sender(a.rpcUrl, ctx.inputText(a.keyFile))),
  }),
  clientCommand({
    name: "bridge-status",
    args: ["id"],
    options: { rpc: evmOptions.rpc },
    summary: "where a wXMR mint (federation txid) or a burn (EVM tx hash) is",
    details: [
      "ID: a federation txid (64 hex; TXID:OUTPUT for another output) for a mint, or an EVM tx hash",
      "(0x and 64 hex; HASH:LOG for another log) for a burn. Asks the guardians (t must agree; each",
      "mint signature is checked) and, with --rpc, the chain. A mint is pending, accepted, signed,",
      "submitted, minted, failed or expired; a burn sent, mined, voting, then payout_pending,",
      "claimable, redeemed (claimed) or reminted (with the re-mint's signed call). An expired mint",
      "without refund key is re-issued by the guardians: `re-issued: attempt K, deadline D` and the",
      "attempt's deposit id are shown (computed here from the first; each signature checked on it).",
    ],
    examples: [
      "conclave bridge-status 5e3f...",
      "conclave bridge-status 0x9a1c... --rpc http://127.0.0.1:8545",
    ],
    movesNotes: false,
    parse: (p, v) => {
      const rpcUrl = urlOption(v["rpc"], "--rpc");
      return rpcUrl ? { id: p[0]!.trim(), rpcUrl } : { id: p[0]!.trim() };
    },
    run: (api: BridgeCommandApi, a) => api.bridgeStatus(a.id, "rpcUrl" in a ? { rpcUrl: a.rpcUrl } : {}),
  }),
  clientCommand({
    name: "bridge-burn",
    args: ["amount", "monero-address?"],
    options: {
      "to-claim": {
        type: "boolean",
        help: "burn to a claim key of this wallet and redeem it into e-cash (instead of an address)",
      },
      ...evmOptions,
    },
    summary: "burn AMOUNT wXMR back: to a Monero address, or --to-claim into this wallet's e-cash",
    details: [
      "With --evm-key-file and --rpc, signs and sends the burn from that key (which holds the wXMR).",
      "Without them, prints the call (contract, function, arguments, calldata) for any EVM wallet.",
      "To a Monero address: the federation pays it once t guardians saw the burn at their depth",
      "(an address they cannot pay is re-minted to the burner). --to-claim: the burn names a claim",
      "key derived from this wallet's recovery phrase; the wallet waits until t guardians accepted",
      "it and redeems it into notes (worth the whole amount). A burn printed for another wallet is",
      "redeemed with `bridge-redeem HASH --rpc URL`, also from a wallet restored from the phrase.",
      KEY_FILE,
      AMOUNT_FORMS,
    ],
    examples: [
      "conclave bridge-burn 0.5 --to-claim --evm-key-file key.txt --rpc http://127.0.0.1:8545",
      "conclave bridge-burn 0.5 4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx... --evm-key-file key.txt --rpc URL",
      "conclave bridge-burn 0.5 --to-claim",
    ],
    movesNotes: true,
    parse: (p, v, parsers) => {
      const amount = parsers.amount(p[0]!);
      const address = p[1]?.trim();
      const toClaim = v["to-claim"] === true;
      if (toClaim === (address !== undefined && address !== ""))
        throw new CommandUsageError("give either a MONERO-ADDRESS or --to-claim");
      const evm = evmArgs(v, parsers, false);
      const to = toClaim ? { toClaim: true as const } : { moneroAddress: address! };
      return evm ? { amount, to, ...evm } : { amount, to };
    },
    run: (api: BridgeCommandApi, a, ctx: CommandContext<ProgressEvent<BurnProgress>>) =>
      api.bridgeBurn(a.amount, a.to, {
        ...("keyFile" in a ? { sender: sender(a.rpcUrl, ctx.inputText(a.keyFile)) } : {}),
        onProgress: (value) => ctx.emit({ type: "progress", value }),
      }),
  }),
  clientCommand({
    name: "bridge-redeem",
    args: ["burn-tx-hash"],
    options: { rpc: evmOptions.rpc },
    summary: "redeem a burn to this wallet's claim key (`bridge-burn --to-claim`) into e-cash",
    details: [
      "Waits until t guardians accepted the burn at their depth, then spends it into notes with the",
      "claim key (derived from the recovery phrase). A burn this wallet has no record of (sent from",
      "another EVM wallet, or before a restore) is read from --rpc and its claim key looked up.",
    ],
    examples: [
      "conclave bridge-redeem 0x9a1c...",
      "conclave bridge-redeem 0x9a1c... --rpc http://127.0.0.1:8545",
    ],
    movesNotes: true,
    parse: (p, v) => {
      const txHash = p[0]!.trim();
      if (!/^0x[0-9a-fA-F]{64}$/.test(txHash))
        throw new CommandUsageError("BURN-TX-HASH is an EVM transaction hash: 0x and 64 hex digits");
      const rpcUrl = urlOption(v["rpc"], "--rpc");
      return rpcUrl ? { txHash, rpcUrl } : { txHash };
    },
    run: (api: BridgeCommandApi, a, ctx: CommandContext<ProgressEvent<BurnProgress>>) =>
      api.bridgeRedeem(a.txHash, {
        ...("rpcUrl" in a ? { rpcUrl: a.rpcUrl } : {}),
        onProgress: (value) => ctx.emit({ type: "progress", value }),
      }),
  }),
  clientCommand({
    name: "bridge-refund",
    args: ["txid?"],
    options: {
      find: {
        type: "boolean",
        help: "list this wallet's refundable mints the guardians know by its refund keys (after a restore), without a TXID",
      },
    },
    summary: "take back as e-cash a wXMR mint of this wallet that expired unsubmitted",
    details: [
      "A mint nobody submitted before its deadline is returned by the guardians once t of them saw",
      "its deposit id unused at their confirmation depth past the deadline (`bridge-status` says",
      "returnable); this waits for that, then spends it with the mint's refund key (derived from",
      "the recovery phrase) into notes worth the whole amount. After that the signed mint reverts.",
      "",
      "A wallet restored from its recovery phrase on another device has no record of its mints: it",
      "finds them by its refund keys (t guardians answer which mints name each key). --find lists",
      "them; `bridge-refund TXID` of a mint the wallet does not know looks for it the same way first.",
    ],
    examples: ["conclave bridge-refund 3f2a...", "conclave bridge-refund --find"],
    movesNotes: true,
    parse: (p, v) => {
      if (v["find"] === true) {
        if (p[0] !== undefined) throw new CommandUsageError("--find lists the mints: give no TXID");
        return { find: true as const };
      }
      if (p[0] === undefined)
        throw new CommandUsageError("give TXID (the mint's federation transaction), or --find");
      const txid = p[0].trim();
      if (!/^[0-9a-fA-F]{64}$/.test(txid))
        throw new CommandUsageError("TXID is the federation transaction of the mint: 64 hex digits");
      return { txid };
    },
    run: (
      api: BridgeCommandApi,
      a,
      ctx: CommandContext<ProgressEvent<RefundProgress>>,
    ): Promise<RefundResult | FindMintsResult> =>
      "find" in a
        ? api.bridgeFindMints()
        : api.bridgeRefund(a.txid, { onProgress: (value) => ctx.emit({ type: "progress", value }) }),
  }),
] as const satisfies readonly ClientCommand<BridgeCommandApi>[];
