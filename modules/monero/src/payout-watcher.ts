// The background half of payouts: this guardian's part of the current signing round, done with its
// own wallet-rpc (the guardian's share of the multisig wallet) and monerod. It acts only on what the
// consensus state says (payouts.ts `duty`), one job at a time, and keeps each result in memory until
// consensus shows it ordered; results enter consensus only as this guardian's proposals.
//
// Restarts: the state says whose turn it is, so a restarted guardian does its part of the current
// round. What its wallet made for a duty (an export, the creator's set, a signed set) is kept in the
// wallet's own file (an attribute, saved by the same `store` as the nonces it used) before it is
// proposed, and a restarted guardian proposes that blob again instead of making a new one. A second
// export would replace the wallet's nonces while the first one, proposed before the restart, could
// still be ordered (its chunks in a round the guardian had not applied yet): the others would then
// build the transaction on nonces this wallet no longer has, and its signature fails for good
// (wallet-rpc -35, "signature was made with stale data"); with t participants nobody can take its
// place (npm-start-restart.test.ts froze so). A signer that signed before a restart cannot sign the
// same set again either (-35, measured): it proposes the set it kept.
import {
  DaemonRpc,
  TXIDS_PER_CALL_MAX,
  MoneroMultisigError,
  MoneroRpcError,
  WalletRpc,
  WalletRpcErrorCode,
  multisigCheckTransfer,
  multisigCreateTransfer,
  multisigImportInfo,
  multisigSign,
  decodeAddress,
  multisigSubmit,
  readMultisigExport,
  readMultisigTxSetKeyImages,
} from "@conclave/monero";
import type { DaemonTransaction, IncomingTransfer } from "@conclave/monero";
import { PollLoop } from "@conclave/core-server";
import { z } from "zod";
import { fromHex, toHex } from "@conclave/core-common";
import { SLOT_EXPORT, encodeCreatorSet } from "./payout-common.js";
import { createWithin } from "./payout-inputs.js";
import { ExportReadings, importReadable } from "./payout-imports.js";
import { txKeyImages } from "./tx-inputs.js";
import { goneEvidenceCounts } from "./payout-gone-evidence.js";
import type { GoneEvidence } from "./payout-gone-evidence.js";
import type { CreatedSet } from "./payout-inputs.js";
import type { GoneWatch, PayoutDuty } from "./payouts.js";

/** An agreed payout transaction to check (PayoutWallet.unmineable). */
export interface GoneCheck {
  /** The transaction's id; with `inputsOnly`, the check's own name (no transaction to look up). */
  readonly txid: string;
  /** Its inputs' key images (hex). */
  readonly keyImages: readonly string[];
  /** The block consensus agreed it was mined in (a confirmed batch); undefined while submitted. */
  readonly txHeight?: number;
  /** A completion voted before a txid was agreed: only inputs among `keyImages` are evidence. */
  readonly unagreed?: boolean;
  /**
   * No transaction: inputs every completion of an attempt spends (its creator's named inputs, or
   * its bound: GoneInputsWatch). Gone when one of them can never be spent, and only by a chain fact
   * (its source double-spent in the chain), as for `unagreed`.
   */
  readonly inputsOnly?: boolean;
}

/** The check name of a watch with no transaction (GoneCheck.inputsOnly). */
export function goneCheckId(w: GoneWatch): string {
  return w.inputsOnly === undefined ? w.txid : `inputs:${w.batch}:${w.attempt}:${w.inputsOnly}`;
}

/** What the payout signer needs from this guardian's wallet-rpc (the multisig wallet) and monerod. */
export interface PayoutWallet {
  /** export_multisig_info (after a refresh), hex. */
  exportInfo(): Promise<string>;
  /** import_multisig_info of the others' exports. */
  importInfos(infos: readonly string[]): Promise<void>;
  /**
   * transfer: the creator's transaction set (hex), its fee and the key images of its inputs (hex).
   * With `only`, the transaction spends only outputs with these key images: every other output is
   * frozen for the transfer and thawed after it (docs/monero.md, "Conflicting attempts").
   */
  create(
    destinations: readonly { address: string; amount: bigint }[],
    only?: readonly string[],
  ): Promise<{ txset: string; fee: bigint; keyImages: readonly string[] }>;
  /**
   * Throws MoneroMultisigError when the set pays anything but exactly this (pre-signing check), or,
   * given the creator's set `root`, when it is not the same transaction (inputs total, change, fee,
   * tx public keys in extra), or, given `keyImages` (what the creator said the set spends), when they
   * are not unspent outputs of this wallet whose amounts add up to the set's inputs total.
   */
  check(
    txset: string,
    expected: {
      destinations: readonly { address: string; amount: bigint }[];
      feeMax: bigint;
      root?: string;
      keyImages?: readonly string[];
    },
  ): Promise<void>;
  /** sign_multisig: the new set, and whether this signature completed the transaction. */
  sign(txset: string): Promise<{ txset: string; complete: boolean }>;
  /**
   * The key images (hex) of the inputs of a set this wallet's own `sign` returned, read from the set
   * itself (the real wallet decrypts it with the multisig wallet's view key:
   * readMultisigTxSetKeyImages). Only a set this wallet wrote: wallet2 signs the inputs it rebuilds
   * from the set's construction data, not the `tx.vin` a set handed over carries, so what it wrote
   * after signing is what it signed. Throws when the set cannot be read.
   */
  signedKeyImages(txset: string): Promise<readonly string[]>;
  /** submit_multisig: the transaction id. */
  submit(txset: string): Promise<string>;
  /**
   * After this wallet's node refused the final set: the id of a transaction this wallet saw spend
   * the set's inputs (another completion of the same set, broadcast first), if any.
   */
  spentBy(txset: string): Promise<string | undefined>;
  /**
   * The id of the mined transaction this wallet knows as its own that spent any of these outputs
   * (key images, hex), if exactly one did: a completion of an earlier attempt of the batch,
   * broadcast late by the signer that kept it.
   */
  spenderOf(keyImages: readonly string[]): Promise<string | undefined>;
  /**
   * Of `txids` (other guardians' votes), the one this guardian's monerod shows mined and spending
   * any of these key images (hex), if exactly one: no wallet knowledge needed (threat model 3d: a
   * wallet that learned the inputs' key images after the spend does not list it as its own).
   */
  minedSpenderAmong(txids: readonly string[], keyImages: readonly string[]): Promise<string | undefined>;
  /**
   * Of these agreed payout transactions, the ids of those that can never be mined as this guardian
   * sees it now: its monerod has the transaction in neither chain nor pool, and one of its inputs
   * (key images, hex) is no output of the wallet any more (the transaction that made it is gone: a
   * deep reorg). An input spent in the chain by another transaction does not count: that one is the
   * federation's, maybe another completion of the same set that paid the batch. Threat model 3e.
   * The real wallet tells it by key images when it knows every output's, else by the inputs' source
   * outputs it remembered while the transaction was on its node (RpcPayoutWallet); either way only
   * an input whose key image its monerod shows unspent (neither chain nor pool) counts.
   */
  unmineable(txs: readonly GoneCheck[]): Promise<string[]>;
  /** get_tx_key: the wallet that submitted a multisig transaction stores its key (measured). */
  txKey(txid: string): Promise<string>;
  /** Where this guardian's monerod sees the transaction: block height, 0 in the pool, undefined unknown. */
  location(txid: string): Promise<number | undefined>;
  /** monerod's block count. */
  height(): Promise<number>;
  /**
   * Keeps `blob` (hex), this wallet's work for the duty named `duty`, in the wallet's file, saved
   * together with the nonces that work used; one is kept (the latest).
   */
  remember(duty: string, blob: string): Promise<void>;
  /** The blob kept for `duty`, if the one kept is for it. */
  recall(duty: string): Promise<string | undefined>;
}

