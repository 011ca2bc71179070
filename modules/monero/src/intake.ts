// Deposit intake at one guardian's API (issue 10, item 6): what a client may make this guardian
// propose, so that junk cannot fill the per-guardian budgets that consensus keeps (open claims,
// subaddress assignments per window) and lock honest users out.
//
// Claims: a posted claim takes a place in this guardian's queue (and later its open-claims budget)
// only once its own nodes find it real: the transaction exists (monerod, in the pool or a block) and
// the proof is good with something received at the federation's address, at least the minimum
// (wallet-rpc check_tx_proof, the watcher's own check). Two RPC calls per new claim, paid by the
// client: the core's per-IP request rate, plus CLAIM_CHECKS_PER_CLIENT_PER_MINUTE_MAX per client
// and CLAIM_CHECKS_IN_FLIGHT_MAX at once for everyone (the wallet-rpc serves one call at a time).
// So claims of random txids with well-formed proofs, which stayed open claimExpiryBlocks (~720
// blocks) and filled the budget after ~256, are refused before they cost anything in consensus; only
// a Byzantine guardian can still order such claims, and it fills only its own budget.
//
// Subaddress requests: each new claim key a client asks for counts against that client's
// ADDRESS_REQUESTS_PER_CLIENT_PER_WINDOW_MAX in the consensus window, so that one client cannot use
// up this guardian's window budget (subaddressesPerGuardianPerWindowMax) for everyone.
import { ConclaveError, RateLimitedError, UnavailableError, toHex } from "@conclave/core-common";
import { claimProofMessage } from "./common.js";
import type { InvalidReason } from "./common.js";
import type { ChainSource } from "./watcher.js";
import { ProofRefusedError } from "./watcher.js";

/** New claims one client may have checked per minute (each costs this guardian two RPC calls). */
export const CLAIM_CHECKS_PER_CLIENT_PER_MINUTE_MAX = 30;
/** Claim checks running at once, all clients together (a busy wallet-rpc answers 503 rather than queue up). */
export const CLAIM_CHECKS_IN_FLIGHT_MAX = 4;
/** New subaddress requests one client may make per window of subaddressWindowBlocks agreed blocks. */
export const ADDRESS_REQUESTS_PER_CLIENT_PER_WINDOW_MAX = 16;
/** A check_tx_proof that failed for another reason than the proof is asked again once after this long. */
const RETRY_MS = 400;
/** Clients remembered by a per-client bound (the oldest half is forgotten when full). */
export const CLIENTS_REMEMBERED_MAX = 16_384;

/** What a guardian's API answers when its own nodes say a claim is not a deposit (400, the verdict's code). */
const REFUSALS: Partial<Record<InvalidReason, string>> = {
  bad_proof:
    "the payment proof does not hold for this transaction, the federation's address and this claim key (a wrong tx key, or a proof made for another claim key)",
  nothing_received: "the transaction pays nothing to the federation's address",
  below_minimum: "the transaction pays the federation's address less than the minimum deposit",
};

/** A bounded map of per-client counters: when full, the oldest half is forgotten. */
class PerClient<T> {
  private readonly map = new Map<string, T>();
  get(client: string): T | undefined {
    return this.map.get(client);
  }
  set(client: string, v: T): void {
    if (!this.map.has(client) && this.map.size >= CLIENTS_REMEMBERED_MAX) {
      let drop = this.map.size / 2;
      for (const k of this.map.keys()) {
        if (drop-- <= 0) break;
        this.map.delete(k);
      }
    }
    this.map.delete(client);
    this.map.set(client, v);
  }
}

export class ClaimChecks {
  private inFlight = 0;
  private readonly perClient = new PerClient<{ minute: number; count: number }>();

  constructor(
    private readonly options: {
      /** This guardian's own nodes, or undefined when it has none (no local settings: nothing is checked). */
      readonly chain: () => ChainSource | undefined;
      readonly address: string;
      readonly depositMin: bigint;
      readonly now: () => number;
    },
  ) {}

