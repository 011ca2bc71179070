// One invocation: parse, open the wallet of the data directory, run the command, print the result.
// Returns the exit code: 0 done, 1 the operation failed, 2 the command line was wrong, 130 Ctrl-C.
import { ConclaveError, ConfigError, decodeInvite } from "@conclave/core-common";
import { INPUT_NAMES, isCoreCommand, parseInvocation } from "./args.js";
import type {
  Command,
  CoreCommand,
  GlobalOptions,
  HalfCommandLine,
  MnemonicSource,
  NotesSource,
} from "./args.js";
import { BUILT_IN, commandTable } from "./commands-spec.js";
import type { CommandTable } from "./commands-spec.js";
import { isEmptyDir, resolveDataDir } from "./data-dir.js";
import { CliError, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, bigintReplacer, reportError } from "./errors.js";
import { commandHelp, generalHelp } from "./help.js";
import type { CliIo } from "./io.js";
import { InputTooLargeError } from "./io.js";
import { GENERIC, presentationOf } from "./presentations.js";
import { REQUEST_FILE, federationShard, forgetRequest } from "./federation-shard.js";
import { recoverLines } from "./relay-presentations.js";
import type { Output, ShowContext } from "./presentations.js";
import { amountText, infoLines, joinLines, relayLines, restoreLines } from "./render.js";
import type { NodeWalletEntry, WalletApi } from "@conclave/wallet-standard";
import type { CommandInput, WalletCommand } from "@conclave/wallet-standard/commands";

/** Largest note string or mnemonic read from stdin or a file. */
export const INPUT_BYTES_MAX = 4 * 1024 * 1024;

/**
 * Loads the wallet's Node entry lazily, so `--help` and usage errors start fast. `onWarning` gets
 * what the wallet notices without failing (a guardian sent a bad share, an operation left pending).
 */
export type WalletEntryLoader = (onWarning: (message: string) => void) => Promise<NodeWalletEntry>;

/**
 * `halves`: the commands of the client halves this CLI is built with (default: the wallet's
 * built-in halves); the CLI adds its own (join, restore, info, balance, resume).
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  loadEntry: WalletEntryLoader,
  halves?: readonly WalletCommand[],
): Promise<number> {
  const table = halves === undefined ? BUILT_IN : commandTable(halves);
  let global: GlobalOptions = { json: argv.includes("--json"), verbose: argv.includes("--verbose") };
  let stopInterrupt = () => {};
  if (argv.length === 0) {
    io.stderr(generalHelp(table));
    return EXIT_USAGE;
  }
  try {
    const invocation = parseInvocation(argv, table);
    global = invocation.global;
    const { command } = invocation;
    if (isCoreCommand(command) && command.name === "help") {
      io.stdout(command.topic === undefined ? generalHelp(table) : commandHelp(command.topic, table));
      return EXIT_OK;
    }
    const dir = resolveDataDir(global.data, io.env, io.homeDir);
    let walletStarted = false;
    stopInterrupt = io.onInterrupt(() => {
      io.stderr(
        walletStarted ? interruptedMessage(command, dir, table) : "\ninterrupted before anything was done\n",
      );
      io.exit(EXIT_INTERRUPTED);
    });
    const onWarning = (message: string) =>
      io.stderr(global.json ? JSON.stringify({ warning: message }) + "\n" : `warning: ${message}\n`);
    const load = () => {
      walletStarted = true;
      return loadEntry(onWarning);
    };
    const output = await execute(command, dir, io, load, global, table);
    print(output, global, io);
    return output.exitCode ?? EXIT_OK;
  } catch (e) {
    return reportError(e, global, io.stderr);
  } finally {
    stopInterrupt();
  }
}

function interruptedMessage(command: Command, dir: string, table: CommandTable): string {
  const withData = dataFlag(dir);
  if (command.name === "join" || command.name === "restore") {
    return (
      `\ninterrupted: run the same command again; if it says already_joined, the wallet was created ` +
      `(see \`conclave${withData} info\`)\n`
    );
  }
  if (command.name === "recovery-recover") {
    return (
      `\ninterrupted: run the same command again (a request for the federation's shard stays in ${dir} ` +
      `until the wallet is recovered)\n`
    );
  }
  if (table.spec(command.name)?.movesNotes === true) {
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
  command: Command,
  dir: string,
  io: CliIo,
  loadEntry: () => Promise<NodeWalletEntry>,
  global: GlobalOptions,
  table: CommandTable,
): Promise<Output> {
  if (isCoreCommand(command)) {
    const out = await executeCore(command, dir, io, loadEntry, global);
    if (out !== undefined) return out;
  }
  if (command.name === "relay" && typeof command["url"] === "string") {
    // A relay needs no wallet: the sealed claim names its guardian, --url says where it is.
    const sealed = await readNotes(command["sealed"] as NotesSource, io, "sealed claim");
    const r = await (await loadEntry()).relaySealed(command["url"], sealed);
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
  const inputs = new Map<CommandInput, string>();
  for (const value of Object.values(command)) {
    if (!isInput(value)) continue;
    inputs.set(value, await readNotes(value, io, INPUT_NAMES.get(value)?.thing));
  }
  const entry = await loadEntry();
  const wallet = await entry.openWallet(dir);
  return withWallet(wallet, (w) =>
    isCoreCommand(command)
      ? operateCore(command, w)
      : operateHalf(command, table, w, inputs, { io, global, dataFlag: dataFlag(dir) }),
  );
}

function isInput(value: unknown): value is CommandInput {
  return typeof value === "object" && value !== null && INPUT_NAMES.has(value as CommandInput);
}

/** join and restore: they create the wallet. Undefined: the command opens an existing one. */
async function executeCore(
  command: CoreCommand,
  dir: string,
  io: CliIo,
  loadEntry: () => Promise<NodeWalletEntry>,
  global: GlobalOptions,
): Promise<Output | undefined> {
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
    case "recovery-recover":
      return recover(command, dir, io, loadEntry, global.json);
    default:
      return undefined;
  }
}