/** The wallet attribute holding the latest payout blob (`remember`): JSON { duty, blob }. */
export const KEPT_BLOB_ATTRIBUTE = "conclave.payout.kept";
const KeptBlobSchema = z.object({ duty: z.string(), blob: z.string() });

/**
 * The wallet attribute holding where the inputs of agreed payout transactions came from
 * (`RpcPayoutWallet.unmineable`, threat model 3e): JSON [{ tx, inputs: [{ k, src, h, pk? }] }], the
 * payout's txid, and per input its key image, the transaction that made the output it spends, that
 * transaction's block and the output's public key. This guardian's own memory, never consensus.
 */
export const INPUT_SOURCES_ATTRIBUTE = "conclave.payout.sources";
/** Payout transactions whose input sources are remembered at most (the oldest dropped first). */
export const INPUT_SOURCES_TXS_MAX = 128;
/** Inputs remembered per payout transaction at most (one gone input is enough evidence). */
export const INPUT_SOURCES_PER_TX_MAX = 16;
const hexKey = z.string().regex(/^[0-9a-f]{64}$/);
const InputSourcesSchema = z
  .array(
    z.object({
      // A payout txid, or a GoneCheck name of an attempt's inputs (goneCheckId).
      tx: z.string().min(1).max(80),
      inputs: z.array(
        z.object({ k: hexKey, src: hexKey, h: z.number().int().nonnegative(), pk: hexKey.optional() }),
      ),
    }),
  )
  .max(INPUT_SOURCES_TXS_MAX);

/** Where one input of a payout transaction came from, as this guardian's wallet listed it. */
export interface InputSource {
  /** The input's key image (hex). */
  readonly keyImage: string;
  /** The transaction that made the output it spends. */
  readonly sourceTxid: string;
  /** That transaction's block (on this guardian's node when it was remembered). */
  readonly sourceHeight: number;
  /** The output's one-time public key, where wallet-rpc answered it. */
  readonly pubkey?: string;
}

/** The real wallet: this guardian's monero-wallet-rpc with its multisig wallet open, and its monerod. */
export class RpcPayoutWallet implements PayoutWallet {
  private readonly wallet: WalletRpc;
  private readonly daemon: DaemonRpc;
  /** The input sources kept in the wallet (INPUT_SOURCES_ATTRIBUTE), by payout txid; read once. */
  private sources: Map<string, InputSource[]> | undefined;
  /** Imports done by this process: key images change only at an import. */
  private imports = 0;
  /** Watched txids whose sources were looked up, and `imports` then (looked up again after an import). */
  private readonly lookedUp = new Map<string, number>();
  /** Exports read before (an import retried at every poll reads each once). */
  private readonly exportReadings = new ExportReadings();
  /** The multisig wallet's private view key (query_key), read at the first set it reads. */
  private viewKey: string | undefined;

  constructor(
    walletRpcUrl: string,
    daemonUrl: string,
    private readonly params: { threshold: number; total: number; multisigAddress: string },
  ) {
    this.wallet = new WalletRpc({ url: walletRpcUrl, timeoutMs: 30_000 });
    this.daemon = new DaemonRpc({ url: daemonUrl, timeoutMs: 15_000 });
  }

  async exportInfo(): Promise<string> {
    await this.wallet.refresh();
    return this.wallet.exportMultisigInfo();
  }

  async importInfos(infos: readonly string[]): Promise<void> {
    await this.wallet.refresh();
    const viewKey = await this.queryViewKey();
    const account = decodeAddress(this.params.multisigAddress);
    // import_multisig_info takes the exports all or none: each is read first (payout-imports.ts).
    await importReadable(
      infos,
      this.params.threshold,
      {
        readable: (info) => {
          try {
            return Promise.resolve({ exporter: readMultisigExport(info, viewKey, account).signer });
          } catch (e) {
            if (e instanceof MoneroMultisigError) return Promise.resolve(undefined);
            throw e;
          }
        },
        importInfos: (kept) => multisigImportInfo(this.wallet, this.params, kept).then(() => undefined),
      },
      this.exportReadings,
    );
    this.imports++;
  }

  /** The multisig wallet's private view key (query_key; every participant holds it), asked once. */
  private async queryViewKey(): Promise<string> {
    this.viewKey ??= await this.wallet.queryViewKey();
    return this.viewKey;
  }

  create(
    destinations: readonly { address: string; amount: bigint }[],
    only?: readonly string[],
  ): Promise<CreatedSet> {
    const wallet = this.wallet;
    return createWithin(
      {
        transfer: async (d) => {
          const created = await multisigCreateTransfer(wallet, d);
          return { txset: created.txset, fee: created.fee, keyImages: created.keyImages };
        },
        available: () => wallet.incomingTransfers({ transferType: "available" }),
        freeze: (k) => wallet.freeze(k),
        thaw: (k) => wallet.thaw(k),
      },
      destinations,
      only,
    );
  }

  async check(
    txset: string,
    expected: {
      destinations: readonly { address: string; amount: bigint }[];
      feeMax: bigint;
      root?: string;
      keyImages?: readonly string[];
    },
  ): Promise<void> {
    const d = await multisigCheckTransfer(this.wallet, txset, {
      destinations: expected.destinations,
      feeMax: expected.feeMax,
      changeAddress: this.params.multisigAddress,
    });
    if (expected.keyImages !== undefined) {
      // wallet-rpc shows no key images of a set (describe_transfer), so the creator's list is
      // checked against what it can see: each an output of this wallet (key images are known after
      // the import; spent or not: a completion of this set broadcast first spent them), all
      // distinct, their amounts adding up to the set's inputs total.
      const claimed = expected.keyImages;
      const mine = new Map(
        (await this.wallet.incomingTransfers({ transferType: "all" })).flatMap((o) =>
          o.keyImage === undefined ? [] : [[o.keyImage, o.amount] as const],
        ),
      );
      const total = claimed.reduce((a, k) => a + (mine.get(k) ?? -(2n ** 70n)), 0n);
      if (claimed.length === 0 || new Set(claimed).size !== claimed.length || total !== d.amountIn)
        throw new MoneroMultisigError("the set's inputs are not the outputs its creator named", {
          amountIn: String(d.amountIn),
          named: claimed.length,
          namedTotal: String(total),
        });
    }
    if (expected.root === undefined || expected.root === txset) return;
    // wallet-rpc shows no key images of a multisig set; what it shows of the creator's set and of
    // this one must agree: the inputs' total, the change, the fee and the tx public keys (extra: a
    // fresh transfer has fresh ones). A signer that swapped in a transaction of its own is refused.
    const [root] = await this.wallet.describeTransfer({ multisigTxset: expected.root });
    if (
      !root ||
      root.amountIn !== d.amountIn ||
      root.changeAmount !== d.changeAmount ||
      root.fee !== d.fee ||
      root.extra !== d.extra
    )
      throw new MoneroMultisigError("the set is not the creator's transaction", {
        amountIn: String(d.amountIn),
        rootAmountIn: String(root?.amountIn),
      });
  }

