// One invocation: parse, open the wallet of the data directory, run the command, print the result.
// Returns the exit code: 0 done, 1 the operation failed, 2 the command line was wrong, 130 Ctrl-C.
import { ConclaveError, ConfigError, decodeInvite } from "@conclave/core-common";
import { parseInvocation } from "./args.js";
import type { Command, GlobalOptions, MnemonicSource, NotesSource } from "./args.js";
import { commandSpec } from "./commands-spec.js";
import { isEmptyDir, resolveDataDir } from "./data-dir.js";
import {
  CliError,
  EXIT_FAILED,
  EXIT_INTERRUPTED,
  EXIT_OK,
  EXIT_USAGE,
  bigintReplacer,
  reportError,
} from "./errors.js";
import { commandHelp, generalHelp } from "./help.js";
import type { CliIo } from "./io.js";
import { InputTooLargeError } from "./io.js";
import {
  amountText,
  backupLines,
  claimLines,
  depositAddressLines,
  depositProgressLine,
  infoLines,
  joinLines,
  receivedLines,
  reissueLines,
  relayLines,
  restoreLines,
  sealNotice,
  spendNotice,
  subaddressProgressLine,
  validateLines,
  withdrawLines,
  withdrawalsLines,
  withdrawProgressLine,
} from "./render.js";
import type { DepositProgress, NodeWalletEntry, WalletApi } from "@conclave/wallet";

/** Largest note string or mnemonic read from stdin or a file. */
export const INPUT_BYTES_MAX = 4 * 1024 * 1024;

/**
 * Loads the wallet's Node entry lazily, so `--help` and usage errors start fast. `onWarning` gets
 * what the wallet notices without failing (a guardian sent a bad share, an operation left pending).
 */
export type WalletEntryLoader = (onWarning: (message: string) => void) => Promise<NodeWalletEntry>;

