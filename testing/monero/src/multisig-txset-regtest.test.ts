// readMultisigTxSetKeyImages (packages/monero multisig-txset.ts) against real Monero 0.18 sets: a
// 3-of-4 multisig wallet on regtest (startMultisigRegtest) holds two deposits; its creator makes a
// payout that needs both (`transfer`), and the key images read from the set with the shared view key
// (query_key) equal the spent_key_images wallet-rpc returned for that transfer, in the set as made
// and after a second guardian's sign_multisig; the set is refused under another wallet's view key.
// And a Byzantine creator that edits its set's tx.vin (any participant can re-seal a set: the view
// key is shared): the reader refuses it (tx.vin is not the construction data's sources, which
// wallet2 signs), and indeed the honest signer's wallet signs the sources' inputs and writes them
// back: the set its own sign_multisig returns reads true and is the transaction that is relayed.
// And the exports (readMultisigExport): each participant's real export reads (its signer, its
// outputs), garbage, a flipped byte or another account's keys are refused, and a guardian that reads
// the exports first (modules/monero importReadable) imports the others' when one is garbage, where
// wallet-rpc's import of them all is refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MoneroMultisigError,
  decodeAddress,
  multisigCreateTransfer,
  multisigExportInfo,
  multisigImportInfo,
  multisigSign,
  multisigSubmit,
  openMultisigTxSet,
  othersOf,
  parseXmr,
  readMultisigExport,
  readMultisigTxSetKeyImages,
  sealMultisigTxSet,
} from "@conclave/monero";
import type { WalletRpc } from "@conclave/monero";
import { startMultisigRegtest } from "./multisig.js";
import type { MultisigRegtest } from "./multisig.js";
import { OUTPUT_UNLOCK_BLOCKS, ensureMoneroInstalled, mineBlocks, mineUntilUnlocked } from "./regtest.js";

const T = 3;
const N = 4;
const DEPOSIT = parseXmr("1");
const PAYOUT = parseXmr("1.5"); // more than one deposit: the transaction spends both

let ms: MultisigRegtest | undefined;

beforeAll(async () => {
  ensureMoneroInstalled();
  ms = await startMultisigRegtest({ threshold: T, total: N });
  const { net, miner, minerAddress, multisigAddress, guardianWallets } = ms;
  await miner.refresh();
  for (let i = 0; i < 2; i++) {
    await miner.transfer({ destinations: [{ address: multisigAddress, amount: DEPOSIT }] });
    await mineBlocks(net.daemon.rpc, 1, minerAddress);
  }
  await mineBlocks(net.daemon.rpc, OUTPUT_UNLOCK_BLOCKS, minerAddress);
  await mineUntilUnlocked(net.daemon.rpc, guardianWallets[0]!, {
    amount: 2n * DEPOSIT,
    address: minerAddress,
    batch: 1,
  });
}, 600_000);

afterAll(async () => {
  await ms?.net.stop();
});

async function importAll(all: readonly WalletRpc[], signers: readonly WalletRpc[]): Promise<void> {
  await Promise.all(all.map((w) => w.refresh()));
  const exports = await Promise.all(all.map((w) => multisigExportInfo(w)));
  await Promise.all(
    signers.map((w) => multisigImportInfo(w, { threshold: T, total: N }, othersOf(exports, all.indexOf(w)))),
  );
}

