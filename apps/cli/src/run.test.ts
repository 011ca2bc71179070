// The CLI in-process against a fake wallet (the real one is exercised end to end in
// cli-federation.test.ts): what each command prints on stdout and stderr, in human and --json
// form, its exit code, and how every kind of failure is reported.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { ConclaveError, ConfigError, TransactionRejectedError, encodeInvite } from "@conclave/core-common";
import { resolveDataDir } from "./data-dir.js";
import type { CliIo } from "./io.js";
import { runCli } from "./run.js";
import type {
  ClaimDepositOptions,
  ClaimDepositResult,
  DepositAddressResult,
  DepositProof,
  NodeWalletEntry,
  ReceiveDepositsOptions,
  ReceiveDepositsResult,
  ReissueResult,
  RelayResult,
  SealClaimRequest,
  SealClaimResult,
  SubaddressDepositProgress,
  WalletApi,
  WalletInfo,
  WithdrawOptions,
  WithdrawalInfo,
  WithdrawResult,
} from "@conclave/wallet-standard";

const root = mkdtempSync(join(tmpdir(), "conclave-cli-run-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = () => join(root, `w${dirCount++}`);

const INVITE = encodeInvite({
  federationId: "ab".repeat(32),
  name: "local",
  guardians: [{ name: "guardian-0", api: "http://127.0.0.1:4000" }],
});
const MNEMONIC = "abandon ability able about above absent absorb abstract absurd abuse access accident";
const NOTES = "cnotes1AAAAexample";
const SUBADDRESS = `8${"B".repeat(94)}`;

class Exited extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

interface Captured {
  out: string;
  err: string;
  interrupt: () => void;
  exitCode?: number;
}

function fakeIo(
  options: { stdin?: string; env?: Record<string, string>; tty?: boolean; stdoutTty?: boolean } = {},
): {
  io: CliIo;
  cap: Captured;
} {
  const cap: Captured = { out: "", err: "", interrupt: () => {} };
  const io: CliIo = {
    stdout: (t) => void (cap.out += t),
    stderr: (t) => void (cap.err += t),
    env: options.env ?? {},
    homeDir: join(root, "home"),
    stdinIsTty: options.tty ?? false,
    stdoutIsTty: options.stdoutTty ?? false,
    readStdin: () => Promise.resolve(options.stdin ?? ""),
    promptLine: () => Promise.resolve(options.stdin ?? ""),
    readFile: async (path) => (await import("node:fs/promises")).readFile(path, "utf8"),
    onInterrupt: (handler) => {
      cap.interrupt = handler;
      return () => {
        cap.interrupt = () => {};
      };
    },
    exit: (code) => {
      cap.exitCode = code;
      throw new Exited(code);
    },
  };
  return { io, cap };
}

function walletError(code: string, message: string): ConclaveError {
  return new ConclaveError(code, message);
}

/** An in-memory wallet that keeps a balance, enough to check what the CLI prints. */
class FakeWallet implements WalletApi {
  balance = 0n;
  closed = false;
  received: string[] = [];
  sealedClaims: string[] = [];
  relayed: string[] = [];
  withdrawn: WithdrawalInfo[] = [];
  onSpend: () => void = () => {};
  /** What receiveDeposits reports before it issues `depositAmount`. */
  depositProgress: SubaddressDepositProgress[] = [
    { stage: "waiting", message: "waiting for a payment to the address" },
    { stage: "seen", message: "8 seen in the pool", amount: 8n },
    { stage: "confirming", message: "8: 1 of 3 confirmations", confirmations: 1, confirmationsRequired: 3 },
    { stage: "confirming", message: "8: 2 of 3 confirmations", confirmations: 2, confirmationsRequired: 3 },
    {
      stage: "verifying",
      message: "3 of 3 confirmations; 2 of 3 guardians attested it",
      confirmations: 3,
      confirmationsRequired: 3,
    },
    { stage: "issuing", message: "issuing notes for 8" },
    { stage: "done", message: "received 8", amount: 8n },
  ];
  depositAmount = 8n;
  constructor(private readonly dir: string) {}

  depositAddress(): Promise<DepositAddressResult> {
    return Promise.resolve({ address: SUBADDRESS, index: 3, claimKey: "cd".repeat(32) });
  }
  receiveDeposits(address: string, options: ReceiveDepositsOptions = {}): Promise<ReceiveDepositsResult> {
    if (address !== SUBADDRESS) return Promise.reject(walletError("unknown_address", "not mine"));
    for (const p of this.depositProgress) options.onProgress?.(p);
    this.balance += this.depositAmount;
    const deposits = [{ txid: "e".repeat(64), amount: this.depositAmount, dust: 0n }];
    return Promise.resolve({ address, deposits, amount: this.depositAmount });
  }

  info(): Promise<WalletInfo> {
    return Promise.resolve({
      federationId: "ab".repeat(32),
      federationName: "local",
      guardians: [0, 1, 2, 3].map((i) => ({
        index: i,
        name: `guardian-${i}`,
        url: `http://127.0.0.1:${4000 + i}`,
      })),
      threshold: 3,
      balance: this.balance,
      notes:
        this.balance > 0n ? [{ denominationLog2: 2, amount: "4", count: Number(this.balance / 4n) }] : [],
      outgoing: [{ id: "spend-1", amount: 5n, createdAtMs: Date.UTC(2025, 0, 2, 3, 4, 5) }],
      pendingOperations: 1,
      feePerNote: 0n,
      denominationsLog2: [2, 3],
    });
  }
  private result(amount: bigint): ReissueResult {
    return { txid: "f".repeat(64), amount, fee: 0n, notesIssued: 2 };
  }
  devFaucet(amount: bigint): Promise<ReissueResult> {
    if (amount % 4n !== 0n) return Promise.reject(walletError("invalid_amount", "not a multiple of 4"));
    this.balance += amount;
    return Promise.resolve(this.result(amount));
  }
  spend(amount: bigint) {
    this.onSpend();
    if (amount > this.balance)
      return Promise.reject(walletError("insufficient_funds", `only ${this.balance} available`));
    this.balance -= amount;
    return Promise.resolve({ id: "spend-2", amount, notes: NOTES });
  }
  cancel(spendId: string) {
    if (spendId !== "spend-1") return Promise.reject(walletError("unknown_spend", `no spend ${spendId}`));
    return Promise.resolve(this.result(5n));
  }
  reissue(notes: string) {
    if (!notes.startsWith("cnotes1"))
      return Promise.reject(
        walletError("malformed_notes", 'not a valid note string: it must start with "cnotes1"'),
      );
    if (this.received.includes(notes))
      return Promise.reject(new TransactionRejectedError("spent_input", "note 12ab is already spent"));
    this.received.push(notes);
    return Promise.resolve(this.result(7n));
  }
  split(_log2: number, count: number) {
    const txids = ["1".repeat(64), "2".repeat(64)];
    return Promise.resolve({ ...this.result(this.balance), txid: txids[1]!, txids, notesIssued: count });
  }
  combine() {
    return Promise.resolve(
      this.balance === 0n ? { txid: "", amount: 0n, fee: 0n, notesIssued: 0 } : this.result(this.balance),
    );
  }
  validate(notes: string, options?: { online?: boolean }) {
    const bad = notes.endsWith("BAD");
    return Promise.resolve({
      federationId: "ab".repeat(32),
      amount: 3n,
      notes: [
        { denominationLog2: 0, nonce: "01".repeat(32), valid: true },
        { denominationLog2: 1, nonce: "02".repeat(32), valid: !bad },
      ],
      ...(options?.online ? { spent: [false, notes.endsWith("SPENT")] } : {}),
    });
  }
  backup() {
    return Promise.resolve({ version: 3, notes: 2, bytes: 180, storedBy: [0, 1, 2, 3] });
  }
  resume() {
    return Promise.resolve(0);
  }
  claimDeposit(proof: DepositProof, options?: ClaimDepositOptions): Promise<ClaimDepositResult> {
    if (proof.txid === "0".repeat(64))
      return Promise.reject(walletError("deposit_rejected", "the guardians refused the claim"));
    for (const confirmations of [1, 2, 3])
      options?.onProgress?.({
        txid: proof.txid,
        stage: "confirming",
        message: `confirmations ${confirmations}/3`,
        confirmations,
        confirmationsRequired: 3,
      });
    this.balance += 12n;
    return Promise.resolve({ ...this.result(12n), depositTxid: proof.txid, dust: 0n });
  }
  sealClaim(request: SealClaimRequest): Promise<SealClaimResult> {
    const guardian = request.guardian ?? 0;
    if (guardian > 3)
      return Promise.reject(walletError("unknown_guardian", `guardian ${guardian} is not one`));
    this.sealedClaims.push(request.txid);
    return Promise.resolve({
      txid: request.txid,
      guardian,
      guardianName: `guardian-${guardian}`,
      sealed: `csealed1SEALED${guardian}`,
    });
  }
  waitDeposit(txid: string, options?: ClaimDepositOptions): Promise<ClaimDepositResult> {
    if (!this.sealedClaims.includes(txid))
      return Promise.reject(walletError("unknown_claim", `no pending claim of ${txid}`));
    return this.claimDeposit({ txid, txKey: "" }, options);
  }
  relaySealed(sealed: string): Promise<RelayResult> {
    this.relayed.push(sealed);
    return Promise.resolve({ txid: "5e".repeat(32), guardian: 2, state: "queued" });
  }
  withdraw(address: string, amount: bigint, options?: WithdrawOptions): Promise<WithdrawResult> {
    if (address.startsWith("4Bad"))
      return Promise.reject(
        new TransactionRejectedError("invalid_address", "output 1: cannot pay 4Bad…: bad checksum"),
      );
    const moneroTxid = "7a".repeat(32);
    options?.onProgress?.({
      txid: "f".repeat(64),
      stage: "queued",
      message: "queued for the next Monero transaction",
    });
    options?.onProgress?.({
      txid: "f".repeat(64),
      stage: "signing",
      message: "the guardians' wallets are signing",
    });
    options?.onProgress?.({
      txid: "f".repeat(64),
      stage: "submitted",
      message: `submitted as Monero transaction ${moneroTxid}, 1 confirmations`,
      moneroTxid,
      confirmations: 1,
    });
    options?.onProgress?.({
      txid: "f".repeat(64),
      stage: "confirmed",
      message: `confirmed in Monero transaction ${moneroTxid}`,
      moneroTxid,
    });
    this.balance -= amount;
    this.withdrawn.unshift({
      txid: "f".repeat(64),
      address,
      amount,
      state: "confirmed",
      moneroTxid,
      txKey: "3c".repeat(32),
      createdAtMs: Date.UTC(2025, 0, 2, 3, 4, 5),
      updatedAtMs: Date.UTC(2025, 0, 2, 3, 9, 5),
    });
    return Promise.resolve({
      txid: "f".repeat(64),
      moneroTxid,
      txKey: "3c".repeat(32),
      amount,
      fee: 10n,
      moneroFee: 8n,
      feeRate: 1200000,
    });
  }
  withdrawals(): Promise<WithdrawalInfo[]> {
    return Promise.resolve(this.withdrawn);
  }
  /** The bridge's commands run against real guardians and anvil (modules/bridge bridge-client.test.ts). */
  bridgeMint(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no bridge"));
  }
  bridgeMintFromDeposit(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no bridge"));
  }
  bridgeSealDepositMint(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no bridge"));
  }
  bridgeSubmit(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no bridge"));
  }
  bridgeBurn(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no bridge"));
  }
  bridgeRedeem(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no bridge"));
  }
  bridgeRefund(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no bridge"));
  }
  bridgeFindMints(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no bridge"));
  }
  bridgeStatus(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no bridge"));
  }
  /** The relay's commands run against real guardian processes (cli-relay.test.ts). */
  contactCard(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no relay"));
  }
  addContact(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no relay"));
  }
  contacts(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no relay"));
  }
  sendLetter(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no relay"));
  }
  readInbox(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no relay"));
  }
  recoverySetup(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no relay"));
  }
  recoveryAdd(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no relay"));
  }
  recoveryRequests(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no relay"));
  }
  cancelRecoveryRequests(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no relay"));
  }
  storeState(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no relay"));
  }
  restoreState(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no relay"));
  }
  watchUntil(): Promise<never> {
    return Promise.reject(new Error("the fake wallet has no relay"));
  }
  close() {
    this.closed = true;
    return Promise.resolve();
  }
  get directory() {
    return this.dir;
  }
}

/** The wallet entry over FakeWallets; a wallet "exists" when its directory has the marker file. */
class FakeEntry implements NodeWalletEntry {
  readonly wallets = new Map<string, FakeWallet>();
  restoredWith: string | undefined;
  joinWallet(dir: string, _invite: string, options?: { mnemonic?: string }) {
    if (this.wallets.has(dir)) return Promise.reject(walletError("already_joined", `${dir} holds a wallet`));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "data.mdb"), "");
    const wallet = new FakeWallet(dir);
    this.wallets.set(dir, wallet);
    return Promise.resolve({ wallet, mnemonic: options?.mnemonic ?? MNEMONIC });
  }
  openWallet(dir: string) {
    const w = this.wallets.get(dir);
    return w ? Promise.resolve(w) : Promise.reject(walletError("not_joined", `no wallet in ${dir}`));
  }
  readonly relayedTo: { url: string; sealed: string }[] = [];
  relaySealed(url: string, sealed: string): Promise<RelayResult> {
    this.relayedTo.push({ url, sealed });
    return Promise.resolve({ txid: "5e".repeat(32), guardian: 1, state: "already" });
  }
  recoverSecret(): Promise<never> {
    return Promise.reject(new Error("the fake entry recovers nothing"));
  }
  requestFederationShard(): Promise<never> {
    return Promise.reject(new Error("the fake entry asks no guardian"));
  }
  waitFederationShard(): Promise<never> {
    return Promise.reject(new Error("the fake entry asks no guardian"));
  }
  restoreWallet(dir: string, _invite: string, mnemonic: string) {
    if (this.wallets.has(dir)) return Promise.reject(walletError("already_joined", `${dir} holds a wallet`));
    this.restoredWith = mnemonic;
    if (mnemonic.split(" ").length !== 12)
      return Promise.reject(walletError("invalid_mnemonic", "not 12 words"));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "data.mdb"), "");
    const wallet = new FakeWallet(dir);
    wallet.balance = 9n;
    this.wallets.set(dir, wallet);
    return Promise.resolve({
      wallet,
      result: {
        notes: 3,
        amount: 9n,
        fromBackup: 2,
        fromScan: 1,
        spentDropped: 0,
        backupVersion: 3,
        elapsedMs: 1200,
      },
    });
  }
}

