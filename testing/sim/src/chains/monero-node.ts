// One guardian's monerod and wallet-rpc on the simulated Monero chain, for everything but the
// multisig spend (monero-wallet.ts adds that): the interfaces the monero module's watcher, intake
// and reserves monitor consume (factory.ts wires them from one wallet-rpc and one monerod), so the
// real module code runs on it unchanged:
//   ChainSource       (watcher.ts, intake.ts)  height, transaction, proven (check_tx_proof), feeRate, ownTransaction
//   SubaddressSource  (watcher.ts)             subaddressCount, createSubaddresses, subaddresses, incoming
//   ReservesSource    (reserves.ts)            read
// Every call answers through the simulator's scheduler after this guardian's node latency, and
// fails as the real clients do while its node is down (MoneroConnectionError), slow
// (MoneroTimeoutError) or refusing (MoneroRpcError with wallet-rpc's codes; wallet calls that
// refresh answer -38 while the daemon is down). The node sees the canonical chain up to its lag
// (a transaction mined above that is in its pool) and the whole pool.
//
// The wallet finds outputs to the federation's primary address and to subaddresses up to its table
// plus wallet2's lookahead; it knows an output's key image only after importing the others'
// exports, so it sees an output spent (and a transaction spending it as its own) only then, or
// when it submitted the spend itself (a multisig wallet's blind spot, which reserves.ts reports as
// importNeeded).
import {
  MoneroConnectionError,
  MoneroRpcError,
  MoneroTimeoutError,
  WalletRpcErrorCode,
  decodeAddress,
} from "@conclave/monero";
import { TX_PROOF_PART_BYTES, checkTxProofPart, txProofPrefixHash } from "@conclave/monero/tx-proof";
import { ProofRefusedError, isWellFormedClaimProof } from "@conclave/module-monero";
import type {
  ChainSource,
  IncomingToSubaddress,
  OwnTransactionCheck,
  ReservesSource,
  SubaddressSource,
  TxLocation,
  WalletReserves,
} from "@conclave/module-monero";
import type { Rng } from "../rng.js";
import { SimEndpoint } from "./chain.js";
import type { RpcErrorKinds, Scheduler } from "./chain.js";
import type { MoneroChain, SimOutput, SimTransaction } from "./monero-chain.js";
import { shortKeyImage as short } from "./monero-sets.js";

/** wallet2's subaddress lookahead (minor): outputs to this many indexes past the table are found. */
export const SUBADDRESS_LOOKAHEAD = 200;

const MONERO_ERRORS: RpcErrorKinds = {
  connection: (url, method) => new MoneroConnectionError({ url, method, errno: "ECONNREFUSED" }),
  timeout: (url, method, timeoutMs) => new MoneroTimeoutError({ url, method, timeoutMs }),
};

export interface WalletOutput {
  readonly output: SimOutput;
  readonly height: number | undefined;
  readonly spent: boolean;
}

export interface MoneroShareOptions {
  readonly chain: MoneroChain;
  readonly guardian: number;
  readonly threshold: number;
  readonly total: number;
  readonly scheduler: Scheduler;
  /** This share's own stream (latencies, tx keys drawn by its creates). */
  readonly rng: Rng;
}

/** One guardian's monerod and wallet-rpc (the wallet read-only: deposits, reserves). */
export class SimMoneroNode implements ChainSource, SubaddressSource, ReservesSource {
  private readonly daemon: SimEndpoint;
  private readonly wallet: SimEndpoint;
  protected readonly chain: MoneroChain;
  protected readonly g: number;
  /** Key images of outputs this share knows (short), from imports. */
  protected readonly knownKeyImages = new Set<string>();
  protected readonly sent = new Set<string>();
  protected readonly txKeys = new Map<string, string>();
  private subaddressTable = 1;
  /** Calls made, by method (the simulator's statistics). */
  readonly calls = new Map<string, number>();

  constructor(protected readonly options: MoneroShareOptions) {
    this.chain = options.chain;
    this.g = options.guardian;
    const base = {
      scheduler: options.scheduler,
      rng: options.rng,
      faults: () => this.chain.faults(this.g),
      errors: MONERO_ERRORS,
      trace: this.chain.trace,
    };
    // The real clients' timeouts (factory.ts: DaemonRpc 15 s, WalletRpc 30 s).
    this.daemon = new SimEndpoint({
      ...base,
      name: `sim://monerod-${this.g}`,
      kind: "daemon",
      timeoutMs: 15_000,
    });
    this.wallet = new SimEndpoint({
      ...base,
      name: `sim://wallet-rpc-${this.g}`,
      kind: "wallet",
      timeoutMs: 30_000,
    });
  }

