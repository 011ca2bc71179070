// The bridge module in the whole-federation simulation (issue 11): one seed-driven SimEvmChain with
// the WrappedMonero rules (chains/evm-chain.ts), every honest guardian's real BridgeServerModule
// with its own secp256k1 key and its own EVM node (SimEvmSource: lag, outages, slow answers until
// the heal), its BurnWatcher polled on simulated time (autoPoll off); blocks at exponential gaps
// with reorgs below the watchers' depth. Bridge users (bridge-users.ts) mint wXMR from faucet
// deposits (the dummy module's), submit the mint with t signatures they check, or never submit it
// and take it back once expired, burn to a claim key and claim the e-cash, burn to a Monero address
// (re-minted: this federation runs no module that pays Monero unless --monero) and mint the re-mint.
// Byzantine guardians lie at the bridge level (bridge-byzantine.ts).
//
// Money checks after every block at every honest guardian (afterBlock):
//   - every accepted burn is a Burned log of the canonical chain with equal fields, at the
//     confirmation depth when first seen accepted; no burn id accepted under two keys (paid twice);
//   - a mint decided returnable or refunded has its deposit id unused on the chain, one decided
//     minted has it used (no mint both minted and refunded);
//   - at the most advanced honest guardian: every Minted / MintDelayed log names a deposit id the
//     federation signed, for that recipient and amount, at most once, and at most one of the deposit
//     ids of one value (a 0x01 output's or re-mint's first id and its re-issues) on the chain
//     (no value minted twice through a re-issue); wXMR supply + delayed mints
//     on the chain <= what the federation signed (the checker's ledger of accepted mint outputs,
//     plus re-mints) - accepted burns - returned mints; and reserves (assets) >= e-cash outstanding
//     (liabilities of the other modules) + wXMR on the chain + owed burns and returns.
// (Each bridge input spent at most once, and conservation of everything, are money.ts's.)
import { faultTolerance, toHex } from "@conclave/core-common";
import type { FederationProcessor, ReadTx } from "@conclave/core-server";
import {
  BridgeState,
  burnPayoutRef,
  mintRefundPayoutRef,
  outputDepositId,
  parseBridgeConfig,
  quorumThreshold,
  reissueDepositId,
  remintDepositId,
  sameBurn,
  evmAddressOfKey,
  ACCOUNTANT_BLIND_READINGS,
} from "@conclave/module-bridge";
import type {
  BridgeConfig,
  BurnSeen,
  EvmAddress,
  Hex32,
  MintKey,
  BridgeServerModule,
  EvmSource,
  SupplyCheck,
} from "@conclave/module-bridge";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { getAddress } from "viem";
import { Rng } from "../rng.js";
import type { SimHost } from "../application.js";
import { BlockProducer, NodeFaultDriver, schedulerAt } from "../chains/chain.js";
import type { Scheduler } from "../chains/chain.js";
import { SimEvmChain } from "../chains/evm-chain.js";
import { Wallet, emptyWalletStats } from "./wallets.js";
import type { FederationApi, WalletStats } from "./wallets.js";
import {
  BRIDGE_ID,
  BRIDGE_POLL_MS,
  REFUNDABLE_MINT_FEE_SIM,
  REFUNDABLE_MINT_MIN_SIM,
  evmKey,
} from "./setup.js";
import { BridgeUser } from "./bridge-users.js";
import type { NotesRace } from "./bridge-users.js";
import { denominationAmount } from "@conclave/module-mint";
import { simAddress } from "../chains/monero-chain.js";
import { ByzantineBridge, bridgeModuleClass } from "./bridge-byzantine.js";
import { PayoutStore, requestOutPoint } from "@conclave/module-monero";
import type { MoneroWorld } from "./monero.js";
import { REQUESTED_PAYOUT_INDEX_MIN } from "./money.js";
import { MONERO_ID } from "./setup.js";
import type { BridgeBug } from "./bridge-byzantine.js";
import { EvmDeepReorgs } from "./evm-deep-reorg.js";
import { RefundUser, emptyRefundUserStats } from "./refund-users.js";
import type { RefundUserStats } from "./refund-users.js";
import { LyingEvmSource, drawLies, emptyLiarStats } from "./evm-liar.js";
import type { EvmLiarStats, EvmLies } from "./evm-liar.js";

export type { BridgeBug } from "./bridge-byzantine.js";

/** The watchers' confirmation depth; the chain's reorgs stay below it (at most depth - 1 blocks). */
export const EVM_CONFIRMATIONS = 4;
/** A supply check waits at most this long (simulated ms) after the heal to be judged. */
const SUPPLY_CHECK_JUDGED_MS = 20_000;
/** Mean simulated ms between EVM blocks. */
const MEAN_BLOCK_MS = 400;
/**
 * Seconds between EVM block timestamps: 12, as Ethereum's slots. The chain's clock runs ~30 times
 * faster than simulated time (a block every ~400 ms), so a mint's deadline passes within a run.
 */
const SECONDS_PER_BLOCK = 12;
/**
 * A signed mint's validity: 75 blocks, about 30 s of simulated time. The agreed EVM time it counts
 * from trails the head by the depth, a poll and a consensus block or two (~10 blocks, more while
 * consensus is slow); at 300 s (25 blocks) users missed deadlines they were given (seed 1, N = 4),
 * at 600 s still often (seed 2, N = 4, one Byzantine: a partition until 6 s).
 */
export const MINT_DEADLINE_SECONDS = 900;
const CHAIN_ID = 31337;
const CONTRACT = getAddress("0x00000000000000000000000000000000000c1a4e");
/** Above this a mint waits MINT_DELAY_SECONDS on chain (cancellable by any guardian). */
export const SINGLE_MINT_CAP = 5_000n;
const MINT_DELAY_SECONDS = 36n;

/**
 * What the bridge world needs of the federation application (FederationApi: the guardians' API as
 * e-cash wallets use it, for the notes bridge users' wallets).
 */
export interface BridgeHostApi extends FederationApi {
  /** Honest guardian g's processor and bridge module, if its process runs. */
  bridgeAt(g: number): { processor: FederationProcessor; bridge: BridgeServerModule } | undefined;
  /**
   * A module of guardian g asks for its proposals to be collected (ModuleContext.wake: the daemon
   * collects them on the next turn, guardian.ts wakeModules); coalesced with commits.
   */
  wake(g: number): void;
}

/**
 * How a seed's world lets a mint race the guardians' processing (the bug d378e6f fixed: a guardian
 * a height behind a mint t others signed, its user submitting at once, read a supply above its
 * books and halted). Drawn from its own stream ("evm-race"), so the other streams draw as before;
 * a seed without it (half of them) runs as it did before it existed. With it:
 *   automineMs  each transaction sent is mined within this many ms (anvil's automine: at once),
 *               besides the interval blocks;
 *   pollMs      the watchers poll their nodes this often (the daemon's pollMs: the CI fixture's
 *               500 ms; BRIDGE_POLL_MS without the race);
 *   (always)    a user waiting for its funding or for signatures looks again whenever an honest
 *               guardian processed a block (a client watching its mint) and submits the moment t
 *               signed; a watcher's poll wakes its guardian's proposal (the daemon's
 *               ModuleContext.wake), so the accountant judges its node's reading against its state
 *               of that moment;
 *   laggard     an honest guardian slow to process consensus: when the first other honest guardian
 *               processed a height, the messages to the laggard are held for lagMs (SimHost.lag),
 *               so it decides that height up to lagMs after the others (a loaded machine; the CI's
 *               guardian a block behind).
 */