let entry: FakeEntry;
beforeEach(() => {
  entry = new FakeEntry();
});

async function cli(argv: string[], options: Parameters<typeof fakeIo>[0] = {}) {
  const { io, cap } = fakeIo(options);
  const code = await runCli(argv, io, () => Promise.resolve(entry));
  return { code, out: cap.out, err: cap.err };
}

async function joined(): Promise<string> {
  const dir = freshDir();
  expect((await cli(["--data", dir, "join", INVITE])).code).toBe(0);
  return dir;
}

describe("join", () => {
  it("prints the federation, its guardians and threshold, and the new phrase with a warning to write it down", async () => {
    const dir = freshDir();
    const { code, out, err } = await cli(["--data", dir, "join", INVITE]);
    expect(code).toBe(0);
    expect(err).toBe("");
    expect(out).toContain('Federation "local"');
    expect(out).toContain("any 3 of them must agree");
    for (let i = 0; i < 4; i++) expect(out).toContain(`guardian-${i}  http://127.0.0.1:400${i}`);
    expect(out).toContain(MNEMONIC);
    expect(out).toContain(" 1. abandon");
    expect(out).toContain("12. accident");
    expect(out).toContain("WRITE THESE WORDS DOWN NOW");
    expect(out).toContain("never show");
    expect(entry.wallets.get(dir)?.closed).toBe(true);
  });

  it("does not print a phrase the user supplied, and never prints the phrase again afterwards", async () => {
    const dir = freshDir();
    const given = await cli(["--data", dir, "join", INVITE, "--mnemonic", MNEMONIC]);
    expect(given.code).toBe(0);
    expect(given.out).not.toContain("abandon");
    for (const argv of [["info"], ["--json", "info"], ["backup"], ["resume"]]) {
      const r = await cli(["--data", dir, ...argv]);
      expect(r.out + r.err).not.toContain("abandon");
    }
  });

  it("gives the phrase in --json output, where a program asked for it", async () => {
    const { out } = await cli(["--json", "--data", freshDir(), "join", INVITE]);
    const json = JSON.parse(out) as { mnemonic: string; threshold: number; guardians: unknown[] };
    expect(json.mnemonic).toBe(MNEMONIC);
    expect(json.threshold).toBe(3);
    expect(json.guardians).toHaveLength(4);
  });

  it("reads a given phrase from stdin with --mnemonic -", async () => {
    const dir = freshDir();
    const r = await cli(["--data", dir, "join", INVITE, "--mnemonic", "-"], {
      stdin: `  ${MNEMONIC}\n`,
    });
    expect(r.code).toBe(0);
    expect(r.out).not.toContain("abandon");
  });

  it("refuses a directory that already holds a wallet with already_joined", async () => {
    const dir = await joined();
    const { code, err } = await cli(["--data", dir, "join", INVITE]);
    expect(code).toBe(1);
    expect(err).toMatch(/^error \[already_joined\]: .* use another with --data DIR\n$/);
  });
});