interface Output {
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

export async function runCli(
  argv: readonly string[],
  io: CliIo,
  loadEntry: WalletEntryLoader,
): Promise<number> {
  let global: GlobalOptions = { json: argv.includes("--json"), verbose: argv.includes("--verbose") };
  let stopInterrupt = () => {};
  if (argv.length === 0) {
    io.stderr(generalHelp());
    return EXIT_USAGE;
  }
  try {
    const invocation = parseInvocation(argv);
    global = invocation.global;
    const { command } = invocation;
    if (command.name === "help") {
      io.stdout(command.topic === undefined ? generalHelp() : commandHelp(command.topic));
      return EXIT_OK;
    }
    const dir = resolveDataDir(global.data, io.env, io.homeDir);
    let walletStarted = false;
    stopInterrupt = io.onInterrupt(() => {
      io.stderr(
        walletStarted ? interruptedMessage(command, dir) : "\ninterrupted before anything was done\n",
      );
      io.exit(EXIT_INTERRUPTED);
    });
    const onWarning = (message: string) =>
      io.stderr(global.json ? JSON.stringify({ warning: message }) + "\n" : `warning: ${message}\n`);
    const load = () => {
      walletStarted = true;
      return loadEntry(onWarning);
    };
    const output = await execute(command, dir, io, load, global);
    print(output, global, io);
    return output.exitCode ?? EXIT_OK;
  } catch (e) {
    return reportError(e, global, io.stderr);
  } finally {
    stopInterrupt();
  }
}

function interruptedMessage(command: Command, dir: string): string {
  const withData = dataFlag(dir);
  if (command.name === "join" || command.name === "restore") {
    return (
      `\ninterrupted: run the same command again; if it says already_joined, the wallet was created ` +
      `(see \`conclave${withData} info\`)\n`
    );
  }
  if (commandSpec(command.name)?.movesNotes === true) {
    return (
      `\ninterrupted: nothing is lost, the wallet recorded the operation before contacting the guardians; ` +
      `run \`conclave${withData} resume\` to finish it\n`
    );
  }
  return "\ninterrupted\n";
}

function dataFlag(dir: string): string {
  return dir.includes(" ") ? ` --data "${dir}"` : ` --data ${dir}`;
}

function print(output: Output, global: GlobalOptions, io: CliIo): void {
  if (global.json) {
    io.stdout(JSON.stringify(output.json, bigintReplacer, 2) + "\n");
    return;
  }
  if (output.raw !== undefined) io.stdout(output.raw);
  else if (output.lines.length > 0) io.stdout(output.lines.join("\n") + "\n");
  if (output.notices && output.notices.length > 0) io.stderr(output.notices.join("\n") + "\n");
}

async function execute(
  command: Exclude<Command, { name: "help" }>,
  dir: string,
  io: CliIo,
  loadEntry: () => Promise<NodeWalletEntry>,
  global: GlobalOptions,
): Promise<Output> {
  switch (command.name) {
    case "join": {
      checkInvite(command.invite);
      const mnemonic = command.mnemonic ? await readMnemonic(command.mnemonic, io) : undefined;
      const entry = await loadEntry();
      const joined = await entry.joinWallet(dir, command.invite, mnemonic === undefined ? {} : { mnemonic });
      return withWallet(joined.wallet, async (w) => {
        const info = await w.info();
        const shown = mnemonic === undefined ? joined.mnemonic : undefined;
        const json = {
          dataDir: dir,
          federationId: info.federationId,
          federationName: info.federationName,
          guardians: info.guardians,
          threshold: info.threshold,
          ...(shown === undefined ? {} : { mnemonic: shown }),
        };
        return { json, lines: joinLines(info, shown, dir) };
      });
    }
    case "restore": {
      checkInvite(command.invite);
      const source: MnemonicSource | "env" | "prompt" =
        command.mnemonic ?? (io.env["CONCLAVE_MNEMONIC"] ? "env" : "prompt");
      const mnemonic =
        source === "env" ? (io.env["CONCLAVE_MNEMONIC"] ?? "") : await readMnemonic(source, io);
      const notices =
        command.mnemonic?.kind === "words" && !global.json
          ? ["note: the phrase is now in your shell history; next time pipe it in or set CONCLAVE_MNEMONIC"]
          : [];
      const entry = await loadEntry();
      const restored = await entry.restoreWallet(dir, command.invite, mnemonic);
      return withWallet(restored.wallet, async (w) => {
        const info = await w.info();
        return {
          json: { dataDir: dir, ...restored.result, balance: info.balance },
          lines: [
            ...restoreLines(restored.result),
            `Balance: ${amountText(info.balance)}`,
            `Wallet in ${dir}`,
          ],
          notices,
        };
      });
    }
    default:
      break;
  }
  if (command.name === "relay" && command.url !== undefined) {
    // A relay needs no wallet: the sealed claim names its guardian, --url says where it is.
    const sealed = await readNotes(command.sealed, io, "sealed claim");
    const r = await (await loadEntry()).relaySealed(command.url, sealed);
    return { json: r, lines: relayLines(r) };
  }
  if (isEmptyDir(dir)) {
    throw new CliError(
      "not_joined",
      `there is no wallet in ${dir}${command.name === "relay" ? " (to relay without one, give the guardian's --url)" : ""}`,
      { dir },
    );
  }
  // Input first: a wallet operation starts only once everything it needs has been read.
  const input =
    "notes" in command
      ? await readNotes(command.notes, io)
      : "sealed" in command
        ? await readNotes(command.sealed, io, "sealed claim")
        : "";
  const entry = await loadEntry();
  const wallet = await entry.openWallet(dir);
  return withWallet(wallet, (w) => operate(command, w, input, io, global, dir));
}

/** A damaged or mistyped invite is caught here, before the wallet touches the directory. */
function checkInvite(invite: string): void {
  try {
    decodeInvite(invite);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError("invalid_invite", e.message);
    throw e;
  }
}

async function withWallet<T>(wallet: WalletApi, f: (w: WalletApi) => Promise<T>): Promise<T> {
  try {
    return await f(wallet);
  } finally {
    await wallet.close();
  }
}

/** `notes`: the note string of reissue and validate (or the sealed claim of relay), already read. */
async function operate(
  command: Exclude<Command, { name: "help" | "join" | "restore" }>,
  w: WalletApi,
  notes: string,
  io: CliIo,
  global: GlobalOptions,
  dir: string,
): Promise<Output> {
  switch (command.name) {
    case "info": {
      const info = await w.info();
      return { json: info, lines: infoLines(info) };
    }
    case "balance": {
      const info = await w.info();
      return { json: { balance: info.balance }, lines: [`Balance: ${amountText(info.balance)}`] };
    }
    case "deposit": {
      const address = await w.depositAddress();
      if (!command.wait) return { json: address, lines: depositAddressLines(address, false) };
      if (global.json) io.stderr(JSON.stringify({ address }) + "\n");
      else for (const line of depositAddressLines(address, true)) io.stdout(line + "\n");
      // A bar redrawn in place on a terminal; one line per change otherwise; JSON lines with --json.
      const tty = io.stdoutIsTty === true && !global.json;
      let drawn = false;
      const r = await w.receiveDeposits(address.address, {
        onProgress: (p) => {
          if (global.json) io.stderr(JSON.stringify({ progress: p }, bigintReplacer) + "\n");
          else if (tty) {
            io.stdout(`\r\x1b[2K${subaddressProgressLine(p)}`);
            drawn = true;
          } else io.stdout(subaddressProgressLine(p) + "\n");
        },
      });
      if (drawn) io.stdout("\n");
      const balance = (await w.info()).balance;
      return { json: { ...r, balance }, lines: receivedLines(r, balance) };
    }
    case "dev-faucet": {
      const r = await explainAmount(w, command.amount, () => w.devFaucet(command.amount));
      return { json: r, lines: reissueLines("Got from the dev faucet", r) };
    }
    case "spend": {
      const r = await explainAmount(w, command.amount, () => w.spend(command.amount));
      return { json: r, lines: [], raw: `${r.notes}\n`, notices: spendNotice(r) };
    }
    case "cancel": {
      const r = await w.cancel(command.spendId);
      return { json: r, lines: reissueLines(`Cancelled spend ${command.spendId}: took back`, r) };
    }
    case "reissue": {
      const r = await w.reissue(notes);
      return { json: r, lines: reissueLines("Received", r) };
    }
    case "split": {
      const r = await w.split(command.denominationLog2, command.count);
      return {
        json: r,
        lines: reissueLines(
          "Split: reissued",
          r,
          `Nothing to do: the wallet already holds ${command.count} or more notes of 2^${command.denominationLog2}.`,
        ),
      };
    }
    case "combine": {
      const r = await w.combine();
      return {
        json: r,
        lines: reissueLines(
          "Combined: reissued",
          r,
          "Nothing to do: the notes are already as few as they can be.",
        ),
      };
    }
    case "validate": {
      const r = await w.validate(notes, { online: command.online });
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
    }
    case "backup": {
      const r = await w.backup();
      return { json: r, lines: backupLines(r) };
    }
    case "claim": {
      // Progress as it happens: stdout lines, or JSON lines on stderr with --json (stdout keeps
      // one JSON document, the result).
      const progress = {
        onProgress: (p: DepositProgress) =>
          global.json
            ? io.stderr(JSON.stringify({ progress: p }, bigintReplacer) + "\n")
            : io.stdout(depositProgressLine(p) + "\n"),
      };
      if ("wait" in command) {
        const r = await w.waitDeposit(command.wait, progress);
        return { json: r, lines: claimLines(r) };
      }
      const proof = { txid: command.txid, txKey: command.txKey };
      if (command.seal) {
        const r = await w.sealClaim(
          command.seal.guardian === undefined ? proof : { ...proof, guardian: command.seal.guardian },
        );
        return { json: r, lines: [], raw: `${r.sealed}\n`, notices: sealNotice(r, dataFlag(dir)) };
      }
      const r = await w.claimDeposit(proof, progress);
      return { json: r, lines: claimLines(r) };
    }
    case "relay": {
      const r = await w.relaySealed(notes);
      return { json: r, lines: relayLines(r) };
    }
    case "withdrawals": {
      const list = await w.withdrawals({ refresh: true });
      return { json: { withdrawals: list }, lines: withdrawalsLines(list) };
    }
    case "withdraw": {
      const r = await w.withdraw(command.address, command.amount, {
        onProgress: (p) =>
          global.json
            ? io.stderr(JSON.stringify({ progress: p }, bigintReplacer) + "\n")
            : io.stdout(withdrawProgressLine(p) + "\n"),
      });
      return { json: r, lines: withdrawLines(r, command.address) };
    }
    case "resume": {
      const finished = await w.resume();
      return {
        json: { finished },
        lines: [finished === 0 ? "Nothing to resume." : `Finished ${finished} pending operation(s).`],
      };
    }
  }
}

/**
 * The mint only issues multiples of its smallest note: when the wallet refuses an amount for that
 * reason, say which amounts nearby would work (the wallet knows the rule, the user should not have to).
 */
async function explainAmount<T>(w: WalletApi, amount: bigint, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (!(e instanceof ConclaveError) || e.code !== "invalid_amount") throw e;
    const denominations = (await w.info()).denominationsLog2;
    if (denominations.length === 0) throw e;
    const smallest = 1n << BigInt(Math.min(...denominations));
    const rest = amount % smallest;
    if (rest === 0n) throw e;
    const below = amount - rest;
    const nearest = [...(below > 0n ? [below] : []), below + smallest].map(amountText).join(" or ");
    throw new CliError(
      "invalid_amount",
      `${amountText(amount)} is not a multiple of the smallest note, ${amountText(smallest)}; the nearest amounts are ${nearest}`,
      { smallest: smallest.toString(), wallet: e.message },
    );
  }
}