  async sign(txset: string): Promise<{ txset: string; complete: boolean }> {
    const r = await multisigSign(this.wallet, txset);
    return { txset: r.txset, complete: r.txids.length > 0 };
  }

  async signedKeyImages(txset: string): Promise<readonly string[]> {
    const [inputs, ...more] = readMultisigTxSetKeyImages(txset, await this.queryViewKey());
    if (inputs === undefined || more.length > 0)
      throw new MoneroMultisigError("the signed set does not hold exactly one transaction");
    return inputs;
  }

  async spentBy(txset: string): Promise<string | undefined> {
    const [d] = await this.wallet.describeTransfer({ multisigTxset: txset });
    if (!d) return undefined;
    await this.wallet.refresh();
    const paid = d.recipients.reduce((a, r) => a + r.amount, 0n);
    const t = await this.wallet.getTransfers({ in: false, failed: false });
    // Every completion of a set has the same outputs and fee; the wallet knows the inputs' key
    // images (it imported every participant's export for this attempt), so it lists a transaction
    // that spent them as its own outgoing one even though it never submitted it.
    const found = [...t.out, ...t.pending, ...t.pool].filter(
      (x) => x.fee === d.fee && (x.amount === paid || x.amount === d.amountIn - d.changeAmount - d.fee),
    );
    const txids = [...new Set(found.map((x) => x.txid))];
    return txids.length === 1 ? txids[0] : undefined;
  }

  async spenderOf(keyImages: readonly string[]): Promise<string | undefined> {
    await this.wallet.refresh();
    const wanted = new Set(keyImages);
    // wallet-rpc lists a mined transaction that spent this wallet's outputs as an outgoing one (it
    // knows their key images from the imports) but shows no inputs: monerod's hex shows them.
    const out = (await this.wallet.getTransfers({ in: false, pending: false, failed: false, pool: false }))
      .out;
    const txids = [...new Set(out.map((x) => x.txid))].slice(-TXIDS_PER_CALL_MAX);
    if (txids.length === 0) return undefined;
    const { found } = await this.daemon.getTransactions(txids);
    const spenders = found
      .filter((tx) => !tx.inPool && txKeyImages(tx.hex).some((k) => wanted.has(k)))
      .map((tx) => tx.txid);
    return spenders.length === 1 ? spenders[0] : undefined;
  }

  async minedSpenderAmong(
    txids: readonly string[],
    keyImages: readonly string[],
  ): Promise<string | undefined> {
    if (txids.length === 0) return undefined;
    const wanted = new Set(keyImages);
    const { found } = await this.daemon.getTransactions(txids.slice(0, TXIDS_PER_CALL_MAX));
    const spenders = found
      .filter((tx) => !tx.inPool && txKeyImages(tx.hex).some((k) => wanted.has(k)))
      .map((tx) => tx.txid);
    return spenders.length === 1 ? spenders[0] : undefined;
  }

