// Which of the other participants' multisig exports a guardian imports (docs/monero.md, "Payouts":
// exports and imports). One policy, used by the real wallet (payout-watcher.ts RpcPayoutWallet) and
// by the simulator's wallet model (testing/sim chains/monero-wallet.ts), as createWithin is.
//
// wallet-rpc's import_multisig_info takes the exports all or nothing: one export that cannot be read
// (garbage from a Byzantine guardian, or from an honest guardian whose wallet-rpc is broken) fails
// the whole import. Before, every participant's import then failed at every retry and the round's
// timeout blamed the participant whose turn it was, never the exporter: one garbage exporter held the
// batch back for as long as it kept exporting garbage (the simulator's `--monero-lying-node` seed 37).
// A guardian now reads each export first and imports only those it can read: an export is a wallet
// blob encrypted and signed under the multisig wallet's view key, which every participant holds, so
// every honest guardian reads the same bytes the same way. The exporter of one it skipped is named by
// no set made from this import; it cannot sign this attempt and is passed over at its turn (a
// participant's failed step), and a creator still has t − 1 others' exports when at most f are bad
// (N − 1 − f ≥ t − 1).

import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

/** An export's reading: its exporter, or undefined when it cannot be read. */
type Reading = { readonly exporter: string } | undefined;

/**
 * Readings of exports already read, by their digest, so that an import retried at every poll (its
 * wallet-rpc call failing) does not read the same exports again (review of 4819c19). Holds at most
 * `max` readings, the oldest dropped first.
 */
export class ExportReadings {
  private readonly readings = new Map<string, Reading>();
  constructor(private readonly max = 64) {}

  async read(info: string, reader: (info: string) => Promise<Reading>): Promise<Reading> {
    const key = bytesToHex(sha256(new TextEncoder().encode(info)));
    if (this.readings.has(key)) return this.readings.get(key);
    const reading = await reader(info);
    this.readings.set(key, reading);
    for (const oldest of this.readings.keys()) {
      if (this.readings.size <= this.max) break;
      this.readings.delete(oldest);
    }
    return reading;
  }
}

/** What the policy needs: a reader of one export and wallet-rpc's import. */
export interface ExportImporter {
  /**
   * Whether `info` is an export of this multisig wallet by another participant (read, not imported),
   * and if so an identity of its exporter, so that a second export of the same participant is
   * skipped too (wallet2 refuses two exports of one signer in one import).
   */
  readable(info: string): Promise<{ readonly exporter: string } | undefined>;
  /** import_multisig_info of these (wallet-rpc). */
  importInfos(infos: readonly string[]): Promise<void>;
}

/**
 * Imports the readable exports among `infos` (at most one per exporter, the first), and answers how
 * many were skipped; with `readings`, an export read before is not read again. With fewer than `threshold − 1` readable the import fails as wallet-rpc's would
 * (MoneroMultisigError from `importInfos`), so that nothing is imported from a minority.
 */
export async function importReadable(
  infos: readonly string[],
  threshold: number,
  io: ExportImporter,
  readings?: ExportReadings,
): Promise<{ readonly imported: number; readonly skipped: number }> {
  const kept: string[] = [];
  const exporters = new Set<string>();
  for (const info of infos) {
    const read = readings ? await readings.read(info, (i) => io.readable(i)) : await io.readable(info);
    if (read === undefined || exporters.has(read.exporter)) continue;
    exporters.add(read.exporter);
    kept.push(info);
  }
  // All readable: exactly wallet-rpc's import (the worlds and tests without garbage are unchanged).
  // Fewer than t − 1: the call fails with wallet-rpc's own reason.
  await io.importInfos(kept.length === infos.length || kept.length < threshold - 1 ? infos : kept);
  return { imported: kept.length, skipped: infos.length - kept.length };
}
