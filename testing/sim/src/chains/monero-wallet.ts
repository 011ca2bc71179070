// One guardian's share of the federation's multisig wallet on the simulated Monero chain: its node
// (monero-node.ts: ChainSource, SubaddressSource, ReservesSource) plus the PayoutWallet of
// payout-watcher.ts (exportInfo, importInfos, create, check, sign, submit, spentBy, txKey,
// location, height), so the real PayoutSigner runs on it unchanged.
//
// The multisig rules kept (measured on monero 0.18: MEASURED.md, docs/monero.md "Exactly once"):
//   - export_multisig_info gives fresh nonces: a set built on an older export of a signer cannot be
//     signed by it (-35, "stale data"); exports list the outputs the exporter holds (its partial key
//     images), and a creator spends only outputs every imported export covers;
//   - transfer needs an import since this share's latest export (-16 otherwise: "a fresh
//     export/import before every spend"); it needs unlocked outputs (-37 while the funds are locked:
//     change 10 blocks, coinbase 60), enough money (-17);
//   - the set carries a signing attempt for every group of t participants that includes the creator:
//     any participant the set names (the creator and every export it imported) may add a signature;
//     a wallet signs a transaction's inputs once per export (its nonces are then wiped: -35 for the
//     same set again or any other branch of it);
//   - the t-th signature completes it; different completions have different txids and the same key
//     images, so monerod refuses the second (-36 "transaction was rejected by daemon");
//   - submit_multisig of the same completion again returns the same txid (also once mined); the
//     wallet that submitted stores the tx key (get_tx_key), the creator alone does not (-24);
//   - freeze / thaw (by key image, known after an import): `transfer` never selects a frozen output;
//     sign_multisig does not look at it (it signs a set spending an output frozen in its own wallet);
//     `transfer` answers the key images of the inputs it spent (spent_key_images); describe_transfer
//     shows no key images, only the inputs' total (measured on 0.18, docs/monero.md "Conflicting
//     attempts"), so before signing a signer checks the creator's named inputs by their amounts;
//     after signing it reads them from the set its own wallet wrote (decrypted with the shared view
//     key: packages/monero readMultisigTxSetKeyImages; here the set's god view) and refuses to pass
//     on a set whose inputs are not the named ones;
//   - a corrupted set: -34; fewer than t signatures at submission: -33;
//   - a wallet knows its outputs' key images only after importing the others' exports: it sees
//     them spent (and a transaction spending them as its own) only then, or when it submitted it.
import { MoneroMultisigError, WalletRpcErrorCode } from "@conclave/monero";
import { createWithin, goneEvidenceCounts, importReadable } from "@conclave/module-monero";
import type { CreatedSet, GoneEvidence, PayoutWallet } from "@conclave/module-monero";
import type { Rng } from "../rng.js";
import type { Scheduler } from "./chain.js";
import { SPENDABLE_AGE_BLOCKS, txWeightBytes } from "./monero-chain.js";
import type { MoneroChain, SimTransaction } from "./monero-chain.js";
import { SimMoneroNode } from "./monero-node.js";
import type { WalletOutput } from "./monero-node.js";
import {
  decodeExport,
  decodeSet,
  encodeExport,
  encodeSet,
  setCore,
  shortKeyImage as short,
} from "./monero-sets.js";
import type { SetBody } from "./monero-sets.js";

interface Imported {
  readonly epochs: Map<number, number>;
  /** Key images (short) of the outputs every imported export covers. */
  readonly covered: Set<string>;
  /** This share's export epoch when it imported. */
  readonly ownEpoch: number;
}

export class SimMoneroShare extends SimMoneroNode implements PayoutWallet {
  private exportEpoch = 0;
  private imported: Imported | undefined;
  /** Key images this share has used its nonces on since its latest export. */
  private usedNonces = new Set<string>();
  /** Frozen outputs (key images): wallet2 keeps them in the wallet file, across restarts. */
  private readonly frozenKeyImages = new Set<string>();

  /** wallet-rpc's freeze / thaw: by a key image this wallet knows (-1 otherwise). */
  freeze(keyImage: string, frozen = true): Promise<void> {
    return this.walletCall(
      frozen ? "freeze" : "thaw",
      () => {
        if (
          !this.outputs().some(
            (o) => o.output.keyImage === keyImage && this.knownKeyImages.has(short(keyImage)),
          )
        )
          throw this.rpcError(
            frozen ? "freeze" : "thaw",
            WalletRpcErrorCode.UnknownError,
            "Key image not found",
          );
        if (frozen) this.frozenKeyImages.add(keyImage);
        else this.frozenKeyImages.delete(keyImage);
      },
      false,
    );
  }

