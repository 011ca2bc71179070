// The standard wallet: the client core (@conclave/core-client) with the client halves of the mint,
// the Monero module and the dev faucet (`walletFactories`: the one place that lists them), behind the
// API the CLI, the web page and the tests program against (types.ts WalletApi). It keeps no state of its own and knows no transaction: each call
// goes to the half that owns it (docs/client-architecture.md).
//
// Opening finishes what a crash interrupted (the core's resume, through each half's own code); a
// database written by the single-class wallet opens unchanged (schema 1, same keys, same secrets).
import { ClientCore, ObservedClientDb, startOperation } from "@conclave/core-client";
import type {
  ClientCoreOptions,
  ClientModuleFactory,
  ClientOptions,
  OperationRecord,
  OperationStream,
} from "@conclave/core-client";
import { decodeInviteCode } from "@conclave/core-client";
import { fromHex, quorumThreshold, toHex, utf8 } from "@conclave/core-common";
import type { FederationConfig } from "@conclave/core-common";
import { bridgeClientFactory, bridgeError } from "@conclave/module-bridge/client";
import type { BridgeClient, BridgeHooks } from "@conclave/module-bridge/client";
import { dummyClientFactory } from "@conclave/module-dummy/client";
import type { DummyClient, FaucetProgress } from "@conclave/module-dummy/client";
import {
  MintClient,
  mintClientFactory,
  noMintError,
  parseMintConfig,
  restoreNotes,
} from "@conclave/module-mint/client";
import type { MintHooks } from "@conclave/module-mint/client";
import { moneroClientFactory, moneroError } from "@conclave/module-monero/client";
import type { MoneroClient } from "@conclave/module-monero/client";
import { WalletError, federationRoot, normalizeMnemonic } from "@conclave/wallet";
import {
  WatchClient,
  keepRecoveryFresh,
  relayClientFactory,
  spreadKeyFrom,
  watchUntilWith,
} from "@conclave/module-relay/client";
import type {
  AutoRecoveryOptions,
  RecoveryKeeper,
  RelayClient,
  WatchOptions,
  WatchTarget,
  WatchUpdate,
  WebSocketFactory,
} from "@conclave/module-relay/client";
import type { ClientDb, WalletCrypto } from "@conclave/wallet";
import type {
  BackupResult,
  BridgeConfigView,
  BridgeMintOptions,
  DepositMintOptions,
  DepositSource,
  SealedDepositMint,
  BridgeMintProgress,
  BridgeMintResult,
  BridgeStatus,
  BurnDestination,
  BurnOptions,
  BurnProgress,
  BurnResult,
  ContactCardResult,
  ContactView,
  Holder,
  InboxProgress,
  ReadResult,
  RecoveryRestoreResult,
  RecoveryStoreResult,
  RecoverySetupResult,
  SendResult,
  SocialProgress,
  EvmRpc,
  EvmSender,
  MintCall,
  MintSubmission,
  RefundOptions,
  RefundProgress,
  RefundResult,
  FindMintsOptions,
  FindMintsResult,
  ClaimDepositOptions,
  ClaimDepositResult,
  DepositAddressOptions,
  DepositAddressResult,
  DepositProof,
  ReceiveDepositsOptions,
  ReceiveDepositsResult,
  RelayResult,
  ReissueResult,
  RestoreResult,
  SealClaimRequest,
  SealClaimResult,
  SpendResult,
  ValidateResult,
  WalletApi,
  WalletInfo,
  WithdrawOptions,
  WithdrawResult,
  WithdrawalInfo,
} from "./types.js";

export { INPUTS_PER_TX_MAX, OUTPUTS_PER_TX_MAX, RESTORE_GAP_DEFAULT } from "@conclave/module-mint/client";
export { DEPOSIT_WAIT_MS_DEFAULT, WITHDRAW_WAIT_MS_DEFAULT } from "@conclave/module-monero/client";