export interface RaceProfile {
  readonly automineMs: number;
  readonly pollMs: number;
  readonly laggard: number;
  readonly lagMs: number;
}

export function drawRaceProfile(rng: Rng, honest: readonly number[]): RaceProfile | undefined {
  if (!rng.chance(0.5)) return undefined;
  return {
    automineMs: rng.pick([0, 0, 5, 20, 50]),
    pollMs: rng.pick([100, 250, 500]),
    laggard: rng.pick(honest),
    lagMs: rng.range(300, 2_000),
  };
}

export interface BridgeStats {
  evmUsers: number;
  evmMintOutputs: number;
  evmMintsSubmitted: number;
  evmMinted: number;
  evmDelayed: number;
  evmDelayedExecuted: number;
  evmFrozenByCancel: number;
  evmFrontRun: number;
  evmAbandoned: number;
  /** Mints whose users had t signatures only after the deadline (then returned, if refundable). */
  evmDeadlineMissed: number;
  /** Mints without refund key submitted again after their re-issue (a new deadline and deposit id). */
  evmReissuedSubmitted: number;
  evmRefunded: number;
  evmBurnsToClaim: number;
  evmBurnsToMonero: number;
  evmClaimed: number;
  evmReminted: number;
  evmBadSignaturesSkipped: number;
  evmUserRetries: number;
  evmPollFailures: number;
  evmChecks: number;
  evmReorgs: number;
  evmFaultEpisodes: number;
  evmByzScannedLies: number;
  evmByzBurnVotes: number;
  evmByzExpiryVotes: number;
  evmByzBadSignatures: number;
  evmByzFrontRuns: number;
  evmByzCancels: number;
  /** A colluding Byzantine guardian's honest signatures given to users (bridge-byzantine.ts drawColluder). */
  evmByzHonestSignatures: number;
  /** Mints a colluding Byzantine guardian sent at once with its own signature as the t-th (race world). */
  evmByzColludedMints: number;
  evmAcceptedBurns: number;
  evmRefundableMints: number;
  /** With the monero module: mint outputs funded by an XMR deposit claimed by proof (accepted). */
  evmXmrFunded: number;
  /** With the monero module: burns paid in Monero (the user saw the payout confirmed). */
  evmBurnsPaidXmr: number;
  /** With the monero module: a paid user's claim of its payout (change included) as a deposit. */
  evmPayoutClaims: number;
  /** Blocks mined at once for a sent transaction (RaceProfile automineMs). */
  evmAutomined: number;
  /** Honest guardians' readings above their books proposed as supply_check items (judged in order). */
  evmSupplyChecks: number;
  /** Notes bridge users (`--evm --monero`): XMR -> notes -> wXMR -> notes -> XMR. */
  evmNotesUsers: number;
  /** Their XMR deposits by proof spent into e-cash notes (accepted, notes signed). */
  evmNotesIssued: number;
  /** Mint outputs funded by e-cash notes (mint inputs into the bridge's output, accepted). */
  evmNotesFunded: number;
  /** Burns to their claim key claimed into e-cash notes. */
  evmNotesClaimed: number;
  /** Notes withdrawn as Monero at the end of the whole path, the payout confirmed. */
  evmNotesWithdrawnXmr: number;
  /** A returned mint (its deadline missed) refunded into notes and withdrawn as Monero, confirmed. */
  evmNotesRefundWithdrawnXmr: number;
  /** Notes too small to withdraw after the payout fee (the user ends with its notes). */
  evmNotesTooSmall: number;
  /** Double spends: one set of notes into a mint output and, at once, into a withdrawal. */
  evmNotesRaces: number;
  evmNotesRaceMintWon: number;
  evmNotesRaceWithdrawWon: number;
  /** Withdrawals that won a double spend, their payout confirmed. */
  evmNotesRacePaid: number;
  /** Notes users' payouts still being made at the end, accepted late (NOTES_PAYOUT_PENDING_MS). */
  evmNotesPayoutsPendingAtEnd: number;
  /** The notes users' wallets: crashes (mid-operation, resumed from their disk) and resubmissions. */
  evmNotesWalletCrashes: number;
  evmNotesWalletResubmits: number;
  /** Blocks after which the laggard's messages were held (RaceProfile laggard). */
  evmLaggardHolds: number;
}

const emptyStats = (): BridgeStats => ({
  evmUsers: 0,
  evmMintOutputs: 0,
  evmMintsSubmitted: 0,
  evmMinted: 0,
  evmDelayed: 0,
  evmDelayedExecuted: 0,
  evmFrozenByCancel: 0,
  evmFrontRun: 0,
  evmAbandoned: 0,
  evmDeadlineMissed: 0,
  evmReissuedSubmitted: 0,
  evmRefunded: 0,
  evmBurnsToClaim: 0,
  evmBurnsToMonero: 0,
  evmClaimed: 0,
  evmReminted: 0,
  evmBadSignaturesSkipped: 0,
  evmUserRetries: 0,
  evmPollFailures: 0,
  evmChecks: 0,
  evmReorgs: 0,
  evmFaultEpisodes: 0,
  evmByzScannedLies: 0,
  evmByzBurnVotes: 0,
  evmByzExpiryVotes: 0,
  evmByzBadSignatures: 0,
  evmByzFrontRuns: 0,
  evmByzCancels: 0,
  evmByzHonestSignatures: 0,
  evmByzColludedMints: 0,
  evmAcceptedBurns: 0,
  evmRefundableMints: 0,
  evmXmrFunded: 0,
  evmBurnsPaidXmr: 0,
  evmPayoutClaims: 0,
  evmAutomined: 0,
  evmSupplyChecks: 0,
  evmLaggardHolds: 0,
  evmNotesUsers: 0,
  evmNotesIssued: 0,
  evmNotesFunded: 0,
  evmNotesClaimed: 0,
  evmNotesWithdrawnXmr: 0,
  evmNotesRefundWithdrawnXmr: 0,
  evmNotesTooSmall: 0,
  evmNotesRaces: 0,
  evmNotesRaceMintWon: 0,
  evmNotesRaceWithdrawWon: 0,
  evmNotesRacePaid: 0,
  evmNotesPayoutsPendingAtEnd: 0,
  evmNotesWalletCrashes: 0,
  evmNotesWalletResubmits: 0,
});

const keyName = (txHash: Uint8Array, logIndex: number): string => `${toHex(txHash)}:${logIndex}`;

