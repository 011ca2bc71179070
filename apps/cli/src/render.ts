// Human-readable output of each command's result. (`--json` prints the results themselves, with
// bigints as decimal strings: see bigintReplacer.)
import { formatXmr } from "@conclave/core-common";
import type {
  BackupResult,
  ClaimDepositResult,
  DepositAddressResult,
  DepositProgress,
  ReceiveDepositsResult,
  ReissueResult,
  RelayResult,
  RestoreResult,
  SealClaimResult,
  SpendResult,
  SubaddressDepositProgress,
  ValidateResult,
  WalletInfo,
  WithdrawalInfo,
  WithdrawProgress,
  WithdrawResult,
} from "@conclave/wallet-standard";

/** "0.25 XMR (250000000000p)": both units, so either can be typed back. */
export function amountText(amount: bigint): string {
  return `${formatXmr(amount)} (${amount}p)`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function shortId(id: string): string {
  return id.length > 16 ? `${id.slice(0, 16)}…` : id;
}

/** `conclave deposit`: the address to pay, and how. */
export function depositAddressLines(r: DepositAddressResult, waiting: boolean): string[] {
  return [
    `Pay this Monero subaddress of the federation (from any wallet; no tx key needed):`,
    ``,
    `  ${r.address}`,
    ``,
    waiting
      ? `Waiting for the payment (Ctrl-C is safe: \`conclave resume\` issues it later).`
      : `Then run \`conclave resume\` (any command also does) to turn what it received into notes.`,
  ];
}

// cli-progress (3.12) was weighed for this bar: it draws to a TTY stream it owns, redraws on a timer,
// and takes its text from a format string; here one line carries the stage, the bar and the
// guardians' message, goes through CliIo (so tests and --json read it) and is redrawn only when the
// progress event changes. Ten lines by hand do that; the library would need a stream adapter.
const BAR_WIDTH = 20;

/**
 * A subaddress deposit's progress as one line: a bar over the confirmations while they count,
 * the stage and message otherwise. On a terminal it is redrawn in place.
 */
export function subaddressProgressLine(p: SubaddressDepositProgress): string {
  const message =
    p.stage === "done" && p.amount !== undefined ? `received ${amountText(p.amount)}` : p.message;
  if (p.confirmations === undefined || p.confirmationsRequired === undefined)
    return `  ${p.stage.padEnd(10)} ${message}`;
  const filled = Math.round(
    (BAR_WIDTH * Math.min(p.confirmations, p.confirmationsRequired)) / p.confirmationsRequired,
  );
  const bar = `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}]`;
  return `  ${p.stage.padEnd(10)} ${bar} ${p.confirmations}/${p.confirmationsRequired} ${message}`;
}

export function receivedLines(r: ReceiveDepositsResult, balance: bigint): string[] {
  return [
    ...r.deposits.map(
      (d) =>
        `Received ${amountText(d.amount)} from Monero deposit ${shortId(d.txid)}` +
        (d.dust > 0n ? ` (${amountText(d.dust)} below the smallest note stays with the federation)` : ""),
    ),
    `Balance: ${amountText(balance)}`,
  ];
}

/** One line per change while a deposit claim waits. */
export function depositProgressLine(p: DepositProgress): string {
  // The wallet's message speaks in base units; the CLI shows amounts in both units.
  const message =
    p.stage === "done" && p.amount !== undefined ? `received ${amountText(p.amount)}` : p.message;
  return `  ${p.stage.padEnd(10)} ${message}`;
}

export function claimLines(r: ClaimDepositResult): string[] {
  return [
    `Received ${amountText(r.amount)} in ${plural(r.notesIssued, "note")} from Monero deposit ${shortId(r.depositTxid)}`,
    `Transaction ${r.txid}`,
    ...(r.dust > 0n ? [`${amountText(r.dust)} below the smallest note stays with the federation`] : []),
  ];
}

/** On stderr after `claim --seal` (stdout holds the sealed claim alone, for a pipe or a file). */
export function sealNotice(r: SealClaimResult, dataFlag: string): string[] {
  return [
    `Claim of ${shortId(r.txid)} sealed to guardian ${r.guardian} (${r.guardianName}); nothing was sent.`,
    `Relay it (from any machine): conclave relay <the csealed1... text>`,
    `Then: conclave${dataFlag} claim --wait ${r.txid}`,
  ];
}

export function relayLines(r: RelayResult): string[] {
  return [
    r.state === "queued"
      ? `Guardian ${r.guardian} took the sealed claim of deposit ${shortId(r.txid)}: it will propose it`
      : `Guardian ${r.guardian} already has the claim of deposit ${shortId(r.txid)} (the guardians ordered it)`,
  ];
}

/** One line per change while a withdrawal's payout is signed and confirmed. */
export function withdrawProgressLine(p: WithdrawProgress): string {
  return `  ${p.stage.padEnd(10)} ${p.message}`;
}

export function withdrawLines(r: WithdrawResult, address: string): string[] {
  return [
    `Paid ${amountText(r.amount)} to ${address} (fee ${amountText(r.fee)})`,
    `Fee         ${amountText(r.moneroFee)} Monero fee (the guardians' agreed rate, ${r.feeRate} piconero/byte) + ${amountText(r.fee - r.moneroFee)} mint fee`,
    `Monero txid ${r.moneroTxid}`,
    `Tx key      ${r.txKey}`,
    `Proof: check_tx_key ${r.moneroTxid} ${r.txKey} ${address}`,
    `Transaction ${r.txid}`,
  ];
}

export function withdrawalsLines(list: readonly WithdrawalInfo[]): string[] {
  if (list.length === 0) return ["No withdrawals."];
  const lines: string[] = [];
  for (const w of list) {
    lines.push(
      `${isoTime(w.createdAtMs)}  ${w.state.padEnd(10)}  ${amountText(w.amount)} to ${w.address}`,
      `  transaction ${w.txid}`,
    );
    if (w.moneroTxid) lines.push(`  Monero txid ${w.moneroTxid}`);
    if (w.txKey && w.moneroTxid) lines.push(`  proof: check_tx_key ${w.moneroTxid} ${w.txKey} ${w.address}`);
  }
  return lines;
}

export function federationLines(info: WalletInfo): string[] {
  return [
    `Federation "${info.federationName}" (id ${shortId(info.federationId)})`,
    `Guardians: ${info.guardians.length}, any ${info.threshold} of them must agree`,
    ...info.guardians.map((g) => `  ${g.index}  ${g.name}  ${g.url}`),
  ];
}

export function joinLines(info: WalletInfo, mnemonic: string | undefined, dir: string): string[] {
  const lines = [`Joined; wallet created in ${dir}`, ...federationLines(info)];
  if (mnemonic === undefined) {
    lines.push("", "The wallet uses the recovery phrase you gave; keep it safe.");
    return lines;
  }
  const words = mnemonic.split(" ");
  const numbered = words.map((w, i) => `${String(i + 1).padStart(2)}. ${w}`);
  const columns = 4;
  const rows: string[] = [];
  for (let r = 0; r < Math.ceil(numbered.length / columns); r++) {
    rows.push(
      "    " +
        numbered
          .slice(r * columns, (r + 1) * columns)
          .map((c) => c.padEnd(16))
          .join("")
          .trimEnd(),
    );
  }
  lines.push(
    "",
    "Recovery phrase (mnemonic):",
    "",
    `    ${mnemonic}`,
    "",
    ...rows,
    "",
    "WRITE THESE WORDS DOWN NOW, in order, and keep them secret and offline.",
    "They are the only way to get this wallet's notes back if this computer or its data directory is",
    "lost (`conclave restore`), and anyone who has them can take the notes. conclave will never show",
    "them again.",
  );
  return lines;
}

export function infoLines(info: WalletInfo): string[] {
  const noteCount = info.notes.reduce((sum, d) => sum + d.count, 0);
  const lines = [
    ...federationLines(info),
    "",
    `Balance: ${amountText(info.balance)} in ${plural(noteCount, "note")}`,
  ];
  if (info.notes.length > 0) {
    const width = Math.max(...info.notes.map((d) => d.amount.length)) + 1;
    for (const d of [...info.notes].sort((a, b) => b.denominationLog2 - a.denominationLog2)) {
      lines.push(
        `  ${`2^${d.denominationLog2}`.padEnd(5)} ${`${d.amount}p`.padStart(width)}  × ${String(d.count).padStart(3)}` +
          `  = ${formatXmr(BigInt(d.amount) * BigInt(d.count))}`,
      );
    }
  }
  lines.push(`Fee per spent note: ${amountText(info.feePerNote)}`);
  if (info.outgoing.length === 0) {
    lines.push("Outgoing spends: none");
  } else {
    lines.push(
      "Outgoing spends (not known to be reissued yet; `conclave cancel <id>` takes one back if not):",
    );
    for (const o of info.outgoing)
      lines.push(`  ${o.id}  ${amountText(o.amount)}  since ${isoTime(o.createdAtMs)}`);
  }
  lines.push(
    info.pendingOperations === 0
      ? "Pending operations: none"
      : `Pending operations: ${info.pendingOperations} (run \`conclave resume\` to finish them)`,
  );
  const unconfirmed = (info.withdrawals ?? []).filter((w) => w.state !== "confirmed");
  if (unconfirmed.length > 0)
    lines.push(
      `Withdrawals not confirmed yet: ${unconfirmed.length} (\`conclave withdrawals\` asks the guardians and shows them)`,
    );
  for (const d of info.pendingDeposits ?? [])
    lines.push(
      `Pending Monero deposit claim: ${d.txid} since ${isoTime(d.createdAtMs)} (\`conclave resume\`)`,
    );
  const b = info.lastBackup;
  lines.push(
    b === undefined
      ? "Last backup: never (run `conclave backup`)"
      : `Last backup: ${isoTime(b.atMs)}, version ${b.version}, ${plural(b.notes, "note")}`,
  );
  return lines;
}

/** `nothingToDo`: what to say when the wallet made no transaction (split or combine already satisfied). */
export function reissueLines(verb: string, r: ReissueResult, nothingToDo = "Nothing to do."): string[] {
  if (r.txid === "") return [nothingToDo];
  const txs =
    r.txids !== undefined && r.txids.length > 1
      ? `${r.txids.length} transactions, the last ${shortId(r.txid)}`
      : `transaction ${shortId(r.txid)}`;
  return [
    `${verb} ${amountText(r.amount)} as ${plural(r.notesIssued, "new note")}` +
      `${r.fee > 0n ? `, fee ${amountText(r.fee)}` : ""} (${txs})`,
  ];
}

export function spendNotice(r: SpendResult): string[] {
  return [
    `Spent ${amountText(r.amount)}: the note string is on stdout. Spend id: ${r.id}`,
    `Until the receiver reissues it, \`conclave cancel ${r.id}\` takes it back.`,
  ];
}

export function validateLines(r: ValidateResult): string[] {
  const lines = [
    `Note string of federation ${shortId(r.federationId)}: ${plural(r.notes.length, "note")}, ${amountText(r.amount)}`,
  ];
  r.notes.forEach((n, i) => {
    const spent = r.spent?.[i];
    const state = spent === undefined ? "" : spent ? ", SPENT" : ", unspent";
    lines.push(
      `  2^${n.denominationLog2}  nonce ${shortId(n.nonce)}  ${n.valid ? "valid" : "INVALID"}${state}`,
    );
  });
  return lines;
}

export function backupLines(r: BackupResult): string[] {
  return [
    `Backup version ${r.version} (${plural(r.notes, "note")}, ${r.bytes} bytes, encrypted) stored by guardians ` +
      r.storedBy.join(", "),
  ];
}

export function restoreLines(r: RestoreResult): string[] {
  const from =
    r.backupVersion === undefined
      ? `no backup found, ${r.fromScan} found by scanning`
      : `${r.fromBackup} from backup version ${r.backupVersion}, ${r.fromScan} found by scanning`;
  return [
    `Restored ${plural(r.notes, "unspent note")} worth ${amountText(r.amount)} (${from}` +
      `${r.spentDropped > 0 ? `; ${r.spentDropped} spent since the backup dropped` : ""}) in ` +
      `${(r.elapsedMs / 1000).toFixed(1)} s`,
  ];
}