describe("commands on an empty data directory", () => {
  it.each([["info"], ["spend", "1"], ["reissue", "cnotes1x"], ["backup"], ["resume"]])(
    "%s says to run join first, exits 1 and does not load the wallet",
    async (...argv) => {
      const dir = freshDir();
      const { io, cap } = fakeIo();
      const code = await runCli(["--data", dir, ...argv], io, () =>
        Promise.reject(new Error("must not load")),
      );
      expect(code).toBe(1);
      expect(cap.out).toBe("");
      expect(cap.err).toContain("error [not_joined]: there is no wallet in");
      expect(cap.err).toContain("run `conclave join <invite>`");
    },
  );
});

describe("spend, reissue, cancel", () => {
  it("spend prints the note string alone on stdout and the spend id on stderr", async () => {
    const dir = await joined();
    await cli(["--data", dir, "dev-faucet", "12p"]);
    const { code, out, err } = await cli(["--data", dir, "spend", "4p"]);
    expect(code).toBe(0);
    expect(out).toBe(`${NOTES}\n`);
    expect(err).toContain("Spend id: spend-2");
    expect(err).toContain("conclave cancel spend-2");
  });

  it("spend --json gives id, amount (a decimal string) and notes on stdout, nothing on stderr", async () => {
    const dir = await joined();
    await cli(["--data", dir, "dev-faucet", "10000000000000000000p"]);
    expect(entry.wallets.get(dir)?.balance).toBe(10_000_000_000_000_000_000n);
    const { out, err } = await cli(["--data", dir, "--json", "spend", "9007199254740993p"]);
    expect(JSON.parse(out)).toEqual({ id: "spend-2", amount: "9007199254740993", notes: NOTES });
    expect(err).toBe("");
  });

  it("reissue takes the note string as an argument, from stdin ('-') or from a file ('@path')", async () => {
    const dir = await joined();
    const file = join(root, "notes.txt");
    writeFileSync(file, "cnotes1fromfile\n");
    const a = await cli(["--data", dir, "reissue", "cnotes1arg"]);
    const b = await cli(["--data", dir, "reissue", "-"], { stdin: "cnotes1stdin\n" });
    const c = await cli(["--data", dir, "reissue", `@${file}`]);
    for (const r of [a, b, c]) {
      expect(r.code).toBe(0);
      expect(r.out).toBe("Received 0.000000000007 XMR (7p) as 2 new notes (transaction ffffffffffffffff…)\n");
    }
    expect(entry.wallets.get(dir)?.received).toEqual(["cnotes1arg", "cnotes1stdin", "cnotes1fromfile"]);
  });

  it("reports a missing file or empty stdin as unreadable_input (exit 1) without calling the wallet", async () => {
    const dir = await joined();
    const missing = await cli(["--data", dir, "reissue", `@${join(root, "nope.txt")}`]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("error [unreadable_input]: cannot read");
    expect(missing.err).toContain("no such file");
    const empty = await cli(["--data", dir, "reissue", "-"], { stdin: " \n" });
    expect(empty.code).toBe(1);
    expect(empty.err).toContain("error [unreadable_input]: stdin is empty");
    expect(entry.wallets.get(dir)?.received).toEqual([]);
  });

  it("a malformed note string is one line naming malformed_notes and saying nothing was lost", async () => {
    const dir = await joined();
    const { code, out, err } = await cli(["--data", dir, "reissue", "garbage"]);
    expect(code).toBe(1);
    expect(out).toBe("");
    expect(err.split("\n")).toHaveLength(2);
    expect(err).toContain('error [malformed_notes]: not a valid note string: it must start with "cnotes1"');
    expect(err).toContain("nothing was spent or lost");
  });

  it("a second reissue of the same string says already spent (the guardians' spent_input)", async () => {
    const dir = await joined();
    expect((await cli(["--data", dir, "reissue", "cnotes1once"])).code).toBe(0);
    const { code, err } = await cli(["--data", dir, "reissue", "cnotes1once"]);
    expect(code).toBe(1);
    expect(err).toContain("error [spent_input]: note 12ab is already spent");
    expect(err).toContain("your balance did not change");
    expect(err).not.toContain("    at ");
  });

  it("cancel of an unknown id is unknown_spend with a pointer to `conclave info`", async () => {
    const dir = await joined();
    expect((await cli(["--data", dir, "cancel", "spend-1"])).out).toContain("Cancelled spend spend-1");
    const { code, err } = await cli(["--data", dir, "cancel", "nope"]);
    expect(code).toBe(1);
    expect(err).toContain("error [unknown_spend]");
    expect(err).toContain("conclave info");
  });
});

describe("claim (Monero deposit by proof of payment)", () => {
  const TXID = "5e".repeat(32);
  const KEY = "9a".repeat(32);

  it("prints a progress line per change, then what was received", async () => {
    const dir = await joined();
    const { code, out, err } = await cli([
      "--data",
      dir,
      "claim",
      "--txid",
      TXID,
      "--tx-key",
      KEY.toUpperCase(),
    ]);
    expect(code).toBe(0);
    expect(err).toBe("");
    const lines = out.trimEnd().split("\n");
    expect(lines.slice(0, 3).map((l) => l.trim())).toEqual([
      "confirming confirmations 1/3",
      "confirming confirmations 2/3",
      "confirming confirmations 3/3",
    ]);
    expect(lines[3]).toContain(
      "Received 0.000000000012 XMR (12p) in 2 notes from Monero deposit 5e5e5e5e5e5e5e5e",
    );
  });

  it("--json keeps stdout one JSON document and puts progress on stderr as JSON lines", async () => {
    const dir = await joined();
    const { code, out, err } = await cli(["--data", dir, "--json", "claim", "--txid", TXID, "--tx-key", KEY]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ amount: "12", depositTxid: TXID, dust: "0" });
    const progress = err
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { progress: { stage: string } });
    expect(progress).toHaveLength(3);
    expect(progress[0]!.progress).toMatchObject({ stage: "confirming", confirmations: 1 });
  });

  it("refuses a missing or malformed txid or tx key as a usage error (exit 2), before the wallet loads", async () => {
    const dir = await joined();
    for (const argv of [
      ["claim", "--tx-key", KEY],
      ["claim", "--txid", "5e", "--tx-key", KEY],
      ["claim", "--txid", TXID, "--tx-key", `${KEY}00`],
      ["claim", "--txid", TXID],
    ]) {
      const { code, err } = await cli(["--data", dir, ...argv]);
      expect(code).toBe(2);
      expect(err).toMatch(/--txid|--tx-key/);
    }
  });

  it("reports a refused claim as one line with its code (exit 1)", async () => {
    const dir = await joined();
    const { code, err } = await cli(["--data", dir, "claim", "--txid", "0".repeat(64), "--tx-key", KEY]);
    expect(code).toBe(1);
    expect(err).toContain("error [deposit_rejected]: the guardians refused the claim");
  });
});