export class BridgeWorld {
  readonly chain: SimEvmChain;
  readonly config: BridgeConfig;
  readonly federationId: Uint8Array;
  readonly scheduler: Scheduler;
  readonly stats: BridgeStats = emptyStats();
  readonly users: BridgeUser[] = [];
  /** Users who mint from an XMR deposit with a Monero refund address (0x03; `--evm --monero`). */
  readonly refundUsers: RefundUser[] = [];
  private readonly refundStats: RefundUserStats = emptyRefundUserStats();
  /** The notes bridge users' EVM addresses, lower case (the notes deep-reorg world aims at them). */
  private readonly notesAddresses = new Set<string>();
  /** The notes bridge users' double spends (one set of notes into a mint output and a withdrawal). */
  readonly notesRaces: NotesRace[] = [];
  private readonly notesWalletStats: WalletStats = emptyWalletStats();
  readonly byzantine = new Map<number, ByzantineBridge>();
  healedAt: number | undefined;
  /** Each guardian's supply check waiting to be judged, and since when (simulated ms). */
  private readonly supplyCheckSince = new Map<number, { check: object; since: number }>();
  /**
   * Each guardian's latest supply check seen waiting (with its module instance: a restart forgets
   * it). Gone without a halt, it was judged within the books (afterBlock).
   */
  private readonly checkSeen = new Map<number, { bridge: BridgeServerModule; check: SupplyCheck }>();
  private readonly producer: BlockProducer;
  private readonly faults: NodeFaultDriver;
  private readonly busy = new Set<number>();
  private readonly nodeRngs: Rng[];
  /** Burns the checker has seen accepted (and checked at depth then). */
  private readonly acceptedSeen = new Set<string>();
  /** The highest height any honest guardian processed: the supply checks run there. */
  private leadHeight = -1;
  private canonical: { head: string; burns: Map<string, BurnSeen> } | undefined;
  /** Accepted refundable mint outputs: each must be decided (minted or returned) after its deadline. */
  readonly refundable: MintKey[] = [];
  /** Reorgs deeper than the watchers' depth (`--evm-deep-reorg`, evm-deep-reorg.ts). */
  readonly deep: EvmDeepReorgs | undefined;
  /** How this seed lets a mint race the guardians' processing (RaceProfile; undefined: it does not). */
  readonly race: RaceProfile | undefined;
  /** The honest guardian whose EVM node lies (`--evm-lying-node`, evm-liar.ts), its lies and figures. */
  readonly liar:
    | {
        g: number;
        lies: EvmLies;
        rng: Rng;
        stats: EvmLiarStats;
        /** Readings of its node taken in a row while stuck below an accepted burn (liarChecks). */
        blind?: { readings: number; last: object } | undefined;
      }
    | undefined;
  /** An automine block is scheduled (one for every send within its delay). */
  private automineQueued = false;
  /** Users are to look again at their mints' signatures (RaceProfile). */
  private nudgeQueued = false;
  /** The highest height after whose first processing the laggard's messages were held. */
  private laggedAt = -1;

  constructor(
    readonly host: SimHost,
    readonly app: BridgeHostApi,
    private readonly bug?: BridgeBug,
    /**
     * The monero world beside it (`--evm --monero`): users fund mints by XMR deposits claimed by
     * proof, burns to a Monero address of its network are paid from the simulated multisig wallet.
     */
    readonly xmr?: MoneroWorld,
    /**
     * Reorgs deeper than the watchers' depth: a mint and an accepted burn left out of a fork; "notes":
     * with the notes bridge users, whose mints and burns the reorgs aim at first.
     */
    deepReorg: boolean | "notes" = false,
    /** One honest guardian's EVM node lies (evm-liar.ts), when the Byzantine guardians leave room in f. */
    lyingNode = false,
    /** With the monero world: deposit-funded mints refunded in Monero (refund-users.ts). */
    refundUsers = false,
  ) {
    const rng = new Rng(host.seed, "evm");
    this.scheduler = schedulerAt(host);
    const n = host.n;
    const threshold = quorumThreshold(n);
    const guardians = Array.from({ length: n }, (_, g) => evmAddressOfKey(evmKey(n, g)));
    this.config = parseBridgeConfig({
      chainId: CHAIN_ID,
      contract: CONTRACT,
      guardians,
      threshold,
      confirmations: EVM_CONFIRMATIONS,
      mintDeadlineSeconds: MINT_DEADLINE_SECONDS,
      openVotesPerGuardianMax: 256,
      moneroNetwork: "mainnet",
      // At the sim's scale (mints of 500..7,990 piconero): a refundable output's own minimum and the
      // fee it pays the federation (threat-model 12w); the users fund amount + fee.
      refundableMintMinPiconero: REFUNDABLE_MINT_MIN_SIM.toString(),
      refundableMintFeePiconero: REFUNDABLE_MINT_FEE_SIM.toString(),
    });
    this.federationId = keccak_256(new TextEncoder().encode(`sim-federation-${n}`));
    this.chain = new SimEvmChain({
      rng: rng.fork(),
      guardians: n,
      chainId: CHAIN_ID,
      contract: CONTRACT,
      signers: guardians,
      threshold,
      limits: {
        rateCapacity: 1_000_000n,
        ratePerSecond: 1_000n,
        singleMintCap: SINGLE_MINT_CAP,
        mintDelay: MINT_DELAY_SECONDS,
        minBurn: 2n,
      },
      confirmations: EVM_CONFIRMATIONS,
      secondsPerBlock: SECONDS_PER_BLOCK,
    });
    this.nodeRngs = Array.from({ length: n }, () => rng.fork());
    this.producer = new BlockProducer(this.chain, this.scheduler, rng.fork(), {
      meanBlockMs: MEAN_BLOCK_MS,
      reorgProbability: 0.05,
      reorgDepthMax: EVM_CONFIRMATIONS - 1,
    });
    this.faults = new NodeFaultDriver(this.chain, this.scheduler, rng.fork(), host.honest, {
      gapMs: 4_000,
      durationMsMax: 3_000,
      lagBlocksMax: 3,
      slowProbability: 0.2,
      slowMs: 20_000,
    });
    this.race = drawRaceProfile(new Rng(host.seed, "evm-race"), host.honest);
    const automineMs = this.race?.automineMs;
    if (automineMs !== undefined)
      this.chain.onSend = () => {
        if (this.automineQueued) return;
        this.automineQueued = true;
        this.host.schedule(this.host.now() + automineMs, () => {
          this.automineQueued = false;
          this.chain.mine();
          this.stats.evmAutomined++;
        });
      };
    this.producer.start();
    this.faults.start();
    const users = rng.range(1, 3);
    for (let i = 0; i < users; i++)
      this.users.push(new BridgeUser(i, this, new Rng(host.seed, `evm-user-${i}`)));
    this.stats.evmUsers = users;
    for (const u of this.users) u.start();
    for (const b of host.byzantine) {
      const byz = new ByzantineBridge(b, this, new Rng(host.seed, `evm-byzantine-${b}`));
      this.byzantine.set(b, byz);
      byz.start();
    }
    this.deep =
      deepReorg !== false
        ? new EvmDeepReorgs(
            this,
            this.chain,
            EVM_CONFIRMATIONS,
            new Rng(host.seed, "evm-deep-reorg"),
            deepReorg === "notes" ? () => this.notesAddresses : undefined,
          )
        : undefined;
    this.deep?.start();
    if (lyingNode) {
      const liarRng = new Rng(host.seed, "evm-liar");
      if (host.byzantine.length < faultTolerance(n)) {
        this.liar = {
          g: liarRng.pick(host.honest),
          lies: drawLies(liarRng),
          rng: liarRng,
          stats: emptyLiarStats(),
        };
        this.liar.stats.evmLiar = 1;
        host.note(
          `evm ${this.liar.g}'s node lies: ${JSON.stringify(this.liar.lies, (_, x: unknown) => (typeof x === "bigint" ? x.toString() : x))}`,
        );
      }
    }
    // Not in the deep-reorg world, whose fixed seeds (8, 9, 15) keep their runs, but in its notes
    // variant (--evm-deep-reorg-notes).
    if (xmr !== undefined && deepReorg !== true) this.startNotesUsers();
    // Deposit-funded mints refunded in Monero (refund-users.ts): `--evm-monero-refund`, so that the
    // seeds of `--evm --monero` keep their runs.
    if (xmr !== undefined && refundUsers) this.startRefundUsers();
  }