  protected rpcError(method: string, rpcCode: number, rpcMessage: string): MoneroRpcError {
    return new MoneroRpcError({ url: `sim://wallet-rpc-${this.g}`, method, rpcCode, rpcMessage });
  }

  protected daemonCall<T>(method: string, f: () => T): Promise<T> {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    return this.daemon.call(method, f);
  }

  /** A wallet-rpc call; those that refresh or broadcast need the daemon too (-38 without it). */
  protected walletCall<T>(method: string, f: () => T, needsDaemon = true): Promise<T> {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    return this.wallet.call(method, () => {
      if (needsDaemon && this.chain.faults(this.g).daemonDown)
        throw this.rpcError(method, WalletRpcErrorCode.NoDaemonConnection, "No connection to daemon");
      return f();
    });
  }

  protected get view(): number {
    return this.chain.viewHeight(this.g);
  }

  // ---- the wallet's view of its outputs --------------------------------------------------------

  /** Outputs of the federation this wallet finds (blocks in its view, and the pool), and whether it sees them spent. */
  protected outputs(): WalletOutput[] {
    const spenders = new Map<string, string>();
    const list: { output: SimOutput; height: number | undefined }[] = [];
    for (const { tx, height } of this.chain.visible(this.view)) {
      for (const ki of tx.keyImages) spenders.set(ki, tx.txid);
      for (const o of tx.outputs)
        if (o.owner.kind === "federation" && o.owner.index < this.subaddressTable + SUBADDRESS_LOOKAHEAD)
          list.push({ output: o, height });
    }
    return list.map(({ output, height }) => {
      const by = spenders.get(output.keyImage);
      const spent =
        by !== undefined && (this.knownKeyImages.has(short(output.keyImage)) || this.sent.has(by));
      return { output, height, spent };
    });
  }

  protected unlocked(o: WalletOutput): boolean {
    return o.height !== undefined && this.view >= o.height + o.output.unlockBlocks;
  }

  /** The wallet counts `tx` as sent by it: it submitted it, or it spends an output whose key image it knows. */
  protected isOwn(tx: SimTransaction): OwnTransactionCheck {
    if (this.sent.has(tx.txid)) return { own: true, by: "wallet" };
    const spendsKnown = tx.keyImages.some(
      (ki) =>
        this.chain.outputByKeyImage(ki)?.owner.kind === "federation" && this.knownKeyImages.has(short(ki)),
    );
    return spendsKnown ? { own: true, by: "key_image" } : { own: false };
  }

  // ---- ChainSource --------------------------------------------------------------------------

  height(): Promise<number> {
    return this.daemonCall("get_height", () => this.view);
  }

  feeRate(): Promise<bigint> {
    return this.daemonCall("get_fee_estimate", () => this.chain.feePerByte);
  }

  transaction(txid: string): Promise<{ readonly found: false } | TxLocation> {
    return this.daemonCall("get_transactions", () => {
      const w = this.chain.where(txid, this.view, this.g);
      if (w.where === "unknown") return { found: false as const };
      if (w.where === "pool") return { found: true as const, inPool: true as const };
      return { found: true as const, inPool: false as const, blockHeight: w.height };
    });
  }