describe("claim --seal, claim --wait and relay (sealed claims)", () => {
  const TXID = "5e".repeat(32);
  const KEY = "9a".repeat(32);

  it("--seal prints the sealed claim alone on stdout, what to do next on stderr, and sends nothing", async () => {
    const dir = await joined();
    const proof = ["--txid", TXID, "--tx-key", KEY];
    const { code, out, err } = await cli(["--data", dir, "claim", ...proof, "--seal", "--guardian", "2"]);
    expect(code).toBe(0);
    expect(out).toBe("csealed1SEALED2\n");
    expect(err).toContain("sealed to guardian 2 (guardian-2); nothing was sent");
    expect(err).toContain(`claim --wait ${TXID}`);
    expect(entry.wallets.get(dir)!.balance).toBe(0n);
  });

  it("--wait finishes a sealed claim (progress, then the amount); an unknown txid is unknown_claim", async () => {
    const dir = await joined();
    await cli(["--data", dir, "claim", "--txid", TXID, "--tx-key", KEY, "--seal"]);
    const { code, out } = await cli(["--data", dir, "claim", "--wait", TXID.toUpperCase()]);
    expect(code).toBe(0);
    expect(out).toContain("confirming confirmations 3/3");
    expect(out).toContain("Received 0.000000000012 XMR (12p)");
    const other = await cli(["--data", dir, "claim", "--wait", "77".repeat(32)]);
    expect(other.code).toBe(1);
    expect(other.err).toContain("error [unknown_claim]");
  });

  it("refuses contradictory or malformed flags as usage errors (exit 2)", async () => {
    const dir = await joined();
    const cases: [string[], RegExp][] = [
      [
        ["claim", "--wait", TXID, "--tx-key", KEY],
        /--wait finishes a claim already made: leave out --tx-key/,
      ],
      [["claim", "--wait", TXID, "--seal"], /leave out --seal/],
      [["claim", "--wait", "5e"], /--wait is a txid/],
      [["claim", "--txid", TXID, "--tx-key", KEY, "--guardian", "1"], /--guardian goes with --seal/],
      [
        ["claim", "--txid", TXID, "--tx-key", KEY, "--seal", "--guardian", "x"],
        /--guardian is a guardian's index/,
      ],
      [["relay"], /missing SEALED/],
      [["relay", "@"], /"@" needs a file name, e.g. @claim.txt/],
      [["relay", "csealed1x", "--url", "ftp://x"], /--url is a guardian's API URL/],
    ];
    for (const [argv, message] of cases) {
      const { code, err } = await cli(["--data", dir, ...argv]);
      expect(code).toBe(2);
      expect(err).toMatch(message);
    }
  });

  it("relay posts through the wallet's federation, or with --url without any wallet", async () => {
    const dir = await joined();
    const viaWallet = await cli(["--data", dir, "relay", "csealed1abc"]);
    expect(viaWallet.code).toBe(0);
    expect(viaWallet.out).toContain("Guardian 2 took the sealed claim of deposit 5e5e5e5e5e5e5e5e");
    expect(entry.wallets.get(dir)!.relayed).toEqual(["csealed1abc"]);
    const file = join(root, "sealed.txt");
    writeFileSync(file, "csealed1fromfile\n");
    const noWallet = freshDir();
    const viaUrl = await cli(["--data", noWallet, "relay", `@${file}`, "--url", "http://127.0.0.1:4001"]);
    expect(viaUrl.code).toBe(0);
    expect(viaUrl.out).toContain("Guardian 1 already has the claim");
    expect(entry.relayedTo).toEqual([{ url: "http://127.0.0.1:4001", sealed: "csealed1fromfile" }]);
    const missing = await cli(["--data", freshDir(), "relay", "csealed1abc"]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("to relay without one, give the guardian's --url");
  });
});

describe("amounts the mint cannot issue", () => {
  it("invalid_amount names the smallest note and the nearest amounts that work", async () => {
    const dir = await joined();
    const { code, err } = await cli(["--data", dir, "dev-faucet", "10p"]);
    expect(code).toBe(1);
    expect(err).toContain(
      "error [invalid_amount]: 0.00000000001 XMR (10p) is not a multiple of the smallest note, 0.000000000004 XMR (4p); " +
        "the nearest amounts are 0.000000000008 XMR (8p) or 0.000000000012 XMR (12p)",
    );
  });
});

describe("split and combine", () => {
  it("say what they reissued, counting the transactions when there were several", async () => {
    const dir = await joined();
    await cli(["--data", dir, "dev-faucet", "12p"]);
    const split = await cli(["--data", dir, "split", "2^2", "3"]);
    expect(split.out).toBe(
      "Split: reissued 0.000000000012 XMR (12p) as 3 new notes (2 transactions, the last 2222222222222222…)\n",
    );
    const combine = await cli(["--data", dir, "combine"]);
    expect(combine.out).toContain("Combined: reissued 0.000000000012 XMR (12p) as 2 new notes");
  });

  it("say there was nothing to do when the wallet made no transaction", async () => {
    const dir = await joined();
    const r = await cli(["--data", dir, "combine"]);
    expect(r.code).toBe(0);
    expect(r.out).toBe("Nothing to do: the notes are already as few as they can be.\n");
  });
});

describe("info", () => {
  it("shows balance in XMR and base units, notes per denomination, outgoing spends, pending operations, backup", async () => {
    const dir = await joined();
    await cli(["--data", dir, "dev-faucet", "12p"]);
    const { code, out } = await cli(["--data", dir, "info"]);
    expect(code).toBe(0);
    expect(out).toContain("Balance: 0.000000000012 XMR (12p) in 3 notes");
    expect(out).toMatch(/2\^2 +4p +× +3/);
    expect(out).toContain("spend-1  0.000000000005 XMR (5p)  since 2025-01-02T03:04:05Z");
    expect(out).toContain("Pending operations: 1 (run `conclave resume` to finish them)");
    expect(out).toContain("Last backup: never (run `conclave backup`)");
  });

  it("--json prints the wallet info with bigints as decimal strings", async () => {
    const dir = await joined();
    await cli(["--data", dir, "dev-faucet", "12p"]);
    const json = JSON.parse((await cli(["--data", dir, "info", "--json"])).out) as Record<string, unknown>;
    expect(json["balance"]).toBe("12");
    expect(json["feePerNote"]).toBe("0");
    expect(json["outgoing"]).toEqual([
      { id: "spend-1", amount: "5", createdAtMs: Date.UTC(2025, 0, 2, 3, 4, 5) },
    ]);
  });
});

describe("validate, backup, restore", () => {
  it("validate exits 0 when every note verifies and 1 when one does not or (online) is spent", async () => {
    const dir = await joined();
    const good = await cli(["--data", dir, "validate", "cnotes1ok"]);
    expect(good.code).toBe(0);
    expect(good.out).toContain("All notes valid.");
    const bad = await cli(["--data", dir, "validate", "cnotes1BAD"]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("INVALID");
    expect(bad.err).toContain("error [invalid_note]: 1 of 2 notes do not verify");
    const spent = await cli(["--data", dir, "validate", "--online", "cnotes1SPENT"]);
    expect(spent.code).toBe(1);
    expect(spent.out).toContain("SPENT");
    expect(spent.err).toContain("error [spent_input]: 1 of 2 notes are already spent");
  });

  it("backup says which guardians stored it", async () => {
    const dir = await joined();
    expect((await cli(["--data", dir, "backup"])).out).toContain("stored by guardians 0, 1, 2, 3");
  });

  it("restore takes the phrase from --mnemonic, else $CONCLAVE_MNEMONIC, else stdin", async () => {
    const flag = await cli(["--data", freshDir(), "restore", INVITE, "--mnemonic", MNEMONIC]);
    expect(flag.code).toBe(0);
    expect(flag.err).toContain("shell history");
    expect(entry.restoredWith).toBe(MNEMONIC);

    entry.restoredWith = undefined;
    const env = await cli(["--data", freshDir(), "restore", INVITE], {
      env: { CONCLAVE_MNEMONIC: MNEMONIC },
    });
    expect(env.code).toBe(0);
    expect(env.err).toBe("");
    expect(entry.restoredWith).toBe(MNEMONIC);

    entry.restoredWith = undefined;
    const stdin = await cli(["--data", freshDir(), "restore", INVITE], {
      stdin: `${MNEMONIC.replace(/ /g, "\n")}\n`,
    });
    expect(stdin.code).toBe(0);
    expect(entry.restoredWith).toBe(MNEMONIC);
    expect(stdin.out).toContain("Restored 3 unspent notes worth 0.000000000009 XMR (9p)");
    expect(stdin.out).toContain("2 from backup version 3, 1 found by scanning");
  });

  it("restore into a directory that holds a wallet is already_joined", async () => {
    const dir = await joined();
    const { code, err } = await cli(["--data", dir, "restore", INVITE, "--mnemonic", MNEMONIC]);
    expect(code).toBe(1);
    expect(err).toContain("error [already_joined]");
    expect(entry.restoredWith).toBeUndefined();
  });

  it("restore with a wrong phrase is invalid_mnemonic with what to check", async () => {
    const { code, err } = await cli(["--data", freshDir(), "restore", INVITE], { stdin: "one two\n" });
    expect(code).toBe(1);
    expect(err).toContain("error [invalid_mnemonic]");
    expect(err).toContain("12 or 24 BIP39 words");
  });
});

describe("errors and exit codes", () => {
  it("a usage error exits 2 with one line pointing at the command's --help", async () => {
    const { code, out, err } = await cli(["spend", "1,5"]);
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err).toMatch(/^error \[usage\]: amount "1,5" uses a comma.*\(see `conclave spend --help`\)\n$/);
  });

  it("no arguments prints the overview on stderr and exits 2", async () => {
    const { code, out, err } = await cli([]);
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err).toContain("Commands:");
  });

  it("--help prints on stdout and exits 0, for the overview and every command", async () => {
    const overview = await cli(["--help"]);
    expect(overview.code).toBe(0);
    expect(overview.out).toContain("Usage: conclave [--data <dir>] [--json] <command>");
    const spend = await cli(["spend", "--help"]);
    expect(spend.out).toContain("Usage: conclave [options] spend AMOUNT");
    expect(spend.out).toContain("250000000000p");
  });

  it("an unexpected error prints its message and the --verbose hint, and the stack only with --verbose", async () => {
    const dir = await joined();
    entry.wallets.get(dir)!.info = () => Promise.reject(new TypeError("boom"));
    const plain = await cli(["--data", dir, "info"]);
    expect(plain.code).toBe(1);
    expect(plain.err).toBe("error [unexpected]: boom (rerun with --verbose for the stack trace)\n");
    const verbose = await cli(["--data", dir, "info", "--verbose"]);
    expect(verbose.err).toContain("TypeError: boom\n    at ");
  });

  it("--json reports errors as one JSON line on stderr", async () => {
    const usage = await cli(["--json", "spend", "x"]);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.err)).toMatchObject({ error: { code: "usage", help: "conclave spend --help" } });
    const failed = await cli(["--json", "--data", freshDir(), "info"]);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.err)).toMatchObject({ error: { code: "not_joined" } });
  });

  it("Ctrl-C during an operation that moves notes says `conclave resume` finishes it, and exits 130", async () => {
    const dir = await joined();
    const { io, cap } = fakeIo();
    entry.wallets.get(dir)!.onSpend = () => cap.interrupt();
    // (the fake exit throws where process.exit would end the process: what runCli returns after it is moot)
    await runCli(["--data", dir, "spend", "1p"], io, () => Promise.resolve(entry));
    expect(cap.exitCode).toBe(130);
    expect(cap.err).toContain("nothing is lost");
    expect(cap.err).toContain(`conclave --data ${dir} resume`);
  });
});