  /** 1-2 users minting from an XMR deposit with a Monero refund address, their own streams. */
  private startRefundUsers(): void {
    const count = new Rng(this.host.seed, "evm-refund-users").range(1, 2);
    this.refundStats.evmRefundXmrUsers = count;
    for (let i = 0; i < count; i++) {
      const u = new RefundUser(
        200 + i,
        this,
        new Rng(this.host.seed, `evm-refund-user-${i}`),
        this.refundStats,
      );
      this.refundUsers.push(u);
      u.start();
    }
  }

  /**
   * Notes bridge users (`--evm --monero`; streams of their own, so every other draw of the seed is as
   * before): 1-2 per seed, each XMR -> notes -> wXMR -> notes -> XMR (bridge-users.ts) with its own
   * driven wallet (crashing now and then mid-operation), half of them with a second device that
   * spends the deposit's notes into a withdrawal at the moment the first spends them into the mint
   * output.
   */
  private startNotesUsers(): void {
    const host = this.host;
    const rng = new Rng(host.seed, "evm-notes-users");
    const count = rng.range(1, 2);
    this.stats.evmNotesUsers = count;
    for (let i = 0; i < count; i++) {
      const r = new Rng(host.seed, `evm-notes-user-${i}`);
      const id = 100 + i;
      // At most four notes' worth, so that the deposit is split into notes with nothing donated, and whatever the
      // path's fees leave (a mint fee per note, a refundable mint's fee, the payout fee of 3,000) is
      // above the payout minimum: half of them 4,096 or 4,608 (a mint below SINGLE_MINT_CAP), half
      // four notes of 2^11..2^12 (8,192..16,384: a delayed mint).
      const small = r.chance(0.5);
      const deposit = small
        ? r.pick([4_096n, 4_608n])
        : [0, 1, 2, 3].reduce((a) => a + denominationAmount(r.range(11, 12)), 0n);
      const plan = {
        opGapMs: 1_000,
        // Crashes mid-operation (a wallet polls every 60-400 ms, crashing with crashRate / 4 while
        // an operation is in flight, down 50-3,000 ms): at most a few per path.
        crashRate: r.chance(0.3) ? 0 : r.between(0.02, 0.1),
        cheatRate: 0,
        driven: true,
      };
      const wallet = (k: number) =>
        new Wallet(
          2 * id + k,
          this.app,
          new Rng(host.seed, `evm-notes-wallet-${i}-${k}`),
          () => [],
          plan,
          this.notesWalletStats,
          [],
        );
      const main = wallet(0);
      const twin = r.chance(0.5) ? wallet(1) : undefined;
      const address = simAddress("mainnet", "standard", `evm-notes-user-${host.seed}-${i}`);
      const user = new BridgeUser(id, this, r, { wallet: main, twin, deposit, address });
      this.users.push(user);
      this.notesAddresses.add(user.evm.toLowerCase());
      main.start();
      twin?.start();
      user.start();
    }
  }

  /**
   * A guardian halts (the accountant, checkBooks). After a deep reorg left an accepted burn out of
   * the chain the supply exceeds Σ signed − Σ burned by at most the burns taken out: that halt is the
   * product's rule at work (counted); any other halt is a violation.
   */
  private onHalt(g: number, reason: string): void {
    const m = /supply on chain (\d+) exceeds the (-?\d+) piconero/.exec(reason);
    const excess = m === null ? undefined : BigInt(m[1]!) - BigInt(m[2]!);
    const at = this.app.bridgeAt(g);
    const takenOut =
      at === undefined ? 0n : this.takenOut(at.processor.moduleReadDb(this.host.disk(g).state, BRIDGE_ID));
    const liar = this.liar;
    if (
      liar?.g === g &&
      liar.lies.supplyExcess > 0n &&
      excess !== undefined &&
      excess <= liar.lies.supplyExcess + takenOut
    ) {
      // The accountant's rule on its node's lie: it cannot tell it from a stolen mint (evm-liar.ts).
      liar.stats.evmLiarHalts++;
      this.host.note(`evm ${g} halts on its lying node's supply: ${reason}`);
      return;
    }
    if (this.deep !== undefined && excess !== undefined && excess <= takenOut) {
      this.deep.stats.evmDeepHalts++;
      this.host.note(`evm ${g} halts after a burn was taken out by a deep reorg: ${reason}`);
      return;
    }
    this.host.violation(`guardian ${g} halts: ${reason}`);
  }

  /**
   * Σ amounts of the burns this state accepted that a deep reorg took out of the chain: their
   * transaction was left out of a fork, or moved to the fork's first block and reverted there (the
   * mint that funded it was left out). Their wXMR is back in the chain's figures (or never left).
   */
  takenOut(db: ReadTx): bigint {
    const deep = this.deep;
    if (deep === undefined) return 0n;
    const onChain = new Set<string>();
    for (const b of this.canonicalBurns().values()) onChain.add(toHex(b.txHash));
    const records = new BridgeState(db);
    let sum = 0n;
    for (const [k] of db.scan(Uint8Array.of(0x03))) {
      if (k.length !== 37) continue;
      const txHash = k.subarray(1, 33);
      const name = toHex(txHash);
      if (onChain.has(name) || !deep.touched(`0x${name}`)) continue;
      sum += records.burn({ txHash, logIndex: new DataView(k.buffer, k.byteOffset + 33).getUint32(0) })!.burn
        .amount;
    }
    return sum;
  }

  /** The first running honest guardian's bridge state. */
  firstState(): { g: number; db: ReadTx; bridge: BridgeServerModule } | undefined {
    for (const g of this.host.honest) {
      const at = this.app.bridgeAt(g);
      if (at !== undefined)
        return { g, db: at.processor.moduleReadDb(this.host.disk(g).state, BRIDGE_ID), bridge: at.bridge };
    }
    return undefined;
  }

  /** The state of the payout at output 0 of `txid` at the first running honest guardian. */
  firstMoneroState(txid: string): string | undefined {
    for (const g of this.host.honest) {
      const at = this.xmr?.app.moneroAt(g);
      if (at === undefined) continue;
      const db = at.processor.moduleReadDb(this.host.disk(g).state, MONERO_ID);
      try {
        return at.monero.payoutView(db, { txid, index: "0" }).state;
      } catch {
        return "unknown";
      }
    }
    return undefined;
  }

  /** A mint output's deposit id (of re-issue `attempt` for a 0x01 output). */
  depositIdOf(key: MintKey, attempt = 0): Hex32 {
    const first = outputDepositId(this.federationId, key.txid, key.index);
    return attempt === 0 ? first : reissueDepositId(first, attempt);
  }

