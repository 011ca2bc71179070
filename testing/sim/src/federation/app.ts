// The whole federation on the simulator: every honest guardian runs the real FederationProcessor
// with the real modules (dummy, mint) on its simulated disk, fed by its replica's committed blocks
// inside the block's own store transaction (as LmdbConsensusStore.onDecided does in the daemon);
// modules' consensus proposals are polled on simulated time; simulated wallets use the guardians'
// API paths (check, submit, status, output outcomes); Byzantine guardians lie at the module level;
// the money checkers run after every block at every honest guardian.
import {
  decodeTransaction,
  encodeConsensusItem,
  encodeTransaction,
  toHex,
  transactionId,
} from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { FederationProcessor, outputOutcomes } from "@conclave/core-server";
import type { ServerModule } from "@conclave/core-server";
import { blockBundles } from "../../../../packages/core-server/src/consensus/block-content.js";
import { faultTolerance, sha256 } from "../consensus.js";
import type { DecidedBlock } from "../consensus.js";
import { Rng } from "../rng.js";
import type { SimApplication, SimApplicationFactory, SimHost } from "../application.js";
import { MoneyCheckers } from "./money.js";
import { guardianModules, mintKeys, simTbs } from "./setup.js";
import type { ModuleBug } from "./setup.js";
import { MoneroWorld } from "./monero.js";
import type { MoneroBug } from "./monero.js";
import type { MoneroServerModule } from "@conclave/module-monero";
import type { BridgeServerModule } from "@conclave/module-bridge";
import { BridgeWorld } from "./bridge.js";
import type { BridgeBug } from "./bridge.js";
import { Wallet, emptyWalletStats } from "./wallets.js";
import type { Contest, FederationApi, StatusAnswer, SubmitAnswer } from "./wallets.js";

/**
 * How often a guardian collects its modules' consensus proposals (the daemon's moduleProposalMs);
 * as the daemon, it also collects them right after each commit (`committed`).
 */
const MODULE_PROPOSAL_MS = 1_000;

export interface FederationOptions {
  /** Wallets; drawn from the seed (2..5) when absent. */
  readonly wallets?: number;
  /** A deliberate bug in every honest guardian's modules (tests of the checkers only). */
  readonly bug?: ModuleBug;
  /** Runs the monero module too, on a simulated Monero chain, with XMR users (federation/monero.ts). */
  readonly monero?: boolean;
  /** The monero module's payoutRoundBlocks (monero.ts PAYOUT_ROUND_BLOCKS when absent). */
  readonly payoutRoundBlocks?: number;
  /** A deliberate bug in every honest guardian's monero module (tests of the checkers only). */
  readonly moneroBug?: MoneroBug;
  /** The monero world without the Byzantine payout participants and the holder (monero.ts `classic`). */
  readonly moneroClassic?: boolean;
  /** Garbage last signers in the monero world (monero.ts `garbage`): "only" them, or "drawn" among the others. */
  readonly moneroGarbage?: "drawn" | "only";
  /** The monero world with XMR note users: subaddress deposits into e-cash notes (xmr-notes.ts). */
  readonly moneroNotes?: boolean;
  /** The monero world with reorgs deeper than the confirmation depth (monero-deep-reorg.ts). */
  readonly moneroDeepReorg?: boolean | "spent" | "detach" | "signing";
  /** The monero world with one honest guardian's monerod and wallet-rpc lying, when B < f (monero-liar.ts). */
  readonly moneroLyingNode?: boolean;
  /** Runs the bridge module too, on a simulated EVM chain, with bridge users (federation/bridge.ts). */
  readonly evm?: boolean;
  /** A deliberate bug in every honest guardian's bridge module (tests of the checkers only). */
  readonly bridgeBug?: BridgeBug;
  /**
   * The bridge world with EVM reorgs deeper than the watchers' depth (evm-deep-reorg.ts); "notes":
   * with the notes bridge users too, the reorgs aimed at their mints and burns first.
   */
  readonly evmDeepReorg?: boolean | "notes";
  /**
   * With `monero`: users who mint from an XMR deposit with a Monero refund address (output form
   * 0x03) and never use the mint, or race a late use against the refund (refund-users.ts).
   */
  readonly evmRefundUsers?: boolean;
  /** The bridge world with one honest guardian's EVM node lying, when B < f (evm-liar.ts). */
  readonly evmLyingNode?: boolean;
}