  /**
   * Resolves when this guardian's nodes find the claim real; throws a ConclaveError saying why not
   * (400 with the verdict's code, 404 unknown_transaction, 429, 503 when its nodes cannot answer).
   */
  async check(
    claim: { txid: Uint8Array; claimKey: Uint8Array; proof: Uint8Array },
    client: string | undefined,
  ): Promise<void> {
    const chain = this.options.chain();
    if (!chain) return;
    if (client !== undefined) {
      const minute = Math.floor(this.options.now() / 60_000);
      const used = this.perClient.get(client);
      const count = used?.minute === minute ? used.count : 0;
      if (count >= CLAIM_CHECKS_PER_CLIENT_PER_MINUTE_MAX)
        throw new RateLimitedError(60_000 - (this.options.now() % 60_000));
      this.perClient.set(client, { minute, count: count + 1 });
    }
    if (this.inFlight >= CLAIM_CHECKS_IN_FLIGHT_MAX)
      throw new UnavailableError(
        "this guardian is checking other claims; retry in a moment or at another guardian",
      );
    this.inFlight++;
    try {
      await this.checkAtNodes(chain, claim);
    } finally {
      this.inFlight--;
    }
  }

  private async checkAtNodes(
    chain: ChainSource,
    claim: { txid: Uint8Array; claimKey: Uint8Array; proof: Uint8Array },
  ): Promise<void> {
    const txid = toHex(claim.txid);
    let reason: InvalidReason | undefined;
    try {
      const where = await chain.transaction(txid);
      if (!where.found)
        throw new ConclaveError(
          "unknown_transaction",
          `this guardian's Monero node does not know transaction ${txid} (in its pool or a block): post the claim again once the transaction has been relayed`,
          { status: 404, details: { txid } },
        );
      try {
        const prove = () =>
          chain.proven(txid, toHex(claim.proof), claimProofMessage(claim.claimKey), this.options.address);
        // wallet-rpc answers "Failed to get transaction from daemon" now and then for a transaction
        // moving from the pool into a block (docs/monero.md, Traps): asked again once, 400 ms later.
        const r = await prove().catch(async (e: unknown) => {
          if (e instanceof ProofRefusedError) throw e;
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
          return prove();
        });
        if (!r.good) reason = "bad_proof";
        else if (r.received === 0n) reason = "nothing_received";
        else if (r.received < this.options.depositMin) reason = "below_minimum";
      } catch (e) {
        if (!(e instanceof ProofRefusedError)) throw e;
        reason = "bad_proof";
      }
    } catch (e) {
      if (e instanceof ConclaveError) throw e;
      throw new UnavailableError(
        `this guardian could not check the claim against its own Monero nodes (${e instanceof Error ? e.message : String(e)}); retry later or at another guardian`,
      );
    }
    if (reason !== undefined)
      throw new ConclaveError(reason, `claim of ${txid} refused: ${REFUSALS[reason] ?? reason}`, {
        status: 400,
        details: { txid },
      });
  }
}

export class AddressRequestBounds {
  private readonly perClient = new PerClient<{ window: number; count: number }>();

  /** Counts a new request of `client` in consensus window `window`; throws 429 past the bound. */
  take(client: string | undefined, window: number): void {
    if (client === undefined) return;
    const used = this.perClient.get(client);
    const count = used?.window === window ? used.count : 0;
    if (count >= ADDRESS_REQUESTS_PER_CLIENT_PER_WINDOW_MAX)
      throw new ConclaveError(
        "too_many_address_requests",
        `this client already asked this guardian for ${count} new deposit subaddresses in this window; retry in a few blocks`,
        { status: 429, details: { max: ADDRESS_REQUESTS_PER_CLIENT_PER_WINDOW_MAX } },
      );
    this.perClient.set(client, { window, count: count + 1 });
  }
}