/** Test hooks: a crash at a chosen step of the mint's transactions or of a bridge burn. */
export type WalletHooks = MintHooks & BridgeHooks;

export interface WalletOptions {
  readonly crypto: WalletCrypto;
  /** Options of the federation client (fetch, limits). */
  readonly client?: ClientOptions;
  /** How long one operation waits for t guardians to decide its transaction (default 60 s). */
  readonly awaitTimeoutMs?: number;
  readonly restoreGap?: number;
  readonly hooks?: WalletHooks;
  /** Where warnings go besides `Wallet.warnings` (a guardian sent a bad share...). */
  readonly onWarning?: (message: string) => void;
  readonly now?: () => number;
  /** Opens a WebSocket for watches (default: the runtime's WebSocket; the Node entry passes `ws`). */
  readonly webSocket?: WebSocketFactory;
  /**
   * Keeping the recovery store's record fresh (docs/relay.md "Recovery store"): after changes it
   * holds (debounced, bounded), and on open and resume when changed or old. On by default for a
   * wallet that stored or restored a record; `false` turns it off.
   */
  readonly recoveryRefresh?: false | AutoRecoveryOptions;
}

/** The client halves a wallet is built with, in the order the core resumes them. */
export function walletFactories(options: WalletOptions): ClientModuleFactory[] {
  return [
    mintClientFactory({
      crypto: options.crypto,
      ...(options.awaitTimeoutMs !== undefined ? { awaitTimeoutMs: options.awaitTimeoutMs } : {}),
      ...(options.hooks ? { hooks: options.hooks } : {}),
    }),
    moneroClientFactory({ crypto: options.crypto }),
    dummyClientFactory(),
    relayClientFactory,
    bridgeClientFactory({ crypto: options.crypto, ...(options.hooks ? { hooks: options.hooks } : {}) }),
  ];
}