describe("bad invites and unreachable federations", () => {
  it("a damaged or foreign invite is invalid_invite (exit 1) and the wallet is never loaded", async () => {
    for (const bad of [INVITE.slice(0, -2) + "00", "hello", "conclave1:"]) {
      const { io, cap } = fakeIo();
      const code = await runCli(["--data", freshDir(), "join", bad], io, () =>
        Promise.reject(new Error("must not load")),
      );
      expect(code).toBe(1);
      expect(cap.err).toMatch(/^error \[invalid_invite\]: [^\n]+copy the invite code again[^\n]+\n$/);
    }
  });

  it("when every guardian is unreachable, the hint says to check the connection, not the invite", async () => {
    const dir = await joined();
    const answers = [0, 1, 2, 3].map((i) => ({
      guardian: i,
      url: `u${i}`,
      answer: "unreachable: fetch failed",
    }));
    entry.wallets.get(dir)!.backup = () =>
      Promise.reject(new ConclaveError("no_quorum", "backup: too few answers", { details: { answers } }));
    const { code, err } = await cli(["--data", dir, "backup"]);
    expect(code).toBe(1);
    expect(err).toContain("error [no_quorum]: backup: too few answers — no guardian could be reached");
  });

  it("a ConfigError from below (a config that does not parse) is reported without a stack", async () => {
    const dir = await joined();
    entry.wallets.get(dir)!.info = () => Promise.reject(new ConfigError("guardians[0].api: not a URL"));
    const { code, err } = await cli(["--data", dir, "info"]);
    expect(code).toBe(1);
    expect(err).toBe("error [invalid_config]: guardians[0].api: not a URL\n");
  });
});

