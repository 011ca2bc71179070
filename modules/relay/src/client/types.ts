// The relay client half's result types (relay-client.ts), apart so that the class stays readable.
import type { LetterKind } from "./mailbox.js";
import type { HolderKind } from "./social.js";

export interface SendResult {
  readonly itemId: string;
  readonly messageId: string;
  /** Guardians that hold the item now. */
  readonly storedAt: readonly number[];
  /** Guardians that refused or did not answer, with why. */
  readonly failedAt: readonly { readonly guardian: number; readonly error: string }[];
}

export interface ReceivedLetter {
  readonly messageId: string;
  readonly from: string;
  /** The sender's name, if the sender is in the contacts. */
  readonly fromName?: string;
  readonly sentAtMs: number;
  readonly kind: LetterKind;
  readonly text: string;
  /** Guardians that served it. */
  readonly foundAt: readonly number[];
  /** Guardians the sender wrote it to that did not serve it (dropped it, or had not got it yet). */
  readonly missingAt: readonly number[];
}

export interface ReadResult {
  /** New letters, oldest first (by the time their senders signed). */
  readonly letters: readonly ReceivedLetter[];
  /** Letters read before that a guardian served again (a replay: deleted there again). */
  readonly replayed: readonly { readonly messageId: string; readonly guardians: readonly number[] }[];
  /** Items that did not open or verify (forged, or garbage), by guardian. */
  readonly unreadable: readonly { readonly guardian: number; readonly items: number }[];
  /** Guardians that could not be read (with why). */
  readonly failedAt: readonly { readonly guardian: number; readonly error: string }[];
}

export interface ContactView {
  readonly name: string;
  readonly inbox: string;
  readonly fingerprint: string;
  readonly address?: string;
}

/** Who holds one shard: this device, a contact (through the mailbox), or a printed copy. */
export type Holder =
  | { readonly kind: "device" }
  | { readonly kind: "friend"; readonly contact: string }
  | { readonly kind: "offline" }
  /** The federation: its guardians release it (t of them) only after `delayMs`, unless the owner cancels. */
  | { readonly kind: "federation"; readonly delayMs: number };

/** What the device keeps of its shard set (the signing seed and key let it replace the record). */
export interface SocialRecord {
  readonly setId: string;
  readonly threshold: number;
  readonly total: number;
  readonly version: number;
  readonly signSeed: string;
  readonly key: string;
  readonly deviceShard?: string;
  /** Who holds the set's shards (for growing it: `socialAdd`). Sets made before this field: absent. */
  readonly holders?: readonly Holder[];
}

/** Where social recovery is, for a front end to show while it waits on guardians and friends. */
export type SocialProgress =
  | { readonly step: "split"; readonly threshold: number; readonly total: number }
  | { readonly step: "stored"; readonly guardians: readonly number[] }
  | { readonly step: "revoked"; readonly previousSetId: string; readonly ok: boolean }
  | { readonly step: "friend"; readonly contact: string; readonly ok: boolean }
  | { readonly step: "federation"; readonly guardians: readonly number[] };

export interface SocialSetupResult {
  readonly setId: string;
  readonly threshold: number;
  readonly total: number;
  /** Guardians that hold the set's record (the secret, encrypted under the data key). */
  readonly storedBy: readonly number[];
  readonly friends: readonly {
    readonly contact: string;
    readonly storedAt: readonly number[];
    readonly error?: string;
  }[];
  /** Printable shards: the text and its QR code (text art, for a terminal or a printer). */
  readonly offline: readonly { readonly text: string; readonly qr: string }[];
  /** Guardians that keep a piece of the federation's shard (none without a federation holder). */
  readonly federationAt?: readonly number[];
  /** Whether a previous set was re-keyed away (its record replaced by a tombstone). */
  readonly revokedPrevious: boolean;
}

export type { HolderKind };
