// Byzantine guardians at the bridge level, and the bridge's deliberate bugs (tests of the checkers).
//
// A Byzantine guardian (its profile drawn from the seed, its own stream) runs no bridge module; it
// reads the chain and an honest guardian's state as an adversary could, and every BRIDGE_POLL_MS:
//   - reports a false scanned block and timestamp (far above the chain's, or at 1);
//   - votes burns that never happened, real burns with twice the amount, and real burns with its
//     own claim key as the destination, t times in one bundle, again at every step;
//   - votes on due refundable mints the opposite of what the chain shows, the same way;
//   - answers a user's request for its mint signature with a signature by its real key of the mint
//     to its own address, of twice the amount, or with garbage;
//   - submits accepted mints to the chain itself with t honest guardians' public signatures, before
//     their users do (or instead of users who meant never to submit and take them back);
//   - cancels every delayed mint (above singleMintCap) it sees queued on the chain (threat model 12z:
//     the value is frozen, neither minted nor returned; the users count it, the checkers do not
//     call it a violation because the federation still holds and owes it).
// And in the race world (bridge.ts RaceProfile), drawn on its own stream (`evm-colluder-<b>`, so the
// profile above, and every seed that does not draw it, run as before), half of them collude with
// users instead of hindering them:
//   - a colluder answers a user's request with its HONEST signature of the mint (right recipient,
//     amount, deposit id and deadline): a user then needs t − 1 honest signatures, not t, so an
//     honest guardian may be a height behind a mint that is already on the chain (at N = 4 with one
//     Byzantine guardian a user otherwise needs all three honest ones);
//   - it is the fastest submitter: after every height an honest guardian processed it reads the
//     honest guardians' states and sends every accepted mint (output or re-mint) the moment t − 1
//     honest guardians signed it, with its own signature as the t-th, before a lagging honest
//     guardian has processed that height.
import { encodeConsensusItem, toHex } from "@conclave/core-common";
import type { ModuleContext, ModuleLinks, ModuleResult, ReadTx, WriteTx } from "@conclave/core-server";
import {
  BridgeServerModule,
  BridgeState,
  BridgeStateWriter,
  BURN_TO_CLAIM,
  decodeBridgeItem,
  encodeBridgeItem,
  evmAddressOfKey,
  outputDepositId,
  quorumThreshold,
  sameBurn,
  signMint,
} from "@conclave/module-bridge";
import type { BridgeItem, EvmAddress, GuardianSignature, MintSignatureView } from "@conclave/module-bridge";
import { bytesToHex } from "viem";
import { Rng } from "../rng.js";
import type { BridgeWorld } from "./bridge.js";
import { BRIDGE_ID, BRIDGE_POLL_MS, evmKey } from "./setup.js";

/**
 * Deliberate bugs (tests of the checkers only; only the harness turns them on):
 *   bridge-burn-vote-twice      one guardian's repeated vote for a burn counts as the vote of a
 *                               guardian that has not voted (booked to it), so one voter sent t
 *                               times accepts a burn;
 *   bridge-refund-ignores-used  an expiry vote's "used" is read as "unused": a mint is returned
 *                               without checking depositUsed, minted or not;
 *   bridge-credit-before-depth  the watchers read burns at the head (1 confirmation), not at depth.
 *   bridge-burn-paid-twice      (with the monero module) a burn to a Monero address is handed to
 *                               the monero module's payout queue twice, under its ref and a second
 *                               ref: the burn is paid twice in Monero.
 *   bridge-supply-halt-at-once  the accountant before d378e6f: a reading of the node's wXMR supply
 *                               above Σ signed − Σ burned halts the guardian at once, instead of
 *                               being proposed (supply_check) and judged where consensus orders
 *                               it: a guardian a height behind a mint t others signed and its user
 *                               submitted at once halts for good.
 *   bridge-supply-check-never-halts  the accountant judges its supply check against Σ signed alone,
 *                               the reading's Σ burned left out: with no mint the federation never
 *                               signed on the chain it never halts, so a guardian whose node shows
 *                               the wXMR of a burn a deep reorg took out (--evm-deep-reorg) keeps
 *                               signing mints.
 *   bridge-refund-keeps-signed  (with the monero module) a 0x03 mint paid back in Monero stays in
 *                               Σ signed: the refund does not take the mint off the books, so the
 *                               value is owed twice (as wXMR that can still come, and as the payout).
 *   bridge-refund-first-vote    (with the monero module) a 0x03 mint is paid back in Monero on its
 *                               first "unused" vote, booked as the votes of the guardians that have
 *                               not voted: one false vote (a Byzantine guardian's) refunds a mint
 *                               minted on the chain.
 */