  /** incoming_transfers "available": unspent outputs in blocks whose key image this wallet knows, with their frozen flag. */
  private available(): { keyImage: string; amount: bigint; frozen: boolean }[] {
    return this.outputs()
      .filter((o) => o.height !== undefined && !o.spent && this.knownKeyImages.has(short(o.output.keyImage)))
      .map((o) => ({
        keyImage: o.output.keyImage,
        amount: o.output.amount,
        frozen: this.frozenKeyImages.has(o.output.keyImage),
      }));
  }

  // ---- PayoutWallet -------------------------------------------------------------------------

  exportInfo(): Promise<string> {
    return this.walletCall("export_multisig_info", () => {
      this.exportEpoch++;
      this.usedNonces = new Set();
      const outs = this.outputs()
        .filter((o) => o.height !== undefined && !o.spent)
        .map((o) => short(o.output.keyImage));
      this.chain.trace.add(`share ${this.g} export ${this.exportEpoch} (${outs.length} outputs)`);
      return encodeExport({ g: this.g, epoch: this.exportEpoch, outs });
    });
  }

  /**
   * As RpcPayoutWallet.importInfos: the exports it can read (importReadable; the real wallet decrypts
   * each with the shared view key, here it decodes), at most one per exporter, then wallet-rpc's
   * all-or-nothing import of those (importMultisigInfo).
   */
  async importInfos(infos: readonly string[]): Promise<void> {
    const { total } = this.options;
    await importReadable(infos, this.options.threshold, {
      readable: (info) => {
        const e = decodeExport(info);
        return Promise.resolve(
          e === undefined || e.g === this.g || e.g < 0 || e.g >= total
            ? undefined
            : { exporter: String(e.g) },
        );
      },
      importInfos: (kept) => this.importMultisigInfo(kept),
    });
  }

  /** wallet-rpc's import_multisig_info: every export or none. */
  private importMultisigInfo(infos: readonly string[]): Promise<void> {
    const { threshold, total } = this.options;
    if (infos.length < threshold - 1 || infos.length > total - 1)
      return Promise.reject(
        new MoneroMultisigError(
          `import_multisig_info needs ${threshold - 1}..${total - 1} others' exports, got ${infos.length}`,
        ),
      );
    return this.walletCall("import_multisig_info", () => {
      const parsed = infos.map(decodeExport);
      const seen = new Set<number>();
      for (const e of parsed) {
        if (!e || e.g === this.g || e.g < 0 || e.g >= total || seen.has(e.g))
          throw this.rpcError(
            "import_multisig_info",
            WalletRpcErrorCode.BadMultisigInfo,
            "Failed to import multisig info",
          );
        seen.add(e.g);
      }
      const exports = parsed.filter((e) => e !== undefined);
      const mine = this.outputs().filter((o) => o.height !== undefined);
      const covered = new Set(
        mine.map((o) => short(o.output.keyImage)).filter((k) => exports.every((e) => e.outs.includes(k))),
      );
      for (const k of covered) this.knownKeyImages.add(k);
      this.imported = {
        epochs: new Map(exports.map((e) => [e.g, e.epoch])),
        covered,
        ownEpoch: this.exportEpoch,
      };
      this.chain.trace.add(
        `share ${this.g} import [${exports.map((e) => `${e.g}.${e.epoch}`).join(" ")}] covers ${covered.size}`,
      );
    });
  }

  /** As RpcPayoutWallet.create: the same policy (createWithin) over this share's calls. */
  create(
    destinations: readonly { address: string; amount: bigint }[],
    only?: readonly string[],
  ): Promise<CreatedSet> {
    return createWithin(
      {
        transfer: (d) => this.transfer(d),
        available: () => this.walletCall("incoming_transfers", () => this.available()),
        freeze: (k) => this.freeze(k),
        thaw: (k) => this.freeze(k, false),
      },
      destinations,
      only,
    );
  }

