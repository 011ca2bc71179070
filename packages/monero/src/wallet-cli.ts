// Drives monero-wallet-cli to turn on enable-multisig-experimental in a wallet that passed
// make_multisig without it (without it exchange_multisig_keys fails with -48 "disabled"). A fresh
// wallet does not need it: prepare_multisig's enable_multisig_experimental flag does the same through
// wallet-rpc (multisigPrepare; the key ceremony uses that). The wallet must not be open in a
// wallet-rpc at the same time: close it there first, open it again after.
//
// Measured traps: the CLI exits 0 when `set` fails ("Error: invalid password"), so the output is
// read; `set` asks for the password again, so it goes in twice on stdin (never on the command line,
// where `ps` would show it). Each run generates a 4096-bit RSA key and certificate (1-27 s, by load):
// every wallet load sets up the wallet's MMS Bitmessage client with SSL "autodetect"
// (wallet2::make_basic -> message_transporter::set_options -> epee ssl_options_t::create_context ->
// create_rsa_ssl_certificate, Monero 0.18.0.0), and no option turns that off. `--daemon-ssl
// disabled` saves a second one, for the daemon client (counted in the CLI's log: 2 -> 1); this run is
// --offline, so it talks to no daemon.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MoneroCliError } from "./errors.js";

export interface WalletCliOptions {
  /** Default 120 s; the process is killed (by its PID) after it. */
  readonly timeoutMs?: number;
  /** Ring database directory; default a temporary one (the CLI would otherwise write ~/.shared-ringdb). */
  readonly sharedRingdbDir?: string;
  /** Run the CLI a second time to read the setting back (one more RSA key generation). */
  readonly verify?: boolean;
}

const OUTPUT_BYTES_MAX = 1024 * 1024;

/** Sets enable-multisig-experimental = 1 in the wallet's keys file. */
export async function enableMultisigExperimental(
  walletFile: string,
  password: string,
  cliPath = "monero-wallet-cli",
  options: WalletCliOptions = {},
): Promise<void> {
  await setWalletOption(walletFile, password, "enable-multisig-experimental", "1", cliPath, options);
  if (options.verify === true) {
    const value = (await readWalletSettings(walletFile, password, cliPath, options)).get(
      "enable-multisig-experimental",
    );
    if (value !== "1") {
      throw new MoneroCliError(
        `enable-multisig-experimental is ${value ?? "missing"} after setting it in ${walletFile}`,
        { walletFile },
      );
    }
  }
}

/** `set <name> <value>` in monero-wallet-cli, offline. */
export async function setWalletOption(
  walletFile: string,
  password: string,
  name: string,
  value: string,
  cliPath = "monero-wallet-cli",
  options: WalletCliOptions = {},
): Promise<void> {
  if (!/^[a-z0-9-]+$/.test(name) || !/^[A-Za-z0-9._:-]+$/.test(value)) {
    throw new MoneroCliError(`refusing to pass an odd setting to monero-wallet-cli: ${name} ${value}`);
  }
  // Opening the wallet asks for the password, and so does `set`.
  await runWalletCli(
    walletFile,
    password,
    ["set", name, value],
    `${password}\n${password}\n`,
    cliPath,
    options,
  );
}

/** The wallet's settings as monero-wallet-cli's `set` lists them ("name = value" lines). */
export async function readWalletSettings(
  walletFile: string,
  password: string,
  cliPath = "monero-wallet-cli",
  options: WalletCliOptions = {},
): Promise<Map<string, string>> {
  const output = await runWalletCli(walletFile, password, ["set"], `${password}\n`, cliPath, options);
  const settings = new Map<string, string>();
  for (const line of output.split("\n")) {
    const m = /^([a-z0-9-]+) = (.*)$/.exec(line.trim());
    if (m?.[1] !== undefined) settings.set(m[1], m[2] ?? "");
  }
  return settings;
}

async function runWalletCli(
  walletFile: string,
  password: string,
  command: readonly string[],
  stdin: string,
  cliPath: string,
  options: WalletCliOptions,
): Promise<string> {
  if (password.includes("\n") || password.includes("\r")) {
    throw new MoneroCliError("a wallet password with a line break cannot be typed into monero-wallet-cli");
  }
  const scratch = await mkdtemp(join(tmpdir(), "conclave-wallet-cli-"));
  try {
    const args = [
      "--wallet-file",
      walletFile,
      "--offline",
      "--daemon-ssl",
      "disabled",
      "--shared-ringdb-dir",
      options.sharedRingdbDir ?? join(scratch, "ringdb"),
      "--log-file",
      join(scratch, "wallet-cli.log"),
      ...command,
    ];
    const { code, output } = await runProcess(cliPath, args, stdin, options.timeoutMs ?? 120_000);
    const errors = output
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => /\bError:|failed to load wallet/i.test(l));
    if (code !== 0 || errors.length > 0) {
      throw new MoneroCliError(
        `monero-wallet-cli ${command.join(" ")} on ${walletFile} failed (exit ${code}): ` +
          (errors.join("; ") || output.trim().split("\n").slice(-3).join(" / ")),
        { walletFile, exitCode: code, errors },
      );
    }
    return output;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function runProcess(
  file: string,
  args: readonly string[],
  stdin: string,
  timeoutMs: number,
): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    const collect = (chunk: Buffer): void => {
      if (output.length < OUTPUT_BYTES_MAX) output += chunk.toString("utf8");
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new MoneroCliError(`cannot run ${file}: ${e.message} (is the monero package installed?)`, {}));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new MoneroCliError(`${file} ${args.at(-1) ?? ""} did not finish within ${timeoutMs} ms`));
      } else resolve({ code: code ?? signal ?? "unknown", output });
    });
    child.stdin.on("error", () => {
      // The CLI may exit before reading all of stdin (wrong password): its exit status says why.
    });
    child.stdin.end(stdin);
  });
}