  /** Guardian g's bridge module, built fresh at each (re)start with its key and its node. */
  module(g: number): BridgeServerModule {
    const Module = bridgeModuleClass(this.bug);
    const config =
      this.bug === "bridge-credit-before-depth" ? { ...this.config, confirmations: 1 } : this.config;
    const m = new Module(BRIDGE_ID, config, {
      evmKey: evmKey(this.host.n, g),
      source: this.sourceOf(g),
      pollMs: BRIDGE_POLL_MS,
      autoPoll: false,
    });
    m.start({
      self: g,
      federationId: this.federationId,
      wake: () => {
        if (this.race !== undefined) this.app.wake(g);
      },
      halt: (reason) => this.onHalt(g, reason),
      log: (event, fields) => {
        if (event === "supply_check") {
          this.stats.evmSupplyChecks++;
          this.seeSupplyCheck(g, m);
        }
        this.host.note(
          `evm ${g} ${event} ${JSON.stringify(fields, (_, x: unknown) => (typeof x === "bigint" ? x.toString() : x)).slice(0, 200)}`,
        );
      },
    });
    return m;
  }

  /** Guardian g's EVM node: the liar's lies over its honest node's answers (evm-liar.ts). */
  private sourceOf(g: number): EvmSource {
    const honest = this.chain.source(g, this.scheduler, this.nodeRngs[g]!);
    const liar = this.liar;
    if (liar?.g !== g) return honest;
    return new LyingEvmSource(honest, this.chain, liar.lies, liar.rng, () => this.host.now(), liar.stats);
  }

  /** Polls guardian g's watcher every BRIDGE_POLL_MS while `alive` (one poll at a time). */
  started(g: number, alive: () => boolean): void {
    const pollMs = this.race?.pollMs ?? BRIDGE_POLL_MS;
    const pump = (): void => {
      if (!alive()) return;
      this.host.schedule(this.host.now() + pollMs, pump);
      const at = this.app.bridgeAt(g);
      const watcher = at?.bridge.burnWatcher;
      if (at === undefined || watcher === undefined || this.busy.has(g)) return;
      this.busy.add(g);
      // The proposal sets where the scan resumes and the expiry checks wanted (as the daemon's loop).
      const db = at.processor.moduleReadDb(this.host.disk(g).state, BRIDGE_ID);
      const read = watcher.totalSupplyAtHead;
      at.bridge.consensusProposal(db);
      // The accountant's rule (checkBooks, before every proposal): a node that shows more wXMR than
      // Σ signed − Σ burned (and is not behind the accepted burns) makes the guardian propose that
      // reading, judged where consensus orders it (a halt if a mint is still unsigned there).
      const state = new BridgeState(db);
      const t = state.totals();
      if (
        read !== undefined &&
        read.supply > t.signed - t.burned &&
        state.highestBurnBlock() <= read.block &&
        at.bridge.brokenBooks === undefined &&
        at.bridge.pendingSupplyCheck === undefined
      )
        this.host.violation(
          `guardian ${g}: its node shows wXMR supply ${read.supply} above Σ signed − Σ burned ${t.signed - t.burned}, and it proposed no supply check`,
        );
      if (this.liar?.g === g) this.liarChecks(g, at.bridge, state, read);
      this.seeSupplyCheck(g, at.bridge);
      // Since when this guardian's current supply check waits to be judged (one per reading).
      const pending = at.bridge.pendingSupplyCheck;
      if (pending === undefined) this.supplyCheckSince.delete(g);
      else if (this.supplyCheckSince.get(g)?.check !== pending)
        this.supplyCheckSince.set(g, { check: pending, since: this.host.now() });
      void watcher
        .poll()
        .catch((e: unknown) => {
          this.stats.evmPollFailures++;
          this.host.note(`evm ${g} poll failed: ${String(e).slice(0, 120)}`);
        })
        .finally(() => this.busy.delete(g));
    };
    this.host.schedule(this.host.now() + pollMs, pump);
  }

  /**
   * The liar's operator must be told when its node's head is stuck below an accepted burn (the
   * accountant cannot check the supply then): the alert `wxmr_supply_unchecked` once the module has
   * taken ACCOUNTANT_BLIND_READINGS readings of its node's supply in a row below that burn's block,
   * or a violation. Called at each of the liar's proposals, with the reading it was made on.
   */
  private liarChecks(
    g: number,
    bridge: BridgeServerModule,
    state: BridgeState,
    read: object | undefined,
  ): void {
    const liar = this.liar!;
    const unchecked = bridge.alerts().some((a) => a.code === "wxmr_supply_unchecked");
    if (unchecked && liar.stats.evmLiarBlindAlerts === 0) {
      liar.stats.evmLiarBlindAlerts = 1;
      this.host.note(`evm ${g} alert: ${bridge.alerts()[0]!.message}`);
    }
    const stuckBelow =
      liar.lies.head === "stuck" &&
      read !== undefined &&
      bridge.brokenBooks === undefined &&
      state.highestBurnBlock() > BigInt(liar.lies.headBlocks);
    if (!stuckBelow) {
      liar.blind = undefined;
      return;
    }
    if (liar.blind?.last !== read) liar.blind = { readings: (liar.blind?.readings ?? 0) + 1, last: read };
    if (!unchecked && liar.blind.readings === ACCOUNTANT_BLIND_READINGS + 1)
      this.host.violation(
        `guardian ${g}'s node is stuck at block ${liar.lies.headBlocks}, below accepted burns (block ${state.highestBurnBlock()}), for ${liar.blind.readings - 1} readings, and no alert says the supply is unchecked`,
      );
  }

  /** Remembers guardian g's supply check waiting to be judged, if any (see judgedSupplyCheck). */
  private seeSupplyCheck(g: number, bridge: BridgeServerModule): void {
    const check = bridge.pendingSupplyCheck;
    if (check !== undefined) this.checkSeen.set(g, { bridge, check });
  }

  /**
   * The accountant's rule, in every --evm world: a supply check of guardian g that is no longer
   * waiting, while g has not halted, was judged within the books: its reading (supply S after EVM
   * block B, Σ burned B_s and Σ returned R_s in g's state then) has S + B_s <= Σ signed + (Σ returned
   * − R_s) in g's state after the block that judged it (server.ts supplyChecked judges at the item's
   * place in the block; later mints and returns in the block only raise the bound here). A node that
   * showed more wXMR than the books allow, judged without a halt, is a guardian that keeps signing:
   * only a burn a deep reorg took out (--evm-deep-reorg) shows one without a mint never signed.
   */
  private judgedSupplyCheck(
    g: number,
    bridge: BridgeServerModule,
    records: BridgeState,
    at: string,
    violation: (what: string) => void,
  ): void {
    const seen = this.checkSeen.get(g);
    if (seen === undefined || (seen.bridge === bridge && bridge.pendingSupplyCheck === seen.check)) return;
    this.checkSeen.delete(g);
    if (seen.bridge !== bridge || bridge.brokenBooks !== undefined) return;
    const c = seen.check;
    const t = records.totals();
    const signed = t.signed + (t.returnedEver - c.returned);
    if (c.supply + c.burned > signed)
      violation(
        `${at}: its supply check (wXMR supply ${c.supply} after EVM block ${c.block}, Σ burned ${c.burned} then) was judged without a halt, though Σ signed is ${signed}: its node showed more wXMR than its books allow and it has not halted`,
      );
  }