  async unmineable(txs: readonly GoneCheck[]): Promise<string[]> {
    const asked = txs.slice(0, TXIDS_PER_CALL_MAX);
    if (asked.length === 0) return [];
    const txChecks = asked.filter((t) => t.inputsOnly !== true);
    const allInputChecks = asked.filter((t) => t.inputsOnly === true);
    const { found } =
      txChecks.length > 0 ? await this.daemon.getTransactions(txChecks.map((t) => t.txid)) : { found: [] };
    const known = new Set(found.map((t) => t.txid));
    // The wallet's outputs after a refresh (wallet2 drops the outputs of blocks a reorg took away),
    // read at most once per check.
    let outputs: IncomingTransfer[] | undefined;
    const walletOutputs = async (): Promise<IncomingTransfer[]> => {
      if (outputs === undefined) {
        await this.wallet.refresh();
        outputs = await this.wallet.incomingTransfers({ transferType: "all" });
      }
      return outputs;
    };
    // A lookup is forgotten once its check is no longer asked (every check's, transaction or not:
    // forgetting the inputs' checks here re-listed the wallet at every poll).
    const names = new Set(asked.map((t) => t.txid));
    for (const name of [...this.lookedUp.keys()]) if (!names.has(name)) this.lookedUp.delete(name);
    await this.learnSources(txChecks, found, walletOutputs);
    await this.learnInputSources(allInputChecks, walletOutputs);
    let missing = txChecks.filter((t) => !known.has(t.txid));
    // A confirmed transaction its node has in the pool only: a reorg took its block away. monerod
    // returns a detached block's transactions to its pool and keeps them there although their
    // inputs no longer exist ("kept by block", up to a week; measured on 0.18 in regtest,
    // docs/monero.md), so after the deep reorg of 3e the agreed transaction is rarely missing: it
    // waits in the pool, and so does the double-spent deposit. Such a transaction is gone only by
    // (3) below (or by a source found gone that way).
    const inPool = new Set(found.filter((t) => t.inPool).map((t) => t.txid));
    let reorged = txChecks.filter((t) => t.txHeight !== undefined && inPool.has(t.txid));
    // A node that has not reached the block the federation agreed the transaction was mined in (it
    // is syncing, or behind) says nothing about it by not having it.
    let height: number | undefined;
    if ([...missing, ...reorged].some((t) => t.txHeight !== undefined)) {
      height = (await this.daemon.getHeight()).height;
      const past = (t: GoneCheck) => t.txHeight === undefined || (height ?? 0) > t.txHeight;
      missing = missing.filter(past);
      reorged = reorged.filter(past);
    }
    // An attempt's inputs are checked further only while a remembered source of one of them is off
    // its node's chain (one get_transactions; no wallet call, no refresh, at every poll of signing).
    const inputChecks = await this.offChain(allInputChecks);
    if (missing.length === 0 && reorged.length === 0 && inputChecks.length === 0) return [];
    if (inputChecks.length > 0) height ??= (await this.daemon.getHeight()).height;
    const outs = await walletOutputs();
    // An input spent in the chain is no evidence: only the federation can spend its outputs, so the
    // spender is a transaction it signed, possibly another completion of this very set (a passed-over
    // last signer's, mined first) that paid the batch; re-paying it would pay twice.
    // A wallet with no outputs at all (its cache lost or restored) knows nothing.
    if (outs.length === 0) return [];
    // The inputs (key images) that say a transaction is gone, by txid; and those of them that are a
    // chain fact, (3) below: the input's source can never be mined (one of its own inputs is spent
    // in the chain by another transaction). Only that counts for an attempt whose txid is not agreed
    // (`unagreed`): the node may have refused the completion, so its missing says nothing, and a
    // source merely detached by the reorg (kept in the pool, its inputs unspent) is mined again once
    // the miner stops censoring it, and with it the completion some other guardian holds; counting
    // (1) or (2) there let f guardians re-make the attempt unbound and the batch be paid twice
    // (review of 07aa630, finding 1).
    // (The rule of which kind counts for which watch is goneEvidenceCounts, shared with the
    // simulator's wallet model, applied in `counts` below.) By txid: each cited key image's kinds.
    const evidence = new Map<string, Map<string, Set<GoneEvidence>>>();
    const cite = (txid: string, keyImage: string, kind: GoneEvidence) => {
      const cited = evidence.get(txid) ?? new Map<string, Set<GoneEvidence>>();
      cited.set(keyImage, (cited.get(keyImage) ?? new Set<GoneEvidence>()).add(kind));
      evidence.set(txid, cited);
    };
    // The node's word on key images (is_key_image_spent), each asked once.
    const statusOf = new Map<string, 0 | 1 | 2>();
    const askStatus = async (keyImages: readonly string[]): Promise<void> => {
      const ask = [...new Set(keyImages)].filter((k) => !statusOf.has(k)).slice(0, TXIDS_PER_CALL_MAX);
      if (ask.length === 0) return;
      const status = await this.daemon.isKeyImageSpent(ask);
      ask.forEach((k, i) => statusOf.set(k, status[i] ?? 1));
    };
    // (1) Every output's key image known (rare for a multisig wallet: docs/monero.md) and an input
    // no output of the wallet any more (a missing transaction only: a detached block's output is
    // no output of the wallet either, yet comes back when the block's transactions are mined again).
    if (outs.every((o) => o.keyImage !== undefined)) {
      const mine = new Set(outs.flatMap((o) => (o.keyImage === undefined ? [] : [o.keyImage])));
      for (const t of missing) for (const k of t.keyImages) if (!mine.has(k)) cite(t.txid, k, "no-output");
    }
    // No key images needed: an input whose source output this guardian remembered (while the
    // transaction was on its node) no longer exists, at a node past the source's block, the wallet
    // listing no output of the source (nor one with the output's public key: a sibling completion of
    // a federation transaction has the same outputs under another txid), and the source not in the
    // chain, and either
    // (2) the source in neither chain nor pool, for a transaction missing itself; or
    // (3) the source in the pool but never mineable: one of its own inputs spent in the chain,
    //     necessarily by another transaction (the double spend of the deep reorg of 3e).
    // An attempt's inputs with no transaction (`inputsOnly`) are checked by (3) alone, by the
    // sources remembered for their key images under any name (a bound's were learned while the
    // earlier attempt that named them was signed).
    const candidates = [...missing, ...reorged, ...inputChecks];
    const isMissing = new Set(missing.map((t) => t.txid));
    const sources = await this.inputSources();
    const byImage = sourcesByKeyImage(sources);
    const remembered = candidates
      .map((t) => ({
        txid: t.txid,
        inputs:
          t.inputsOnly === true
            ? t.keyImages.flatMap((k) => byImage.get(k) ?? [])
            : (sources.get(t.txid) ?? []),
      }))
      .filter((t) => t.inputs.length > 0);
    const sourceTxids = [...new Set(remembered.flatMap((t) => t.inputs.map((i) => i.sourceTxid)))].slice(
      0,
      TXIDS_PER_CALL_MAX,
    );
    const listedTx = new Set(outs.map((o) => o.txid));
    const listedKey = new Set(outs.flatMap((o) => (o.pubkey === undefined ? [] : [o.pubkey])));
    const unlisted = (i: InputSource): boolean =>
      (height ?? 0) > i.sourceHeight &&
      !listedTx.has(i.sourceTxid) &&
      (i.pubkey === undefined || !listedKey.has(i.pubkey));
    if (sourceTxids.length > 0) {
      const got = (await this.daemon.getTransactions(sourceTxids)).found;
      height ??= (await this.daemon.getHeight()).height;
      const inChain = new Set(got.filter((t) => !t.inPool).map((t) => t.txid));
      const poolInputs = new Map(
        got
          .filter((t) => t.inPool)
          .map((t) => {
            try {
              return [t.txid, txKeyImages(t.hex).slice(0, INPUT_SOURCES_PER_TX_MAX)] as const;
            } catch {
              return [t.txid, [] as string[]] as const; // a hex that does not parse: no evidence
            }
          }),
      );
      if (remembered.some((t) => t.inputs.some((i) => poolInputs.has(i.sourceTxid) && unlisted(i))))
        await askStatus([...poolInputs.values()].flat());
      const doubleSpent = (source: string): boolean =>
        (poolInputs.get(source) ?? []).some((k) => statusOf.get(k) === 1);
      for (const t of remembered)
        for (const i of t.inputs) {
          if (!sourceTxids.includes(i.sourceTxid) || inChain.has(i.sourceTxid) || !unlisted(i)) continue;
          const pooled = poolInputs.has(i.sourceTxid);
          if (pooled && doubleSpent(i.sourceTxid)) cite(t.txid, i.keyImage, "source-double-spent");
          else if (!pooled && isMissing.has(t.txid)) cite(t.txid, i.keyImage, "source-missing");
        }
    }
    // Every kind names an input by the wallet's key image of an output; the node has the last word:
    // an input it shows spent in the chain, or in the pool by another transaction than this one,
    // is spent by another transaction (only the federation's keys spend it: maybe a sibling
    // completion that paid the batch) or the wallet misnamed its output (a wrong key image: a
    // Byzantine guardian's partial key image). No evidence.
    // An attempt's input (`inputsOnly`) spent in the pool counts too: whatever spends it can never
    // be mined once its source was double-spent in the chain; spent in the chain, never.
    const counts = (t: GoneCheck): boolean =>
      [...(evidence.get(t.txid) ?? [])].some(([k, kinds]) => {
        const strict = t.unagreed === true || t.inputsOnly === true;
        if (![...kinds].some((kind) => goneEvidenceCounts(kind, strict))) return false;
        if (strict && !t.keyImages.includes(k)) return false;
        const status = statusOf.get(k);
        return status === 0 || (status === 2 && (t.inputsOnly === true || inPool.has(t.txid)));
      });
    const gone = new Set<string>();
    for (let round = 0; round <= candidates.length && evidence.size > 0; round++) {
      await askStatus([...evidence.values()].flatMap((e) => [...e.keys()]));
      const newly = candidates.filter((t) => !gone.has(t.txid) && counts(t));
      if (newly.length === 0) break;
      for (const t of newly) gone.add(t.txid);
      // A source that is itself a watched transaction found gone (in neither chain nor pool, or
      // never mineable): its outputs never exist. A later payout spending a gone payout's change.
      for (const t of remembered)
        for (const i of t.inputs)
          if (gone.has(i.sourceTxid) && unlisted(i)) cite(t.txid, i.keyImage, "source-gone");
    }
    return asked.filter((t) => gone.has(t.txid)).map((t) => t.txid);
  }

  /**
   * Remembers, for the watched transactions its node has (chain or pool), the source output of each
   * input whose key image the wallet knows (its inputs read from the transaction itself, not the
   * creator's named list): after the import of the attempt that made it, the wallet knows them, and
   * once a deep reorg took the source away it no longer lists it. Looked up once per transaction
   * and import; kept in the wallet's file (a guardian restarted while the batch is stuck still knows).
   */
  private async learnSources(
    asked: readonly GoneCheck[],
    found: readonly DaemonTransaction[],
    walletOutputs: () => Promise<IncomingTransfer[]>,
  ): Promise<void> {
    const watched = new Set(asked.map((t) => t.txid));
    // Its inputs as the transaction itself has them (a hex that does not parse: nothing to learn).
    const parsed = found.flatMap((tx) => {
      if (!watched.has(tx.txid) || this.lookedUp.get(tx.txid) === this.imports) return [];
      try {
        return [{ txid: tx.txid, images: txKeyImages(tx.hex).slice(0, INPUT_SOURCES_PER_TX_MAX) }];
      } catch {
        return [];
      }
    });
    if (parsed.length === 0) return;
    const sources = await this.inputSources();
    const todo = parsed.flatMap(({ txid, images }) => {
      const have = new Set((sources.get(txid) ?? []).map((i) => i.keyImage));
      const wanted = images.filter((k) => !have.has(k));
      return wanted.length === 0 ? [] : [{ txid, wanted }];
    });
    if (todo.length === 0) return;
    for (const t of todo) this.lookedUp.set(t.txid, this.imports);
    const byImage = new Map(
      (await walletOutputs()).flatMap((o) => (o.keyImage === undefined ? [] : [[o.keyImage, o] as const])),
    );
    const learned = todo.flatMap((t) =>
      t.wanted.flatMap((k) => {
        const o = byImage.get(k);
        return o ? [{ txid: t.txid, keyImage: k, output: o }] : [];
      }),
    );
    await this.rememberSources(learned, sources);
  }