  private transfer(
    destinations: readonly { address: string; amount: bigint }[],
  ): Promise<{ txset: string; fee: bigint; keyImages: readonly string[] }> {
    return this.walletCall("transfer", () => {
      const imp = this.imported;
      const outputs = this.outputs();
      // A spend of an output the import covered makes the import stale: a fresh round is needed.
      const staleImport = outputs.some((o) => o.spent && imp?.covered.has(short(o.output.keyImage)));
      if (!imp || imp.ownEpoch !== this.exportEpoch || this.exportEpoch === 0 || staleImport)
        throw this.rpcError(
          "transfer",
          WalletRpcErrorCode.TxNotPossible,
          "multisig export/import needed before a transfer",
        );
      const need = destinations.reduce((a, d) => a + d.amount, 0n);
      const usable = outputs.filter(
        (o) =>
          o.height !== undefined &&
          !o.spent &&
          imp.covered.has(short(o.output.keyImage)) &&
          !this.usedNonces.has(o.output.keyImage) &&
          !this.frozenKeyImages.has(o.output.keyImage),
      );
      const spendable = usable.filter((o) => this.unlocked(o));
      // Oldest first (wallet2 prefers older outputs; the decoys are not modelled).
      spendable.sort((a, b) => a.height! - b.height! || a.output.id.localeCompare(b.output.id));
      const chosen: WalletOutput[] = [];
      let amountIn = 0n;
      let fee = 0n;
      for (const o of spendable) {
        chosen.push(o);
        amountIn += o.output.amount;
        fee = BigInt(txWeightBytes(chosen.length, destinations.length + 1)) * this.chain.feePerByte;
        if (amountIn >= need + fee) break;
      }
      if (chosen.length === 0 || amountIn < need + fee) {
        const all = usable.reduce((a, o) => a + o.output.amount, 0n);
        if (all >= need + fee)
          throw this.rpcError(
            "transfer",
            WalletRpcErrorCode.NotEnoughUnlockedMoney,
            "not enough unlocked money",
          );
        throw this.rpcError("transfer", WalletRpcErrorCode.NotEnoughMoney, "not enough money");
      }
      const key = this.chain.freshTxKey();
      const keyImages = chosen.map((o) => o.output.keyImage);
      for (const ki of keyImages) this.usedNonces.add(ki);
      const body: SetBody = {
        creator: this.g,
        epochs: [[this.g, this.exportEpoch], ...[...imp.epochs].sort((a, b) => a[0] - b[0])],
        keyImages,
        amountIn: amountIn.toString(),
        destinations: destinations.map((d) => ({ address: d.address, amount: d.amount.toString() })),
        change: (amountIn - need - fee).toString(),
        fee: fee.toString(),
        txKey: key.txKey,
        txPublicKey: key.txPublicKey,
        sigs: [],
      };
      const signed: SetBody = { ...body, sigs: [[this.g, this.chain.signatureOf(this.g, setCore(body))]] };
      this.chain.trace.add(
        `share ${this.g} create ${setCore(body).slice(0, 8)} in ${chosen.length} fee ${fee}`,
      );
      return { txset: encodeSet(signed), fee, keyImages };
    });
  }

  check(
    txset: string,
    expected: {
      destinations: readonly { address: string; amount: bigint }[];
      feeMax: bigint;
      root?: string;
      keyImages?: readonly string[];
    },
  ): Promise<void> {
    if (txset.length === 0) return Promise.reject(new MoneroMultisigError("transaction set of 0 characters"));
    return this.walletCall(
      "describe_transfer",
      () => {
        const d = decodeSet(txset);
        if (!d)
          throw this.rpcError(
            "describe_transfer",
            WalletRpcErrorCode.BadMultisigTxData,
            "Failed to parse multisig tx set",
          );
        const key = (x: { address: string; amount: bigint | string }) => `${x.address}:${x.amount}`;
        const want = expected.destinations.map(key).sort();
        const got = d.destinations.map(key).sort();
        if (want.length !== got.length || want.some((w, i) => w !== got[i]))
          throw new MoneroMultisigError("the transaction does not pay what was agreed", { want, got });
        if (BigInt(d.fee) > expected.feeMax)
          throw new MoneroMultisigError(`fee ${d.fee} exceeds ${expected.feeMax}`, { fee: d.fee });
        if (expected.keyImages !== undefined) {
          // As wallet-rpc: the set's key images are not visible before signing (d.keyImages is the
          // simulator's god view), only its inputs' total; the named inputs must be this wallet's
          // outputs adding up to it. (The exact check comes after signing: signedKeyImages.)
          // incoming_transfers "all": spent or not (a completion broadcast first spent them).
          const mine = new Map(
            this.outputs()
              .filter((o) => o.height !== undefined && this.knownKeyImages.has(short(o.output.keyImage)))
              .map((o) => [o.output.keyImage, o.output.amount]),
          );
          const named = expected.keyImages;
          const total = named.reduce((a, k) => a + (mine.get(k) ?? -(2n ** 70n)), 0n);
          if (named.length === 0 || new Set(named).size !== named.length || total !== BigInt(d.amountIn))
            throw new MoneroMultisigError("the set's inputs are not the outputs its creator named", {
              amountIn: d.amountIn,
            });
        }
        if (expected.root === undefined || expected.root === txset) return;
        const root = decodeSet(expected.root);
        if (
          !root ||
          root.amountIn !== d.amountIn ||
          root.change !== d.change ||
          root.fee !== d.fee ||
          root.txPublicKey !== d.txPublicKey
        )
          throw new MoneroMultisigError("the set is not the creator's transaction", { amountIn: d.amountIn });
      },
      false,
    );
  }