describe("wallet warnings", () => {
  it("go to stderr, as a line in human mode and as a JSON line with --json, without failing the command", async () => {
    const dir = await joined();
    const loader = (onWarning: (m: string) => void) => {
      onWarning("guardian 2 sent a blind signature share that does not verify");
      return Promise.resolve(entry);
    };
    const human = fakeIo();
    expect(await runCli(["--data", dir, "resume"], human.io, loader)).toBe(0);
    expect(human.cap.err).toBe("warning: guardian 2 sent a blind signature share that does not verify\n");
    const json = fakeIo();
    expect(await runCli(["--json", "--data", dir, "resume"], json.io, loader)).toBe(0);
    expect(JSON.parse(json.cap.err)).toEqual({
      warning: "guardian 2 sent a blind signature share that does not verify",
    });
    expect(JSON.parse(json.cap.out)).toEqual({ finished: 0 });
  });
});

describe("Ctrl-C before the wallet is touched", () => {
  it("says nothing was done (no resume needed) and exits 130", async () => {
    const dir = await joined();
    const { io, cap } = fakeIo();
    const waiting: CliIo = { ...io, readStdin: () => (cap.interrupt(), Promise.resolve("cnotes1x")) };
    await runCli(["--data", dir, "reissue", "-"], waiting, () => Promise.resolve(entry));
    expect(cap.exitCode).toBe(130);
    expect(cap.err.startsWith("\ninterrupted before anything was done\n")).toBe(true);
  });
});