  /** Adds learned input sources to those kept in the wallet's file (the newest kept). */
  private async rememberSources(
    learned: readonly { txid: string; keyImage: string; output: IncomingTransfer }[],
    sources: Map<string, InputSource[]>,
  ): Promise<void> {
    if (learned.length === 0) return;
    // The source's block: from the wallet, else from this node (the source is mined: only mined
    // outputs are spent).
    const noHeight = [
      ...new Set(learned.filter((l) => l.output.blockHeight === undefined).map((l) => l.output.txid)),
    ];
    const heights = new Map<string, number>();
    if (noHeight.length > 0)
      for (const tx of (await this.daemon.getTransactions(noHeight.slice(0, TXIDS_PER_CALL_MAX))).found)
        if (tx.blockHeight !== undefined) heights.set(tx.txid, tx.blockHeight);
    let changed = false;
    for (const l of learned) {
      const sourceHeight = l.output.blockHeight ?? heights.get(l.output.txid);
      if (sourceHeight === undefined) continue;
      const inputs = sources.get(l.txid) ?? [];
      if (inputs.some((i) => i.keyImage === l.keyImage)) continue;
      inputs.push({
        keyImage: l.keyImage,
        sourceTxid: l.output.txid,
        sourceHeight,
        ...(l.output.pubkey === undefined ? {} : { pubkey: l.output.pubkey }),
      });
      sources.delete(l.txid); // re-inserted last: the newest stay
      sources.set(l.txid, inputs);
      changed = true;
    }
    if (!changed) return;
    dropOldest(sources, INPUT_SOURCES_TXS_MAX);
    const json = [...sources].map(([tx, inputs]) => ({
      tx,
      inputs: inputs.map((i) => ({
        k: i.keyImage,
        src: i.sourceTxid,
        h: i.sourceHeight,
        ...(i.pubkey === undefined ? {} : { pk: i.pubkey }),
      })),
    }));
    await this.wallet.setAttribute(INPUT_SOURCES_ATTRIBUTE, JSON.stringify(json));
    await this.wallet.store();
  }

  /** The checks of an attempt's inputs with a remembered source that its node does not have in its chain. */
  private async offChain(checks: readonly GoneCheck[]): Promise<GoneCheck[]> {
    if (checks.length === 0) return [];
    const byImage = sourcesByKeyImage(await this.inputSources());
    const sourcesOf = (t: GoneCheck) => t.keyImages.flatMap((k) => byImage.get(k)?.sourceTxid ?? []);
    const asked = new Set([...new Set(checks.flatMap(sourcesOf))].slice(0, TXIDS_PER_CALL_MAX));
    if (asked.size === 0) return [];
    const inChain = new Set(
      (await this.daemon.getTransactions([...asked])).found.filter((t) => !t.inPool).map((t) => t.txid),
    );
    return checks.filter((t) => sourcesOf(t).some((src) => asked.has(src) && !inChain.has(src)));
  }

  /**
   * Remembers, for the watched inputs of attempts with no transaction (GoneCheck.inputsOnly), the
   * source output of each key image the wallet lists (after the attempt's import it knows them),
   * under the check's name: once a deep reorg took a source away the wallet no longer lists it.
   * Looked up once per check and import.
   */
  private async learnInputSources(
    asked: readonly GoneCheck[],
    walletOutputs: () => Promise<IncomingTransfer[]>,
  ): Promise<void> {
    if (asked.length === 0) return;
    const sources = await this.inputSources();
    const have = sourcesByKeyImage(sources);
    const todo = asked.filter(
      (t) => this.lookedUp.get(t.txid) !== this.imports && t.keyImages.some((k) => !have.has(k)),
    );
    if (todo.length === 0) return;
    for (const t of todo) this.lookedUp.set(t.txid, this.imports);
    const byImage = new Map(
      (await walletOutputs()).flatMap((o) => (o.keyImage === undefined ? [] : [[o.keyImage, o] as const])),
    );
    const learned = todo.flatMap((t) =>
      t.keyImages
        .filter((k) => !have.has(k))
        .slice(0, INPUT_SOURCES_PER_TX_MAX)
        .flatMap((k) => {
          const o = byImage.get(k);
          return o ? [{ txid: t.txid, keyImage: k, output: o }] : [];
        }),
    );
    await this.rememberSources(learned, sources);
  }

  /** The remembered input sources (INPUT_SOURCES_ATTRIBUTE), read from the wallet once per process. */
  private async inputSources(): Promise<Map<string, InputSource[]>> {
    if (this.sources) return this.sources;
    const raw = await this.wallet.getAttribute(INPUT_SOURCES_ATTRIBUTE);
    const sources = new Map<string, InputSource[]>();
    let parsed: unknown;
    try {
      parsed = raw === undefined ? [] : JSON.parse(raw);
    } catch {
      parsed = []; // not ours: nothing remembered
    }
    const r = InputSourcesSchema.safeParse(parsed);
    if (r.success)
      for (const e of r.data)
        sources.set(
          e.tx,
          e.inputs.slice(0, INPUT_SOURCES_PER_TX_MAX).map((i) => ({
            keyImage: i.k,
            sourceTxid: i.src,
            sourceHeight: i.h,
            ...(i.pk === undefined ? {} : { pubkey: i.pk }),
          })),
        );
    this.sources = sources;
    return sources;
  }

  async submit(txset: string): Promise<string> {
    const [txid] = await multisigSubmit(this.wallet, txset);
    if (txid === undefined) throw new MoneroMultisigError("submit_multisig returned no txid");
    return txid;
  }

  txKey(txid: string): Promise<string> {
    return this.wallet.getTxKey(txid);
  }

  async location(txid: string): Promise<number | undefined> {
    const r = await this.daemon.getTransactions([txid]);
    const tx = r.found.find((t) => t.txid === txid);
    if (!tx) return undefined;
    return tx.inPool || tx.blockHeight === undefined ? 0 : tx.blockHeight;
  }

  async height(): Promise<number> {
    return (await this.daemon.getHeight()).height;
  }

  async remember(duty: string, blob: string): Promise<void> {
    await this.wallet.setAttribute(KEPT_BLOB_ATTRIBUTE, JSON.stringify({ duty, blob }));
    // One store: the attribute and the nonces the blob used reach the wallet's file together (a
    // wallet-rpc killed before it saved would come back with neither).
    await this.wallet.store();
  }

