import { describe, expect, it } from "vitest";
import { decodeSnapshot, decryptBackup, encodeSnapshot, encryptBackup, BACKUP_NOTES_MAX } from "./backup.js";
import type { BackupSnapshot } from "./backup.js";
import { webRandom } from "../../../../packages/wallet/src/crypto.js";

const KEY = new Uint8Array(32).fill(9);
const FED = new Uint8Array(32).fill(1);
const snapshot: BackupSnapshot = {
  nextIndex: 1234,
  notes: Array.from({ length: 50 }, (_, i) => ({
    index: i * 3,
    denominationLog2: 20 + (i % 26),
    nonce: new Uint8Array(32).fill(i),
    signature: new Uint8Array(48).fill(255 - i),
  })),
};

describe("encrypted backup", () => {
  it("round-trips a snapshot through encryption", () => {
    const ct = encryptBackup(KEY, FED, encodeSnapshot(snapshot), webRandom);
    const pt = decryptBackup(KEY, FED, ct);
    expect(pt && decodeSnapshot(pt)).toEqual(snapshot);
  });

  it("uses a fresh nonce per backup (two encryptions differ)", () => {
    const pt = encodeSnapshot(snapshot);
    expect(encryptBackup(KEY, FED, pt, webRandom)).not.toEqual(encryptBackup(KEY, FED, pt, webRandom));
  });

  it("detects any flipped byte of the ciphertext", () => {
    const ct = encryptBackup(KEY, FED, encodeSnapshot(snapshot), webRandom);
    for (const pos of [0, 23, 24, 100, ct.length - 1]) {
      const tampered = ct.slice();
      tampered[pos] = tampered[pos]! ^ 1;
      expect(decryptBackup(KEY, FED, tampered)).toBeUndefined();
    }
    expect(decryptBackup(KEY, FED, ct.subarray(0, 30))).toBeUndefined();
  });

  it("does not open with another key or for another federation", () => {
    const ct = encryptBackup(KEY, FED, encodeSnapshot(snapshot), webRandom);
    expect(decryptBackup(new Uint8Array(32).fill(8), FED, ct)).toBeUndefined();
    expect(decryptBackup(KEY, new Uint8Array(32).fill(2), ct)).toBeUndefined();
  });

  it("refuses snapshot bytes of another format or length", () => {
    const bytes = encodeSnapshot(snapshot);
    expect(decodeSnapshot(bytes.subarray(0, bytes.length - 1))).toBeUndefined();
    const other = bytes.slice();
    other[0] = 2;
    expect(decodeSnapshot(other)).toBeUndefined();
  });

  it("fits at least 1,500 notes under the guardians' 128 KiB ciphertext limit", () => {
    expect(BACKUP_NOTES_MAX).toBeGreaterThanOrEqual(1_500);
  });
});