export type BridgeBug =
  | "bridge-burn-vote-twice"
  | "bridge-refund-ignores-used"
  | "bridge-credit-before-depth"
  | "bridge-burn-paid-twice"
  | "bridge-supply-halt-at-once"
  | "bridge-no-unchecked-alert"
  | "bridge-supply-check-never-halts"
  | "bridge-refund-keeps-signed"
  | "bridge-refund-first-vote";

class BurnPaidTwice extends BridgeServerModule {
  override link(links: ModuleLinks): void {
    const payouts = links.payouts;
    if (payouts === undefined) return super.link(links);
    super.link({
      ...links,
      payouts: {
        ...payouts,
        request: (db, request) => {
          const first = payouts.request(db, request);
          if (first.ok) {
            const ref = request.ref.slice();
            ref[0] = ref[0]! ^ 1;
            payouts.request(db, { ...request, ref });
          }
          return first;
        },
      },
    });
  }
}

class BurnVoteTwice extends BridgeServerModule {
  override processConsensusItem(db: WriteTx, payload: Uint8Array, peer: number): ModuleResult<void> {
    let item: BridgeItem | undefined;
    try {
      item = decodeBridgeItem(payload);
    } catch {
      item = undefined;
    }
    if (item?.kind === "burn") {
      const state = new BridgeState(db);
      const key = { txHash: item.txHash, logIndex: item.logIndex };
      const previous = state.vote(key, peer);
      if (previous && sameBurn(previous, item)) {
        const free = this.config.guardians.findIndex((_, g) => state.vote(key, g) === undefined);
        if (free >= 0) return super.processConsensusItem(db, payload, free);
      }
    }
    return super.processConsensusItem(db, payload, peer);
  }
}

/** A 0x03 mint's expiry vote, if `payload` is one: its key, and the outcome before it. */
function refundInMoneroVote(db: WriteTx, payload: Uint8Array) {
  let item: BridgeItem | undefined;
  try {
    item = decodeBridgeItem(payload);
  } catch {
    return undefined;
  }
  if (item.kind !== "expiry" || item.remint === true) return undefined;
  const state = new BridgeStateWriter(db);
  const record = state.mint(item.txid, item.index);
  if (record?.refundAddress === undefined) return undefined;
  const key = { txid: item.txid, index: item.index };
  return { item, key, record, state, before: state.expiryOutcome(key) };
}

class RefundKeepsSigned extends BridgeServerModule {
  override processConsensusItem(db: WriteTx, payload: Uint8Array, peer: number): ModuleResult<void> {
    const v = refundInMoneroVote(db, payload);
    const r = super.processConsensusItem(db, payload, peer);
    if (v !== undefined && v.before === undefined && v.state.expiryOutcome(v.key) === "paid_out") {
      const t = v.state.totals();
      v.state.setTotals({ ...t, signed: t.signed + v.record.amount });
    }
    return r;
  }
}

