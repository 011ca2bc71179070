// The mint half's secrets, from its secret (the federation root: `compat: "wallet-v1"`, so that
// existing mnemonics restore the same notes). The derivation is packages/wallet/src/keys.ts's:
//   spendSeed(i)   = HKDF-Expand(root, "conclave/wallet/v1/note/spend" | u64be(i), 32)
//   blindingRng(i) = draws HKDF-Expand(root, "conclave/wallet/v1/note/blind" | u64be(i) | u32be(k), 48)
//   backupKey      = HKDF-Expand(root, "conclave/wallet/v1/backup/encryption", 32)
//   backupIdSeed   = HKDF-Expand(root, "conclave/wallet/v1/backup/id", 32)
import { expand } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { ROOT_BYTES, labelled } from "@conclave/core-client";
import { Writer, utf8 } from "@conclave/core-common";
import type { Rng } from "@conclave/core-common/threshold";

const LABEL_SPEND = utf8.encode("conclave/wallet/v1/note/spend");
const LABEL_BLIND = utf8.encode("conclave/wallet/v1/note/blind");
const LABEL_BACKUP_KEY = utf8.encode("conclave/wallet/v1/backup/encryption");
const LABEL_BACKUP_ID = utf8.encode("conclave/wallet/v1/backup/id");
export { KEY_INDEX_MAX as NOTE_INDEX_MAX, ROOT_BYTES } from "@conclave/core-client";

export class MintKeys {
  readonly backupKey: Uint8Array;
  readonly backupIdSeed: Uint8Array;

  constructor(protected readonly root: Uint8Array) {
    if (root.length !== ROOT_BYTES) throw new TypeError(`a wallet root is ${ROOT_BYTES} bytes`);
    this.backupKey = expand(sha256, root, LABEL_BACKUP_KEY, 32);
    this.backupIdSeed = expand(sha256, root, LABEL_BACKUP_ID, 32);
  }

  spendSeed(index: number): Uint8Array {
    return expand(sha256, this.root, labelled(LABEL_SPEND, index), 32);
  }

  /** The deterministic "random" source whose draws make note `index`'s blinding key. */
  blindingRng(index: number): Rng {
    const base = labelled(LABEL_BLIND, index);
    let draw = 0;
    return (n) => {
      const info = new Writer().raw(base).u32(draw++).finish();
      return expand(sha256, this.root, info, n);
    };
  }
}