async function readNotes(source: NotesSource, io: CliIo, what = "note string"): Promise<string> {
  switch (source.kind) {
    case "text":
      return source.text;
    case "stdin": {
      if (io.stdinIsTty) io.stderr(`Paste the ${what}, then press Enter and Ctrl-D:\n`);
      return nonEmptyInput(await readInput(() => io.readStdin(INPUT_BYTES_MAX), "stdin"), "stdin");
    }
    case "file":
      return nonEmptyInput(
        await readInput(() => io.readFile(source.path, INPUT_BYTES_MAX), source.path),
        source.path,
      );
  }
}

async function readMnemonic(source: MnemonicSource | "prompt", io: CliIo): Promise<string> {
  if (source !== "prompt" && source.kind === "words") return source.words;
  const text =
    io.stdinIsTty && source === "prompt"
      ? await io.promptLine("Recovery phrase (the words, separated by spaces): ")
      : await readInput(() => io.readStdin(INPUT_BYTES_MAX), "stdin");
  return nonEmptyInput(text, "the recovery phrase").split(/\s+/).join(" ");
}

async function readInput(read: () => Promise<string>, what: string): Promise<string> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof ConclaveError) throw e;
    const reason =
      e instanceof InputTooLargeError
        ? e.message
        : (e as { code?: unknown }).code === "ENOENT"
          ? "no such file"
          : e instanceof Error
            ? e.message
            : String(e);
    throw new CliError("unreadable_input", `cannot read ${what}: ${reason}`);
  }
}

function nonEmptyInput(text: string, what: string): string {
  const t = text.trim();
  if (t === "") throw new CliError("unreadable_input", `${what} is empty`);
  return t;
}