class RefundFirstVote extends BridgeServerModule {
  override processConsensusItem(db: WriteTx, payload: Uint8Array, peer: number): ModuleResult<void> {
    const v = refundInMoneroVote(db, payload);
    const r = super.processConsensusItem(db, payload, peer);
    if (v === undefined || v.item.kind !== "expiry" || v.item.used || !r.ok) return r;
    // Booked as the "unused" votes of the guardians that have not voted, until decided.
    for (let g = 0; g < this.config.guardians.length; g++) {
      if (v.state.expiryOutcome(v.key) !== undefined) break;
      if (g === peer || v.state.expiryVotes(v.key).some((x) => x.guardian === g)) continue;
      super.processConsensusItem(db, payload, g);
    }
    return r;
  }
}

class RefundIgnoresUsed extends BridgeServerModule {
  override processConsensusItem(db: WriteTx, payload: Uint8Array, peer: number): ModuleResult<void> {
    try {
      const item = decodeBridgeItem(payload);
      if (item.kind === "expiry" && item.used)
        return super.processConsensusItem(db, encodeBridgeItem({ ...item, used: false }), peer);
    } catch {
      // Not a bridge item: the module's own answer below.
    }
    return super.processConsensusItem(db, payload, peer);
  }
}

/**
 * The accountant as it was before d378e6f (server.ts checkBooks): before every proposal, a reading
 * of this guardian's node above Σ signed − Σ burned in its state halts it at once (once), whatever
 * height its state is at. The real rule runs too (super), so its supply_check items are proposed.
 */
class SupplyHaltAtOnce extends BridgeServerModule {
  private ctx: ModuleContext | undefined;
  private halted = false;

  override start(context: ModuleContext): void {
    this.ctx = context;
    super.start(context);
  }

  override checkBooks(db: ReadTx): string | undefined {
    const broken = super.checkBooks(db);
    const read = this.burnWatcher?.totalSupplyAtHead;
    if (broken !== undefined || this.halted || read === undefined) return broken;
    const t = new BridgeState(db).totals();
    const backed = t.signed - t.burned;
    if (read.supply <= backed) return undefined;
    this.halted = true;
    const reason = `wXMR total supply on chain ${read.supply} exceeds the ${backed} piconero the federation signed and has not seen burned: a mint it never signed`;
    this.ctx?.halt?.(reason);
    return reason;
  }
}

/**
 * "The accountant goes blind silently": the module never shows `wxmr_supply_unchecked`, so an
 * operator whose node is stuck below the accepted burns is never told its supply goes unchecked
 * (the product before the alert; caught by the liar world's check, bridge.ts liarChecks).
 */
class NoUncheckedAlert extends BridgeServerModule {
  override alerts(): { code: string; message: string }[] {
    return super.alerts().filter((a) => a.code !== "wxmr_supply_unchecked");
  }
}

/**
 * The accountant judging its own supply check (server.ts supplyChecked) without the burns: its item
 * is judged with the reading's Σ burned taken as 0, so a supply up to Σ signed passes, the check is
 * cleared as judged, and the next reading above the books is proposed and passed again.
 */
class SupplyCheckNeverHalts extends BridgeServerModule {
  private self: number | undefined;

  override start(context: ModuleContext): void {
    this.self = context.self;
    super.start(context);
  }

  override processConsensusItem(db: WriteTx, payload: Uint8Array, peer: number): ModuleResult<void> {
    try {
      const item = decodeBridgeItem(payload);
      if (item.kind === "supply_check" && peer === this.self)
        return super.processConsensusItem(db, encodeBridgeItem({ ...item, burned: 0n }), peer);
    } catch {
      // Not a bridge item: the module's own answer below.
    }
    return super.processConsensusItem(db, payload, peer);
  }
}

export function bridgeModuleClass(bug: BridgeBug | undefined): typeof BridgeServerModule {
  if (bug === "bridge-no-unchecked-alert") return NoUncheckedAlert;
  if (bug === "bridge-burn-vote-twice") return BurnVoteTwice;
  if (bug === "bridge-refund-ignores-used") return RefundIgnoresUsed;
  if (bug === "bridge-burn-paid-twice") return BurnPaidTwice;
  if (bug === "bridge-supply-halt-at-once") return SupplyHaltAtOnce;
  if (bug === "bridge-supply-check-never-halts") return SupplyCheckNeverHalts;
  if (bug === "bridge-refund-keeps-signed") return RefundKeepsSigned;
  if (bug === "bridge-refund-first-vote") return RefundFirstVote;
  return BridgeServerModule;
}