  /**
   * As RpcPayoutWallet.signedKeyImages (which decrypts the set with the shared view key and reads its
   * transaction's inputs): the inputs the set spends. A set this share cannot decode is refused as
   * the real reader refuses one it cannot read.
   */
  signedKeyImages(txset: string): Promise<readonly string[]> {
    const d = decodeSet(txset);
    return d === undefined
      ? Promise.reject(new MoneroMultisigError("multisig transaction set: cannot be read"))
      : Promise.resolve(d.keyImages);
  }

  sign(txset: string): Promise<{ txset: string; complete: boolean }> {
    return this.walletCall("sign_multisig", () => {
      const d = decodeSet(txset);
      if (!d)
        throw this.rpcError(
          "sign_multisig",
          WalletRpcErrorCode.BadMultisigTxData,
          "Failed to parse multisig tx set",
        );
      const stale = (why: string) => {
        this.chain.trace.add(`share ${this.g} sign refused: ${why}`);
        return this.rpcError(
          "sign_multisig",
          WalletRpcErrorCode.MultisigSignature,
          `Failed to sign multisig tx: stale data (${why})`,
        );
      };
      const epoch = d.epochs.find(([g]) => g === this.g)?.[1];
      if (epoch === undefined) throw stale("this wallet's export is not in the set");
      if (epoch !== this.exportEpoch) throw stale("built on an older export of this wallet");
      if (!this.imported || this.imported.ownEpoch !== this.exportEpoch)
        throw stale("no import since this wallet's export");
      if (d.sigs.some(([g]) => g === this.g) || d.keyImages.some((ki) => this.usedNonces.has(ki)))
        throw stale("this wallet already signed these inputs");
      const mine = new Set(this.outputs().map((o) => o.output.keyImage));
      if (d.keyImages.some((ki) => !mine.has(ki))) throw stale("an input is not an output of this wallet");
      for (const ki of d.keyImages) this.usedNonces.add(ki);
      const sigs: [number, string][] = [...d.sigs, [this.g, this.chain.signatureOf(this.g, setCore(d))]];
      const complete = new Set(sigs.map(([g]) => g)).size >= this.options.threshold;
      this.chain.trace.add(`share ${this.g} sign ${setCore(d).slice(0, 8)} (${sigs.length})`);
      return { txset: encodeSet({ ...d, sigs }), complete };
    });
  }

  /** The transaction a complete set makes (the simulator's monerod builds it from the set). */
  private transactionOf(d: SetBody): SimTransaction {
    const outs = [
      ...d.destinations.map((x) => ({ owner: this.chain.ownerOf(x.address), amount: BigInt(x.amount) })),
      ...(BigInt(d.change) > 0n
        ? [{ owner: { kind: "federation" as const, index: 0 }, amount: BigInt(d.change) }]
        : []),
    ];
    return this.chain.makeTx(
      d.keyImages,
      outs,
      BigInt(d.fee),
      true,
      SPENDABLE_AGE_BLOCKS,
      { txKey: d.txKey, txPublicKey: d.txPublicKey },
      d.sigs.map(([g, s]) => `${g}.${s}`).join(","),
    );
  }