describe("resolveDataDir", () => {
  it("takes --data, else $CONCLAVE_WALLET_DIR, else ~/.conclave/wallet, expanding ~", () => {
    expect(resolveDataDir("/a", { CONCLAVE_WALLET_DIR: "/b" }, "/home/u")).toBe("/a");
    expect(resolveDataDir(undefined, { CONCLAVE_WALLET_DIR: "/b" }, "/home/u")).toBe("/b");
    expect(resolveDataDir(undefined, { CONCLAVE_WALLET_DIR: "" }, "/home/u")).toBe(
      "/home/u/.conclave/wallet",
    );
    expect(resolveDataDir(undefined, {}, "/home/u")).toBe("/home/u/.conclave/wallet");
    expect(resolveDataDir("~/w", {}, "/home/u")).toBe("/home/u/w");
    expect(resolveDataDir(undefined, { CONCLAVE_WALLET_DIR: "~/x" }, "/home/u")).toBe("/home/u/x");
  });
});

describe("withdraw (Monero payout)", () => {
  const ADDRESS = `4${"A".repeat(94)}`;
  const BAD = `4Bad${"A".repeat(91)}`;

  it("prints a progress line per stage, then the Monero txid and tx key", async () => {
    const dir = await joined();
    const { code, out, err } = await cli(["--data", dir, "withdraw", ADDRESS, "0.25"]);
    expect(code).toBe(0);
    expect(err).toBe("");
    const lines = out.trimEnd().split("\n");
    expect(lines.slice(0, 4).map((l) => l.trim().split(/\s+/)[0])).toEqual([
      "queued",
      "signing",
      "submitted",
      "confirmed",
    ]);
    expect(lines[4]).toBe(`Paid 0.25 XMR (250000000000p) to ${ADDRESS} (fee 0.00000000001 XMR (10p))`);
    expect(lines[5]).toBe(
      "Fee         0.000000000008 XMR (8p) Monero fee (the guardians' agreed rate, 1200000 piconero/byte) + 0.000000000002 XMR (2p) mint fee",
    );
    expect(lines).toContain(`Monero txid ${"7a".repeat(32)}`);
    expect(lines).toContain(`Tx key      ${"3c".repeat(32)}`);
    expect(lines).toContain(`Proof: check_tx_key ${"7a".repeat(32)} ${"3c".repeat(32)} ${ADDRESS}`);
  });

  it("--json keeps stdout one JSON document and puts progress on stderr as JSON lines", async () => {
    const dir = await joined();
    const { code, out, err } = await cli(["--data", dir, "--json", "withdraw", ADDRESS, "250000000000p"]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({
      txid: "f".repeat(64),
      moneroTxid: "7a".repeat(32),
      txKey: "3c".repeat(32),
      amount: "250000000000",
      fee: "10",
      moneroFee: "8",
      feeRate: 1200000,
    });
    const progress = err
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { progress: { stage: string } });
    expect(progress.map((p) => p.progress.stage)).toEqual(["queued", "signing", "submitted", "confirmed"]);
  });

  it("refuses a missing or malformed address or amount as a usage error (exit 2)", async () => {
    const dir = await joined();
    for (const [argv, message] of [
      [["withdraw"], /missing ADDRESS and AMOUNT/],
      [["withdraw", ADDRESS], /missing AMOUNT/],
      [["withdraw", "4abc", "1"], /ADDRESS is a Monero address/],
      [["withdraw", `0${"A".repeat(94)}`, "1"], /ADDRESS is a Monero address/],
      [["withdraw", ADDRESS, "lots"], /amount/i],
      [["withdraw", ADDRESS, "1", "2"], /unexpected argument/],
    ] as const) {
      const { code, err } = await cli(["--data", dir, ...argv]);
      expect(code).toBe(2);
      expect(err).toMatch(message);
      expect(err).toContain("conclave withdraw --help");
    }
  });

  it("reports an address the guardians refuse as one line with its code (exit 1)", async () => {
    const dir = await joined();
    const { code, out, err } = await cli(["--data", dir, "withdraw", BAD, "1"]);
    expect(code).toBe(1);
    expect(out).toBe("");
    expect(err).toContain("error [invalid_address]: output 1: cannot pay 4Bad…: bad checksum");
  });

  it("withdrawals lists none, then each withdrawal with its state, Monero txid and proof line", async () => {
    const dir = await joined();
    expect((await cli(["--data", dir, "withdrawals"])).out).toBe("No withdrawals.\n");
    const wallet = entry.wallets.get(dir)!;
    wallet.withdrawn.unshift({
      txid: "e".repeat(64),
      address: ADDRESS,
      amount: 5n,
      state: "signing",
      createdAtMs: Date.UTC(2025, 0, 1),
      updatedAtMs: Date.UTC(2025, 0, 1),
    });
    expect((await cli(["--data", dir, "withdraw", ADDRESS, "0.25"])).code).toBe(0);
    const { code, out } = await cli(["--data", dir, "withdrawals"]);
    expect(code).toBe(0);
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^2025-01-02T03:04:05.*confirmed\s+0\.25 XMR \(250000000000p\) to 4A+$/);
    expect(lines).toContain(`  Monero txid ${"7a".repeat(32)}`);
    expect(lines).toContain(`  proof: check_tx_key ${"7a".repeat(32)} ${"3c".repeat(32)} ${ADDRESS}`);
    expect(lines.find((l) => l.includes("signing"))).toContain("0.000000000005 XMR (5p)");
    const json = JSON.parse((await cli(["--data", dir, "--json", "withdrawals"])).out) as {
      withdrawals: { state: string; amount: string }[];
    };
    expect(json.withdrawals.map((w) => [w.state, w.amount])).toEqual([
      ["confirmed", "250000000000"],
      ["signing", "5"],
    ]);
  });

  it("has its help", async () => {
    const { code, out } = await cli(["withdraw", "--help"]);
    expect(code).toBe(0);
    expect(out).toContain("withdraw ADDRESS AMOUNT");
    expect(out).toContain("check_tx_key");
  });
});