  /** Past the liveness bound: until the notes users' withdrawals in flight are past their bounds. */
  runsUntil(): number | undefined {
    return this.xmr?.latestDeadline([
      ...this.users.map((u) => (u.settled ? undefined : u.payoutPendingSince)),
      ...this.refundUsers.map((u) => u.payoutPendingSince),
    ]);
  }

  heal(): void {
    this.healedAt = this.host.now();
    this.faults.heal();
  }

  settled(): boolean {
    return (
      (this.deep?.finished() ?? true) &&
      this.users.every((u) => u.settled || this.stranded(u)) &&
      this.refundUsers.every((u) => u.settled) &&
      this.undecided().length === 0
    );
  }

  /**
   * A user a deep reorg stranded: one of its EVM transactions was moved or left out (a burn moved
   * below every watcher's last scanned block is never voted again; a dropped mint or burn is not on
   * the chain), or the guardians halted after a burn was taken out (they sign no mint any more).
   */
  private stranded(u: BridgeUser): boolean {
    const deep = this.deep;
    if (deep === undefined) return false;
    return deep.stats.evmDeepHalts > 0 || u.evmTxs().some((h) => deep.touched(h));
  }

  /** Refundable mints no decision (minted or returned) is known for, at the first honest guardian that runs. */
  private undecided(): MintKey[] {
    const g = this.host.honest.find((h) => this.app.bridgeAt(h) !== undefined);
    const at = g === undefined ? undefined : this.app.bridgeAt(g);
    if (g === undefined || at === undefined) return this.refundable;
    const state = new BridgeState(at.processor.moduleReadDb(this.host.disk(g).state, BRIDGE_ID));
    return this.refundable.filter((k) => state.expiryOutcome(k) === undefined);
  }

  finish(): void {
    // A double spend of one set of notes: exactly one of the two spends accepted, the other rejected.
    for (const r of this.notesRaces) {
      const mint = r.mintWallet.finished.get(r.mint);
      const withdraw = r.withdrawWallet.finished.get(r.withdraw);
      if (mint === "accepted" && withdraw === "accepted")
        this.host.violation(
          `notes bridge user ${r.user}: one set of notes spent twice, into a mint output and into a withdrawal, both accepted`,
        );
      else if (mint === "rejected" && withdraw === "rejected")
        this.host.violation(
          `notes bridge user ${r.user}: both spends of one set of notes (mint output and withdrawal) rejected`,
        );
    }
    for (const u of this.users) {
      // A notes user's withdrawal is judged by the withdrawal bound from its acceptance (monero.ts
      // withdrawalBoundMs; the run goes on to it, runsUntil), not by the 60 s after the heal alone:
      // its path (a deposit credited, notes, wXMR minted and burned, notes again) puts the withdrawal
      // late, often behind another batch (seed 7, N = 4, one Byzantine: accepted 1 s after the heal,
      // batch 1 confirmed 29 s after it, its own batch still signing at 60 s). Counted only if the
      // run's extension was capped before its deadline (EXTENSION_MS_MAX); paid late is a violation.
      const pending = u.payoutPendingSince;
      const deadline = pending === undefined ? undefined : this.xmr?.payoutDeadline(pending);
      if (!u.settled && deadline !== undefined && this.host.now() < deadline) {
        this.stats.evmNotesPayoutsPendingAtEnd++;
        this.host.note(`${u.describe()}: its payout still being made at the end (accepted at ${pending} ms)`);
      } else if (!u.settled && this.stranded(u)) {
        this.deep!.stats.evmDeepStranded++;
        this.host.note(`${u.describe()}: stranded by a deep reorg`);
      } else if (!u.settled)
        this.host.violation(
          `liveness: ${u.describe()}, not finished within the liveness bound after the heal`,
        );
    }
    for (const u of this.refundUsers) {
      u.finish();
      const pending = u.payoutPendingSince;
      const deadline = pending === undefined ? undefined : this.xmr?.payoutDeadline(pending);
      if (deadline !== undefined && this.host.now() < deadline) {
        this.refundStats.evmRefundXmrPendingAtEnd++;
        this.host.note(`${u.describe()}: its refund still being paid at the end (decided at ${pending} ms)`);
      } else if (!u.settled)
        this.host.violation(
          `liveness: ${u.describe()}, not finished within the liveness bound after the heal`,
        );
    }
    // A supply check is judged where consensus orders it: after the heal, within the bound.
    for (const [g, { since }] of this.supplyCheckSince) {
      const at = this.app.bridgeAt(g);
      const from = Math.max(since, this.healedAt ?? since);
      if (
        this.host.honest.includes(g) &&
        at !== undefined &&
        at.bridge.brokenBooks === undefined &&
        at.bridge.pendingSupplyCheck !== undefined &&
        this.host.now() - from > SUPPLY_CHECK_JUDGED_MS
      )
        this.host.violation(
          `liveness: guardian ${g}'s supply check (proposed at ${since} ms) was not judged within ${SUPPLY_CHECK_JUDGED_MS} ms after the heal`,
        );
    }
    for (const k of this.undecided())
      this.host.violation(
        `liveness: refundable mint ${toHex(k.txid).slice(0, 12)}:${k.index} neither decided minted nor returned within the liveness bound after the heal`,
      );
    this.producer.stop();
    if (this.deep !== undefined) this.deepReorgEnd(this.deep);
  }

  /**
   * At the end of a deep-reorg run, at every running honest guardian: its supply figure at depth is
   * the chain's at that block (a supply that dropped or rose is shown as it is); the halted ones are
   * counted (that a guardian halts when its node shows too much wXMR is checked at every proposal).
   */
  private deepReorgEnd(deep: EvmDeepReorgs): void {
    deep.finish();
    for (const g of this.host.honest) {
      const at = this.app.bridgeAt(g);
      if (at === undefined) continue;
      const watcher = at.bridge.burnWatcher;
      const deepSupply = watcher?.totalSupplyAtDepth;
      // A figure read at a block the latest deep reorg replaced, before the watcher's next polls
      // (BRIDGE_POLL_MS), may be the old branch's: not judged.
      const fork = deep.lastFork;
      const replaced =
        fork !== undefined &&
        this.host.now() - fork.atMs < 3 * BRIDGE_POLL_MS &&
        Number(deepSupply?.block ?? 0) >= fork.block;
      if (deepSupply !== undefined && Number(deepSupply.block) < this.chain.height() && !replaced) {
        const real = this.chain.totalSupply(Number(deepSupply.block));
        if (real !== deepSupply.supply)
          this.host.violation(
            `guardian ${g} shows wXMR supply ${deepSupply.supply} at block ${deepSupply.block}, the chain ${real}`,
          );
      }
      if (at.bridge.brokenBooks !== undefined) deep.stats.evmDeepHaltedAtEnd++;
    }
  }

  statsRecord(): Record<string, number> {
    this.stats.evmReorgs = [...this.producer.reorgs.values()].reduce((a, b) => a + b, 0);
    this.stats.evmFaultEpisodes = [...this.faults.episodes.values()].reduce((a, b) => a + b, 0);
    this.stats.evmAcceptedBurns = this.acceptedSeen.size;
    this.stats.evmRefundableMints = this.refundable.length;
    this.stats.evmNotesWalletCrashes = this.notesWalletStats.crashes;
    this.stats.evmNotesWalletResubmits = this.notesWalletStats.resubmits;
    return {
      ...this.stats,
      ...(this.deep?.stats ?? {}),
      ...(this.liar?.stats ?? {}),
      ...(this.refundUsers.length > 0 ? this.refundStats : {}),
    };
  }