/** False votes a Byzantine guardian keeps sending. */
const LIES_KEPT = 12;

interface Profile {
  readonly scanned: "high" | "low" | "none";
  readonly falseBurns: boolean;
  readonly falseExpiries: boolean;
  readonly badSignature: "other-recipient" | "other-amount" | "garbage" | "none";
  readonly frontRun: boolean;
  readonly cancel: boolean;
}

/**
 * Whether Byzantine guardian b of a race-world seed colludes (signs users' mints honestly, submits
 * them at once with its own signature): its own stream, so nothing else a seed draws moves.
 */
export function drawColluder(seed: number, b: number): boolean {
  return new Rng(seed, `evm-colluder-${b}`).chance(0.5);
}

export class ByzantineBridge {
  readonly profile: Profile;
  /** Signs users' mints honestly and (race world) submits them at once (drawColluder). */
  readonly colluder: boolean;
  readonly address: EvmAddress;
  private readonly key: Uint8Array;
  private readonly claimKey: Uint8Array;
  private readonly sent = new Set<string>();
  /**
   * The false votes made so far (the latest LIES_KEPT), sent again at every step: a bundle's
   * repeated items count once anyway, and a vote repeated across blocks is what a module that
   * counts one guardian's vote twice would take for another guardian's.
   */
  private lies: BridgeItem[] = [];

  constructor(
    private readonly b: number,
    private readonly world: BridgeWorld,
    private readonly rng: Rng,
  ) {
    this.profile = {
      scanned: rng.pick(["high", "low", "none"] as const),
      falseBurns: rng.chance(0.6),
      falseExpiries: rng.chance(0.6),
      badSignature: rng.pick(["other-recipient", "other-amount", "garbage", "none"] as const),
      frontRun: rng.chance(0.5),
      cancel: rng.chance(0.5),
    };
    // Only in the race world (where an honest guardian lags): a seed without it runs as before.
    this.colluder = world.race !== undefined && drawColluder(world.host.seed, b);
    this.key = evmKey(world.host.n, b);
    this.address = evmAddressOfKey(this.key);
    // Its own Ed25519-looking claim key: a burn voted to it would be e-cash it could take.
    this.claimKey = rng.bytes(32);
  }

  start(): void {
    const step = (): void => {
      this.world.host.schedule(this.world.host.now() + BRIDGE_POLL_MS, step);
      this.step();
    };
    this.world.host.schedule(this.rng.range(0, BRIDGE_POLL_MS), step);
  }

  private once(key: string): boolean {
    if (this.sent.has(key)) return false;
    this.sent.add(key);
    return true;
  }