/** What a Byzantine guardian does at the module level, drawn per guardian from the seed. */
interface ByzantineModuleProfile {
  /** Drops a client's transaction instead of proposing it. */
  readonly dropRate: number;
  /** Puts a copy of a client's transaction with broken signatures in its own bundles. */
  readonly malleateRate: number;
  /** Answers a status query with a false "rejected". */
  readonly lieRejectedRate: number;
  /** Answers a share query with garbage (random bytes, or a valid point that is not its share). */
  readonly garbageShareRate: number;
  /** Transactions of junk (unfunded faucets, unknown notes, undecodable inputs) per simulated second. */
  readonly floodPerSec: number;
}

class GuardianProcess {
  readonly processor: FederationProcessor;
  readonly modules: readonly ServerModule[];
  readonly lastProposal = new Map<number, string>();
  readonly monero: MoneroServerModule | undefined;
  readonly bridge: BridgeServerModule | undefined;

  constructor(
    n: number,
    g: number,
    host: SimHost,
    bug: ModuleBug | undefined,
    world: MoneroWorld | undefined,
    evm: BridgeWorld | undefined,
  ) {
    const { dummy, mint } = guardianModules(n, g, bug);
    this.monero = world?.module(g);
    this.bridge = evm?.module(g);
    this.modules = [
      dummy,
      mint,
      ...(this.monero === undefined ? [] : [this.monero]),
      ...(this.bridge === undefined ? [] : [this.bridge]),
    ];
    this.processor = new FederationProcessor(this.modules, { verifier: host.verifier, hash: sha256 });
  }
}

export function federationApplication(options: FederationOptions = {}): SimApplicationFactory {
  return (host) => new FederationApp(host, options);
}

class FederationApp implements SimApplication, FederationApi {
  readonly n: number;
  readonly threshold: number;
  readonly rejectionQuorum: number;
  readonly itemBytesMax: number;
  readonly keys;
  private readonly procs: (GuardianProcess | null)[];
  private readonly generation: number[];
  /** A proposal collection after a commit is scheduled for guardian g. */
  private readonly commitProposalQueued: boolean[];
  private readonly money: MoneyCheckers;
  private readonly wallets: Wallet[] = [];
  private readonly walletStats = emptyWalletStats();
  private readonly contests: Contest[] = [];
  private readonly byzantine = new Map<
    number,
    { profile: ByzantineModuleProfile; rng: Rng; seen: Transaction[] }
  >();
  private readonly byzStats = { dropped: 0, malleated: 0, lies: 0, garbageShares: 0, flood: 0 };
  private readonly honestSet: ReadonlySet<number>;
  private readonly xmr: MoneroWorld | undefined;
  private readonly evm: BridgeWorld | undefined;

