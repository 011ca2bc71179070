// How the CLI shows the relay half's commands: contact cards (QR code, fingerprint), letters, shard
// sets (printable shards with their QR codes), and a recovery on a new device.
import type {
  ContactCardResult,
  ContactView,
  ReadResult,
  RecoveredSecret,
  RecoveryRestoreResult,
  RecoverySetupResult,
  SendResult,
  SocialProgress,
} from "@conclave/wallet-standard";

const list = (xs: readonly number[]) => (xs.length === 0 ? "none" : xs.join(", "));

export function cardLines(c: ContactCardResult): string[] {
  return [
    c.qr.trimEnd(),
    "",
    `Contact card of "${c.name}"${c.label === "default" ? "" : ` (for ${c.label})`}:`,
    c.text,
    "",
    `Fingerprint: ${c.fingerprint}`,
    "Your contact runs `conclave contact add CARD` and must see the same fingerprint.",
  ];
}

export function contactLines(c: ContactView, added: boolean): string[] {
  return [
    `${added ? "Added contact" : "Contact"} "${c.name}"`,
    `  fingerprint ${c.fingerprint}${added ? "  (compare it with the one your contact reads to you)" : ""}`,
    `  inbox       ${c.inbox}`,
    ...(c.address === undefined ? [] : [`  address     ${c.address}`]),
  ];
}

export function contactsLines(cs: readonly ContactView[]): string[] {
  if (cs.length === 0) return ["No contacts (add one with `conclave contact add CARD`)."];
  return cs.map((c) => `${c.name.padEnd(20)} ${c.fingerprint}  ${c.inbox.slice(0, 16)}…`);
}

export function sentLines(r: SendResult, to: string): string[] {
  return [
    `Sent to ${to}: stored at guardians ${list(r.storedAt)} (message ${r.messageId.slice(0, 16)}…)`,
    ...r.failedAt.map((f) => `  guardian ${f.guardian} did not store it: ${f.error}`),
  ];
}

export function readLines(r: ReadResult): string[] {
  const lines =
    r.letters.length === 0
      ? ["No new letters."]
      : r.letters.flatMap((l) => [
          `From ${l.fromName ?? `${l.from.slice(0, 16)}… (not a contact)`} at ${new Date(l.sentAtMs).toISOString()}${
            l.kind === "text" ? "" : ` [${l.kind}]`
          }:`,
          ...l.text.split("\n").map((t) => `  ${t}`),
          ...(l.missingAt.length > 0
            ? [`  (guardians ${list(l.missingAt)} should have had it and did not serve it)`]
            : []),
        ]);
  return [
    ...lines,
    ...r.replayed.map(
      (x) =>
        `warning: guardians ${list(x.guardians)} served letter ${x.messageId.slice(0, 16)}… again (a replay)`,
    ),
    ...r.unreadable.map(
      (u) => `warning: guardian ${u.guardian} served ${u.items} item(s) that do not open (forged or damaged)`,
    ),
    ...r.failedAt.map((f) => `warning: guardian ${f.guardian} could not be read: ${f.error}`),
  ];
}

export function socialProgressLine(p: SocialProgress): string {
  switch (p.step) {
    case "split":
      return `Split a new data key ${p.threshold}-of-${p.total}; storing the encrypted phrase at the guardians…`;
    case "stored":
      return `Stored at guardians ${list(p.guardians)}`;
    case "revoked":
      return p.ok
        ? `Replaced the previous set's record (its shards now recover nothing)`
        : `warning: the previous set's record was not replaced at enough guardians`;
    case "friend":
      return p.ok ? `Sent ${p.contact} a shard` : `warning: ${p.contact}'s shard was not delivered`;
    case "federation":
      return `The federation's shard: a piece at each of guardians ${list(p.guardians)}`;
  }
}

export function setupLines(r: RecoverySetupResult): string[] {
  const holders = [
    `Shard set ${r.setId.slice(0, 16)}…: any ${r.threshold} of ${r.total} shards recover the wallet.`,
    `  encrypted phrase at guardians ${list(r.storedBy)}; wallet state at guardians ${list(r.stateStoredBy)}`,
    ...r.friends.map((f) =>
      f.error === undefined
        ? `  friend ${f.contact}: shard sent (stored at guardians ${list(f.storedAt)})`
        : `  friend ${f.contact}: NOT sent (${f.error}); run the command again`,
    ),
    ...(r.federationAt === undefined
      ? []
      : [`  the federation's shard: split among guardians ${list(r.federationAt)} (t of them release it)`]),
    ...(r.revokedPrevious ? ["  the previous set was re-keyed: its shards recover nothing now"] : []),
  ];
  const printed = r.offline.flatMap((o, i) => [
    "",
    `Offline shard ${i + 1} of ${r.offline.length} (print it, or copy the text; keep it apart from the others):`,
    o.qr.trimEnd(),
    o.text,
  ]);
  return [...holders, ...printed];
}

export function recoverLines(
  mnemonic: string,
  r: Omit<RecoveredSecret, "secret">,
  state: RecoveryRestoreResult | undefined,
  dir: string,
  restored: readonly string[],
): string[] {
  return [
    `Recovered the recovery phrase (record version ${r.version}, from guardians ${list(r.from)}):`,
    "",
    `    ${mnemonic}`,
    "",
    "WRITE THESE WORDS DOWN NOW.",
    ...(r.forged.length > 0
      ? [`warning: shards ${r.forged.map((i) => i + 1).join(", ")} are forged or damaged`]
      : []),
    ...(r.older.length > 0 ? [`warning: guardians ${list(r.older)} served an older record`] : []),
    ...(r.forgedAt.length > 0 ? [`warning: guardians ${list(r.forgedAt)} served a forged record`] : []),
    ...restored,
    state
      ? `Wallet state restored: ${state.restored} entries (version ${state.version}, guardians ${list(state.from)})`
      : "No wallet state restored.",
    `Wallet in ${dir}`,
  ];
}