  /**
   * check_tx_proof(txid, address, OutProofV2, message): the parts are checked against the
   * transaction's real tx public key (good when any part verifies); received is what the outputs
   * of the transaction pay `address` (the primary address sees no subaddress output, measured).
   */
  proven(
    txid: string,
    proof: string,
    message: string,
    address: string,
  ): Promise<{ readonly good: boolean; readonly received: bigint }> {
    const bytes = /^([0-9a-f]{192})+$/.test(proof) ? Uint8Array.from(Buffer.from(proof, "hex")) : undefined;
    if (!bytes || !isWellFormedClaimProof(bytes))
      return Promise.reject(new ProofRefusedError("not a well-formed claim proof"));
    return this.walletCall("check_tx_proof", () => {
      const w = this.chain.where(txid, this.view, this.g);
      const tx = this.chain.transaction(txid);
      if (w.where === "unknown" || !tx)
        throw this.rpcError(
          "check_tx_proof",
          WalletRpcErrorCode.UnknownError,
          "Failed to get transaction from daemon",
        );
      if (bytes.length !== TX_PROOF_PART_BYTES)
        throw new ProofRefusedError("Signature size mismatch with additional tx pubkeys");
      let viewKey: Uint8Array;
      try {
        viewKey = decodeAddress(address).publicViewKey;
      } catch {
        throw this.rpcError("check_tx_proof", WalletRpcErrorCode.WrongAddress, "Invalid address");
      }
      const good = checkTxProofPart(
        txProofPrefixHash(Uint8Array.from(Buffer.from(txid, "hex")), message),
        Uint8Array.from(Buffer.from(tx.txPublicKey, "hex")),
        viewKey,
        bytes,
      );
      const owner = this.chain.ownerOf(address);
      const received = good
        ? tx.outputs
            .filter((o) =>
              owner.kind === "federation"
                ? o.owner.kind === "federation" && o.owner.index === owner.index
                : o.owner.kind === "user" && o.owner.address === owner.address,
            )
            .reduce((a, o) => a + o.amount, 0n)
        : 0n;
      return { good, received };
    });
  }

  ownTransaction(txid: string): Promise<OwnTransactionCheck> {
    return this.walletCall("get_transfer_by_txid", () => {
      const tx = this.chain.transaction(txid);
      if (!tx || this.chain.where(txid, this.view, this.g).where === "unknown")
        return { own: false as const };
      return this.isOwn(tx);
    });
  }

  // ---- SubaddressSource ---------------------------------------------------------------------

  subaddressCount(): Promise<number> {
    return this.walletCall("get_address", () => this.subaddressTable, false);
  }

  createSubaddresses(count: number): Promise<number> {
    return this.walletCall(
      "create_address",
      () => {
        this.subaddressTable += count;
        return this.subaddressTable;
      },
      false,
    );
  }

  subaddresses(indexes: readonly number[]): Promise<Map<number, string>> {
    return this.walletCall(
      "get_address",
      () => {
        const bad = indexes.find((i) => i < 0 || i >= this.subaddressTable);
        if (bad !== undefined)
          throw this.rpcError(
            "get_address",
            WalletRpcErrorCode.AddressIndexOutOfBounds,
            "address index is out of bound",
          );
        return new Map(indexes.map((i) => [i, this.chain.subaddress(i)]));
      },
      false,
    );
  }

  incoming(minHeight: number): Promise<IncomingToSubaddress[]> {
    return this.walletCall("get_transfers", () => {
      const byKey = new Map<
        string,
        { txid: string; index: number; amount: bigint; txHeight: number | undefined; sent: boolean }
      >();
      for (const o of this.outputs()) {
        const { output, height } = o;
        if (output.owner.kind !== "federation") continue;
        if (height !== undefined && height <= minHeight) continue;
        const key = `${output.txid}:${output.owner.index}`;
        const prev = byKey.get(key);
        if (prev) prev.amount += output.amount;
        else
          byKey.set(key, {
            txid: output.txid,
            index: output.owner.index,
            amount: output.amount,
            txHeight: height,
            sent: this.isOwn(this.chain.transaction(output.txid)!).own,
          });
      }
      return [...byKey.values()].map((t) => ({
        txid: t.txid,
        index: t.index,
        amount: t.amount,
        txHeight: t.txHeight,
        ...(t.sent ? { sent: true } : {}),
      }));
    });
  }

  // ---- ReservesSource -----------------------------------------------------------------------

  read(): Promise<WalletReserves> {
    return this.walletCall("incoming_transfers", () => {
      let balance = 0n;
      let unlocked = 0n;
      let importNeeded = false;
      for (const o of this.outputs()) {
        if (o.height === undefined || o.spent) continue;
        balance += o.output.amount;
        if (this.unlocked(o)) unlocked += o.output.amount;
        if (!this.knownKeyImages.has(short(o.output.keyImage))) importNeeded = true;
      }
      let pendingOutgoing = 0;
      for (const txid of this.sent)
        if (this.chain.where(txid, this.view, this.g).where === "pool") pendingOutgoing++;
      return { balance, unlocked, height: this.view, importNeeded, pendingOutgoing };
    });
  }
}