  // ---------------------------------------------------------------- what users and attackers read

  /** A random honest guardian's bridge state, if its process runs. */
  anyState(rng: Rng): { g: number; db: ReadTx; bridge: BridgeServerModule } | undefined {
    const g = rng.pick(this.host.honest);
    const at = this.app.bridgeAt(g);
    if (at === undefined) return undefined;
    return { g, db: at.processor.moduleReadDb(this.host.disk(g).state, BRIDGE_ID), bridge: at.bridge };
  }

  /** A head at least `confirmations` deep on the canonical chain: block numbers at or below are final. */
  depthBlock(): number {
    return this.chain.height() - EVM_CONFIRMATIONS;
  }

  // ---------------------------------------------------------------- the bridge money checkers

  private canonicalBurns(): Map<string, BurnSeen> {
    const head = this.chain.head().hash;
    if (this.canonical?.head !== head) {
      const burns = new Map<string, BurnSeen>();
      for (const b of this.chain.burns(0, this.chain.height() - 1))
        burns.set(keyName(b.txHash, b.logIndex), b);
      this.canonical = { head, burns };
    }
    return this.canonical.burns;
  }

  /**
   * RaceProfile, after honest guardian g processed a block: the laggard's next messages are held
   * (it decides the next height lagMs after the others), and users waiting for signatures look
   * again once the block is in the state (the next event).
   */
  private raceAfterBlock(g: number, height: number, race: RaceProfile): void {
    if (g !== race.laggard && height > this.laggedAt) {
      this.laggedAt = height;
      this.host.lag(race.laggard, this.host.now() + race.lagMs);
      this.stats.evmLaggardHolds++;
    }
    if (this.nudgeQueued) return;
    this.nudgeQueued = true;
    this.host.schedule(this.host.now(), () => {
      this.nudgeQueued = false;
      // A colluding Byzantine guardian first: the fastest submitter (bridge-byzantine.ts nudge).
      for (const byz of this.byzantine.values()) byz.nudge();
      for (const u of this.users) u.nudge();
    });
  }

  afterBlock(
    g: number,
    height: number,
    state: ReadTx,
    processor: FederationProcessor,
    bridge: BridgeServerModule | undefined,
    mintOutputs: bigint,
    violation: (what: string) => void,
  ): void {
    if (bridge === undefined) return;
    this.stats.evmChecks++;
    if (this.race !== undefined) this.raceAfterBlock(g, height, this.race);
    const db = processor.moduleReadDb(state, BRIDGE_ID);
    const at = `guardian ${g} at height ${height}`;
    const records = new BridgeState(db);
    this.judgedSupplyCheck(g, bridge, records, at, violation);
    this.seeSupplyCheck(g, bridge);
    const canonical = this.canonicalBurns();
    // Accepted burns: real, at depth when first seen, one key per burn id.
    let burned = 0n;
    const byBurnId = new Map<bigint, string>();
    const byTx = new Map<string, string>();
    for (const [k] of db.scan(Uint8Array.of(0x03))) {
      if (k.length !== 37) continue;
      const key = {
        txHash: k.subarray(1, 33),
        logIndex: new DataView(k.buffer, k.byteOffset + 33).getUint32(0),
      };
      const accepted = records.burn(key)!;
      const name = keyName(key.txHash, key.logIndex);
      const real = canonical.get(name);
      burned += accepted.burn.amount;
      const txName = toHex(key.txHash);
      const otherKey = byTx.get(txName);
      // Every simulated burn transaction emits one Burned log: two keys are one burn accepted twice
      // (after a deep reorg moved it to another block and log index: paid twice).
      if (otherKey !== undefined)
        violation(
          `${at}: burn transaction ${txName.slice(0, 12)} accepted under two keys (${otherKey.slice(0, 16)} and ${name.slice(0, 16)}): one burn accepted twice`,
        );
      byTx.set(txName, name);
      if (
        (real === undefined || !sameBurn(real, accepted.burn)) &&
        this.deep?.touched(`0x${txName}`) === true
      )
        this.deep.stats.evmDeepBurnChecksExcused++;
      else if (real === undefined || !sameBurn(real, accepted.burn))
        violation(
          `${at}: accepted burn ${name.slice(0, 16)} (amount ${accepted.burn.amount}, burn id ${accepted.burn.burnId}) ` +
            (real === undefined
              ? "is no Burned log of the chain"
              : `differs from the chain's (amount ${real.amount})`),
        );
      if (!this.acceptedSeen.has(name)) {
        this.acceptedSeen.add(name);
        // First seen accepted: its block must be at the depth on the canonical chain (an honest
        // guardian's node shows a prefix of it, and t votes hold at least one honest one).
        if (real !== undefined && Number(accepted.burn.blockNumber) > this.depthBlock())
          violation(
            `${at}: burn ${name.slice(0, 16)} in block ${accepted.burn.blockNumber} accepted before its depth (head ${this.chain.height() - 1}, ${EVM_CONFIRMATIONS} confirmations)`,
          );
      }
      const other = byBurnId.get(accepted.burn.burnId);
      if (other !== undefined && real !== undefined && this.deep === undefined)
        violation(
          `${at}: burn id ${accepted.burn.burnId} accepted twice (${other.slice(0, 16)} and ${name.slice(0, 16)})`,
        );
      byBurnId.set(accepted.burn.burnId, name);
    }
    if (this.xmr !== undefined) this.checkPayouts(processor, state, records, at, violation);
    // Expiry decisions against the chain.
    const mintedIds = new Set<Hex32>();
    for (const l of this.chain.logs()) if (l.event === "Minted") mintedIds.add(l.depositId);
    let returned = 0n;
    for (const [k] of db.scan(Uint8Array.of(0x0a))) {
      if (k.length !== 37) continue;
      const txid = k.subarray(1, 33);
      const index = new DataView(k.buffer, k.byteOffset + 33).getUint32(0);
      const outcome = records.expiryOutcome({ txid, index });
      const depositId = outputDepositId(this.federationId, txid, index);
      const used = this.chain.depositUsed(depositId);
      // Since 3e0d993 a delayed mint a guardian cancelled is returned (its deposit id stays used):
      // minted means a Minted log or a mint still queued on the chain.
      const minted = mintedIds.has(depositId) || this.chain.pendingMint(depositId) !== undefined;
      if ((outcome === "returnable" || outcome === "refunded" || outcome === "paid_out") && minted)
        violation(
          `${at}: mint ${toHex(txid).slice(0, 12)}:${index} was ${outcome} and its deposit id is used on the chain: minted and returned`,
        );
      if (outcome === "minted" && !used && this.deep?.droppedMintIds.has(depositId) !== true)
        violation(
          `${at}: mint ${toHex(txid).slice(0, 12)}:${index} decided minted, its deposit id unused on the chain`,
        );
      if (outcome !== "minted") returned += records.mint(txid, index)?.amount ?? 0n;
    }
    if (height < this.leadHeight) return;
    this.leadHeight = height;
    // What the federation signed, by deposit id: accepted mint outputs and re-mints.
    const signed = new Map<Hex32, { recipient: EvmAddress; amount: bigint; value: string }>();
    let reminted = 0n;
    // A mint without refund key is signed under its first deposit id and, once re-issued, under
    // the id of each attempt up to the current one: all of them are one value.
    const issues = (first: Hex32, attempt: number, r: { recipient: EvmAddress; amount: bigint }): void => {
      for (let a = 0; a <= attempt; a++) signed.set(reissueDepositId(first, a), { ...r, value: first });
    };
    for (const [k] of db.scan(Uint8Array.of(0x02))) {
      if (k.length !== 37) continue;
      const txid = k.subarray(1, 33);
      const index = new DataView(k.buffer, k.byteOffset + 33).getUint32(0);
      const r = records.mint(txid, index)!;
      const attempt = r.refundKey ? 0 : (records.reissue({ txid, index })?.attempt ?? 0);
      issues(outputDepositId(this.federationId, txid, index), attempt, r);
    }
    for (const [k] of db.scan(Uint8Array.of(0x07))) {
      if (k.length !== 37) continue;
      const txHash = k.subarray(1, 33);
      const logIndex = new DataView(k.buffer, k.byteOffset + 33).getUint32(0);
      const r = records.remint({ txHash, logIndex })!;
      reminted += r.amount;
      const attempt = records.reissue({ txid: txHash, index: logIndex, remint: true })?.attempt ?? 0;
      issues(remintDepositId(this.federationId, txHash, logIndex), attempt, r);
    }
    const mintCounts = new Map<Hex32, { delayed: number; minted: number }>();
    for (const l of this.chain.logs()) {
      if (l.event !== "MintDelayed" && l.event !== "Minted") continue;
      const s = signed.get(l.depositId);
      if (s === undefined || s.recipient !== l.recipient || s.amount !== l.amount)
        violation(
          `${at}: ${l.event} on the chain for deposit id ${l.depositId.slice(0, 12)} (${l.amount} to ${l.recipient.slice(0, 10)}) that the federation never signed so`,
        );
      const count = mintCounts.get(l.depositId) ?? { delayed: 0, minted: 0 };
      if (l.event === "MintDelayed") count.delayed++;
      else count.minted++;
      mintCounts.set(l.depositId, count);
    }
    const valuesOnChain = new Map<string, Hex32>();
    for (const [id, count] of mintCounts) {
      if (count.delayed > 1 || count.minted > 1)
        violation(`${at}: deposit id ${id.slice(0, 12)} minted more than once on the chain`);
      const value = signed.get(id)?.value;
      if (value === undefined) continue;
      // A delayed mint a guardian cancelled minted nothing (threat model 12z), and its value may be
      // re-issued under another id: minted means a Minted log or still queued (as for expiries).
      // Found when the colluding Byzantine guardian sent a re-issue of a mint it had cancelled
      // (--evm-deep-reorg seed 1, no deep reorg in it).
      if (count.minted === 0 && this.chain.pendingMint(id) === undefined) continue;
      const other = valuesOnChain.get(value);
      if (other !== undefined && other !== id)
        violation(
          `${at}: one signed value minted under two deposit ids (${other.slice(0, 12)} and ${id.slice(0, 12)}): a re-issue and its predecessor both on the chain`,
        );
      valuesOnChain.set(value, id);
    }
    const onChain = this.chain.totalSupply() + this.chain.pendingTotal();
    // Burns a deep reorg took out of the chain are back in their burners' hands, and still counted
    // burned: the supply may exceed the books by that much (the accountant halts, onHalt).
    const takenOut = this.takenOut(db);
    const backed = mintOutputs + reminted - burned - returned + takenOut;
    if (onChain > backed)
      violation(
        `${at}: wXMR on the chain ${onChain} (supply ${this.chain.totalSupply()}, delayed ${this.chain.pendingTotal()}) exceeds what the federation signed and has not seen burned or returned: ${backed}`,
      );
    const audit = processor.audit(state);
    const mine = audit.modules.find((m) => m.instanceId === BRIDGE_ID)?.audit.liabilities ?? 0n;
    const t = records.totals();
    const owed = audit.liabilities - mine + onChain + t.unsettled + t.returnable;
    if (audit.assets + takenOut < owed)
      violation(
        `${at}: reserves ${audit.assets} below e-cash ${audit.liabilities - mine} + wXMR on the chain ${onChain} + owed burns ${t.unsettled} + returns ${t.returnable}`,
      );
  }