  submit(txset: string): Promise<string> {
    return this.walletCall("submit_multisig", () => {
      const d = decodeSet(txset);
      if (!d)
        throw this.rpcError(
          "submit_multisig",
          WalletRpcErrorCode.BadMultisigTxData,
          "Failed to parse multisig tx set",
        );
      const signers = new Set(d.sigs.map(([g]) => g));
      if (signers.size < this.options.threshold)
        throw this.rpcError(
          "submit_multisig",
          WalletRpcErrorCode.ThresholdNotReached,
          "Not enough signers signed this transaction.",
        );
      const core = setCore(d);
      const participants = new Set(d.epochs.map(([g]) => g));
      const forged = d.sigs.some(([g, s]) => !participants.has(g) || s !== this.chain.signatureOf(g, core));
      const tx = this.transactionOf(d);
      if (forged) {
        this.chain.trace.add(`share ${this.g} submit ${tx.txid.slice(0, 8)} refused: bad signatures`);
        throw this.rpcError(
          "submit_multisig",
          WalletRpcErrorCode.MultisigSubmission,
          "Failed to submit multisig tx: transaction was rejected by daemon",
        );
      }
      try {
        this.chain.submit(tx, this.g);
      } catch (e) {
        this.chain.trace.add(
          `share ${this.g} submit ${tx.txid.slice(0, 8)} refused: ${(e as Error).message}`,
        );
        throw this.rpcError(
          "submit_multisig",
          WalletRpcErrorCode.MultisigSubmission,
          "Failed to submit multisig tx: transaction was rejected by daemon",
        );
      }
      this.sent.add(tx.txid);
      this.txKeys.set(tx.txid, d.txKey);
      return tx.txid;
    });
  }

  spentBy(txset: string): Promise<string | undefined> {
    return this.walletCall("get_transfers", () => {
      const d = decodeSet(txset);
      if (!d) return undefined;
      const found = new Set<string>();
      // Mined ones only: a spend still in the pool is not listed as this wallet's (payout-watcher.ts).
      for (const { tx, height } of this.chain.visible(this.view)) {
        if (height === undefined) continue;
        if (
          tx.fee === BigInt(d.fee) &&
          tx.keyImages.some((ki) => d.keyImages.includes(ki) && this.isOwn(tx).own)
        )
          found.add(tx.txid);
      }
      return found.size === 1 ? [...found][0] : undefined;
    });
  }

  /** As RpcPayoutWallet.spenderOf: a mined transaction the wallet knows as its own that spent any of these. */
  spenderOf(keyImages: readonly string[]): Promise<string | undefined> {
    return this.walletCall("get_transfers", () => {
      const wanted = new Set(keyImages);
      const found = new Set<string>();
      for (const { tx, height } of this.chain.visible(this.view)) {
        if (height === undefined) continue;
        if (tx.keyImages.some((ki) => wanted.has(ki)) && this.isOwn(tx).own) found.add(tx.txid);
      }
      return found.size === 1 ? [...found][0] : undefined;
    });
  }

  /** As RpcPayoutWallet.minedSpenderAmong: its daemon's view only (get_transactions), no wallet knowledge. */
  minedSpenderAmong(txids: readonly string[], keyImages: readonly string[]): Promise<string | undefined> {
    return this.daemonCall("get_transactions", () => {
      const wanted = new Set(keyImages);
      const found = txids.filter((txid) => {
        const tx = this.chain.transaction(txid);
        return (
          tx !== undefined &&
          this.chain.where(txid, this.view, this.g).where === "block" &&
          tx.keyImages.some((ki) => wanted.has(ki))
        );
      });
      return found.length === 1 ? found[0] : undefined;
    });
  }

  /**
   * The rule of which evidence counts (the product's goneEvidenceCounts; the deliberate bug
   * monero-gone-unagreed-detached swaps in one that counts every kind for every watch).
   */
  goneRule: (evidence: GoneEvidence, unagreed: boolean) => boolean = goneEvidenceCounts;