  private step(): void {
    const w = this.world;
    const chain = w.chain;
    const items: Uint8Array[] = [];
    const repeat = (item: BridgeItem): void => {
      this.lies.push(item);
      if (this.lies.length > LIES_KEPT) this.lies.shift();
    };
    if (this.profile.scanned !== "none") {
      const high = this.profile.scanned === "high";
      items.push(
        encodeBridgeItem({
          kind: "scanned",
          block: high ? BigInt(chain.height() + 1_000) : 1n,
          timestamp: high ? chain.head().timestamp + 1_000_000n : 1n,
        }),
      );
      w.stats.evmByzScannedLies++;
    }
    if (this.profile.falseBurns) {
      for (const real of chain.burns(0, w.depthBlock())) {
        if (!this.once(`burn:${toHex(real.txHash)}:${real.logIndex}`)) continue;
        repeat({ kind: "burn", ...real, amount: real.amount * 2n });
        repeat({ kind: "burn", ...real, burnKind: BURN_TO_CLAIM, destination: this.claimKey });
        repeat({
          kind: "burn",
          ...real,
          txHash: this.rng.bytes(32),
          logIndex: this.rng.int(4),
          burnId: real.burnId + 1_000n,
          from: this.address,
          burnKind: BURN_TO_CLAIM,
          destination: this.claimKey,
        });
        w.stats.evmByzBurnVotes += 3;
      }
    }
    const s = w.anyState(this.rng);
    if (s !== undefined && this.profile.falseExpiries) {
      const state = new BridgeState(s.db);
      for (const due of state.dueMints(this.b, s.bridge.agreed(state).timestamp, 16)) {
        if (!this.once(`expiry:${toHex(due.txid)}:${due.index}`)) continue;
        const used = chain.depositUsed(outputDepositId(w.federationId, due.txid, due.index));
        repeat({ kind: "expiry", txid: due.txid, index: due.index, used: !used });
        w.stats.evmByzExpiryVotes++;
      }
    }
    // Each false vote t times in one bundle, and again at every step.
    const t = quorumThreshold(w.host.n);
    for (const lie of this.lies) for (let i = 0; i < t; i++) items.push(encodeBridgeItem(lie));
    if (items.length > 0)
      w.host.submitByzantine(
        this.b,
        items.map((payload) => encodeConsensusItem({ kind: "module", module: BRIDGE_ID, payload })),
      );
    if (s !== undefined && this.profile.frontRun) this.frontRun(s.db);
    if (this.profile.cancel)
      for (const l of chain.logs()) {
        if (l.event !== "MintDelayed" || chain.pendingMint(l.depositId) === undefined) continue;
        if (!this.once(`cancel:${l.depositId}`)) continue;
        chain.send(this.address, { kind: "cancelDelayed", depositId: l.depositId });
        w.stats.evmByzCancels++;
      }
  }

  /** Accepted mint outputs, submitted with t honest guardians' public signatures (half of them). */
  private frontRun(db: Parameters<BridgeServerModule["outputOutcome"]>[0]): void {
    const w = this.world;
    const t = quorumThreshold(w.host.n);
    for (const [k] of db.scan(Uint8Array.of(0x02))) {
      if (k.length !== 37) continue;
      const outPoint = {
        txid: k.slice(1, 33),
        index: new DataView(k.buffer, k.byteOffset + 33).getUint32(0),
      };
      if (!this.once(`front:${toHex(outPoint.txid)}:${outPoint.index}`) || !this.rng.chance(0.5)) continue;
      const views: MintSignatureView[] = [];
      for (const h of w.host.honest) {
        const at = w.app.bridgeAt(h);
        const view = at?.bridge.outputOutcome(
          at.processor.moduleReadDb(w.host.disk(h).state, BRIDGE_ID),
          outPoint,
        );
        if (view?.signature !== undefined && view.signer !== undefined) views.push(view);
      }
      if (views.length < t) continue;
      this.sendMint(
        views[0]!,
        views.map((v) => ({ a: BigInt(v.signer!), s: v.signature as `0x${string}` })),
        t,
      );
      w.stats.evmByzFrontRuns++;
    }
  }