  async recall(duty: string): Promise<string | undefined> {
    const raw = await this.wallet.getAttribute(KEPT_BLOB_ATTRIBUTE);
    if (raw === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return undefined; // not ours: nothing kept
    }
    const kept = KeptBlobSchema.safeParse(parsed);
    return kept.success && kept.data.duty === duty ? kept.data.blob : undefined;
  }
}

/** A finished job: what this guardian proposes for its duty. */
export type PayoutResult =
  | { readonly kind: "blob"; readonly slot: number; readonly blob: Uint8Array }
  | { readonly kind: "fault"; readonly slot: number }
  | { readonly kind: "txid"; readonly txid: Uint8Array }
  | { readonly kind: "seen"; readonly txHeight: number; readonly txKey: Uint8Array };

export interface PayoutSignerOptions {
  readonly wallet: PayoutWallet;
  /** t: a fully signed set has t signatures (Fault slot t: my node refused it). */
  readonly threshold: number;
  readonly confirmations: number;
  readonly pollMs: number;
  readonly log: (event: string, fields: Record<string, unknown>) => void;
  readonly onChange: () => void;
  /** TEST ONLY (payout-byzantine.ts): what a Byzantine last signer does with its completed set. */
  readonly byzantine?: ByzantineLastSigner;
}

/** A test-only misbehaviour of the last signer (refused outside dev federations: factory.ts). */
export interface ByzantineLastSigner {
  /** Given the completed final set: what to propose instead (undefined: stay silent). */
  lastSigned(
    duty: PayoutDuty,
    completed: string,
    log: (event: string, fields: Record<string, unknown>) => void,
  ): PayoutResult | undefined;
}

/** The remembered input sources (kept by payout txid or check name) by their key image. */
function sourcesByKeyImage(sources: ReadonlyMap<string, readonly InputSource[]>): Map<string, InputSource> {
  return new Map([...sources.values()].flat().map((i) => [i.keyImage, i] as const));
}

/** Drops a map's oldest entries (insertion order) until it has at most `max`. */
function dropOldest<K, V>(map: Map<K, V>, max: number): void {
  while (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done) return;
    map.delete(oldest.value);
  }
}

/** A Gone vote's name: its batch attempt and scope (the transaction's, or the bound's). */
function goneName(w: GoneWatch): string {
  return `${w.batch}:${w.attempt}${w.inputsOnly === "bound" ? ":bound" : ""}`;
}

export function dutyKey(d: PayoutDuty): string {
  if (d.kind === "import" && d.bound) return `import:${d.batch}:${d.attempt}:bound`;
  if (d.kind === "sign") return `sign:${d.batch}:${d.attempt}:${d.slot}:${d.lineage.join(",")}`;
  if (d.kind === "submit") return `submit:${d.batch}:${d.attempt}:${d.lineage.join(",")}`;
  if (d.kind === "paid" && d.replacing) return `paid:${d.batch}:${d.attempt}:${toHex(d.replacing)}`;
  return `${d.kind}:${d.batch}:${d.attempt}`;
}

/**
 * Blocks of its own node a guardian waits, after its node refused a final set, for the transaction
 * that spent the set's inputs to show in its wallet before it calls the set bad (Fault).
 */
export const SUBMIT_REFUSAL_BLOCKS = 2;

/** Results remembered (a few attempts' worth; older ones are dropped). */
const RESULTS_MAX = 64;

export class PayoutSigner {
  private duty: PayoutDuty | undefined;
  private readonly results = new Map<string, PayoutResult>();
  /** TEST ONLY: what a Byzantine last signer decided, by duty. */
  private readonly byzantineDone = new Map<string, PayoutResult | undefined>();
  /** The attempt whose exports this wallet imported ("batch:attempt"). */
  private imported: string | undefined;
  /** Submit duties refused by this node: its block count at the first refusal. */
  private readonly refusedAt = new Map<string, number>();
  /** Agreed payout transactions watched for a deep reorg (Payouts.watched), set by the proposal. */
  private watched: readonly GoneWatch[] = [];
  /** Watched txids its node shows unmineable: its block count when first seen so (in a row). */
  private readonly goneSince = new Map<string, number>();
  /** "batch:attempt" whose transaction was unmineable for `confirmations` blocks: voted Gone. */
  private readonly goneFound = new Set<string>();
  /** `paid` duties: its node's block count at the last look for a spender (one look per block). */
  private readonly paidLookedAt = new Map<string, number>();
  private readonly loop: PollLoop;