  /**
   * As RpcPayoutWallet.unmineable (get_transactions, incoming_transfers, is_key_image_spent): the
   * txids its node has in neither chain (within its view) nor pool, with a named input that is no
   * output of the wallet's blocks any more and whose evidence counts by the product's rule
   * (`goneRule`, payout-gone-evidence.ts): for an agreed txid any input that is no output (the real
   * wallet's (1), or (2) by the remembered source), for a completion voted before a txid is agreed
   * (`unagreed`) only an input whose source transaction is double-spent in the chain (3), not one a
   * deep reorg merely detached (back in the pool, its own inputs unspent: mined again once
   * uncensored). The real wallet tells these by key images only when it knows every output's, else
   * by the inputs' source outputs it remembered while the transaction was on its node; this model is
   * the ideal of both (every share knows where each input came from, `MoneroChain.sourceOf`).
   * Answered at once (no simulated latency, no random draw: the seeds of the worlds without deep
   * reorgs replay as before), refused while its daemon or wallet-rpc is down.
   */
  unmineable(
    txs: readonly {
      txid: string;
      keyImages: readonly string[];
      txHeight?: number;
      unagreed?: boolean;
      inputsOnly?: boolean;
    }[],
  ): Promise<string[]> {
    const f = this.chain.faults(this.g);
    if (f.daemonDown || f.walletDown)
      return Promise.reject(
        this.rpcError("get_transactions", WalletRpcErrorCode.NoDaemonConnection, "No connection to daemon"),
      );
    const view = this.view;
    const mine = new Set(
      this.outputs()
        .filter((o) => o.height !== undefined)
        .map((o) => o.output.keyImage),
    );
    // (An input spent by another mined transaction is no evidence: the federation signed that one,
    // maybe another completion of the same set that paid the batch. A node below the block the
    // transaction was agreed mined in, or a wallet with no outputs, says nothing.)
    if (mine.size === 0) return Promise.resolve([]);
    const evidence = (k: string): GoneEvidence => {
      const source = this.chain.sourceOf(k);
      if (source === undefined) return "source-missing";
      if (this.chain.doubleSpent(source, view)) return "source-double-spent";
      return this.chain.where(source, view, this.g).where === "unknown" ? "source-missing" : "no-output";
    };
    // An attempt's inputs with no transaction (`inputsOnly`, the product's evidence (3) alone): an
    // input not spent in the chain whose source can never be mined.
    const spentInView = (k: string): boolean => {
      const by = this.chain.spenderOf(k);
      return by !== undefined && this.chain.where(by, view, this.g).where === "block";
    };
    return Promise.resolve(
      txs
        .filter((t) =>
          t.inputsOnly === true
            ? t.keyImages.some((k) => !spentInView(k) && this.goneRule(evidence(k), true))
            : (t.txHeight === undefined || view > t.txHeight) &&
              this.chain.where(t.txid, view, this.g).where === "unknown" &&
              t.keyImages.some((k) => !mine.has(k) && this.goneRule(evidence(k), t.unagreed === true)),
        )
        .map((t) => t.txid),
    );
  }

  txKey(txid: string): Promise<string> {
    return this.walletCall(
      "get_tx_key",
      () => {
        const k = this.txKeys.get(txid);
        if (k === undefined)
          throw this.rpcError(
            "get_tx_key",
            WalletRpcErrorCode.NoTxKey,
            "No tx secret key is stored for this tx",
          );
        return k;
      },
      false,
    );
  }

  location(txid: string): Promise<number | undefined> {
    return this.daemonCall("get_transactions", () => {
      const w = this.chain.where(txid, this.view, this.g);
      return w.where === "unknown" ? undefined : w.where === "pool" ? 0 : w.height;
    });
  }

  /**
   * What `remember` kept: an attribute of the wallet's file, so it outlives the guardian's restarts
   * as the wallet's nonces do. Answered at once (no simulated latency: a seed replays as before).
   */
  private kept: { readonly duty: string; readonly blob: string } | undefined;

  remember(duty: string, blob: string): Promise<void> {
    this.kept = { duty, blob };
    return Promise.resolve();
  }

  recall(duty: string): Promise<string | undefined> {
    return Promise.resolve(this.kept?.duty === duty ? this.kept.blob : undefined);
  }

  /** TEST ONLY: forgets the stored tx keys (a wallet-rpc restarted after submitting). */
  forgetTxKeys(): void {
    this.txKeys.clear();
  }
}

/** One share per guardian on one chain: what simfed hands each guardian's MoneroServerModule. */
export function simMoneroShares(args: {
  chain: MoneroChain;
  guardians: number;
  threshold: number;
  scheduler: Scheduler;
  rng: Rng;
}): SimMoneroShare[] {
  return Array.from(
    { length: args.guardians },
    (_, g) =>
      new SimMoneroShare({
        chain: args.chain,
        guardian: g,
        threshold: args.threshold,
        total: args.guardians,
        scheduler: args.scheduler,
        rng: args.rng.fork(),
      }),
  );
}