describe("deposit (Monero subaddress) and balance", () => {
  it("prints the subaddress, one progress line per change with a bar over the confirmations, then the new balance", async () => {
    const dir = await joined();
    const { code, out, err } = await cli(["--data", dir, "deposit"]);
    expect(code).toBe(0);
    expect(err).toBe("");
    const lines = out.trimEnd().split("\n");
    expect(lines).toContain(`  ${SUBADDRESS}`);
    const progress = lines.filter((l) => /^ {2}[a-z]+ /.test(l));
    expect(progress.map((l) => l.trim().split(/\s+/)[0])).toEqual([
      "waiting",
      "seen",
      "confirming",
      "confirming",
      "verifying",
      "issuing",
      "done",
    ]);
    expect(progress[2]).toContain("[#######-------------] 1/3");
    expect(progress[4]).toContain("[####################] 3/3");
    expect(lines.at(-2)).toBe(`Received 0.000000000008 XMR (8p) from Monero deposit eeeeeeeeeeeeeeee…`);
    expect(lines.at(-1)).toBe("Balance: 0.000000000008 XMR (8p)");
  });

  it("on a terminal redraws one bar line in place", async () => {
    const dir = await joined();
    const { code, out } = await cli(["--data", dir, "deposit"], { stdoutTty: true });
    expect(code).toBe(0);
    const redraws = out.split("\r\x1b[2K");
    expect(redraws).toHaveLength(8); // the address block, then 7 redraws of the same line
    expect(redraws.slice(1, -1).every((r) => !r.includes("\n"))).toBe(true);
    expect(redraws.at(-1)).toMatch(/^ {2}done +received .*\nReceived /);
  });

  it("--no-wait prints only the address; --json gives the address and the result with the balance", async () => {
    const dir = await joined();
    const noWait = await cli(["--data", dir, "deposit", "--no-wait"]);
    expect(noWait.code).toBe(0);
    expect(noWait.out).toContain(SUBADDRESS);
    expect(noWait.out).not.toContain("Balance");
    const json = await cli(["--data", dir, "--json", "deposit"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({ address: SUBADDRESS, amount: "8", balance: "8" });
    const events = json.err
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { address?: { address: string }; progress?: { stage: string } });
    expect(events[0]?.address?.address).toBe(SUBADDRESS);
    expect(events.slice(1).map((e) => e.progress?.stage)).toContain("confirming");
  });

  it("balance prints the balance alone", async () => {
    const dir = await joined();
    await cli(["--data", dir, "dev-faucet", "8p"]);
    const { code, out } = await cli(["--data", dir, "balance"]);
    expect(code).toBe(0);
    expect(out).toBe("Balance: 0.000000000008 XMR (8p)\n");
    expect(JSON.parse((await cli(["--data", dir, "--json", "balance"])).out)).toEqual({ balance: "8" });
  });
});