  constructor(
    private readonly host: SimHost,
    private readonly options: FederationOptions,
  ) {
    this.n = host.n;
    const keys = mintKeys(this.n);
    this.threshold = keys.threshold;
    this.rejectionQuorum = faultTolerance(this.n) + 1;
    this.itemBytesMax = host.config.limits.itemBytesMax;
    this.keys = keys.config.keys;
    this.procs = new Array<GuardianProcess | null>(this.n).fill(null);
    this.generation = new Array<number>(this.n).fill(0);
    this.commitProposalQueued = new Array<boolean>(this.n).fill(false);
    this.honestSet = new Set(host.honest);
    this.money = new MoneyCheckers(this.n, (what) => host.violation(what));
    const rng = new Rng(host.seed, "wallets");
    const count = options.wallets ?? rng.range(2, 5);
    const plan = {
      opGapMs: rng.between(300, 2_000),
      crashRate: rng.chance(0.3) ? 0 : rng.between(0, 0.15),
      cheatRate: rng.chance(0.3) ? 0 : rng.between(0, 0.4),
    };
    for (let i = 0; i < count; i++) {
      this.wallets.push(
        new Wallet(
          i,
          this,
          new Rng(host.seed, `wallet-${i}`),
          () => this.wallets,
          plan,
          this.walletStats,
          this.contests,
        ),
      );
    }
    for (const b of host.byzantine) {
      const r = new Rng(host.seed, `byzantine-module-${b}`);
      const profile: ByzantineModuleProfile = {
        dropRate: r.between(0, 1),
        malleateRate: r.between(0, 1),
        lieRejectedRate: r.between(0, 1),
        garbageShareRate: r.between(0, 1),
        floodPerSec: r.chance(0.5) ? 0 : r.between(0, 5),
      };
      this.byzantine.set(b, { profile, rng: r, seen: [] });
      if (profile.floodPerSec > 0) this.floodLoop(b);
    }
    for (const w of this.wallets) host.schedule(rng.range(0, 200), () => w.start());
    this.xmr =
      options.monero === true
        ? new MoneroWorld(
            host,
            this,
            options.payoutRoundBlocks,
            options.moneroBug,
            options.moneroClassic,
            options.moneroGarbage ?? "off",
            options.moneroNotes === true
              ? {
                  walletCount: this.wallets.length,
                  issueFrom: (w, inputs, signers, value) =>
                    this.wallets[w]?.issueFrom(inputs, signers, value) !== undefined,
                }
              : undefined,
            // Beside the bridge: fees and payout minimum at the bridge's sizes (monero.ts `combined`).
            options.evm === true,
            options.moneroDeepReorg ?? false,
            options.moneroLyingNode === true,
          )
        : undefined;
    // With both, a burn to a Monero address becomes a payout of the monero module (core ModuleLinks:
    // the processor links the modules), paid from the simulated multisig wallet; money.ts counts it.
    this.evm =
      options.evm === true
        ? new BridgeWorld(
            host,
            this,
            options.bridgeBug,
            this.xmr,
            options.evmDeepReorg ?? false,
            options.evmLyingNode === true,
            options.evmRefundUsers === true,
          )
        : undefined;
  }

  // ---------------------------------------------------------------- the guardians' processes

  started(g: number): void {
    const proc = new GuardianProcess(this.n, g, this.host, this.options.bug, this.xmr, this.evm);
    this.procs[g] = proc;
    const generation = ++this.generation[g]!;
    this.host.disk(g).onDecided = (decided, db) => this.processDecided(g, proc, decided, db);
    const poll = (): void => {
      if (this.generation[g] !== generation) return;
      this.proposeModuleItems(g, proc);
      this.host.schedule(this.host.now() + MODULE_PROPOSAL_MS, poll);
    };
    this.host.schedule(this.host.now() + MODULE_PROPOSAL_MS, poll);
    this.xmr?.started(g, () => this.generation[g] === generation);
    this.evm?.started(g, () => this.generation[g] === generation);
  }

  stopped(g: number): void {
    this.procs[g] = null;
    this.generation[g]!++;
    this.host.disk(g).onDecided = undefined;
  }

  private processDecided(
    g: number,
    proc: GuardianProcess,
    decided: DecidedBlock,
    db: Parameters<FederationProcessor["processBlock"]>[0],
  ): void {
    const bundles = blockBundles(decided.block, this.host.config.limits, this.n);
    const outcome = proc.processor.processBlock(db, decided.height, bundles);
    this.money.onBlock(g, decided.height, bundles, outcome, proc.processor);
    // Here, not at the commit report: a guardian catching up commits several blocks in one store
    // transaction and reports them after it, when the state is already the last one's.
    const xmrLedger = this.money.afterBlock(g, decided.height, db, proc.processor);
    if (this.xmr !== undefined && xmrLedger !== undefined)
      this.xmr.afterBlock(g, decided.height, db, proc.processor, proc.monero, xmrLedger, (what) =>
        this.host.violation(what),
      );
    if (this.evm !== undefined && xmrLedger !== undefined)
      this.evm.afterBlock(
        g,
        decided.height,
        db,
        proc.processor,
        proc.bridge,
        this.money.bridgeOutputs(g, decided.height),
        (what) => this.host.violation(what),
      );
    if (outcome.auditFailure !== undefined)
      this.host.violation(`guardian ${g} would halt at height ${decided.height}: ${outcome.auditFailure}`);
  }