  /**
   * A colluder in the race world, after an honest guardian processed a height (bridge.ts
   * raceAfterBlock, before the users look): every accepted mint output and re-mint that t − 1
   * honest guardians signed goes to the chain at once with its own signature as the t-th, once per
   * deposit id (a re-issue is a new one).
   */
  nudge(): void {
    if (!this.colluder) return;
    const w = this.world;
    const t = quorumThreshold(w.host.n);
    const views = new Map<string, MintSignatureView[]>();
    const add = (view: MintSignatureView | undefined): void => {
      if (view?.signature === undefined || view.signer === undefined) return;
      const list = views.get(view.depositId) ?? [];
      // One per guardian, for one message (a re-issue has another deposit id).
      if (!list.some((v) => v.signer === view.signer)) list.push(view);
      views.set(view.depositId, list);
    };
    for (const h of w.host.honest) {
      const at = w.app.bridgeAt(h);
      if (at === undefined) continue;
      const db = at.processor.moduleReadDb(w.host.disk(h).state, BRIDGE_ID);
      for (const [k] of db.scan(Uint8Array.of(0x02))) {
        if (k.length !== 37) continue;
        add(at.bridge.outputOutcome(db, { txid: k.slice(1, 33), index: indexOf(k) }));
      }
      for (const [k] of db.scan(Uint8Array.of(0x07))) {
        if (k.length !== 37) continue;
        add(at.bridge.burnView(db, { txHash: k.slice(1, 33), logIndex: indexOf(k) }).remint);
      }
    }
    const head = w.chain.head().timestamp;
    for (const [depositId, signed] of views) {
      const first = signed[0]!;
      if (signed.length < t - 1 || BigInt(first.deadline) < head) continue;
      if (!this.once(`collude:${depositId}`)) continue;
      const mine = this.honestSignature(first);
      this.sendMint(
        first,
        [
          ...signed.slice(0, t - 1).map((v) => ({ a: BigInt(v.signer!), s: v.signature as `0x${string}` })),
          { a: BigInt(this.address), s: mine.signature as `0x${string}` },
        ],
        t,
      );
      w.stats.evmByzColludedMints++;
    }
  }

  /** Sends mint() for the message a view shows with the first t signatures by signer address (ascending, as the contract wants). */
  private sendMint(first: MintSignatureView, signatures: { a: bigint; s: `0x${string}` }[], t: number): void {
    const ordered = [...signatures].sort((x, y) => (x.a < y.a ? -1 : 1)).slice(0, t);
    this.world.chain.send(this.address, {
      kind: "mint",
      mint: {
        recipient: first.recipient as EvmAddress,
        amount: BigInt(first.amount),
        depositId: first.depositId as `0x${string}`,
        deadline: BigInt(first.deadline),
        setIndex: first.setIndex,
      },
      signatures: ordered.map((o) => o.s),
    });
  }

  /** Its real key's signature of the mint an honest view shows (a colluder's answer). */
  private honestSignature(honest: MintSignatureView): GuardianSignature {
    return {
      guardian: this.b,
      signature: signMint(
        this.key,
        { chainId: this.world.config.chainId, contract: this.world.config.contract },
        {
          recipient: honest.recipient as EvmAddress,
          amount: BigInt(honest.amount),
          depositId: honest.depositId as `0x${string}`,
          deadline: BigInt(honest.deadline),
          setIndex: honest.setIndex,
        },
      ),
    };
  }

  /** What this guardian answers a user asking for its signature of `honest` (an honest view). */
  signature(honest: MintSignatureView): GuardianSignature | undefined {
    if (this.colluder) {
      this.world.stats.evmByzHonestSignatures++;
      return this.honestSignature(honest);
    }
    const mode = this.profile.badSignature;
    if (mode === "none") return undefined;
    this.world.stats.evmByzBadSignatures++;
    if (mode === "garbage") return { guardian: this.b, signature: bytesToHex(this.rng.bytes(65)) };
    const message = {
      recipient: mode === "other-recipient" ? this.address : (honest.recipient as EvmAddress),
      amount: BigInt(honest.amount) * (mode === "other-amount" ? 2n : 1n),
      depositId: honest.depositId as `0x${string}`,
      deadline: BigInt(honest.deadline),
      setIndex: honest.setIndex,
    };
    return {
      guardian: this.b,
      signature: signMint(
        this.key,
        { chainId: this.world.config.chainId, contract: this.world.config.contract },
        message,
      ),
    };
  }
}

/** The big-endian u32 after a 0x02 / 0x07 key's 32-byte hash: the output index or log index. */
function indexOf(k: Uint8Array): number {
  return new DataView(k.buffer, k.byteOffset + 33).getUint32(0);
}