describe("reading the key images of a real multisig transaction set", () => {
  it("equals transfer's spent_key_images in the creator's set and in each signer's output; a set whose tx.vin was edited is refused, and wallet2 signs the real inputs anyway; another view key is refused", async () => {
    const { guardianWallets: g, userAddress, miner } = ms!;
    const signers = [g[0]!, g[1]!, g[2]!];
    await importAll(g, signers);
    const created = await multisigCreateTransfer(g[0]!, [{ address: userAddress, amount: PAYOUT }]);
    expect(created.keyImages.length).toBe(2);

    const viewKeys = await Promise.all(g.map((w) => w.queryViewKey()));
    expect(new Set(viewKeys).size).toBe(1); // every participant holds the same view key
    const viewKey = viewKeys[0]!;

    expect(readMultisigTxSetKeyImages(created.txset, viewKey)).toEqual([created.keyImages]);
    // Another participant reads the same from the set it was handed (its own copy of the view key).
    expect(readMultisigTxSetKeyImages(created.txset, viewKeys[2]!)).toEqual([created.keyImages]);

    // A Byzantine creator edits the first input's key image in its set's tx.vin and re-seals it.
    const plain = openMultisigTxSet(created.txset, viewKey);
    const first = Buffer.from(created.keyImages[0]!, "hex");
    const at = Buffer.from(plain).indexOf(first); // tx.vin comes first in the archive
    expect(at).toBeGreaterThan(0);
    const fake = Buffer.alloc(32, 0x42);
    const edited = Uint8Array.from(plain);
    edited.set(fake, at);
    const forged = sealMultisigTxSet(edited, viewKey);
    // The reader refuses it: its tx.vin is not what wallet2 signs.
    expect(() => readMultisigTxSetKeyImages(forged, viewKey)).toThrow(/construction data's sources/);

    // The honest signer's wallet rebuilds the inputs from the construction data, signs those and
    // writes them back: the set its own sign_multisig returns reads true.
    const signed = await multisigSign(g[1]!, forged);
    expect(readMultisigTxSetKeyImages(signed.txset, viewKey)).toEqual([created.keyImages]);

    // The miner's wallet is another wallet: its view key does not open the set.
    const otherViewKey = await miner.queryViewKey();
    expect(otherViewKey).not.toBe(viewKey);
    let refused: unknown;
    try {
      readMultisigTxSetKeyImages(signed.txset, otherViewKey);
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(MoneroMultisigError);
    expect((refused as Error).message).toMatch(/not encrypted with this wallet's view key/);

    // The set is real: the third signer completes it and it is relayed.
    const done = await multisigSign(g[2]!, signed.txset);
    expect(readMultisigTxSetKeyImages(done.txset, viewKey)).toEqual([created.keyImages]);
    const txids = await multisigSubmit(g[2]!, done.txset);
    expect(txids).toHaveLength(1);
  }, 300_000);

  it("reads each participant's real export (signer, outputs) and refuses garbage, a flipped byte and another account's; one garbage export among the others no longer fails the import", async () => {
    const { guardianWallets: g, multisigAddress } = ms!;
    await Promise.all(g.map((w) => w.refresh()));
    const exports = await Promise.all(g.map((w) => multisigExportInfo(w)));
    const viewKey = await g[0]!.queryViewKey();
    const account = decodeAddress(multisigAddress);
    const read = exports.map((e) => readMultisigExport(e, viewKey, account));
    expect(new Set(read.map((r) => r.signer)).size).toBe(N); // one signer key per participant
    for (const r of read) expect(r.outputs).toBeGreaterThan(0);

    const refusal = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(MoneroMultisigError);
        return (e as Error).message;
      }
      return "read";
    };
    const garbage = Buffer.from("not an export at all, 32 bytes!!").toString("hex");
    expect(refusal(() => readMultisigExport(garbage, viewKey, account))).toMatch(/magic/);
    const flipped = Buffer.from(exports[1]!, "hex");
    const at = flipped.length - 80;
    flipped.writeUInt8(flipped.readUInt8(at) ^ 0x01, at);
    expect(refusal(() => readMultisigExport(flipped.toString("hex"), viewKey, account))).toMatch(
      /signature does not verify/,
    );
    const other = { publicSpendKey: account.publicViewKey, publicViewKey: account.publicSpendKey };
    expect(refusal(() => readMultisigExport(exports[1]!, viewKey, other))).toMatch(/different account/);

    // Guardian 0's import with guardian 3's export replaced by garbage: wallet-rpc refuses them all
    // (what every participant met before, `--monero-lying-node` seed 37); read first, the two others
    // (t − 1) are imported.
    const others = [exports[1]!, exports[2]!, flipped.toString("hex")];
    let all: unknown;
    try {
      await multisigImportInfo(g[0]!, { threshold: T, total: N }, others);
    } catch (e) {
      all = e;
    }
    expect(all).toBeDefined();
    // What importReadable (modules/monero payout-imports.ts) does with them: the readable ones.
    const readable = others.filter(
      (info) => refusal(() => readMultisigExport(info, viewKey, account)) === "read",
    );
    expect(readable).toEqual([exports[1], exports[2]]);
    await expect(multisigImportInfo(g[0]!, { threshold: T, total: N }, readable)).resolves.toBeGreaterThan(0);
  }, 300_000);
});