  private proposeModuleItems(g: number, proc: GuardianProcess): void {
    const state = this.host.disk(g).state;
    for (const m of proc.modules) {
      const items = m.consensusProposal(proc.processor.moduleReadDb(state, m.instanceId));
      const key = items.map(toHex).join(",");
      if (items.length === 0 || proc.lastProposal.get(m.instanceId) === key) continue;
      proc.lastProposal.set(m.instanceId, key);
      const encoded = items.map((payload) =>
        encodeConsensusItem({ kind: "module", module: m.instanceId, payload }),
      );
      const taken = this.host.submit(g, encoded);
      if (taken < encoded.length)
        this.host.note(
          `guardian ${g} module ${m.instanceId}: ${taken} of ${encoded.length} items taken (bytes ${encoded.map((e) => e.length).join(",")})`,
        );
    }
  }

  committed(g: number): void {
    // The money checkers run inside the block's transaction (processDecided). As the daemon
    // (guardian.ts onCommit): the modules' proposals are collected on the next turn, once for
    // however many commits came at once (a catch-up).
    const proc = this.procs[g];
    if (!proc || this.commitProposalQueued[g]) return;
    this.commitProposalQueued[g] = true;
    const generation = this.generation[g];
    this.host.schedule(this.host.now(), () => {
      this.commitProposalQueued[g] = false;
      if (this.generation[g] === generation) this.proposeModuleItems(g, proc);
    });
  }

  liveness(): void {
    for (const w of this.wallets) w.resume();
    this.xmr?.heal();
    this.evm?.heal();
  }

  settled(): boolean {
    return (
      this.wallets.every((w) => w.settled) && (this.xmr?.settled() ?? true) && (this.evm?.settled() ?? true)
    );
  }

  /** Past the liveness bound: until the withdrawals in flight are past their own bounds (monero.ts). */
  runsUntil(): number | undefined {
    const a = this.xmr?.runsUntil();
    const b = this.evm?.runsUntil();
    return a === undefined ? b : b === undefined ? a : Math.max(a, b);
  }

  finish(): void {
    const at = `within the liveness bound after the network healed`;
    for (const w of this.wallets) {
      if (!w.settled) this.host.violation(`liveness: ${w.describe()}, not finished ${at}`);
    }
    for (const c of this.contests) {
      if (c.accepted > 1) this.host.violation(`double spend by ${c.label}: both transactions accepted`);
      else if (c.accepted + c.rejected === 2 && c.accepted === 0)
        this.host.violation(`double spend by ${c.label}: both transactions rejected`);
    }
    this.xmr?.finish();
    this.evm?.finish();
  }

  stats(): Readonly<Record<string, number>> {
    const t = this.money.totals;
    return {
      wallets: this.wallets.length,
      ...this.walletStats,
      accepted: t.accepted,
      rejected: t.rejected,
      badSignatureCopies: t.badSignatureCopies,
      malformedItems: t.malformedItems,
      notesSpent: t.notesSpent,
      moneyChecks: t.checks,
      deposits: Number(t.deposits),
      byzDropped: this.byzStats.dropped,
      byzMalleated: this.byzStats.malleated,
      byzLies: this.byzStats.lies,
      byzGarbageShares: this.byzStats.garbageShares,
      byzFlood: this.byzStats.flood,
      tbsMisses: simTbs.calls.misses,
      ...(this.xmr?.statsRecord() ?? {}),
      ...(this.evm?.statsRecord() ?? {}),
    };
  }

