// E-cash notes from XMR in the whole-federation simulation (issue 11): an XMR note user asks an
// honest guardian's API for its deposit subaddress (POST subaddresses, signed by its claim key),
// pays the federation there on the simulated chain, waits until t guardians' subaddress watchers
// credited the payment and it is spendable at the agreed height, then hands the credit to one of the
// run's e-cash wallets (wallets.ts `issueFrom`): a transaction spending the subaddress deposit
// (monero input, signed by the claim key) into mint notes, which that wallet then reissues, gives,
// turns into coins and back like any other notes. The money checkers cover it: the deposit checker
// lists subaddress deposits too (monero.ts afterBlock, every credited or spent one, by (txid, index)),
// and conservation (money.ts) counts the monero input as a deposit and the notes as liabilities.
import { toHex } from "@conclave/core-common";
import type { Signer, TxInput } from "@conclave/core-common";
import { NodeSigner } from "@conclave/core-server";
import { subaddressDepositInput, subaddressRequestMessage } from "@conclave/module-monero";
import type { Rng } from "../rng.js";
import { MINT_ID, MONERO_ID } from "./setup.js";
import type { MoneroWorld } from "./monero.js";

/** How often an XMR note user looks again. */
const STEP_MS = 700;
/** Piconero per deposit: within what NOTES_PER_TX_MAX notes of 2^0..2^12 hold (4 × 4096). */
const AMOUNT_MIN = 2_000;
const AMOUNT_MAX = 16_000;

/** What a note user needs of the federation: an e-cash wallet that takes the credit into notes. */
export interface NoteFunding {
  /** Starts wallet `wallet`'s transaction of `inputs` into notes worth up to `value`; false: busy, try later. */
  issueFrom(wallet: number, inputs: TxInput[], signers: Signer[], value: bigint): boolean;
  readonly walletCount: number;
}

export interface XmrNoteStats {
  /** Subaddress deposits paid on the chain. */
  xmrSubDeposits: number;
  /** Of them, credited and spendable at the agreed height, seen by the user. */
  xmrSubCredited: number;
  /** Credits handed to an e-cash wallet as a transaction into notes. */
  xmrSubIntoNotes: number;
}

export function emptyXmrNoteStats(): XmrNoteStats {
  return { xmrSubDeposits: 0, xmrSubCredited: 0, xmrSubIntoNotes: 0 };
}

export class XmrNoteUser {
  private readonly signer: NodeSigner;
  private step: "request" | "address" | "pay" | "credit" | "fund" | "done" = "request";
  private index: number | undefined;
  private paid: { txid: string; amount: bigint } | undefined;

  constructor(
    readonly id: number,
    private readonly world: MoneroWorld,
    private readonly funding: NoteFunding,
    private readonly rng: Rng,
    private readonly stats: XmrNoteStats,
  ) {
    this.signer = new NodeSigner(rng.bytes(32));
  }

  get settled(): boolean {
    return this.step === "done";
  }

  describe(): string {
    return `xmr note user ${this.id} at step ${this.step}${this.paid ? ` (deposit ${this.paid.txid.slice(0, 8)} to subaddress ${this.index})` : ""}`;
  }

  start(): void {
    this.world.host.schedule(this.world.host.now() + this.rng.range(0, 2_000), () => this.tick());
  }

  private tick(): void {
    if (this.step === "done") return;
    this.act();
    this.world.host.schedule(this.world.host.now() + STEP_MS, () => this.tick());
  }

  /** An honest guardian whose process runs, its processor and monero module, and its state. */
  private guardian() {
    const g = this.rng.pick(this.world.host.honest);
    const at = this.world.app.moneroAt(g);
    if (at === undefined) return undefined;
    return { ...at, db: at.processor.moduleReadDb(this.world.host.disk(g).state, MONERO_ID) };
  }

  private act(): void {
    const w = this.world;
    const at = this.guardian();
    if (at === undefined) return;
    switch (this.step) {
      case "request": {
        const claimKey = this.signer.publicKey;
        const signature = this.signer.sign(subaddressRequestMessage(w.chain.federationAddress, claimKey));
        const endpoint = at.monero.api.find((e) => e.method === "POST" && e.path === "subaddresses")!;
        try {
          void endpoint.handle({
            params: {},
            body: { claimKey: toHex(claimKey), signature: toHex(signature) },
            db: at.db,
            client: `xmr-note-user-${this.id}`,
          });
          this.step = "address";
        } catch (e) {
          w.host.note(`xmr note user ${this.id}: subaddress request refused: ${String(e)}`);
        }
        return;
      }
      case "address": {
        const view = at.monero.subaddressView(at.db, this.signer.publicKey);
        if (view.state === "unassigned") {
          // A request the guardian queued may be dropped (a restart, its queue's age limit): ask again.
          if (this.rng.chance(0.2)) this.step = "request";
          return;
        }
        if (view.index === undefined) return;
        this.index = view.index;
        this.step = "pay";
        return;
      }
      case "pay": {
        const amount = BigInt(this.rng.range(AMOUNT_MIN, AMOUNT_MAX));
        const paid = w.chain.payFederation(amount, this.index);
        this.paid = { txid: paid.txid, amount };
        this.stats.xmrSubDeposits++;
        this.step = "credit";
        return;
      }
      case "credit": {
        const view = at.monero.subaddressView(at.db, this.signer.publicKey);
        const d = view.deposits.find((x) => x.txid === this.paid!.txid);
        if (d?.spendable !== true) return;
        this.stats.xmrSubCredited++;
        this.step = "fund";
        return;
      }
      case "fund": {
        const p = this.paid!;
        const txid = Uint8Array.from(Buffer.from(p.txid, "hex"));
        const input = subaddressDepositInput(MONERO_ID, p.amount, txid, this.index!);
        const wallet = this.id % this.funding.walletCount;
        if (!this.funding.issueFrom(wallet, [input], [this.signer], p.amount)) return;
        this.stats.xmrSubIntoNotes++;
        w.host.note(
          `xmr note user ${this.id}: deposit ${p.txid.slice(0, 8)} into notes of wallet ${wallet} (mint ${MINT_ID})`,
        );
        this.step = "done";
        return;
      }
      case "done":
        return;
    }
  }
}