function coreOptions(options: WalletOptions): ClientCoreOptions {
  return {
    random: options.crypto.random,
    ...(options.client ? { client: options.client } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  };
}

/** Refuses a federation whose mint the wallet cannot use, before anything is written. */
function checkMint(config: FederationConfig): void {
  const entry = config.modules.find((m) => m.kind === "mint");
  if (!entry) throw noMintError();
  parseMintConfig(entry.config);
}

const NO_DEPOSITS = "this federation runs no Monero module: it takes no Monero deposits";

export class Wallet implements WalletApi {
  private constructor(
    private readonly core: ClientCore,
    private readonly mint: MintClient,
  ) {}

  /** Recent warnings: guardians that sent shares that do not verify, operations left pending. */
  get warnings(): string[] {
    return this.core.warnings;
  }

  private webSocket: WebSocketFactory | undefined;
  private watcher: WatchClient | undefined;
  /** Keeps the recovery record fresh (undefined: no relay module, or turned off). */
  readonly recoveryKeeper: RecoveryKeeper | undefined;

  private static of(core: ClientCore, db: ObservedClientDb, options: WalletOptions): Wallet {
    const mint = core.module<MintClient>("mint");
    if (!mint) throw noMintError();
    const w = new Wallet(core, mint);
    w.webSocket = options.webSocket;
    const relay = core.module<RelayClient>("relay");
    if (relay && options.recoveryRefresh !== false)
      (w as { recoveryKeeper: RecoveryKeeper | undefined }).recoveryKeeper = keepRecoveryFresh(db, relay, {
        ...(options.now ? { now: options.now } : {}),
        ...options.recoveryRefresh,
      });
    return w;
  }

  /**
   * Waits for a watched state over WebSocket at the guardians the watch is spread to (by a key from
   * the wallet's relay secret: the same guardians every time), calling `onUpdate` with the state now
   * and every change; resolves at the first update `options.done` accepts (default: a final state).
   */
  async watchUntil(
    target: WatchTarget,
    options: WatchOptions,
    onUpdate: (u: WatchUpdate) => void,
  ): Promise<WatchUpdate> {
    const relay = this.core.module<RelayClient>("relay");
    if (!relay)
      throw new WalletError("no_relay_module", "this federation runs no relay module: nothing to watch with");
    const client = await this.core.client();
    this.watcher ??= new WatchClient({
      guardians: client.guardians.map((g) => g.url),
      spreadKey: spreadKeyFrom(relay.keys.inboxSeed),
      copies: options.copies ?? 1,
      ...(this.webSocket ? { connect: this.webSocket } : {}),
    });
    return watchUntilWith(this.watcher, target, options, onUpdate);
  }

  // ---- opening ---------------------------------------------------------------------------------

  /** Opens the wallet in `db` and finishes what a crash interrupted (errors stay in `warnings`). */
  static async open(db: ClientDb, options: WalletOptions): Promise<Wallet> {
    const observed = new ObservedClientDb(db);
    const core = await ClientCore.open(observed, walletFactories(options), coreOptions(options));
    const wallet = Wallet.of(core, observed, options);
    // A pending Monero claim waits on blocks (hours): opening does not post it again (as before the
    // claims were logged); `resume()` and waitDeposit do.
    const pending =
      (await wallet.mint.pendingLocked()).length > 0 ||
      (await core.operations.list({ state: "pending" })).some(
        (op) => !(op.module === "monero" && op.kind === "claim"),
      );
    if (pending) {
      try {
        await wallet.resume();
      } catch (e) {
        core.warn(`could not resume pending operations: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    wallet.recoveryKeeper?.opened();
    return wallet;
  }

  /** Joins the federation of `invite` in an empty database, with the keys of `mnemonic`. */
  static async join(db: ClientDb, invite: string, mnemonic: string, options: WalletOptions): Promise<Wallet> {
    await ClientCore.assertEmpty(db, "this database already holds a wallet; use another directory");
    const client = await ClientCore.join(invite, coreOptions(options));
    checkMint(client.config);
    const root = await federationRoot(mnemonic, fromHex(client.federationId));
    const observed = new ObservedClientDb(db);
    const core = await ClientCore.create(
      observed,
      { invite, client, root },
      walletFactories(options),
      coreOptions(options),
      MintClient.createOps(0),
    );
    return Wallet.of(core, observed, options);
  }

  /**
   * A new wallet from the mnemonic alone: the newest backup this mnemonic can read (minus notes the
   * guardians report spent), then every note issued to indexes past it, found by re-deriving blinded
   * messages until `restoreGap` consecutive indexes were never issued.
   */
  static async restore(
    db: ClientDb,
    invite: string,
    mnemonic: string,
    options: WalletOptions,
  ): Promise<{ wallet: Wallet; result: RestoreResult }> {
    const now = options.now ?? Date.now;
    const started = now();
    await ClientCore.assertEmpty(db, "this database already holds a wallet; restore into another directory");
    const client = await ClientCore.join(invite, coreOptions(options));
    const root = await federationRoot(mnemonic, fromHex(client.federationId));
    const joinMs = now() - started;
    const found = await restoreNotes(client, root, started, {
      crypto: options.crypto,
      now,
      ...(options.restoreGap !== undefined ? { restoreGap: options.restoreGap } : {}),
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    });
    const writeStarted = now();
    const observed = new ObservedClientDb(db);
    const core = await ClientCore.create(
      observed,
      { invite, client, root },
      walletFactories(options),
      coreOptions(options),
      found.ops,
    );
    const result: RestoreResult = {
      ...found.result,
      elapsedMs: now() - started,
      phasesMs: { join: joinMs, ...found.phasesMs, write: now() - writeStarted },
    };
    return { wallet: Wallet.of(core, observed, options), result };
  }

  // ---- the API ---------------------------------------------------------------------------------

  info(): Promise<WalletInfo> {
    return this.core.run(async () => {
      const mint = await this.mint.infoLocked();
      const monero = await this.core.module<MoneroClient>("monero")?.infoLocked();
      const invite = this.core.record.invite;
      const guardians = invite
        ? decodeInviteCode(invite, 64 * 1024).guardians.map((g, index) => ({
            index,
            name: g.name,
            url: g.api,
          }))
        : [];
      const n = this.core.config.guardians.length;
      return {
        federationId: this.core.federationId,
        federationName: this.core.config.name,
        guardians,
        threshold: quorumThreshold(n),
        balance: mint.balance,
        notes: mint.notes,
        outgoing: mint.outgoing,
        pendingOperations: mint.pendingOperations,
        feePerNote: mint.feePerNote,
        denominationsLog2: mint.denominationsLog2,
        ...(mint.lastBackup ? { lastBackup: mint.lastBackup } : {}),
        ...monero,
      };
    });
  }

  devFaucet(amount: bigint): Promise<ReissueResult> {
    return this.devFaucetOperation(amount).result;
  }

  /** devFaucet as its operation's event stream (a progress event per faucet transaction). */
  devFaucetOperation(amount: bigint): OperationStream<FaucetProgress, ReissueResult> {
    const dummy = this.core.module<DummyClient>("dummy");
    if (dummy) return dummy.devFaucetOperation(amount);
    return startOperation(() =>
      Promise.reject(
        new WalletError(
          "not_dev_federation",
          "this federation has no test faucet (only dev federations run the test-only dummy module)",
        ),
      ),
    );
  }

  spend(amount: bigint): Promise<SpendResult> {
    return this.mint.spend(amount);
  }

  cancel(spendId: string): Promise<ReissueResult> {
    return this.mint.cancel(spendId);
  }

  reissue(notesText: string): Promise<ReissueResult> {
    return this.mint.reissue(notesText);
  }

  split(denominationLog2: number, count: number): Promise<ReissueResult> {
    return this.mint.split(denominationLog2, count);
  }

  combine(): Promise<ReissueResult> {
    return this.mint.combine();
  }

  validate(notesText: string, options: { online?: boolean } = {}): Promise<ValidateResult> {
    return this.mint.validate(notesText, options);
  }

  backup(): Promise<BackupResult> {
    return this.mint.backup();
  }

  /** The operation log, oldest first: every transaction with its module, kind, state and result. */
  operations(): Promise<OperationRecord[]> {
    return this.core.operations.list();
  }

  /** Finishes what a crash interrupted, through each half (core.resume); returns how many finished. */
  async resume(): Promise<number> {
    const finished = await this.core.resume();
    this.recoveryKeeper?.opened();
    return finished;
  }

  async close(): Promise<void> {
    this.watcher?.close();
    await this.recoveryKeeper?.stop();
    return this.core.close();
  }

  // ---- Monero ----------------------------------------------------------------------------------

  async claimDeposit(proof: DepositProof, options: ClaimDepositOptions = {}): Promise<ClaimDepositResult> {
    return this.monero(NO_DEPOSITS).claimDeposit(proof, options);
  }

  async sealClaim(request: SealClaimRequest): Promise<SealClaimResult> {
    return this.monero(NO_DEPOSITS).sealClaim(request);
  }

  async waitDeposit(txid: string, options: ClaimDepositOptions = {}): Promise<ClaimDepositResult> {
    return this.monero(NO_DEPOSITS).waitDeposit(txid, options);
  }

  async relaySealed(sealed: string): Promise<RelayResult> {
    return this.monero(NO_DEPOSITS).relaySealed(sealed);
  }

  async depositAddress(options: DepositAddressOptions = {}): Promise<DepositAddressResult> {
    return this.monero(NO_DEPOSITS).depositAddress(options);
  }

  async receiveDeposits(
    address: string,
    options: ReceiveDepositsOptions = {},
  ): Promise<ReceiveDepositsResult> {
    return this.monero(NO_DEPOSITS).receiveDeposits(address, options);
  }

  async withdraw(address: string, amount: bigint, options: WithdrawOptions = {}): Promise<WithdrawResult> {
    return this.monero("this federation runs no Monero module: it makes no payouts").withdraw(
      address,
      amount,
      options,
    );
  }

  async withdrawals(options: { readonly refresh?: boolean } = {}): Promise<WithdrawalInfo[]> {
    return (await this.core.module<MoneroClient>("monero")?.withdrawals(options)) ?? [];
  }

  // ---- the EVM bridge (wXMR) ----------------------------------------------------------------------

  async bridgeMint(
    recipient: string,
    amount: bigint,
    options: BridgeMintOptions & { readonly onProgress?: (p: BridgeMintProgress) => void } = {},
  ): Promise<BridgeMintResult> {
    return this.bridge().bridgeMint(recipient, amount, options);
  }

  async bridgeMintFromDeposit(
    recipient: string,
    deposit: DepositSource,
    options: DepositMintOptions & { readonly onProgress?: (p: BridgeMintProgress) => void } = {},
  ): Promise<BridgeMintResult> {
    return this.bridge().bridgeMintFromDeposit(recipient, deposit, options);
  }

  async bridgeSealDepositMint(
    recipient: string,
    request: {
      readonly txid: string;
      readonly txKey: string;
      readonly guardian?: number;
      readonly refundTo?: string;
    },
  ): Promise<SealedDepositMint> {
    return this.bridge().bridgeSealDepositMint(recipient, request);
  }

  async bridgeSubmit(txid: string, sender: EvmSender): Promise<MintSubmission> {
    return this.bridge().bridgeSubmit(txid, sender);
  }

  /** The signed call of a mint of this wallet, for any EVM wallet to send (BridgeClient.bridgeMintCall). */
  async bridgeMintCall(txid: string): Promise<MintCall> {
    return this.bridge().bridgeMintCall(txid);
  }

  async bridgeBurn(
    amount: bigint,
    to: BurnDestination,
    options: BurnOptions & { readonly onProgress?: (p: BurnProgress) => void } = {},
  ): Promise<BurnResult> {
    return this.bridge().bridgeBurn(amount, to, options);
  }

  async bridgeRedeem(
    txHash: string,
    options: Omit<BurnOptions, "sender"> & {
      readonly rpcUrl?: EvmRpc;
      readonly onProgress?: (p: BurnProgress) => void;
    } = {},
  ): Promise<BurnResult> {
    return this.bridge().bridgeRedeem(txHash, options);
  }

  /** Takes an expired, unminted wXMR mint of this wallet back as e-cash (BridgeClient.bridgeRefund). */
  async bridgeRefund(
    txid: string,
    options: RefundOptions & { readonly onProgress?: (p: RefundProgress) => void } = {},
  ): Promise<RefundResult> {
    return this.bridge().bridgeRefund(txid, options);
  }

  /** This wallet's refundable mints found by its refund keys (BridgeClient.bridgeFindMints). */
  async bridgeFindMints(options: FindMintsOptions = {}): Promise<FindMintsResult> {
    return this.bridge().bridgeFindMints(options);
  }

  async bridgeStatus(id: string, options: { readonly rpcUrl?: EvmRpc } = {}): Promise<BridgeStatus> {
    return this.bridge().bridgeStatus(id, options);
  }

  /**
   * The Monero network whose addresses this federation pays to: the Monero module's config (regtest
   * states "mainnet"), else the bridge config's `moneroNetwork` (a burn's Monero address); undefined
   * with neither module.
   */
  moneroNetwork(): "mainnet" | "stagenet" | "testnet" | "regtest" | undefined {
    return (
      this.core.module<MoneroClient>("monero")?.network ??
      this.core.module<BridgeClient>("bridge")?.moneroNetwork
    );
  }

  /** The federation's wXMR chain, contract, guardian EVM addresses and threshold; undefined without a bridge. */
  bridgeConfig(): BridgeConfigView | undefined {
    return this.core.module<BridgeClient>("bridge")?.bridgeConfig;
  }

  // ---- the relay: contacts, mailbox, recovery ----------------------------------------------------

  async contactCard(
    name: string,
    options: { label?: string; address?: string } = {},
  ): Promise<ContactCardResult> {
    return this.relay().card(name, options);
  }

  async addContact(card: string): Promise<ContactView> {
    return this.relay().addContact(card);
  }

  async contacts(): Promise<ContactView[]> {
    return this.relay().contacts();
  }

  async sendLetter(to: string, text: string): Promise<SendResult> {
    return this.relay().send(to, text);
  }

  async readInbox(options: { onProgress?: (p: InboxProgress) => void } = {}): Promise<ReadResult> {
    const relay = this.relay();
    options.onProgress?.({ step: "reading", guardians: relay.n });
    return relay.read();
  }

  async recoverySetup(
    mnemonic: string,
    threshold: number,
    holders: readonly Holder[],
    options: { onProgress?: (p: SocialProgress) => void } = {},
  ): Promise<RecoverySetupResult> {
    const relay = this.relay();
    const secret = await this.ownMnemonic(mnemonic);
    return this.withState(await relay.socialSetup(secret, threshold, holders, options));
  }

  async recoveryAdd(
    mnemonic: string,
    threshold: number,
    added: readonly Holder[],
    options: { onProgress?: (p: SocialProgress) => void } = {},
  ): Promise<RecoverySetupResult> {
    const relay = this.relay();
    const secret = await this.ownMnemonic(mnemonic);
    return this.withState(await relay.socialAdd(secret, threshold, added, options));
  }

  recoveryRequests(): ReturnType<RelayClient["recoveryRequests"]> {
    return this.relay().recoveryRequests();
  }

  cancelRecoveryRequests(): ReturnType<RelayClient["cancelRecoveryRequests"]> {
    return this.relay().cancelRecoveryRequests();
  }

  async storeState(): Promise<RecoveryStoreResult> {
    return this.relay().storeRecovery();
  }

  async restoreState(): Promise<RecoveryRestoreResult> {
    return this.relay().restoreRecovery();
  }

  /** The shards recover the phrase: refuse one that is not this wallet's (it would restore another). */
  private async ownMnemonic(mnemonic: string): Promise<Uint8Array> {
    const root = await federationRoot(mnemonic, fromHex(this.core.federationId));
    if (toHex(root) !== this.core.record.root)
      throw new WalletError(
        "wrong_mnemonic",
        "that recovery phrase is not this wallet's: the shards would recover another wallet",
      );
    return utf8.encode(normalizeMnemonic(mnemonic));
  }

  /** The shard set is made: store the wallet's state too (a failure there is a warning, not a loss). */
  private async withState(
    set: Awaited<ReturnType<RelayClient["socialSetup"]>>,
  ): Promise<RecoverySetupResult> {
    try {
      return { ...set, stateStoredBy: (await this.relay().storeRecovery()).storedBy };
    } catch (e) {
      this.core.warn(`the wallet's state was not stored: ${e instanceof Error ? e.message : String(e)}`);
      return { ...set, stateStoredBy: [] };
    }
  }

  private relay(): RelayClient {
    const relay = this.core.module<RelayClient>("relay");
    if (!relay)
      throw new WalletError(
        "no_relay_module",
        "this federation runs no relay module: no mailbox or recovery",
      );
    return relay;
  }

  private bridge(): BridgeClient {
    const bridge = this.core.module<BridgeClient>("bridge");
    if (!bridge)
      throw bridgeError("no_bridge_module", "this federation runs no EVM bridge module: it mints no wXMR");
    return bridge;
  }

  private monero(refusal: string): MoneroClient {
    const monero = this.core.module<MoneroClient>("monero");
    if (!monero) throw moneroError("no_monero_module", refusal);
    return monero;
  }
}