  // ---------------------------------------------------------------- the guardians' API, as wallets see it

  honest(g: number): boolean {
    return this.honestSet.has(g);
  }

  now(): number {
    return this.host.now();
  }

  phase(): "safety" | "liveness" {
    return this.host.phase();
  }

  schedule(atMs: number, fn: () => void): void {
    this.host.schedule(atMs, fn);
  }

  violation(what: string): void {
    this.host.violation(`${what}`);
  }

  note(line: string): void {
    this.host.note(line);
  }

  /** Honest guardian g's processor and monero module, if its process runs (federation/monero.ts). */
  moneroAt(g: number): { processor: FederationProcessor; monero: MoneroServerModule } | undefined {
    const proc = this.live(g);
    return proc?.monero === undefined ? undefined : { processor: proc.processor, monero: proc.monero };
  }

  /** Honest guardian g's processor and bridge module, if its process runs (federation/bridge.ts). */
  wake(g: number): void {
    this.committed(g);
  }

  bridgeAt(g: number): { processor: FederationProcessor; bridge: BridgeServerModule } | undefined {
    const proc = this.live(g);
    return proc?.bridge === undefined ? undefined : { processor: proc.processor, bridge: proc.bridge };
  }

  /** An honest guardian's process, if it runs. */
  private live(g: number): GuardianProcess | undefined {
    if (!this.host.up(g)) return undefined;
    return this.procs[g] ?? undefined;
  }

  private statusAt(g: number, proc: GuardianProcess, txid: string): StatusAnswer {
    const s = proc.processor.txStatus(this.host.disk(g).state, Buffer.from(txid, "hex"));
    if (s === undefined) return { state: "unknown" };
    return s.state === "accepted" ? { state: "accepted" } : { state: "rejected", code: s.error.code };
  }

  /** As Guardian.submitTransaction: a known status, else the checks on its state, then its replica. */
  submit(g: number, tx: Transaction): SubmitAnswer | undefined {
    const b = this.byzantine.get(g);
    if (b !== undefined) {
      this.byzantineSubmit(g, b, tx);
      return { state: "proposed" };
    }
    const proc = this.live(g);
    if (proc === undefined) return undefined;
    // What the API decodes is bytes: go through the encoding, as a client's request does.
    const decoded = decodeTransaction(encodeTransaction(tx), proc.processor.limits);
    const txid = toHex(transactionId(decoded, sha256));
    const known = this.statusAt(g, proc, txid);
    if (known.state !== "unknown") return known;
    const check = proc.processor.check(this.host.disk(g).state, decoded);
    if (!check.ok) return { state: "refused", code: check.error.code };
    const taken = this.host.submit(g, [encodeConsensusItem({ kind: "transaction", tx: decoded })]);
    return taken === 1 ? { state: "proposed" } : undefined;
  }

  status(g: number, txid: string): StatusAnswer | undefined {
    const b = this.byzantine.get(g);
    if (b !== undefined) {
      if (b.rng.chance(b.profile.lieRejectedRate)) {
        this.byzStats.lies++;
        return { state: "rejected", code: "spent_input" };
      }
      return { state: "unknown" };
    }
    const proc = this.live(g);
    return proc === undefined ? undefined : this.statusAt(g, proc, txid);
  }

  blindShare(g: number, txid: string, index: number): string | undefined {
    const b = this.byzantine.get(g);
    if (b !== undefined) {
      if (!b.rng.chance(b.profile.garbageShareRate)) return undefined;
      this.byzStats.garbageShares++;
      // Either bytes that are no point, or a real share of this guardian for another message.
      if (b.rng.chance(0.5)) return toHex(b.rng.bytes(48));
      const keys = mintKeys(this.n);
      const other = simTbs.blind(b.rng.bytes(32), (k) => b.rng.bytes(k)).blindedMessage;
      const share = simTbs.signBlindShare(keys.secretShares[g]![0]!, other);
      return share.ok ? toHex(share.value) : undefined;
    }
    const proc = this.live(g);
    if (proc === undefined) return undefined;
    const state = this.host.disk(g).state;
    const id = Buffer.from(txid, "hex");
    const status = proc.processor.txStatus(state, id);
    if (status === undefined || status.state !== "accepted") return undefined;
    const outcome = outputOutcomes(proc.processor, state, id, status)[index];
    if (typeof outcome !== "object" || outcome === null || !("blindShare" in outcome)) return undefined;
    const share = outcome.blindShare;
    return typeof share === "string" ? share : undefined;
  }