  constructor(private readonly options: PayoutSignerOptions) {
    this.loop = new PollLoop(() => this.work(), {
      pollMs: options.pollMs,
      backoffExponentMax: 8,
      backoffMaxMs: 30_000,
      onFailure: (e, failures, retryInMs) => {
        // Logged at 1, 2, 4, 8, ... failures in a row.
        if ((failures & (failures - 1)) === 0)
          options.log("payout_step_failed", {
            duty: this.duty ? dutyKey(this.duty) : undefined,
            error: e instanceof Error ? e.message : String(e),
            failures,
            retryInMs,
          });
      },
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /**
   * What the consensus state says this guardian must do now (undefined: nothing). A new duty
   * without a result starts work at once instead of at the next poll (each turn of a signing round
   * passes through here: up to pollMs per turn otherwise); a duty seen before does not.
   */
  setDuty(duty: PayoutDuty | undefined): void {
    const fresh = duty !== undefined && (this.duty === undefined || dutyKey(this.duty) !== dutyKey(duty));
    this.duty = duty;
    if (fresh && !this.results.has(dutyKey(duty))) this.loop.poke();
  }

  /**
   * The node has a new block: a duty still without a result (e.g. a payout waiting for its depth)
   * is looked at now rather than at the next poll. Coalesced (PollLoop.poke); nothing without a duty.
   */
  newBlock(): void {
    if (this.duty !== undefined && !this.results.has(dutyKey(this.duty))) this.loop.poke();
  }

  /** Imports the other participants' exports once per attempt (early, or on its turn). */
  private async importOnce(duty: { batch: number; attempt: number; othersExports: readonly Uint8Array[] }) {
    const key = `${duty.batch}:${duty.attempt}`;
    if (this.imported === key) return;
    await this.options.wallet.importInfos(duty.othersExports.map(toHex));
    this.imported = key;
  }

  /**
   * The blob this wallet made for `duty` before this process started (kept in the wallet): its
   * nonces are spent on it, so it is proposed again, never made anew.
   */
  private async recalled(duty: PayoutDuty, slot: number): Promise<PayoutResult | undefined> {
    const blob = await this.options.wallet.recall(dutyKey(duty));
    if (blob === undefined) return undefined;
    this.options.log("payout_step_recalled", { duty: dutyKey(duty) });
    return { kind: "blob", slot, blob: fromHex(blob) };
  }

  /** A blob this wallet just made for `duty`: kept in the wallet before it is proposed. */
  private async kept(duty: PayoutDuty, slot: number, blob: string): Promise<PayoutResult> {
    await this.options.wallet.remember(dutyKey(duty), blob);
    return { kind: "blob", slot, blob: fromHex(blob) };
  }

  /**
   * The vote for a bound attempt whose inputs (`bound`) are spent: the txid of the mined
   * transaction this wallet saw spend them (undefined: none, or its node cannot tell yet).
   */
  private async paidBy(duty: PayoutDuty, bound: readonly Uint8Array[]): Promise<PayoutResult | undefined> {
    const { wallet } = this.options;
    const keyImages = bound.map(toHex);
    // Its own wallet first; else the txids other guardians voted, checked on its own node against
    // the agreed bound key images (a wallet that learned them after the spend cannot name it: 3d).
    const voted = "voted" in duty && duty.voted ? duty.voted.map(toHex) : [];
    const txid =
      (await wallet.spenderOf(keyImages)) ??
      (voted.length > 0 ? await wallet.minedSpenderAmong(voted, keyImages) : undefined);
    if (txid === undefined) return undefined;
    this.options.log("payout_paid_earlier", { batch: duty.batch, attempt: duty.attempt, txid });
    return { kind: "txid", txid: fromHex(txid) };
  }

  /** The agreed transactions to watch for a deep reorg (Payouts.watched for this guardian). */
  setWatched(watched: readonly GoneWatch[]): void {
    this.watched = watched;
  }

  /** The watched batches whose transaction this guardian's node showed unmineable at depth: its Gone votes. */
  goneVotes(): { batch: number; attempt: number; scope?: "bound" }[] {
    // One vote per batch attempt and scope (before a txid is agreed, several voted completions and
    // the named inputs are watched).
    const votes = new Map<string, { batch: number; attempt: number; scope?: "bound" }>();
    for (const w of this.watched) {
      const name = goneName(w);
      if (this.goneFound.has(name) && !votes.has(name))
        votes.set(name, {
          batch: w.batch,
          attempt: w.attempt,
          ...(w.inputsOnly === "bound" ? { scope: "bound" as const } : {}),
        });
    }
    return [...votes.values()];
  }

  /**
   * Checks the watched transactions (or an attempt's inputs) on this guardian's node: one that is
   * in neither chain nor pool and can never be mined (PayoutWallet.unmineable) for `confirmations`
   * of its node's blocks in a row gets a Gone vote. Nothing is asked while nothing is watched.
   */
  private async watchGone(): Promise<void> {
    const watched = this.watched;
    if (watched.length === 0) {
      this.goneSince.clear();
      this.goneFound.clear();
      return;
    }
    const { wallet } = this.options;
    const gone = new Set(
      await wallet.unmineable(
        watched.map((w) => ({
          txid: goneCheckId(w),
          keyImages: w.keyImages.map(toHex),
          ...(w.txHeight === undefined ? {} : { txHeight: w.txHeight }),
          ...(w.unagreed ? { unagreed: true } : {}),
          ...(w.inputsOnly === undefined ? {} : { inputsOnly: true }),
        })),
      ),
    );
    for (const id of [...this.goneSince.keys()]) if (!gone.has(id)) this.goneSince.delete(id);
    // A vote stands only while its node still shows the transaction unmineable, and is forgotten once
    // the batch left the watch (its vote ordered, or the batch re-made): consensus clears Gone votes
    // when the batch is confirmed after all, and an old vote must not come back unchecked.
    const current = new Set(watched.filter((w) => gone.has(goneCheckId(w))).map(goneName));
    for (const k of [...this.goneFound]) if (!current.has(k)) this.goneFound.delete(k);
    if (gone.size === 0) return;
    const height = await wallet.height();
    let changed = false;
    for (const w of watched) {
      const id = goneCheckId(w);
      if (!gone.has(id)) continue;
      const since = this.goneSince.get(id) ?? height;
      this.goneSince.set(id, since);
      const k = goneName(w);
      if (height < since + this.options.confirmations || this.goneFound.has(k)) continue;
      this.goneFound.add(k);
      changed = true;
      this.options.log("payout_gone", {
        batch: w.batch,
        attempt: w.attempt,
        ...(w.inputsOnly === undefined ? { txid: w.txid } : { inputs: w.inputsOnly }),
        since,
        height,
      });
    }
    if (changed) this.options.onChange();
  }

  /** The result of `duty`, once this guardian's job for it finished. */
  result(duty: PayoutDuty): PayoutResult | undefined {
    return this.results.get(dutyKey(duty));
  }

  /** One step of work for the current duty (tests call it directly). */
  async work(): Promise<void> {
    // Its node or wallet failing here must not hold up the round's duty (retried next poll).
    await this.watchGone().catch((e: unknown) =>
      this.options.log("payout_gone_check_failed", { error: e instanceof Error ? e.message : String(e) }),
    );
    const duty = this.duty;
    if (!duty) return;
    const id = dutyKey(duty);
    if (this.results.has(id)) return;
    const result = await this.run(duty);
    if (!result) return;
    this.results.set(id, result);
    dropOldest(this.results, RESULTS_MAX);
    this.options.log("payout_step", { duty: id, result: result.kind });
    this.options.onChange();
  }

  private async run(duty: PayoutDuty): Promise<PayoutResult | undefined> {
    const { wallet } = this.options;
    switch (duty.kind) {
      case "export":
        return (
          (await this.recalled(duty, SLOT_EXPORT)) ?? this.kept(duty, SLOT_EXPORT, await wallet.exportInfo())
        );
      case "import":
        // Done while the others sign, so that this guardian's turn is only the check and the
        // signature (the import is ~1 s of wallet work: a refresh and the key images).
        await this.importOnce(duty);
        return duty.bound ? this.paidBy(duty, duty.bound) : undefined;
      case "paid": {
        // Looked for once per block of its node, not at every poll: the look is a wallet refresh
        // and the wallet's outgoing transactions read from monerod, and a spender can only appear
        // with a block (the regtest federation's monerod reset connections under the per-poll
        // looks of three guardians: own-transaction-regtest.test.ts, CI at 27335a7).
        const key = dutyKey(duty);
        const nodeHeight = await wallet.height();
        if (this.paidLookedAt.get(key) === nodeHeight) return undefined;
        this.paidLookedAt.set(key, nodeHeight);
        dropOldest(this.paidLookedAt, RESULTS_MAX);
        // Its own txid vote mined: nothing to replace (no wallet refresh while the votes come in).
        const own = duty.replacing && (await wallet.location(toHex(duty.replacing)));
        if (own !== undefined && own !== 0) return undefined;
        const paid = await this.paidBy(duty, duty.bound);
        if (!paid || paid.kind !== "txid" || !duty.replacing) return paid;
        // Its own txid vote stands unless another spender of the named inputs is mined at depth.
        if (toHex(paid.txid) === toHex(duty.replacing)) return undefined;
        const at = await wallet.location(toHex(paid.txid));
        if (at === undefined || at === 0) return undefined;
        return nodeHeight - at >= this.options.confirmations ? paid : undefined;
      }
      case "sign": {
        // TEST ONLY: a Byzantine last signer signs once and then sticks to what it decided.
        if (this.options.byzantine && duty.last && this.byzantineDone.has(dutyKey(duty)))
          return this.byzantineDone.get(dutyKey(duty));
        const again = await this.recalled(duty, duty.slot);
        if (again) return again;
        await this.importOnce(duty);
        if (duty.slot === 0) {
          // A bound attempt: its inputs may be spent already, by the late broadcast of a kept
          // completion of the earlier attempt; then that transaction paid the batch.
          const paid = duty.only ? await this.paidBy(duty, duty.only) : undefined;
          if (paid) return paid;
          const created = await wallet.create(duty.destinations, duty.only?.map(toHex));
          if (created.fee > duty.feeMax) {
            // An honest creator never proposes what the signers will refuse: the round times out.
            this.options.log("payout_fee_above_reserve", {
              batch: duty.batch,
              attempt: duty.attempt,
              fee: created.fee.toString(),
              feeMax: duty.feeMax.toString(),
              reason:
                "the transaction's Monero fee is above its payouts' fees plus the top-up the fee fund allows (GET reserves: feeFund); the batch waits for the fund to grow or the fee to fall",
            });
            return undefined;
          }
          // The blob names the inputs (consensus binds later attempts of the batch to them) and the
          // fee (consensus bounds it, the signers hold the set to it, the fee fund is charged it).
          return this.kept(
            duty,
            0,
            toHex(encodeCreatorSet(created.keyImages.map(fromHex), fromHex(created.txset), created.fee)),
          );
        }
        const txset = duty.txset ? toHex(duty.txset) : "";
        try {
          await wallet.check(txset, {
            destinations: duty.destinations,
            feeMax: duty.feeMax,
            ...(duty.root ? { root: toHex(duty.root) } : {}),
            ...(duty.keyImages ? { keyImages: duty.keyImages.map(toHex) } : {}),
          });
        } catch (e) {
          if (
            !(e instanceof MoneroMultisigError) &&
            !MoneroRpcError.hasCode(e, WalletRpcErrorCode.BadMultisigTxData)
          )
            throw e;
          this.options.log("payout_set_refused", {
            batch: duty.batch,
            slot: duty.slot - 1,
            error: String(e),
          });
          return { kind: "fault", slot: duty.slot - 1 };
        }
        let signed: { txset: string; complete: boolean };
        try {
          signed = await wallet.sign(txset);
        } catch (e) {
          // A set that parses and pays the batch but does not sign (a false signature share, or
          // built on other exports than the ones ordered): the previous signer's fault.
          if (
            MoneroRpcError.hasCode(e, WalletRpcErrorCode.BadMultisigTxData) ||
            (MoneroRpcError.hasCode(e, WalletRpcErrorCode.MultisigSignature) && duty.slot > 0)
          ) {
            this.options.log("payout_sign_failed", { batch: duty.batch, slot: duty.slot, error: String(e) });
            return { kind: "fault", slot: duty.slot - 1 };
          }
          throw e;
        }
        // The names are the creator's word; what this wallet just signed is what its set spends
        // (wallet2 rebuilt the inputs from the set's construction data). A set named with other
        // outputs (of the same total: `check` saw no difference) is refused before its signature
        // leaves this guardian: the bound of a later attempt and Gone on the named inputs trust the
        // names of any set an honest guardian signed (docs/monero.md, "What makes it safe").
        if (duty.keyImages) {
          const spends = [...(await wallet.signedKeyImages(signed.txset))].sort();
          const named = duty.keyImages.map(toHex).sort();
          if (spends.length !== named.length || spends.some((k, i) => k !== named[i])) {
            this.options.log("payout_set_refused", {
              batch: duty.batch,
              slot: duty.slot - 1,
              error: "the set's inputs are not the outputs its creator named",
              named,
              spends,
            });
            return { kind: "fault", slot: duty.slot - 1 };
          }
        }
        if (duty.last !== signed.complete) {
          // The last signature must complete the transaction and no other may: the previous set
          // carried another number of signatures than the slots say (a swapped-in set).
          this.options.log("payout_set_refused", {
            batch: duty.batch,
            slot: duty.slot - 1,
            error: `signature ${duty.slot + 1} of ${this.options.threshold} ${signed.complete ? "completed" : "did not complete"} the transaction`,
          });
          return { kind: "fault", slot: duty.slot - 1 };
        }
        if (this.options.byzantine && duty.last) {
          const decided = this.options.byzantine.lastSigned(duty, signed.txset, this.options.log);
          this.byzantineDone.set(dutyKey(duty), decided);
          return decided;
        }
        return this.kept(duty, duty.slot, signed.txset);
      }
      case "submit":
        try {
          return { kind: "txid", txid: fromHex(await wallet.submit(toHex(duty.txset))) };
        } catch (e) {
          if (!(e instanceof MoneroRpcError) && !(e instanceof MoneroMultisigError)) throw e;
          // Refused: a garbage final set, or another completion of the same set was broadcast first
          // (a last signer that kept one): then this wallet sees that transaction spend the inputs.
          // The set's creator named its inputs: a completion of an earlier attempt of the batch,
          // broadcast late, spent them (its fee may differ from this set's, so spentBy misses it).
          const keyImages = duty.keyImages;
          const spentBy =
            (await wallet.spentBy(toHex(duty.txset)).catch(() => undefined)) ??
            (keyImages ? await wallet.spenderOf(keyImages.map(toHex)).catch(() => undefined) : undefined);
          if (spentBy) {
            this.options.log("payout_submit_refused", { batch: duty.batch, error: String(e), spentBy });
            return { kind: "txid", txid: fromHex(spentBy) };
          }
          // A completion broadcast first may still be in the pool, where this wallet does not see
          // it as its own spend: refuse the set only once the refusal outlasted
          // SUBMIT_REFUSAL_BLOCKS of its own node's blocks (it would be mined by then).
          const key = dutyKey(duty);
          const height = await wallet.height();
          const first = this.refusedAt.get(key) ?? height;
          this.refusedAt.set(key, first);
          if (height < first + SUBMIT_REFUSAL_BLOCKS) return undefined;
          this.refusedAt.delete(key);
          this.options.log("payout_submit_refused", { batch: duty.batch, error: String(e) });
          return { kind: "fault", slot: this.options.threshold };
        }
      case "confirm": {
        const at = await wallet.location(duty.txid);
        if (at === undefined || at === 0) return undefined;
        const height = await wallet.height();
        if (height - at < this.options.confirmations) return undefined;
        if (!duty.txset) {
          // No final set in this attempt: the batch was paid by a completion of an earlier one
          // (`paidBy`). Every guardian attests it without a tx key, also one whose wallet submitted
          // that completion itself and knows the key: t equal attestations are needed, and a
          // silent Byzantine guardian froze the batch on one keyed against two empty ones
          // (simulator `--monero-deep-reorg-detach` seed 1).
          this.options.log("payout_tx_key_unknown", { batch: duty.batch, txid: duty.txid });
          return { kind: "seen", txHeight: at, txKey: new Uint8Array(0) };
        }
        let txKey: string;
        try {
          txKey = await wallet.txKey(duty.txid);
        } catch (e) {
          if (!MoneroRpcError.hasCode(e, WalletRpcErrorCode.NoTxKey)) throw e;
          // This wallet did not submit it (its guardian voted, then its wallet-rpc restarted):
          // resubmitting stores the key again (a resubmission returns the same txid, measured).
          try {
            await wallet.submit(toHex(duty.txset));
            txKey = await wallet.txKey(duty.txid);
          } catch (e2) {
            if (!(e2 instanceof MoneroRpcError) && !(e2 instanceof MoneroMultisigError)) throw e2;
            // The batch was paid by a completion none of this guardian's wallets submitted (a
            // withheld one, broadcast by its signer): attest it without a tx key.
            this.options.log("payout_tx_key_unknown", { batch: duty.batch, txid: duty.txid });
            return { kind: "seen", txHeight: at, txKey: new Uint8Array(0) };
          }
        }
        return { kind: "seen", txHeight: at, txKey: fromHex(txKey) };
      }
    }
  }
}