  /**
   * With the monero module: every burn accepted as a payout is one payout of the monero module, under
   * its ref (burnPayoutRef), to the burn's address, paying its amount less the fee and no more; and
   * every payout the bridge asked for is such a burn's (a burn paid at most once). That each payout is
   * paid at most once on the chain is the monero world's payout checker's.
   */
  private checkPayouts(
    processor: FederationProcessor,
    state: ReadTx,
    records: BridgeState,
    at: string,
    violation: (what: string) => void,
  ): void {
    const store = new PayoutStore(processor.moduleReadDb(state, MONERO_ID));
    const refs = new Set<string>();
    for (const [k] of processor.moduleReadDb(state, BRIDGE_ID).scan(Uint8Array.of(0x03))) {
      if (k.length !== 37) continue;
      const key = {
        txHash: k.subarray(1, 33),
        logIndex: new DataView(k.buffer, k.byteOffset + 33).getUint32(0),
      };
      const accepted = records.burn(key)!;
      if (accepted.settlement !== "payout") continue;
      const name = keyName(key.txHash, key.logIndex).slice(0, 16);
      const ref = burnPayoutRef(key);
      refs.add(toHex(ref));
      const seq = store.seqOf(requestOutPoint(BRIDGE_ID, ref));
      const p = seq === undefined ? undefined : store.payout(seq);
      const address = new TextDecoder().decode(accepted.burn.destination);
      if (p === undefined)
        violation(`${at}: burn ${name} accepted as a payout, which the monero module never queued`);
      else if (
        p.address !== address ||
        p.amount + p.fee !== accepted.burn.amount ||
        p.amount !== accepted.payout?.amount
      )
        violation(
          `${at}: burn ${name} of ${accepted.burn.amount} queued as a payout of ${p.amount} + fee ${p.fee}${p.address === address ? "" : " to another address"}`,
        );
    }
    // A 0x03 mint paid back in Monero to its refund address (outcome paid_out) is the bridge's other
    // payout (8ec1f6e; no simulated user makes one yet).
    for (const [k] of processor.moduleReadDb(state, BRIDGE_ID).scan(Uint8Array.of(0x0a))) {
      if (k.length !== 37) continue;
      const key = { txid: k.subarray(1, 33), index: new DataView(k.buffer, k.byteOffset + 33).getUint32(0) };
      if (records.expiryOutcome(key) === "paid_out") refs.add(toHex(mintRefundPayoutRef(key)));
    }
    for (let seq = 0; seq < store.counters().nextSeq; seq++) {
      const p = store.payout(seq)!;
      if (p.index !== (REQUESTED_PAYOUT_INDEX_MIN | BRIDGE_ID) >>> 0) continue;
      if (!refs.has(toHex(p.txid)))
        violation(
          `${at}: payout ${seq} (${p.amount} + fee ${p.fee}) asked for by the bridge for no burn it accepted as a payout (nor a mint it paid back): a burn paid twice`,
        );
    }
  }
}