  // ---------------------------------------------------------------- Byzantine guardians at the module level

  private byzantineSubmit(
    g: number,
    b: { profile: ByzantineModuleProfile; rng: Rng; seen: Transaction[] },
    tx: Transaction,
  ): void {
    b.seen.push(tx);
    if (b.seen.length > 32) b.seen.shift();
    if (b.rng.chance(b.profile.malleateRate)) {
      // A copy whose signatures do not verify: same txid, so it must not burn the good copy's.
      const signatures = tx.signatures.map((s) => {
        const copy = s.slice();
        const at = b.rng.int(copy.length);
        copy[at] = copy[at]! ^ (1 << b.rng.int(8));
        return copy;
      });
      const bad: Transaction = { ...tx, signatures: signatures.length > 0 ? signatures : [b.rng.bytes(64)] };
      this.host.submitByzantine(g, [encodeConsensusItem({ kind: "transaction", tx: bad })]);
      this.byzStats.malleated++;
    }
    if (b.rng.chance(b.profile.dropRate)) {
      this.byzStats.dropped++;
      return;
    }
    this.host.submitByzantine(g, [encodeConsensusItem({ kind: "transaction", tx })]);
  }

  private floodLoop(g: number): void {
    const b = this.byzantine.get(g)!;
    const gap = 1_000 / b.profile.floodPerSec;
    const next = (): void => {
      if (this.host.phase() !== "safety") return;
      this.host.submitByzantine(g, [
        encodeConsensusItem({ kind: "transaction", tx: junkTransaction(b.rng, b.seen) }),
      ]);
      this.byzStats.flood++;
      this.host.schedule(this.host.now() + Math.max(1, Math.round(b.rng.exponential(gap))), next);
    };
    this.host.schedule(Math.round(b.rng.exponential(gap)), next);
  }
}

/** Transactions a Byzantine guardian makes up: over-limit faucets, unknown or replayed notes, junk payloads. */
function junkTransaction(rng: Rng, seen: readonly Transaction[]): Transaction {
  const kind = rng.int(4);
  const nonce = rng.bytes(32);
  if (kind === 0) {
    // A faucet above the limit, into a coin.
    const payload = Uint8Array.of(0x01, ...rng.bytes(16));
    return {
      inputs: [{ module: 0, amount: 1n << 40n, payload }],
      outputs: [{ module: 0, amount: 1n << 39n, payload: rng.bytes(32) }],
      nonce,
      signatures: [],
    };
  }
  if (kind === 1 && seen.length > 0) {
    // A client's transaction with its outputs redirected (the signatures no longer match its txid).
    const tx = rng.pick(seen);
    const outputs = tx.outputs.map((o) => ({ ...o, payload: rng.bytes(o.payload.length) }));
    return { ...tx, outputs };
  }
  if (kind === 2) {
    // A mint input with a made-up signature.
    const payload = Uint8Array.of(rng.int(13), ...rng.bytes(32), ...rng.bytes(48));
    return {
      inputs: [{ module: 1, amount: 1n << BigInt(payload[0]!), payload }],
      outputs: [],
      nonce,
      signatures: [rng.bytes(64)],
    };
  }
  return {
    inputs: [{ module: rng.int(3), amount: BigInt(rng.int(1000)), payload: rng.bytes(rng.int(100)) }],
    outputs: [],
    nonce,
    signatures: [],
  };
}