/**
 * `recovery recover`: the shards give the recovery phrase (the guardians hold it encrypted under
 * their data key), the wallet is restored from the phrase, then its state from the recovery store.
 */
async function recover(
  command: Extract<CoreCommand, { name: "recovery-recover" }>,
  dir: string,
  io: CliIo,
  loadEntry: () => Promise<NodeWalletEntry>,
  json: boolean,
): Promise<Output> {
  checkInvite(command.invite);
  if (!isEmptyDir(dir, command.federation ? [REQUEST_FILE] : []))
    throw new CliError("already_joined", `${dir} already holds a wallet: recover into an empty directory`, {
      dir,
    });
  const shards = (await readNotes(command.shards, io, "recovery shards"))
    .split(/[\s,]+/)
    .filter((t) => t !== "");
  const entry = await loadEntry();
  if (command.federation) {
    const got = await federationShard(command, dir, shards[0]!, io, json, entry);
    if (got.kind === "pending") return got.output;
    shards.push(got.shard);
  }
  io.stderr(`Combining ${shards.length} shards and fetching their record from the guardians…\n`);
  const secret = await entry.recoverSecret(command.invite, shards);
  io.stderr(`Recovered the phrase; restoring the wallet's notes…\n`);
  const restored = await entry.restoreWallet(dir, command.invite, secret.mnemonic);
  // The temporary key did its work: nothing else may open the pieces it was sent.
  if (command.federation) forgetRequest(dir);
  return withWallet(restored.wallet, async (w) => {
    io.stderr(`Restoring the wallet's state from the recovery store…\n`);
    const notices: string[] = [];
    let state: Awaited<ReturnType<WalletApi["restoreState"]>> | undefined;
    try {
      state = await w.restoreState();
    } catch (e) {
      notices.push(`note: no wallet state restored: ${e instanceof Error ? e.message : String(e)}`);
    }
    const info = await w.info();
    const { secret: _bytes, mnemonic, ...shown } = secret;
    const json = {
      dataDir: dir,
      mnemonic,
      recovery: shown,
      ...restored.result,
      ...(state ? { state } : {}),
      balance: info.balance,
    };
    return {
      json,
      lines: recoverLines(mnemonic, shown, state, dir, [
        ...restoreLines(restored.result),
        `Balance: ${amountText(info.balance)}`,
      ]),
      notices,
    };
  });
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

/** info, balance, resume: the wallet as a whole. */
async function operateCore(command: CoreCommand, w: WalletApi): Promise<Output> {
  switch (command.name) {
    case "info": {
      const info = await w.info();
      return { json: info, lines: infoLines(info) };
    }
    case "balance": {
      const info = await w.info();
      return { json: { balance: info.balance }, lines: [`Balance: ${amountText(info.balance)}`] };
    }
    case "resume": {
      const finished = await w.resume();
      return {
        json: { finished },
        lines: [finished === 0 ? "Nothing to resume." : `Finished ${finished} pending operation(s).`],
      };
    }
    default:
      throw new Error(`"${command.name}" is not a command of an open wallet`);
  }
}

/** A half's command: its handler against the wallet, its events and result shown by its presentation. */
async function operateHalf(
  command: HalfCommandLine,
  table: CommandTable,
  w: WalletApi,
  inputs: ReadonlyMap<CommandInput, string>,
  show: Omit<ShowContext, "w" | "args">,
): Promise<Output> {
  const half = table.half(command.name);
  if (!half) throw new Error(`no half runs "${command.name}"`);
  const presentation = presentationOf(command.name);
  const { name: _name, ...args } = command;
  const x: ShowContext = { ...show, w, args };
  const run = () =>
    half.run(w, args, {
      inputText: (input) => {
        const text = inputs.get(input);
        if (text === undefined) throw new Error("an input the CLI did not read");
        return text;
      },
      emit: (e) => (presentation.event ?? GENERIC.event)?.(e, x),
    });
  const amount = args["amount"];
  const result =
    presentation.explainAmount === true && typeof amount === "bigint"
      ? await explainAmount(w, amount, run)
      : await run();
  presentation.end?.(x);
  return presentation.output(result, x);
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
