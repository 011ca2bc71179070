// Payouts with four guardians' processors in memory (no monerod): payout outputs validated and
// queued, the audit, and the signing rounds as consensus items, driven either by hand (items) or by
// each guardian's PayoutSigner over a fake multisig wallet. Every guardian must decide the same.
import { describe, expect, it } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import { CodecError, encodeConsensusItem, fromHex, toHex } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { FederationProcessor, MemoryKv, NodeSigner, NodeVerifier, sha256 } from "@conclave/core-server";
import { DummyServerModule, buildTransaction, coinOutput } from "@conclave/module-dummy";
import { MoneroMultisigError, MoneroRpcError, encodeAddress } from "@conclave/monero";
import { depositInput } from "./client.js";
import {
  agreedFeeRate,
  claimProof,
  faultTolerance,
  decodeMoneroItem,
  encodeMoneroItem,
  feeRateChanged,
} from "./common.js";
import type { MoneroConfig, MoneroItem } from "./common.js";
import { parseMoneroConfig } from "./factory.js";
import {
  CHUNK_BYTES_MAX,
  SLOT_EXPORT,
  chunksOf,
  decodeCreatorSet,
  decodePayoutItem,
  decodePayoutOutput,
  encodeCreatorSet,
  encodePayoutItem,
  encodePayoutOutput,
  payoutFee,
  txsetOfBlob,
} from "./payout-common.js";
import type { PayoutItem, PayoutOutcome } from "./payout-common.js";
import { KeepingLastSigner } from "./payout-byzantine.js";
import type { PayoutWallet } from "./payout-watcher.js";
import { PayoutStore } from "./payouts.js";
import { MoneroServerModule } from "./server.js";

const DUMMY = 0;
const MONERO = 2;
const N = 4;
const T = 3;
const addr = (network: "mainnet" | "testnet", kind: "standard" | "subaddress" | "integrated", seed: number) =>
  encodeAddress({
    network,
    kind,
    publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(seed)),
    publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(seed + 1)),
    ...(kind === "integrated" ? { paymentId: new Uint8Array(8).fill(9) } : {}),
  });
const FEDERATION = addr("mainnet", "standard", 7);
const USER = addr("mainnet", "standard", 20);
const USER_SUB = addr("mainnet", "subaddress", 30);
/** The agreed rate the federation starts with (piconero per byte) and the fee it requires: 1 × 100 bytes. */
const RATE = 1;
const FEE = 100n;
const CONFIG: MoneroConfig = parseMoneroConfig({
  network: "mainnet",
  address: FEDERATION,
  guardians: N,
  confirmations: 1,
  payoutMinPiconero: "1000",
  payoutFeeBytes: 100,
  payoutFeeMinPiconero: "50",
  payoutBatchMax: 2,
  payoutRoundBlocks: 3,
  payoutConfirmations: 2,
});

const alice = new NodeSigner(new Uint8Array(32).fill(1));
const txidOf = (n: number) => new Uint8Array(32).fill(n);
const TXKEY = Uint8Array.from([...new Uint8Array(31).fill(0x42), 0x01]);

/**
 * A fake share of the multisig wallet that keeps Monero's rules that matter here. A set is text:
 * "destinations;fee=50;tx=<id>|g<i>|g<j>...": `tx` names the created transaction, i.e. its inputs
 * (each `create` takes inputs no other transaction took: the worst case, a creator free to choose),
 * a signature appends "|g<i>", and the txid hashes the whole set, so two completions of one
 * transaction have different txids and the same inputs. The chain refuses a completion whose inputs
 * another mined one spent (a double spend), as monerod did when two guardians completed one set.
 */
class FakeWallet implements PayoutWallet {
  calls: string[] = [];
  silent = false;
  /** Byzantine: creates a set that pays someone else. */
  garbage = false;
  /** Byzantine: "signs" by publishing bytes that are no set. */
  garbageSign = false;
  /** Its wallet cannot name a spender (it learned the key images after the spend): threat model 3d. */
  blind = false;
  /**
   * Byzantine creator: names this key image as its set's input instead of the real one (an output
   * of the same amount: `check` verifies the named outputs' total only; what refuses it is the read of
   * the key images of the set a signer's own wallet signed, `signedKeyImages`).
   */
  nameInstead: string | undefined;
  submitted = new Map<string, number>();
  /** The Monero fee the transactions it creates pay (many small inputs: above the payouts' fees). */
  createFee = 50n;
  constructor(
    readonly g: number,
    readonly chain: {
      height: number;
      mined: Map<string, number>;
      submits: Map<string, number>;
      /** transaction (inputs) id -> the txid that spent them */
      spent: Map<string, string>;
      created: number;
      /** key image (hex) -> the inputs id it belongs to */
      inputsOf: Map<string, string>;
      /** key images (hex) of outputs a deep reorg took away (the deposit that made them is gone) */
      gone: Set<string>;
      /**
       * key image (hex) -> the inputs id of the same total: the real wallet's check of a named list
       * before signing sees the named outputs' amounts and the set's inputs total only.
       */
      sameAmount: Map<string, string>;
    },
  ) {}
  /** What `remember` kept (the wallet file's attribute: it outlives a restart of the guardian). */
  kept: { duty: string; blob: string } | undefined;
  remember(duty: string, blob: string): Promise<void> {
    this.kept = { duty, blob };
    return Promise.resolve();
  }
  recall(duty: string): Promise<string | undefined> {
    return Promise.resolve(this.kept?.duty === duty ? this.kept.blob : undefined);
  }
  private hold(): Promise<never> | undefined {
    return this.silent ? new Promise<never>(() => {}) : undefined;
  }
  async exportInfo(): Promise<string> {
    await this.hold();
    this.calls.push("export");
    return toHex(new TextEncoder().encode(`export-${this.g}-${this.calls.length}`));
  }
  async importInfos(infos: readonly string[]): Promise<void> {
    await this.hold();
    if (infos.length < T - 1) throw new Error("import needs at least t - 1 infos");
    this.calls.push("import");
  }
  async create(destinations: readonly { address: string; amount: bigint }[], only?: readonly string[]) {
    await this.hold();
    this.calls.push("create");
    const pays = this.garbage ? [{ address: addr("mainnet", "standard", 99), amount: 1n }] : destinations;
    // With `only` (a later attempt bound to an earlier one's inputs): the same inputs again.
    const id =
      only?.[0] !== undefined ? (this.chain.inputsOf.get(only[0]) ?? "none") : `t${++this.chain.created}`;
    // Bound to inputs a mined transaction spent: wallet-rpc finds nothing to spend (every other
    // output frozen for the transfer).
    // Or bound to an output a deep reorg took away: the rest of the bound may not pay the batch (one
    // input per transaction here: never).
    if (only !== undefined && (this.chain.spent.has(id) || only.some((k) => this.chain.gone.has(k))))
      throw new MoneroRpcError({
        url: "fake",
        method: "transfer",
        rpcCode: -17,
        rpcMessage: "not enough money",
      });
    this.chain.inputsOf.set(keyImageOf(id), id);
    const text = `${pays.map((d) => `${d.address}:${d.amount}`).join(",")};fee=${this.createFee};tx=${id}|g${this.g}`;
    const named = this.nameInstead ?? keyImageOf(id);
    this.nameInstead = undefined;
    return { txset: toHex(new TextEncoder().encode(text)), fee: this.createFee, keyImages: [named] };
  }
  async check(
    txset: string,
    expected: {
      destinations: readonly { address: string; amount: bigint }[];
      feeMax: bigint;
      root?: string;
      keyImages?: readonly string[];
    },
  ) {
    await this.hold();
    this.calls.push("check");
    this.checkedNames = expected.keyImages;
    const text = setText(txset);
    const want = expected.destinations.map((d) => `${d.address}:${d.amount}`).join(",");
    if (!text.startsWith(`${want};`))
      throw new MoneroMultisigError("the transaction does not pay what was agreed");
    // As multisigCheckTransfer: a set paying more fee than the signer's bound is refused.
    const fee = BigInt(/;fee=(\d+);/.exec(text)?.[1] ?? "0");
    if (fee > expected.feeMax) throw new MoneroMultisigError(`fee ${fee} exceeds ${expected.feeMax}`);
    if (
      expected.keyImages !== undefined &&
      expected.keyImages.join() !== keyImageOf(setTx(txset)) &&
      this.chain.sameAmount.get(expected.keyImages.join()) !== setTx(txset)
    )
      throw new MoneroMultisigError("the set's inputs are not the outputs its creator named");
    // A named input a deep reorg took away is no output of the wallet any more.
    if (expected.keyImages?.some((k) => this.chain.gone.has(k)))
      throw new MoneroMultisigError("the set's inputs are not the outputs its creator named");
    if (expected.root !== undefined && setTx(expected.root) !== setTx(txset))
      throw new MoneroMultisigError("the set is not the creator's transaction");
  }
  /** The names `check` was last given (a garbage signer's wallet vouches for them: it is Byzantine). */
  private checkedNames: readonly string[] | undefined;
  signedKeyImages(txset: string): Promise<readonly string[]> {
    if (this.garbageSign && this.checkedNames) return Promise.resolve(this.checkedNames);
    // The inputs the set's transaction really spends (the real wallet reads them from the set).
    return Promise.resolve([keyImageOf(setTx(txset))]);
  }
  async sign(txset: string): Promise<{ txset: string; complete: boolean }> {
    await this.hold();
    this.calls.push("sign");
    if (this.garbageSign) return { txset: toHex(new TextEncoder().encode("garbage")), complete: false };
    const signed = txset + toHex(new TextEncoder().encode(`|g${this.g}`));
    return { txset: signed, complete: signatures(signed) === T };
  }
  async submit(txset: string): Promise<string> {
    await this.hold();
    this.calls.push("submit");
    if (signatures(txset) !== T) throw new MoneroMultisigError(`${signatures(txset)} signatures`);
    const txid = toHex(sha256(Buffer.from(txset, "hex")));
    const spentBy = this.chain.spent.get(setTx(txset));
    if (spentBy !== undefined && spentBy !== txid) throw new MoneroMultisigError("double spend");
    this.chain.spent.set(setTx(txset), txid);
    this.chain.submits.set(txid, (this.chain.submits.get(txid) ?? 0) + 1);
    if (!this.chain.mined.has(txid)) this.chain.mined.set(txid, this.chain.height);
    this.submitted.set(txid, 1);
    return txid;
  }
  spentBy(txset: string): Promise<string | undefined> {
    return Promise.resolve(this.chain.spent.get(setTx(txset)));
  }
  spenderOf(keyImages: readonly string[]): Promise<string | undefined> {
    if (this.blind) return Promise.resolve(undefined);
    const ids = new Set(keyImages.map((k) => this.chain.inputsOf.get(k)));
    const spenders = new Set([...ids].flatMap((id) => (id === undefined ? [] : [this.chain.spent.get(id)])));
    spenders.delete(undefined);
    return Promise.resolve(spenders.size === 1 ? [...spenders][0] : undefined);
  }
  minedSpenderAmong(txids: readonly string[], keyImages: readonly string[]): Promise<string | undefined> {
    const ids = new Set(keyImages.map((k) => this.chain.inputsOf.get(k)));
    const spenders = new Set([...ids].flatMap((id) => (id === undefined ? [] : [this.chain.spent.get(id)])));
    const found = txids.filter((t) => spenders.has(t) && this.chain.mined.has(t));
    return Promise.resolve(found.length === 1 ? found[0] : undefined);
  }
  unmineable(txs: readonly { txid: string; keyImages: readonly string[] }[]): Promise<string[]> {
    return Promise.resolve(
      txs
        .filter((t) => !this.chain.mined.has(t.txid) && t.keyImages.some((k) => this.chain.gone.has(k)))
        .map((t) => t.txid),
    );
  }
  txKey(txid: string): Promise<string> {
    if (!this.submitted.has(txid))
      return Promise.reject(
        new MoneroRpcError({ url: "fake", method: "get_tx_key", rpcCode: -24, rpcMessage: "no tx key" }),
      );
    return Promise.resolve(toHex(TXKEY));
  }
  location(txid: string): Promise<number | undefined> {
    return Promise.resolve(this.chain.mined.get(txid));
  }
  height(): Promise<number> {
    return Promise.resolve(this.chain.height);
  }
}

const setText = (txset: string) => new TextDecoder().decode(Buffer.from(txset, "hex"));
const signatures = (txset: string) => setText(txset).split("|").length - 1;
const setTx = (txset: string) => /;tx=(t\d+)/.exec(setText(txset))?.[1] ?? "";
/** The fake's key image of a transaction's inputs (one per transaction). */
const keyImageOf = (id: string) => toHex(sha256(new TextEncoder().encode(`inputs ${id}`)));

/** Four guardians in memory; each reports fee rate `rate` first (null: none, no agreed rate yet). */
function federation(
  config: MoneroConfig = CONFIG,
  rate: number | null = RATE,
  byzantineAt: Record<number, KeepingLastSigner> = {},
) {
  const chain = {
    height: 100,
    mined: new Map<string, number>(),
    submits: new Map<string, number>(),
    spent: new Map<string, string>(),
    created: 0,
    inputsOf: new Map<string, string>(),
    gone: new Set<string>(),
    sameAmount: new Map<string, string>(),
  };
  const byzantine = new Map<number, KeepingLastSigner>(
    Object.entries(byzantineAt).map(([g, b]) => [Number(g), b]),
  );
  /** What each guardian logged (event, fields). */
  const logs: { g: number; event: string; fields: Record<string, unknown> | undefined }[] = [];
  const guardians = Array.from({ length: N }, (_, g) => {
    const wallet = new FakeWallet(g, chain);
    const keeper = byzantine.get(g);
    const monero = new MoneroServerModule(MONERO, config, {
      chain: {
        height: () => Promise.resolve(chain.height),
        transaction: () => Promise.resolve({ found: false }),
        proven: () => Promise.resolve({ good: false, received: 0n }),
      },
      pollMs: 1000,
      autoPoll: false,
      payoutWallet: wallet,
      ...(keeper ? { payoutByzantine: keeper } : {}),
    });
    monero.start({
      self: g,
      wake: () => {},
      log: (event: string, fields?: Record<string, unknown>) => logs.push({ g, event, fields }),
    });
    const dummy = new DummyServerModule(DUMMY, { faucetAmountMax: 10n ** 15n, feePerInput: 0n });
    const p = new FederationProcessor([dummy, monero], { verifier: new NodeVerifier(), hash: sha256 });
    return { db: new MemoryKv(), p, monero, wallet, down: false };
  });
  let height = 0;

  const block = (
    items: readonly { from: number; item: MoneroItem | PayoutItem | Uint8Array }[],
    txs: Transaction[] = [],
  ) => {
    const bundles = Array.from({ length: N }, (_, origin) => ({
      origin,
      items: items
        .filter((i) => i.from === origin)
        .map((i) =>
          encodeConsensusItem({
            kind: "module",
            module: MONERO,
            payload:
              i.item instanceof Uint8Array
                ? i.item
                : ["height", "claim", "attest", "fee_rate"].includes(i.item.kind)
                  ? encodeMoneroItem(i.item as MoneroItem)
                  : encodePayoutItem(i.item as PayoutItem),
          }),
        ),
    }));
    bundles[0]!.items.push(...txs.map((tx) => encodeConsensusItem({ kind: "transaction", tx })));
    const results = guardians.map((g) => g.p.processBlock(g.db, height, bundles));
    height++;
    for (const r of results) expect(r.auditFailure).toBeUndefined();
    for (const r of results.slice(1)) expect(r.moduleItemErrors).toBe(results[0]!.moduleItemErrors);
    return results[0]!;
  };
  const mdb = (i = 0) => guardians[i]!.p.moduleReadDb(guardians[i]!.db, MONERO);
  /** Fee rate reports, one per guardian (undefined: that guardian reports nothing). */
  const rates = (perByte: readonly (number | undefined)[]) =>
    block(
      perByte.flatMap((r, from) =>
        r === undefined ? [] : [{ from, item: { kind: "fee_rate" as const, perByte: r } }],
      ),
    );
  if (rate !== null) rates([rate, rate, rate, rate]);
  const heights = (h: number) => {
    chain.height = h;
    return block(guardians.map((_, from) => ({ from, item: { kind: "height" as const, height: h } })));
  };
  const audit = () => {
    const audits = guardians.map((g) => g.p.audit(g.db));
    for (const a of audits.slice(1)) expect(a).toEqual(audits[0]);
    return audits[0]!;
  };
  const moneroAudit = () => audit().modules.find((m) => m.instanceId === MONERO)!.audit;
  /** A deposit of `amount`, credited and confirmed. */
  const credit = (txid: Uint8Array, amount: bigint) => {
    const proof = claimProof({
      federationAddress: FEDERATION,
      txid,
      txKey: TXKEY,
      claimKey: alice.publicKey,
    });
    block([{ from: 0, item: { kind: "claim", txid, claimKey: alice.publicKey, proof } }]);
    block(
      [0, 1, 2].map((from) => ({
        from,
        item: {
          kind: "attest" as const,
          txid,
          round: 1,
          verdict: { valid: true as const, amount, txHeight: 50 },
        },
      })),
    );
  };
  /** One transaction: a deposit in, payouts out, the rest to a dummy coin. */
  const payoutTx = (
    deposit: Uint8Array,
    amount: bigint,
    payouts: readonly { address: string; amount: bigint; fee?: bigint }[],
  ) => {
    const out = payouts.map((p) => ({
      module: MONERO,
      amount: p.amount,
      payload: encodePayoutOutput(p.address, p.fee ?? FEE),
    }));
    const rest = amount - payouts.reduce((a, p) => a + p.amount + (p.fee ?? FEE), 0n);
    return buildTransaction(
      [depositInput(MONERO, amount, deposit)],
      [...out, ...(rest > 0n ? [coinOutput(DUMMY, rest, alice.publicKey)] : [])],
      [alice],
      sha256,
    );
  };
  const submit = (tx: Transaction) => block([], [tx]).events[0]!.status;
  const txidOfTx = (tx: Transaction) => toHex(sha256Tx(tx));
  /** The outcome of output `index` of `tx`, as every guardian sees it (they agree). */
  const outcome = (tx: Transaction, index: number): PayoutOutcome | undefined => {
    const views = guardians.map((g, i) => {
      try {
        return g.monero.payoutView(mdb(i), { txid: txidOfTx(tx), index: String(index) });
      } catch {
        return undefined;
      }
    });
    for (const v of views.slice(1)) expect(v).toEqual(views[0]);
    return views[0];
  };
  /** Steps that threw in a round run with `tolerateStepErrors` (the poll loop retries them). */
  const stepErrors: { g: number; message: string }[] = [];
  /** Every guardian that is up: its signer works, then its proposal goes into one block. */
  const round = async (tolerateStepErrors = false) => {
    const items: { from: number; item: Uint8Array }[] = [];
    for (const [from, g] of guardians.entries()) {
      if (g.down) continue;
      g.monero.consensusProposal(mdb(from)); // sets the duty
      if (!g.wallet.silent)
        await g.monero.payoutSigner!.work().catch((e: unknown) => {
          if (!tolerateStepErrors) throw e;
          stepErrors.push({ g: from, message: (e as Error).message });
        });
      for (const item of g.monero.consensusProposal(mdb(from))) {
        // Height reports are driven by `heights` in these tests.
        if (item[0] === 0x01) continue;
        items.push({ from, item });
      }
    }
    return block(items);
  };
  return {
    guardians,
    chain,
    block,
    mdb,
    heights,
    rates,
    audit,
    moneroAudit,
    credit,
    payoutTx,
    submit,
    outcome,
    round,
    stepErrors,
    logs,
  };
}

function sha256Tx(tx: Transaction): Uint8Array {
  // The core's transaction id (txidHex); recomputed through a processor check would need a db.
  return transactionIdOf(tx);
}
import { transactionId } from "@conclave/core-common";
const transactionIdOf = (tx: Transaction) => transactionId(tx, sha256);

const code = (s: { state: string; error?: { code: string } }) =>
  s.state === "rejected" ? s.error?.code : "accepted";

describe("payout outputs", () => {
  it("refuses a bad address, another network's, an integrated one, the federation's own, a too small amount, with clear codes; nothing moves", () => {
    const f = federation();
    f.heights(300);
    f.credit(txidOf(1), 100_000n);
    const typo = USER.slice(0, 40) + (USER[40] === "a" ? "b" : "a") + USER.slice(41);
    const cases: [string, bigint, string][] = [
      [typo, 5000n, "invalid_address"],
      [addr("testnet", "standard", 20), 5000n, "invalid_address"],
      [addr("mainnet", "integrated", 20), 5000n, "invalid_address"],
      ["4".repeat(95), 5000n, "invalid_address"],
      [USER, 999n, "payout_too_small"],
    ];
    for (const [address, amount, expected] of cases) {
      const s = f.submit(f.payoutTx(txidOf(1), 100_000n, [{ address, amount }]));
      expect(code(s)).toBe(expected);
      if (s.state === "rejected") expect(s.error.message.length).toBeGreaterThan(10);
    }
    const wrongNetwork = f.submit(
      f.payoutTx(txidOf(1), 100_000n, [{ address: addr("testnet", "standard", 20), amount: 5000n }]),
    );
    expect(wrongNetwork.state === "rejected" && wrongNetwork.error.message).toContain("testnet address");
    // The federation's own deposit address: the user's notes would be gone for nothing.
    const own = f.submit(f.payoutTx(txidOf(1), 100_000n, [{ address: FEDERATION, amount: 5000n }]));
    expect(code(own)).toBe("invalid_address");
    expect(own.state === "rejected" && own.error.message).toContain("the federation's own deposit address");
    // A malformed payload.
    const bad = buildTransaction(
      [depositInput(MONERO, 100_000n, txidOf(1))],
      [{ module: MONERO, amount: 5000n, payload: Uint8Array.of(1, 0) }],
      [alice],
      sha256,
    );
    expect(code(f.submit(bad))).toBe("malformed_output");
    expect(f.moneroAudit()).toEqual({ assets: 0n, liabilities: 0n });
  });

  it("queues valid payouts (standard and subaddress), charges the fee they carry, and the audit stays exact", () => {
    const f = federation();
    f.heights(300);
    f.credit(txidOf(1), 100_000n);
    const tx = f.payoutTx(txidOf(1), 100_000n, [
      { address: USER, amount: 40_000n },
      { address: USER_SUB, amount: 10_000n },
    ]);
    expect(code(f.submit(tx))).toBe("accepted");
    expect(f.outcome(tx, 0)).toEqual({
      kind: "payout",
      state: "queued",
      address: USER,
      amount: "40000",
      fee: "100",
      batch: 0,
    });
    expect(f.outcome(tx, 1)?.address).toBe(USER_SUB);
    // 100 000 in, 50 000 + 2 × 100 out: the module holds the dummy coin's 49 800.
    expect(f.moneroAudit()).toEqual({ assets: 49_800n, liabilities: 0n });
    const whole = f.audit();
    expect(whole.assets - whole.liabilities).toBe(0n);
    // The deposit is spent once: the same input again is refused.
    expect(code(f.submit(f.payoutTx(txidOf(1), 100_000n, [{ address: USER, amount: 5000n }])))).toBe(
      "spent_input",
    );
  });

  it("unbalanced: a payout whose inputs do not cover amount + fee is refused", () => {
    const f = federation();
    f.heights(300);
    f.credit(txidOf(1), 5000n);
    const tx = buildTransaction(
      [depositInput(MONERO, 5000n, txidOf(1))],
      [{ module: MONERO, amount: 5000n, payload: encodePayoutOutput(USER, FEE) }],
      [alice],
      sha256,
    );
    expect(code(f.submit(tx))).toBe("unbalanced");
  });
});

describe("payout signing rounds", () => {
  const setup = (byzantineAt: Record<number, KeepingLastSigner> = {}) => {
    const f = federation(CONFIG, RATE, byzantineAt);
    f.heights(300);
    f.credit(txidOf(1), 1_000_000n);
    const tx = f.payoutTx(txidOf(1), 1_000_000n, [
      { address: USER, amount: 40_000n },
      { address: USER_SUB, amount: 10_000n },
      { address: USER, amount: 20_000n },
    ]);
    expect(code(f.submit(tx))).toBe("accepted");
    return { f, tx };
  };

  it("t of n finish a batch (guardian 3 down): export, create, sign, submit, confirm; the user is paid once", async () => {
    const { f, tx } = setup();
    f.guardians[3]!.down = true;
    await f.round(); // exports: batch 1 starts with the oldest payoutBatchMax (2) payouts
    expect(f.outcome(tx, 0)).toMatchObject({ state: "signing", batch: 1, attempt: 0 });
    expect(f.outcome(tx, 2)).toMatchObject({ state: "queued", batch: 0 });
    // Three of four exported: signing waits payoutExportWaitBlocks (2) for the fourth.
    f.heights(301);
    expect(f.outcome(tx, 0)!.round).toMatch(/^exporting/);
    f.heights(302);
    expect(f.outcome(tx, 0)!.round).toBe("signatures: 0 of 3");
    for (let i = 0; i < 3; i++) await f.round(); // creator, then two signers
    await f.round(); // submit votes
    const submitted = f.outcome(tx, 0)!;
    expect(submitted.state).toBe("submitted");
    expect(submitted.moneroTxid).toMatch(/^[0-9a-f]{64}$/);
    await f.round(); // not deep enough yet
    expect(f.outcome(tx, 0)!.state).toBe("submitted");
    f.heights(304);
    await f.round();
    const confirmed = f.outcome(tx, 1)!;
    expect(confirmed).toMatchObject({
      state: "confirmed",
      moneroTxid: submitted.moneroTxid,
      txKey: toHex(TXKEY),
      txHeight: 302,
      confirmations: 2,
    });
    // Every guardian that was up submitted (idempotent); one transaction.
    expect([...f.chain.submits.keys()]).toEqual([submitted.moneroTxid]);
    // The next batch takes the third payout.
    await f.round();
    f.heights(306);
    for (let i = 0; i < 4; i++) await f.round();
    f.heights(308);
    await f.round();
    expect(f.outcome(tx, 2)).toMatchObject({ state: "confirmed", batch: 2 });
    expect(f.chain.submits.size).toBe(2);
    expect(f.moneroAudit()).toEqual({ assets: 1_000_000n - 70_300n, liabilities: 0n });
  });

  it("a silent creator is replaced after payoutRoundBlocks agreed blocks; the next attempt excludes it", async () => {
    const { f, tx } = setup();
    await f.round(); // four exports: participants 0..3; creator (batch 1 + attempt 0) mod 4 = 1
    const creator = 1;
    f.guardians[creator]!.wallet.silent = true;
    await f.round();
    await f.round();
    expect(f.outcome(tx, 0)).toMatchObject({ state: "signing", attempt: 0, round: "signatures: 0 of 3" });
    f.heights(302);
    expect(f.outcome(tx, 0)!.attempt).toBe(0);
    f.heights(303); // 3 blocks after the round began
    expect(f.outcome(tx, 0)).toMatchObject({ state: "signing", attempt: 1 });
    // Attempt 1 runs without guardian 1 (it is blamed: excluded).
    for (let i = 0; i < 6; i++) await f.round();
    expect(f.outcome(tx, 0)!.state).toBe("submitted");
    expect(f.guardians[creator]!.wallet.calls.filter((c) => c === "create")).toHaveLength(0);
    f.heights(306);
    await f.round();
    expect(f.outcome(tx, 0)!.state).toBe("confirmed");
  });

  // The double payout of the review (issue 10, item 2) and the freeze (item 3). With four
  // exporters, the creator is guardian 1 and the signing order 1, 2, 3, 0: guardian 3 signs last.
  const LAST = 3;
  /** Rounds until guardian 3 has completed the transaction (and kept it). */
  const toLastSlot = async (f: ReturnType<typeof federation>, tx: Transaction) => {
    await f.round(); // exports
    await f.round(); // creator
    await f.round(); // second signer
    await f.round(); // the last signer completes the transaction and keeps it
    return f.outcome(tx, 0);
  };
  /** Only one transaction was ever created and its inputs were spent once. */
  const expectOneTransaction = (f: ReturnType<typeof federation>) => {
    expect(f.chain.created).toBe(1);
    expect(f.chain.spent.size).toBe(1);
  };

  it("a last signer that keeps its completed transaction and stays silent is passed over: another participant completes the same transaction, and the kept one is refused as a double spend", async () => {
    const keeper = new KeepingLastSigner("silent");
    const { f, tx } = setup({ [LAST]: keeper });
    expect(await toLastSlot(f, tx)).toMatchObject({
      state: "signing",
      attempt: 0,
      round: "signatures: 2 of 3",
    });
    expect(keeper.kept).toHaveLength(1);
    f.heights(303); // payoutRoundBlocks after the last slot opened: guardian 0 stands in
    await f.round();
    await f.round();
    const paid = f.outcome(tx, 0)!;
    expect(paid).toMatchObject({ state: "submitted", attempt: 0 });
    f.heights(305);
    await f.round();
    expect(f.outcome(tx, 0)).toMatchObject({ state: "confirmed", moneroTxid: paid.moneroTxid });
    // The Byzantine guardian broadcasts what it kept: the inputs are spent, monerod refuses it.
    await expect(f.guardians[LAST]!.wallet.submit(keeper.kept[0]!)).rejects.toThrow("double spend");
    expectOneTransaction(f);
  });

  it("a last signer that keeps its completed transaction and accuses the previous signer cannot start a second transaction: the slot goes back to another participant on the same one", async () => {
    const keeper = new KeepingLastSigner("accuse");
    const { f, tx } = setup({ [LAST]: keeper });
    await toLastSlot(f, tx);
    expect(keeper.kept).toHaveLength(1);
    // One refusal may be a lie: the accuser is passed over, the next participant checks the same set.
    expect(f.outcome(tx, 0)).toMatchObject({ state: "signing", attempt: 0, round: "signatures: 2 of 3" });
    for (let i = 0; i < 2; i++) await f.round();
    expect(f.outcome(tx, 0)).toMatchObject({ state: "submitted", attempt: 0 });
    f.heights(302);
    await f.round();
    expect(f.outcome(tx, 0)!.state).toBe("confirmed");
    await expect(f.guardians[LAST]!.wallet.submit(keeper.kept[0]!)).rejects.toThrow("double spend");
    expectOneTransaction(f);
  });

  it("a middle signer that publishes a garbage set: f + 1 refusals send its slot to another participant on the same transaction; paid once", async () => {
    const { f, tx } = setup();
    f.guardians[2]!.wallet.garbageSign = true; // slot 1 of the order 1, 2, 3, 0
    await f.round(); // exports
    await f.round(); // creator
    await f.round(); // guardian 2's garbage
    await f.round(); // guardian 3 refuses: passed over
    expect(f.outcome(tx, 0)).toMatchObject({ state: "signing", attempt: 0, round: "signatures: 2 of 3" });
    await f.round(); // guardian 0 refuses too: slot 1 goes back, guardian 2 passed over
    expect(f.outcome(tx, 0)).toMatchObject({ state: "signing", attempt: 0, round: "signatures: 1 of 3" });
    for (let i = 0; i < 3; i++) await f.round(); // guardian 3 signs slot 1, guardian 0 completes, votes
    expect(f.outcome(tx, 0)).toMatchObject({ state: "submitted", attempt: 0 });
    f.heights(302);
    await f.round();
    expect(f.outcome(tx, 0)!.state).toBe("confirmed");
    expectOneTransaction(f);
  });

  it("a last signer that keeps its completed transaction and publishes a garbage final set: t refusals send the last slot to another participant on the same transaction", async () => {
    const keeper = new KeepingLastSigner("garbage");
    const { f, tx } = setup({ [LAST]: keeper });
    await toLastSlot(f, tx);
    expect(f.outcome(tx, 0)!.round).toBe("submitting: 3 of 3 signatures");
    await f.round(); // every node refuses the garbage; each waits for a spend to show in its wallet
    expect(f.outcome(tx, 0)!.round).toBe("submitting: 3 of 3 signatures");
    f.heights(302); // SUBMIT_REFUSAL_BLOCKS later nothing did: Fault(t) votes
    await f.round();
    expect(f.outcome(tx, 0)).toMatchObject({ state: "signing", attempt: 0, round: "signatures: 2 of 3" });
    await f.round(); // guardian 0 completes
    await f.round(); // votes
    expect(f.outcome(tx, 0)).toMatchObject({ state: "submitted", attempt: 0 });
    f.heights(304);
    await f.round();
    expect(f.outcome(tx, 0)!.state).toBe("confirmed");
    await expect(f.guardians[LAST]!.wallet.submit(keeper.kept[0]!)).rejects.toThrow("double spend");
    expectOneTransaction(f);
  });

  it("the kept completion broadcast first pays the batch: the others' completion is a double spend, they vote the txid their wallets saw spend the inputs, and the batch is confirmed once, without a tx key", async () => {
    const keeper = new KeepingLastSigner("silent");
    const { f, tx } = setup({ [LAST]: keeper });
    await toLastSlot(f, tx);
    const broadcast = await f.guardians[LAST]!.wallet.submit(keeper.kept[0]!);
    f.heights(303); // guardian 0 stands in and completes: its node refuses it
    await f.round();
    await f.round();
    expect(f.outcome(tx, 0)).toMatchObject({ state: "submitted", moneroTxid: broadcast });
    f.heights(305);
    await f.round();
    const confirmed = f.outcome(tx, 0)!;
    expect(confirmed).toMatchObject({ state: "confirmed", moneroTxid: broadcast, txHeight: 300 });
    expect(confirmed.txKey).toBeUndefined();
    expectOneTransaction(f);
    // The next batch is not frozen behind it.
    await f.round();
    f.heights(307);
    for (let i = 0; i < 4; i++) await f.round();
    expect(f.outcome(tx, 2)).toMatchObject({ state: "submitted", batch: 2 });
  });

  it("with one guardian silent in any signing role, a batch is confirmed within payoutRoundBlocks + t + 3 agreed blocks of its exports", async () => {
    const blocksTaken: Record<number, number> = {};
    for (const silent of [1, 2, 3, 0]) {
      const { f, tx } = setup();
      await f.round(); // exports: order 1, 2, 3, 0
      f.guardians[silent]!.wallet.silent = true;
      let blocks = 0;
      while (f.outcome(tx, 0)!.state !== "confirmed" && blocks < 50) {
        blocks++;
        f.heights(300 + blocks);
        await f.round();
      }
      blocksTaken[silent] = blocks;
      expect(f.outcome(tx, 0)!.state).toBe("confirmed");
      expect(f.chain.spent.size).toBe(1);
    }
    console.log(
      `payout: agreed blocks from exports to confirmed, by silent guardian: ${JSON.stringify(blocksTaken)}`,
    );
    for (const b of Object.values(blocksTaken))
      expect(b).toBeLessThanOrEqual(CONFIG.payoutRoundBlocks + T + 3);
  });

  it("a Byzantine creator's garbage transaction set is refused by the next signer and skipped; the batch pays once", async () => {
    const { f, tx } = setup();
    f.guardians[1]!.wallet.garbage = true; // the creator of attempt 0
    await f.round(); // exports
    await f.round(); // the garbage set
    await f.round(); // the next signer refuses it: Fault(slot 0); one refusal may be a lie
    expect(f.outcome(tx, 0)).toMatchObject({ state: "signing", attempt: 0 });
    await f.round(); // the one after refuses it too: f + 1 refusals, attempt 1
    expect(f.outcome(tx, 0)).toMatchObject({ state: "signing", attempt: 1 });
    for (let i = 0; i < 6; i++) await f.round();
    expect(f.outcome(tx, 0)!.state).toBe("submitted");
    f.heights(302);
    await f.round();
    expect(f.outcome(tx, 0)!.state).toBe("confirmed");
    expect(f.chain.submits.size).toBe(1);
  });

  // Conflicting attempts (threat-model row 3b; the freeze the whole-federation simulator found at
  // seed 7): the last slot of attempt 0 has no candidate left that can sign (here: guardian 0 is
  // silent and guardian 3 is too, as a guardian whose wallet spent its nonces on another branch
  // answers nothing useful), and the set might still be finished by f guardians. Before, the
  // candidates went round for ever; now, after one more turn, attempt 1 starts bound to attempt 0's
  // inputs, so that both can never be mined.
  it("a batch whose last slot has no candidate left starts a new attempt bound to the stuck attempt's inputs; paid once, the old set finished later is a double spend", async () => {
    const { f, tx } = setup();
    await f.round(); // exports: creator 1, order 1, 2, 3, 0
    f.guardians[0]!.wallet.silent = true;
    f.guardians[3]!.wallet.silent = true;
    await f.round(); // creator 1
    await f.round(); // guardian 2 signs: lineage [1, 2]
    expect(f.outcome(tx, 0)).toMatchObject({ attempt: 0, round: "signatures: 2 of 3" });
    const stuck = new PayoutStore(f.mdb()).blob(1, 1, 2)!;
    const k0 = decodeCreatorSet(new PayoutStore(f.mdb()).blob(1, 0, 1)!)!.keyImages.map(toHex);
    // Guardian 3 and then guardian 0 time out; the candidates get one more turn; then attempt 1.
    for (const h of [303, 306, 309]) {
      f.heights(h);
      expect(f.outcome(tx, 0)!.attempt).toBe(0);
    }
    f.heights(312);
    expect(f.outcome(tx, 0)).toMatchObject({ state: "signing", attempt: 1 });
    const b = new PayoutStore(f.mdb()).batch(1)!;
    expect(b.v2).toBe(true);
    expect(b.bound.map(toHex)).toEqual(k0);
    // Guardian 3 is back (0 stays silent): attempt 1 without guardian 0.
    f.guardians[3]!.wallet.silent = false;
    await f.round();
    f.heights(314);
    await f.round(); // the creator of attempt 1
    const attempt1 = new PayoutStore(f.mdb()).batch(1)!;
    const creator = attempt1.order[0]!;
    expect(attempt1.order).not.toContain(0);
    const named = decodeCreatorSet(new PayoutStore(f.mdb()).blob(1, 0, creator)!)!.keyImages.map(toHex);
    expect(named).toEqual(k0);
    for (let i = 0; i < 4; i++) await f.round();
    expect(f.outcome(tx, 0)!.state).toBe("submitted");
    f.heights(316);
    await f.round();
    expect(f.outcome(tx, 0)!.state).toBe("confirmed");
    // One set of inputs was ever used (the fake's create took none other), and it was spent once.
    expect(f.chain.created).toBe(1);
    expect(f.chain.spent.size).toBe(1);
    expect(f.chain.mined.size).toBe(1);
    // Guardian 0 finishes attempt 0's set now and broadcasts it: the same inputs, refused.
    f.guardians[0]!.wallet.silent = false;
    const late = await f.guardians[0]!.wallet.sign(toHex(stuck));
    expect(late.complete).toBe(true);
    await expect(f.guardians[0]!.wallet.submit(late.txset)).rejects.toThrow(/double spend/);
  });

  /**
   * Row 3c's scene: guardians 0 and 3 silent, attempt 0's set signed by 1 and 2 gets stuck; attempt
   * 1 is bound to its inputs (exports without guardian 0); `beforeBroadcast` sees attempt 1's batch
   * record; then guardian 0 completes attempt 0's set and broadcasts it: mined at 312, height 314.
   */
  async function keptCompletionMinedLate(
    f: ReturnType<typeof setup>["f"],
    tx: Parameters<ReturnType<typeof setup>["f"]["outcome"]>[0],
    beforeBroadcast?: (b: NonNullable<ReturnType<PayoutStore["batch"]>>) => void,
  ): Promise<string> {
    await f.round(); // exports: creator 1, order 1, 2, 3, 0
    f.guardians[0]!.wallet.silent = true;
    f.guardians[3]!.wallet.silent = true;
    await f.round(); // creator 1
    await f.round(); // guardian 2 signs: lineage [1, 2]
    const stuck = new PayoutStore(f.mdb()).blob(1, 1, 2)!;
    for (const h of [303, 306, 309, 312]) f.heights(h);
    expect(f.outcome(tx, 0)).toMatchObject({ state: "signing", attempt: 1 });
    expect(new PayoutStore(f.mdb()).batch(1)!.bound.length).toBe(1);
    f.guardians[3]!.wallet.silent = false;
    await f.round(); // exports of attempt 1 (without guardian 0)
    beforeBroadcast?.(new PayoutStore(f.mdb()).batch(1)!);
    // Guardian 0 finishes attempt 0's set now and broadcasts it: mined, it pays the batch.
    f.guardians[0]!.wallet.silent = false;
    const late = await f.guardians[0]!.wallet.sign(toHex(stuck));
    const kept = await f.guardians[0]!.wallet.submit(late.txset);
    f.guardians[0]!.wallet.silent = true;
    f.heights(314);
    return kept;
  }

  it("a completion of the stuck attempt broadcast after a bound attempt started pays the batch: the bound creator cannot create, every guardian votes the txid its wallet saw spend the bound inputs, confirmed once without a tx key", async () => {
    // Found by the whole-federation simulator (testing/sim, seed 8, N = 4, one Byzantine guardian
    // that keeps its completion and broadcasts it once the federation moved on): before, the
    // creator's transfer failed (not enough money) at every attempt, and the batch stayed in
    // `sign` for good, every later withdrawal behind it.
    const { f, tx } = setup();
    const kept = await keptCompletionMinedLate(f, tx);
    await f.round(); // the creator finds its bound inputs spent; guardians 1, 2, 3 vote the txid
    expect(f.outcome(tx, 0)).toMatchObject({ state: "submitted", moneroTxid: kept });
    await f.round(); // mined at 312, 2 confirmations at 314: attested without a tx key
    const confirmed = f.outcome(tx, 0)!;
    expect(confirmed).toMatchObject({ state: "confirmed", moneroTxid: kept });
    expect(confirmed.txKey).toBeUndefined();
    expect(f.chain.created).toBe(1);
    expect(f.chain.mined.size).toBe(1);
    expect(f.chain.spent.size).toBe(1);
  });

  it("the same with a bound creator whose wallet cannot name the spender: it checks the txid the others voted on its own node and votes it (threat model 3d)", async () => {
    // Found by the whole-federation simulator (`npm run sim -- --seed 3 --nodes 4 --byzantine 1
    // --monero-garbage`): the creator's wallet learned the bound inputs' key images after the kept
    // completion spent them, so wallet-rpc did not list it as outgoing; with the keeper silent only
    // 2 of t = 3 votes came and the batch stayed in `sign` for good.
    const { f, tx } = setup();
    let creator = -1;
    const kept = await keptCompletionMinedLate(f, tx, (b) => {
      expect(b.order).not.toContain(0);
      creator = b.order[0]!;
      f.guardians[creator]!.wallet.blind = true;
    });
    // The two others vote the txid their wallets saw; the blind creator's transfer fails (its bound
    // inputs are spent), as every try did before.
    await f.round(true);
    expect(f.stepErrors.map((e) => e.g)).toEqual([creator]);
    expect(f.stepErrors[0]!.message).toMatch(/not enough money/);
    await f.round(); // the creator checks their txid on its node: mined, spends a bound input
    expect(new PayoutStore(f.mdb()).vote(1, creator)).toEqual({ txid: fromHex(kept) });
    expect(f.outcome(tx, 0)).toMatchObject({ state: "submitted", moneroTxid: kept });
    await f.round();
    expect(f.outcome(tx, 0)).toMatchObject({ state: "confirmed", moneroTxid: kept });
    expect(f.chain.mined.size).toBe(1);
    expect(f.chain.spent.size).toBe(1);
  });

  it("consensus refuses a creator's set that does not name its inputs, names one twice, or names one outside the attempt's bound", async () => {
    const { f } = setup();
    await f.round(); // exports: creator 1
    const post = (from: number, blob: Uint8Array, attempt = 0) =>
      f.block([
        {
          from,
          item: {
            kind: "chunk",
            batch: 1,
            attempt,
            slot: 0,
            total: 1,
            index: 0,
            digest: sha256(blob),
            data: blob,
          },
        },
      ]).moduleItemErrors;
    const set = new TextEncoder().encode("a transaction set");
    const k = (n: number) => new Uint8Array(32).fill(n);
    expect(post(1, set)).toBe(1);
    expect(post(1, encodeCreatorSet([k(1), k(1)], set))).toBe(1);
    expect(post(1, encodeCreatorSet([k(1), k(2)], set))).toBe(0);
    // Guardian 2 signs; 3 and 0 stay silent through two turns: attempt 1, bound to k(1), k(2).
    const signed = new TextEncoder().encode("signed once");
    expect(
      f.block([
        {
          from: 2,
          item: {
            kind: "chunk",
            batch: 1,
            attempt: 0,
            slot: 1,
            total: 1,
            index: 0,
            digest: sha256(signed),
            data: signed,
          },
        },
      ]).moduleItemErrors,
    ).toBe(0);
    for (const h of [303, 306, 309, 312]) f.heights(h);
    const b = new PayoutStore(f.mdb()).batch(1)!;
    expect(b.attempt).toBe(1);
    expect(b.bound.map(toHex)).toEqual([toHex(k(1)), toHex(k(2))]);
    // Attempt 1: exports of 1, 2, 3; its creator may name k(2) but not k(3).
    f.guardians[0]!.wallet.silent = true;
    await f.round();
    f.heights(314);
    const creator = new PayoutStore(f.mdb()).batch(1)!.order[0]!;
    expect(f.guardians[creator]!.monero.payouts.duty(f.mdb(creator), creator)).toMatchObject({
      kind: "sign",
      slot: 0,
      only: [k(1), k(2)],
    });
    expect(post(creator, encodeCreatorSet([k(2), k(3)], set), 1)).toBe(1);
    expect(post(creator, encodeCreatorSet([k(2)], set), 1)).toBe(0);
  });

  // Threat model 3e: a reorg deeper than the confirmation depth took away an output a confirmed
  // batch's transaction spent (the deposit double-spent on a fork): the transaction can never be
  // mined again. t Gone votes re-open the batch (it waits for the batch in flight), a new attempt
  // pays it from other inputs; one guardian's Gone (a Byzantine claim about a mined payout), even
  // sent t times, and a transaction merely missing from the nodes with its inputs intact, do not.
  it("a confirmed batch whose transaction a deep reorg made unmineable is re-opened by t Gone votes and paid again; a Byzantine minority's Gone and a merely missing transaction re-open nothing", async () => {
    const { f, tx } = setup();
    await f.round(); // exports (all four): signing starts at once
    for (let i = 0; i < 3; i++) await f.round(); // creator, two signers
    await f.round(); // submit votes
    const first = f.outcome(tx, 0)!;
    expect(first).toMatchObject({ state: "submitted", batch: 1, attempt: 0 });
    f.heights(302);
    await f.round();
    expect(f.outcome(tx, 0)).toMatchObject({ state: "confirmed", moneroTxid: first.moneroTxid });
    const b1 = new PayoutStore(f.mdb()).batch(1)!;
    expect(b1.inputs).toHaveLength(1); // the creator's named input, kept past confirmation
    const owedBefore = f.guardians[0]!.monero.payouts.pending(f.mdb()).amount;
    await f.round(); // batch 2 (the third payout) starts exporting
    expect(f.outcome(tx, 2)).toMatchObject({ state: "signing", batch: 2 });

    // A Byzantine guardian claims the mined batch 1 is gone, three times in one block: one vote.
    const gone = { kind: "gone" as const, batch: 1, attempt: 0 };
    f.block([0, 1, 2].map(() => ({ from: 3, item: gone })));
    expect(new PayoutStore(f.mdb()).goneVoters(1)).toEqual([3]);
    expect(f.outcome(tx, 0)).toMatchObject({ state: "confirmed", moneroTxid: first.moneroTxid });
    // Honest guardians whose nodes show it mined vote nothing.
    f.heights(306);
    await f.round();
    expect(new PayoutStore(f.mdb()).goneVoters(1)).toEqual([3]);

    // Missing from the nodes but every input still there (a pool that dropped it): mineable, no vote.
    f.chain.mined.delete(first.moneroTxid!);
    for (const h of [307, 310]) {
      f.heights(h);
      await f.round();
    }
    expect(new PayoutStore(f.mdb()).goneVoters(1)).toEqual([3]);
    expect(f.outcome(tx, 0)!.state).toBe("confirmed");

    // The deep reorg: the output its input spent is gone. The honest guardians wait
    // payoutConfirmations (2) of their node's blocks, then vote; t votes re-open batch 1, which
    // waits for batch 2 (in flight) and is owed again.
    f.chain.gone.add(toHex(b1.inputs[0]!));
    f.heights(311);
    await f.round();
    expect(f.outcome(tx, 0)!.state).toBe("confirmed"); // seen gone for less than 2 blocks
    f.heights(313);
    await f.round();
    const waiting = f.outcome(tx, 0)!;
    expect(waiting).toMatchObject({ state: "signing", batch: 1, attempt: 1 });
    expect(waiting.round).toMatch(
      /^waiting for batch 2; Monero transaction [0-9a-f]{16}… was taken off the chain/,
    );
    expect(waiting.moneroTxid).toBeUndefined();
    const reopened = new PayoutStore(f.mdb()).batch(1)!;
    expect(reopened.phase).toBe("waiting");
    expect(toHex(reopened.goneTxid!)).toBe(first.moneroTxid);
    // Owed again: batch 1's two payouts (40 000 + 10 000, fees 100 each) beside batch 2's third.
    expect(owedBefore).toBe(20_100n);
    expect(f.guardians[0]!.monero.payouts.pending(f.mdb())).toMatchObject({ count: 3, amount: 70_300n });
    // Late or repeated Gone votes of the old attempt change nothing.
    f.block([{ from: 0, item: gone }]);
    expect(new PayoutStore(f.mdb()).batch(1)!.attempt).toBe(1);

    // Batch 2 finishes, then batch 1's new attempt (no bound: the old transaction can never be
    // mined) pays from another transaction.
    for (let h = 314; f.outcome(tx, 2)!.state !== "confirmed" && h < 340; h += 2) {
      await f.round();
      f.heights(h);
    }
    expect(f.outcome(tx, 2)!.state).toBe("confirmed");
    for (let h = 340; f.outcome(tx, 0)!.state !== "confirmed" && h < 380; h += 2) {
      await f.round();
      f.heights(h);
    }
    const again = f.outcome(tx, 0)!;
    expect(again).toMatchObject({ state: "confirmed", batch: 1 });
    expect(again.attempt).toBeGreaterThanOrEqual(1); // (a turn may time out at this test's pace)
    expect(again.moneroTxid).not.toBe(first.moneroTxid);
    expect(f.chain.mined.has(again.moneroTxid!)).toBe(true);
    expect(new PayoutStore(f.mdb()).batch(1)!.bound).toEqual([]);
    expect(f.guardians[0]!.monero.payouts.pending(f.mdb()).amount).toBe(0n);
    // Re-paying changes nothing in the audit: the payouts left the assets when they were accepted.
    expect(f.moneroAudit()).toEqual({ assets: 1_000_000n - 70_300n, liabilities: 0n });
  });

  it("Gone votes: refused before a txid is agreed and for another attempt; a submitted batch gone is re-made at once", async () => {
    const { f, tx } = setup();
    await f.round(); // exports
    const early = f.block([{ from: 0, item: { kind: "gone", batch: 1, attempt: 0 } }]);
    expect(early.moduleItemErrors).toBe(1); // no agreed transaction yet
    for (let i = 0; i < 3; i++) await f.round();
    await f.round(); // submit votes
    const first = f.outcome(tx, 0)!;
    expect(first.state).toBe("submitted");
    const ahead = f.block([{ from: 0, item: { kind: "gone", batch: 1, attempt: 5 } }]);
    expect(ahead.moduleItemErrors).toBe(1);
    // Submitted, never mined: its input taken away. t votes: attempt 1 at once, unbound.
    f.chain.mined.delete(first.moneroTxid!);
    f.chain.gone.add(toHex(new PayoutStore(f.mdb()).batch(1)!.inputs[0]!));
    f.block([0, 1, 2].map((from) => ({ from, item: { kind: "gone" as const, batch: 1, attempt: 0 } })));
    expect(f.outcome(tx, 0)).toMatchObject({ state: "signing", attempt: 1 });
    expect(f.outcome(tx, 0)!.round).toMatch(/^exporting multisig info: 0 of 3 guardians; Monero transaction/);
    for (let h = 301; f.outcome(tx, 0)!.state !== "confirmed" && h < 330; h += 2) {
      await f.round();
      f.heights(h);
    }
    expect(f.outcome(tx, 0)).toMatchObject({ state: "confirmed", attempt: 1 });
    expect(f.outcome(tx, 0)!.moneroTxid).not.toBe(first.moneroTxid);
  });

  // Seeds 20 and 38 of `--monero-deep-reorg-spent` (docs/simulator.md): a deep reorg takes an input
  // of the fully signed attempt away while it is submitted, before its txid is agreed: two
  // guardians voted the txid, one node refused it (a fault), the Byzantine one votes nothing.
  it("a fully signed attempt whose input a deep reorg took away before its txid was agreed is re-made unbound by t Gone votes per attempt (neither t txids nor t faults came)", async () => {
    const { f, tx } = setup();
    await f.round(); // exports
    for (let i = 0; i < 3; i++) await f.round(); // creator, two signers
    const signed = new PayoutStore(f.mdb()).batch(1)!;
    expect(signed.phase).toBe("submit");
    expect(signed.txid).toBeUndefined();
    const completion = sha256(new TextEncoder().encode("the completion 1 and 3 submitted"));
    f.guardians[2]!.down = true; // the Byzantine guardian votes nothing
    f.block([
      { from: 1, item: { kind: "txid", batch: 1, attempt: 0, txid: completion } },
      { from: 3, item: { kind: "txid", batch: 1, attempt: 0, txid: completion } },
      { from: 0, item: { kind: "fault", batch: 1, attempt: 0, slot: 3 } },
    ]);
    // Its input intact (the completion merely not on the nodes): nobody votes Gone, still stuck.
    for (const h of [301, 303, 305]) {
      f.heights(h);
      await f.round();
    }
    expect(new PayoutStore(f.mdb()).goneVoters(1)).toEqual([]);
    expect(f.outcome(tx, 0)).toMatchObject({ state: "signing", attempt: 0 });
    // The deep reorg: the creator's named input (what every completion spends) is gone. A guardian's
    // Gone sent three times is one vote; t voters (0, 1, 3, after payoutConfirmations of their
    // blocks) re-make the attempt with no bound.
    f.block([1, 2, 3].map(() => ({ from: 1, item: { kind: "gone" as const, batch: 1, attempt: 0 } })));
    expect(new PayoutStore(f.mdb()).goneVoters(1)).toEqual([1]);
    expect(new PayoutStore(f.mdb()).batch(1)!.attempt).toBe(0);
    expect(f.chain.inputsOf.size).toBe(1); // the one set created: its named input
    f.chain.gone.add([...f.chain.inputsOf.keys()][0]!);
    for (let h = 306; new PayoutStore(f.mdb()).batch(1)!.attempt === 0 && h < 320; h += 1) {
      f.heights(h);
      await f.round();
    }
    const remade = new PayoutStore(f.mdb()).batch(1)!;
    expect(remade.attempt).toBe(1);
    expect(remade.bound).toEqual([]);
    expect(remade.goneTxid).toBeUndefined();
    // Paid by the new attempt (guardians 0, 1, 3), never by the lost completion.
    for (let h = 320; f.outcome(tx, 0)!.state !== "confirmed" && h < 360; h += 2) {
      await f.round();
      f.heights(h);
    }
    const paid = f.outcome(tx, 0)!;
    expect(paid).toMatchObject({ state: "confirmed", batch: 1 });
    expect(paid.attempt).toBeGreaterThanOrEqual(1);
    expect(paid.moneroTxid).not.toBe(toHex(completion));
    expect(f.chain.mined.has(paid.moneroTxid!)).toBe(true);
  });

  // `--monero-deep-reorg-detach` (docs/simulator.md): a deep reorg only DETACHED the source of a
  // named input right after guardian 1's node took the completion (it alone has it in its pool), the
  // miner censored the source, guardians 0 and 3's nodes refused the set (their faults), the
  // Byzantine guardian 2 voted nothing: one txid, two faults, no Gone (the source is not
  // double-spent). Once the miner released the source, the completion was mined; before, nothing
  // moved the batch out of `submit` (a vote was never changed), every later withdrawal frozen.
  it("a guardian whose node refused the final set votes the txid of a completion its node later shows mined spending the named inputs (its fault replaced): a batch split 1 txid / 2 faults by a detached, then released source is confirmed (failed before: frozen in submit)", async () => {
    const { f, tx } = setup();
    await f.round(); // exports
    for (let i = 0; i < 3; i++) await f.round(); // creator, two signers
    const store = new PayoutStore(f.mdb());
    const signed = store.batch(1)!;
    expect(signed.phase).toBe("submit");
    const last = signed.signers[T - 1]!;
    const final = toHex(txsetOfBlob(T - 1, store.blob(1, T - 1, last)!));
    f.guardians[2]!.down = true; // the Byzantine guardian votes nothing
    // Guardian 1's node took the completion; the others' refused it (the source detached).
    const completion = await f.guardians[1]!.wallet.submit(final);
    f.block([
      { from: 1, item: { kind: "txid", batch: 1, attempt: 0, txid: fromHex(completion) } },
      { from: 0, item: { kind: "fault", batch: 1, attempt: 0, slot: T } },
      { from: 3, item: { kind: "fault", batch: 1, attempt: 0, slot: T } },
    ]);
    expect(new PayoutStore(f.mdb()).batch(1)!.txid).toBeUndefined();
    // The completion is mined (the fake chain mines at submission): guardians 0 and 3 see it spend
    // the named inputs and vote its txid in place of their faults; t equal txids, then confirmed.
    for (let h = 301; f.outcome(tx, 0)!.state !== "confirmed" && h < 340; h += 2) {
      await f.round();
      f.heights(h);
    }
    const paid = f.outcome(tx, 0)!;
    expect(paid).toMatchObject({ state: "confirmed", batch: 1, attempt: 0 });
    expect(paid.moneroTxid).toBe(completion);
  });

  // Review of 45fa79b (reviewsign, 2026-12-07): Gone on an attempt's *named* inputs while its set
  // is signed trusts the creator's list. When the signers' check verified it only by total (all
  // wallet-rpc shows), a Byzantine creator named an output of the same amount whose source the
  // attacker's miner then double-spent (threat model 3e), while its set spent a live one: the honest
  // nodes saw the named input dead and voted Gone, the attempt was re-made unbound, and the
  // completion the last honest signer made before the reorg reached it was still mineable: paid
  // twice (2 mined with 45fa79b alone). Now every signer reads the key images of the set its own
  // wallet signed (RpcPayoutWallet.signedKeyImages: readMultisigTxSetKeyImages) and does not pass on
  // a set whose inputs are not exactly the named ones.
  it("a Byzantine creator that names a same-amount output in place of its set's real input gets no honest signature (the signed set's key images are read), so a deep reorg that then takes that output away cannot get the batch paid twice", async () => {
    const { f, tx } = setup();
    // The attacker's deposit D: an output of the wallet, of the same amount as the inputs the
    // creator's transaction (t1) will spend.
    const named = keyImageOf("tD");
    f.chain.inputsOf.set(named, "tD");
    f.chain.sameAmount.set(named, "t1"); // `check` sees the named outputs' total only: it passes
    f.guardians[1]!.wallet.nameInstead = named; // guardian 1 (Byzantine) creates batch 1 attempt 0
    await f.round(); // exports: creator 1, order 1, 2, 3, 0
    await f.round(); // the creator: spends t1, names D
    await f.round(true); // guardian 2 signs, reads what it signed (t1's key image, not D's): refused
    expect(f.guardians[2]!.wallet.calls).toContain("sign");
    expect(new PayoutStore(f.mdb()).batch(1)!.signers).toEqual([1]);
    // The deep reorg takes D's source away: no set any honest guardian signed names it.
    f.chain.gone.add(named);
    for (let h = 301; f.outcome(tx, 0)!.state !== "confirmed" && h < 420; h++) {
      f.heights(h);
      await f.round(true);
    }
    expect(f.outcome(tx, 0)).toMatchObject({ state: "confirmed", batch: 1 });
    expect(f.chain.mined.size).toBe(1);
  });
  // Review of 17d8cc8's change 2 (payout-watcher.ts `confirm`, no final set in the attempt): the
  // batch is paid by a completion of an earlier attempt that an HONEST guardian's wallet submitted
  // (it knows the tx key); the Byzantine guardian attests nothing. Before 17d8cc8 that wallet
  // attested with its key, the two others without one: 1 keyed / 2 empty, never t equal.
  it("a batch paid by an earlier attempt's completion that an honest guardian's wallet submitted (it knows the tx key) is confirmed without a tx key while the Byzantine guardian is silent (failed before 17d8cc8: 1 keyed / 2 empty attestations, frozen)", async () => {
    const { f, tx } = setup();
    const kept = await keptCompletionMinedLate(f, tx);
    // Guardian 0's wallet submitted the completion: it knows the key. It is honest from now on;
    // the Byzantine guardian 2 votes and attests nothing.
    f.guardians[0]!.wallet.silent = false;
    f.guardians[2]!.down = true;
    expect(await f.guardians[0]!.wallet.txKey(kept)).toBe(toHex(TXKEY));
    for (let h = 315; f.outcome(tx, 0)!.state !== "confirmed" && h < 330; h += 1) {
      await f.round();
      f.heights(h);
    }
    const store = new PayoutStore(f.mdb());
    const paid = f.outcome(tx, 0)!;
    expect(paid).toMatchObject({ state: "confirmed", batch: 1, moneroTxid: kept });
    expect(paid.txKey).toBeUndefined();
    expect(store.batch(1)!.phase).toBe("done");
    expect(f.chain.mined.size).toBe(1);
    expect(f.chain.spent.size).toBe(1);
  });

  // Review of 17d8cc8 (attacker: the Byzantine guardian casts the t-th fault, then is silent). The
  // source of a named input detached (`--monero-deep-reorg-detach`): guardian 1's node took the
  // completion C1 of final set S1, guardians 0 and 3's nodes refused S1 (faults); the Byzantine
  // guardian 2 votes the t-th fault, S1 is sent back and signed again as S2. Once C1 is mined every
  // honest node refuses S2 and votes C1 (spentBy), so C1 is agreed with S2 as the attempt's final
  // set. Confirm: guardian 1's wallet submitted C1 and attests with its key; 0 and 3 do not know it,
  // resubmit S2 (refused: C1 spent its inputs) and attest without one. 1 keyed / 2 empty, the
  // Byzantine silent: never t equal attestations, the batch frozen in `submit` with its txid
  // agreed (every later withdrawal behind it). 17d8cc8's change 2 covers only an attempt with no
  // final set; now t attestations of one block confirm, the key only if f + 1 attested it.
  it("a completion of a final set sent back by the Byzantine guardian's t-th fault, agreed as the batch's txid, is confirmed although only its submitter knows the tx key (failed before: frozen, 1 keyed / 2 empty attestations)", async () => {
    const { f, tx } = setup();
    await f.round(); // exports
    for (let i = 0; i < 3; i++) await f.round(); // creator, two signers
    const store = () => new PayoutStore(f.mdb());
    const signed = store().batch(1)!;
    expect(signed.phase).toBe("submit");
    const last = signed.signers[T - 1]!;
    const s1 = toHex(txsetOfBlob(T - 1, store().blob(1, T - 1, last)!));
    f.guardians[2]!.down = true; // Byzantine: proposes only the items below
    // Guardian 1's node took C1 (the fake chain mines at submission; the detach world has it in
    // guardian 1's pool until the miner releases the source); 0 and 3's nodes refused S1 before.
    const c1 = await f.guardians[1]!.wallet.submit(s1);
    f.block([
      { from: 0, item: { kind: "fault", batch: 1, attempt: 0, slot: T } },
      { from: 3, item: { kind: "fault", batch: 1, attempt: 0, slot: T } },
      { from: 1, item: { kind: "txid", batch: 1, attempt: 0, txid: fromHex(c1) } },
      { from: 2, item: { kind: "fault", batch: 1, attempt: 0, slot: T } }, // the t-th fault
    ]);
    const back = store().batch(1)!;
    expect(back.phase).toBe("sign"); // S1 sent back: its last signer passed over
    expect(back.txid).toBeUndefined();
    // The honest guardians re-sign the final set (S2), every node refuses S2 (C1 spent its
    // inputs), each wallet names C1 as the spender: C1 agreed, S2 the attempt's final set.
    for (let h = 301; f.outcome(tx, 0)!.state !== "confirmed" && h < 360; h += 1) {
      await f.round();
      f.heights(h);
    }
    const b = store().batch(1)!;
    expect(b.txid && toHex(b.txid)).toBe(c1);
    // Frozen here before: guardian 1 attested C1 with its key, 0 and 3 without one.
    expect(f.outcome(tx, 0)).toMatchObject({ state: "confirmed", batch: 1, moneroTxid: c1 });
    expect(f.chain.mined.size).toBe(1);
  });

  // Review of 17d8cc8 (attacker: a passed-over Byzantine last signer that kept a sibling completion
  // K of the set before the final one, with a miner able to reorg one block). Guardian 1 submitted
  // the final set's completion X; 0 and 3's nodes refused it (K in their pools, or a detached
  // source: faults). X is mined: guardian 0 replaces its fault by X ("once": for good); before
  // guardian 3 polls, the miner's one-block reorg mines K in X's place; guardian 3's node shows K
  // mined spending the named inputs: it votes K, the Byzantine guardian too. X 2 votes, K 2 votes,
  // no fault left: neither t txids nor t faults, and no Gone (X's input is spent in the chain by a
  // sibling: no evidence, 3f). Before 17d8cc8 the same world froze with the Byzantine merely silent
  // (the freeze 17d8cc8 fixed); its "once" left this one. Now guardians 0 and 1 replace X by K once
  // their nodes show K mined at depth (payoutConfirmations).
  it("a one-block reorg between two guardians' fault-to-txid replacements splits the votes between two sibling completions: a txid vote is replaced by the sibling its node shows mined at depth, and the batch is confirmed once by it (failed before: frozen in submit, 2 / 2 votes)", async () => {
    for (const byzantineVotesK of [true, false]) {
      const { f, tx } = setup();
      await f.round(); // exports
      for (let i = 0; i < 3; i++) await f.round(); // creator, two signers
      const store = () => new PayoutStore(f.mdb());
      const signed = store().batch(1)!;
      expect(signed.phase).toBe("submit");
      const last = signed.signers[T - 1]!;
      const s1 = toHex(txsetOfBlob(T - 1, store().blob(1, T - 1, last)!));
      const before = signed.signers[T - 2]!;
      const prev = toHex(txsetOfBlob(T - 2, store().blob(1, T - 2, before)!));
      const keeper = [0, 1, 2, 3].find((g) => !signed.signers.includes(g)) ?? 2;
      // K: the same set completed by another last signer (a sibling: same inputs, another txid).
      const kSet = prev + toHex(new TextEncoder().encode(`|g${keeper}`));
      const k = toHex(sha256(Buffer.from(kSet, "hex")));
      f.guardians[2]!.down = true; // the Byzantine guardian proposes only the items below
      const x = await f.guardians[1]!.wallet.submit(s1); // mined at once in the fake
      expect(k).not.toBe(x);
      f.block([
        { from: 0, item: { kind: "fault", batch: 1, attempt: 0, slot: T } },
        { from: 3, item: { kind: "fault", batch: 1, attempt: 0, slot: T } },
        { from: 1, item: { kind: "txid", batch: 1, attempt: 0, txid: fromHex(x) } },
      ]);
      f.guardians[3]!.down = true; // its node has not polled yet
      await f.round(); // guardian 0 sees X mined: its fault becomes X
      expect(store().vote(1, 0)).toEqual({ txid: fromHex(x) });
      // The miner's one-block reorg: K in X's place.
      f.chain.mined.delete(x);
      f.chain.spent.set(setTx(s1), k);
      f.chain.mined.set(k, f.chain.height);
      f.guardians[3]!.down = false;
      // The Byzantine guardian votes K, or nothing (then t equal votes need all three honest ones).
      if (byzantineVotesK)
        f.block([{ from: 2, item: { kind: "txid", batch: 1, attempt: 0, txid: fromHex(k) } }]);
      for (let h = 301; f.outcome(tx, 0)!.state !== "confirmed" && h < 340; h += 1) {
        await f.round();
        f.heights(h);
      }
      // At 17d8cc8: guardians 0 and 1 voted X, 2 and 3 voted K, the batch stayed in `submit`.
      // Paid once, by K (mined), and confirmed.
      expect(f.outcome(tx, 0)).toMatchObject({ state: "confirmed", batch: 1, moneroTxid: k });
      expect([...f.chain.mined.keys()]).toEqual([k]);
    }
  });

  it("t attestations of one block confirm whatever key each carries; the outcome's tx key is one f + 1 attested (a Byzantine key alone never), else none", async () => {
    const other = Uint8Array.from(new Uint8Array(32).fill(0x77));
    for (const [keys, expected] of [
      [[TXKEY, other, new Uint8Array(0)], undefined], // one honest key, the Byzantine's, one empty
      [[TXKEY, other, TXKEY], toHex(TXKEY)], // two honest keys beside the Byzantine's
      [[other, new Uint8Array(0), new Uint8Array(0)], undefined],
    ] as const) {
      const { f, tx } = setup();
      await f.round(); // exports
      for (let i = 0; i < 3; i++) await f.round(); // creator, two signers
      await f.round(); // submitted: t equal txids
      const b = new PayoutStore(f.mdb()).batch(1)!;
      expect(b.txid).toBeDefined();
      for (const g of f.guardians) g.down = true; // only the items below
      const seen = (from: number, txKey: Uint8Array, txHeight = 300) => ({
        from,
        item: { kind: "seen" as const, batch: 1, attempt: 0, txHeight, txKey },
      });
      // A fourth attestation of another block does not count with these.
      f.block([seen(1, keys[0]), seen(2, TXKEY, 301), seen(0, keys[1])]);
      expect(f.outcome(tx, 0)!.state).toBe("submitted");
      f.block([seen(3, keys[2])]);
      const paid = f.outcome(tx, 0)!;
      expect(paid).toMatchObject({ state: "confirmed", txHeight: 300, moneroTxid: toHex(b.txid!) });
      expect(paid.txKey).toBe(expected);
    }
  });

  // `--monero-deep-reorg-signing` (docs/simulator.md, 11 violations in 4 of seeds 1..6 before): a
  // deep reorg takes the source of a named input away while the set is signed with t − f
  // signatures on it. The signers refuse the set, the attempt is dropped, and every next attempt is
  // bound to the dead input: no creator could ever fund a set again (the batch and every
  // withdrawal behind it frozen). Now the guardians watch the named inputs of the attempt being
  // signed, and the bound of an attempt with no creator's set, and vote Gone on them.
  it("a batch whose named input a deep reorg took away while it was signed is paid once by a fresh attempt, not frozen by attempts bound to the dead input", async () => {
    const { f, tx } = setup();
    await f.round(); // exports
    await f.round(); // the creator
    await f.round(); // the second signer: t − f = 2 signatures, so a next attempt would be bound
    const signing = new PayoutStore(f.mdb()).batch(1)!;
    expect(signing).toMatchObject({ phase: "sign", attempt: 0 });
    expect(signing.signers.length).toBe(2);
    expect(f.chain.inputsOf.size).toBe(1);
    const dead = [...f.chain.inputsOf.keys()][0]!;
    f.chain.gone.add(dead);
    for (let h = 301; f.outcome(tx, 0)!.state !== "confirmed" && h < 400; h += 1) {
      f.heights(h);
      await f.round();
    }
    const paid = f.outcome(tx, 0)!;
    expect(paid).toMatchObject({ state: "confirmed", batch: 1 });
    expect(paid.attempt).toBeGreaterThanOrEqual(1);
    // Paid once, by a transaction that does not spend the dead input.
    expect(f.chain.mined.size).toBe(1);
    expect(f.chain.inputsOf.get(dead)).toBe("t1");
    expect(f.chain.spent.has("t1")).toBe(false);
    expect(new PayoutStore(f.mdb()).batch(1)!.bound).toEqual([]);
  });

  it("Gone on the bound: one vote per guardian, refused with no bound, once the creator's set is ordered or for a later attempt; t votes drop the bound of the attempt, which goes on; a vote on the transaction is not one on the bound", async () => {
    const { f, tx } = setup();
    await f.round(); // exports: creator 1, order 1, 2, 3, 0
    const bound = (item: { from: number; attempt: number }) => ({
      from: item.from,
      item: { kind: "gone" as const, batch: 1, attempt: item.attempt, scope: "bound" as const },
    });
    // Attempt 0 has no bound: refused.
    expect(f.block([bound({ from: 0, attempt: 0 })]).moduleItemErrors).toBe(1);
    f.guardians[0]!.wallet.silent = true;
    f.guardians[3]!.wallet.silent = true;
    await f.round(); // creator 1
    await f.round(); // guardian 2 signs: lineage [1, 2]
    for (const h of [303, 306, 309, 312]) f.heights(h);
    const b1 = new PayoutStore(f.mdb()).batch(1)!;
    expect(b1).toMatchObject({ attempt: 1, phase: "export" });
    expect(b1.bound.length).toBe(1);
    // Guardian 1 three times, guardian 2 once, and a vote on attempt 1's transaction from 3 (it has
    // none yet: refused); a vote for attempt 2 is ahead: refused.
    const r = f.block([
      bound({ from: 1, attempt: 1 }),
      bound({ from: 1, attempt: 1 }),
      bound({ from: 1, attempt: 1 }),
      bound({ from: 2, attempt: 1 }),
      { from: 3, item: { kind: "gone" as const, batch: 1, attempt: 1 } },
      bound({ from: 3, attempt: 2 }),
    ]);
    expect(r.moduleItemErrors).toBe(2);
    expect(new PayoutStore(f.mdb()).goneVoters(1, "bound")).toEqual([1, 2]);
    expect(new PayoutStore(f.mdb()).goneVoters(1)).toEqual([]);
    expect(new PayoutStore(f.mdb()).batch(1)!.bound.length).toBe(1);
    // A late vote on attempt 0 changes nothing; the third voter drops the bound, same attempt.
    expect(f.block([bound({ from: 3, attempt: 0 })]).moduleItemErrors).toBe(0);
    expect(new PayoutStore(f.mdb()).batch(1)!.bound.length).toBe(1);
    expect(f.block([bound({ from: 3, attempt: 1 })]).moduleItemErrors).toBe(0);
    const dropped = new PayoutStore(f.mdb()).batch(1)!;
    expect(dropped).toMatchObject({ attempt: 1, phase: "export", bound: [] });
    expect(f.outcome(tx, 0)).toMatchObject({ state: "signing", attempt: 1 });

    // Again, but the attempt's creator's set is ordered before the t-th vote: it may spend only the
    // live part of the bound, so the vote is refused and the bound stays.
    const again = setup();
    await again.f.round();
    again.f.guardians[0]!.wallet.silent = true;
    again.f.guardians[3]!.wallet.silent = true;
    await again.f.round();
    await again.f.round();
    for (const h of [303, 306, 309, 312]) again.f.heights(h);
    again.f.block([bound({ from: 1, attempt: 1 }), bound({ from: 2, attempt: 1 })]);
    again.f.guardians[3]!.wallet.silent = false;
    for (let h = 313; new PayoutStore(again.f.mdb()).batch(1)!.signers.length === 0 && h < 330; h++) {
      again.f.heights(h);
      await again.f.round();
    }
    const set = new PayoutStore(again.f.mdb()).batch(1)!;
    expect(set).toMatchObject({ attempt: 1, phase: "sign" });
    expect(set.signers.length).toBeGreaterThan(0);
    expect(again.f.block([bound({ from: 3, attempt: 1 })]).moduleItemErrors).toBe(1);
    expect(new PayoutStore(again.f.mdb()).goneVoters(1, "bound")).toEqual([1, 2]);
    expect(new PayoutStore(again.f.mdb()).batch(1)!.bound.length).toBe(1);
  });

  // Review of 45fa79b (reviewsign): a bound attempt before its creator's set takes txid votes (a
  // completion of an earlier attempt seen mined, `paidBy`). An honest guardian that voted such a
  // completion before a deep reorg took it away (with the bound input's source) kept that vote
  // after t Gone votes dropped the bound: its vote for the attempt's own completion was refused
  // (`already_voted`), and with the Byzantine guardian silent fewer than t txids (and no fault)
  // could ever come: the batch stayed in `submit` for good.
  it("dropping the bound forgets the txid votes cast on the earlier attempts' completions: the attempt's own txid is agreed with one guardian silent", async () => {
    const { f, tx } = setup();
    await f.round(); // exports: creator 1, order 1, 2, 3, 0
    f.guardians[0]!.wallet.silent = true;
    f.guardians[3]!.wallet.silent = true;
    await f.round(); // creator 1
    await f.round(); // guardian 2 signs: lineage [1, 2]
    for (const h of [303, 306, 309, 312]) f.heights(h);
    expect(new PayoutStore(f.mdb()).batch(1)!).toMatchObject({ attempt: 1, phase: "export" });
    f.guardians[0]!.wallet.silent = false;
    f.guardians[3]!.wallet.silent = false;
    // Attempt 1's exports (consensus does not read them), then no creator's set yet.
    f.block(
      [0, 1, 2, 3].map((from) => {
        const data = new TextEncoder().encode(`export ${from} of attempt 1`);
        const item: PayoutItem = {
          kind: "chunk",
          batch: 1,
          attempt: 1,
          slot: SLOT_EXPORT,
          total: 1,
          index: 0,
          digest: sha256(data),
          data,
        };
        return { from, item };
      }),
    );
    const signing = new PayoutStore(f.mdb()).batch(1)!;
    expect(signing).toMatchObject({ attempt: 1, phase: "sign", signers: [] });
    expect(signing.bound.length).toBe(1);
    // Three signers in order; the fourth (excluded: blamed in attempt 0) is the Byzantine one.
    expect(signing.order.length).toBe(3);
    const [creator, stale, third] = signing.order as [number, number, number];
    const byzantine = [0, 1, 2, 3].find((g) => !signing.order.includes(g))!;
    expect(
      f.block([{ from: stale, item: { kind: "txid", batch: 1, attempt: 1, txid: txidOf(77) } }])
        .moduleItemErrors,
    ).toBe(0);
    // The deep reorg: the bound's input can never be spent; t votes drop the bound.
    f.block(
      [creator, stale, third].map((from) => ({
        from,
        item: { kind: "gone" as const, batch: 1, attempt: 1, scope: "bound" as const },
      })),
    );
    expect(new PayoutStore(f.mdb()).batch(1)!).toMatchObject({ attempt: 1, phase: "sign", bound: [] });
    f.guardians[byzantine]!.down = true; // the Byzantine guardian votes nothing from now on
    for (let h = 313; f.outcome(tx, 0)!.state !== "confirmed" && h < 360; h++) {
      f.heights(h);
      await f.round(true);
    }
    expect(f.outcome(tx, 0)).toMatchObject({ state: "confirmed", batch: 1, attempt: 1 });
  });

  it("a Gone vote on the bound is its own item on the wire: one more byte, and no other byte is accepted", () => {
    const tx = encodePayoutItem({ kind: "gone", batch: 7, attempt: 2 });
    const onBound = encodePayoutItem({ kind: "gone", batch: 7, attempt: 2, scope: "bound" });
    expect(onBound.length).toBe(tx.length + 1);
    expect(decodePayoutItem(tx)).toEqual({ kind: "gone", batch: 7, attempt: 2 });
    expect(decodePayoutItem(onBound)).toEqual({ kind: "gone", batch: 7, attempt: 2, scope: "bound" });
    expect(() => decodePayoutItem(Uint8Array.of(...tx, 2))).toThrow(CodecError);
    expect(() => decodePayoutItem(Uint8Array.of(...onBound, 1))).toThrow(CodecError);
  });

  // Seed 48 of `--monero-deep-reorg-spent` (docs/simulator.md): the blame reset at a Gone re-open
  // put a guardian passed over as silent in an earlier attempt of the batch back in the signing
  // order, and the re-made attempt waited payoutRoundBlocks for its turn again.
  it("a batch re-opened as gone keeps its blame: a guardian passed over as silent in an earlier attempt is not in the new attempt's order, which is submitted without waiting for it", async () => {
    const { f, tx } = setup();
    await f.round(); // four exports: creator (batch 1 + attempt 0) mod 4 = 1
    const silent = 1;
    f.guardians[silent]!.wallet.silent = true;
    await f.round();
    await f.round();
    f.heights(303); // payoutRoundBlocks: the silent creator is blamed, attempt 1 runs without it
    for (let i = 0; i < 6; i++) await f.round();
    const first = f.outcome(tx, 0)!;
    expect(first).toMatchObject({ state: "submitted", attempt: 1 });
    // A deep reorg takes the input away: t Gone votes re-make the batch (attempt 2, unbound).
    f.chain.mined.delete(first.moneroTxid!);
    f.chain.gone.add(toHex(new PayoutStore(f.mdb()).batch(1)!.inputs[0]!));
    f.block([0, 2, 3].map((from) => ({ from, item: { kind: "gone" as const, batch: 1, attempt: 1 } })));
    expect(f.outcome(tx, 0)).toMatchObject({ state: "signing", attempt: 2 });
    expect(new PayoutStore(f.mdb()).batch(1)!.blamed[silent]).toBe(1);
    // The guardian is back for the exports, then silent again at its turn (as the Byzantine one was).
    f.guardians[silent]!.wallet.silent = false;
    await f.round(); // four exports
    const order = new PayoutStore(f.mdb()).batch(1)!.order;
    expect(order).toHaveLength(3);
    expect(order).not.toContain(silent);
    f.guardians[silent]!.wallet.silent = true;
    // No agreed block passes: only a signing order without the silent guardian gets the batch out.
    for (let i = 0; i < 4; i++) await f.round();
    const again = f.outcome(tx, 0)!;
    expect(again).toMatchObject({ state: "submitted", attempt: 2 });
    expect(again.moneroTxid).not.toBe(first.moneroTxid);
    f.heights(306);
    await f.round();
    expect(f.outcome(tx, 0)).toMatchObject({ state: "confirmed", attempt: 2, moneroTxid: again.moneroTxid });
  });

  it("refuses items out of turn, conflicting blobs, bad digests and stale attempts; chunked blobs reassemble", () => {
    const { f } = setup();
    const big = new Uint8Array(CHUNK_BYTES_MAX * 2 + 10).map((_, i) => i % 251);
    const chunks = chunksOf(big);
    expect(chunks).toHaveLength(3);
    const digest = sha256(big);
    const chunk = (from: number, index: number, d = digest, slot = SLOT_EXPORT, batch = 1, attempt = 0) => ({
      from,
      item: {
        kind: "chunk" as const,
        batch,
        attempt,
        slot,
        total: 3,
        index,
        digest: d,
        data: chunks[index]!,
      },
    });
    // A batch that does not exist yet (batch 2) is refused; batch 1 starts.
    expect(f.block([chunk(0, 0, digest, SLOT_EXPORT, 2)]).moduleItemErrors).toBe(1);
    expect(f.block([chunk(0, 0), chunk(0, 1)]).moduleItemErrors).toBe(0);
    // Another digest for the same blob: refused.
    expect(f.block([chunk(0, 2, new Uint8Array(32))]).moduleItemErrors).toBe(1);
    expect(f.block([chunk(0, 2)]).moduleItemErrors).toBe(0);
    expect(f.guardians[2]!.monero.payouts.missingChunks(f.mdb(2), 1, SLOT_EXPORT, 0, 3)).toEqual([]);
    // Chunks whose concatenation does not hash to the digest.
    const wrong = sha256(new Uint8Array(5));
    expect(f.block([chunk(1, 0, wrong), chunk(1, 1, wrong)]).moduleItemErrors).toBe(0);
    expect(f.block([chunk(1, 2, wrong)]).moduleItemErrors).toBe(1);
    // A transaction set out of turn (signing has not started) and a future attempt.
    expect(f.block([chunk(2, 0, digest, 0)]).moduleItemErrors).toBe(1);
    expect(f.block([chunk(2, 0, digest, SLOT_EXPORT, 1, 5)]).moduleItemErrors).toBe(1);
    // A txid vote or an attestation before the set is signed.
    expect(
      f.block([
        { from: 2, item: { kind: "txid", batch: 1, attempt: 0, txid: txidOf(9) } },
        { from: 2, item: { kind: "seen", batch: 1, attempt: 0, txHeight: 5, txKey: TXKEY } },
        { from: 2, item: { kind: "fault", batch: 1, attempt: 0, slot: 0 } },
      ]).moduleItemErrors,
    ).toBe(3);
    // Garbage.
    expect(f.block([{ from: 2, item: Uint8Array.of(0x04, 1, 2) }]).moduleItemErrors).toBe(1);
  });
});

describe("the agreed fee rate", () => {
  it("is position 2f of the latest reports: f liars, high or low, cannot move it outside the honest range", () => {
    // n = 4, f = 1: one liar.
    expect(agreedFeeRate([100, 110, 120, 10 ** 9], 4)).toBe(110);
    expect(agreedFeeRate([1, 100, 110, 120], 4)).toBe(100);
    // Missing reports count as none (0): fewer than 2f + 1 reports agree on nothing.
    expect(agreedFeeRate([100, 110], 4)).toBe(0);
    expect(agreedFeeRate([100, 110, 120], 4)).toBe(100);
    // A liar alone cannot create a rate: with two honest reports and a liar's, it is an honest one.
    expect(agreedFeeRate([10 ** 9, 100, 110], 4)).toBe(100);
    for (let n = 4; n <= 16; n++) {
      const f = faultTolerance(n);
      const honest = Array.from({ length: n - f }, (_, i) => 1000 + 37 * ((i * 7 + n) % 11));
      const lo = Math.min(...honest);
      const hi = Math.max(...honest);
      for (const lie of [1, lo - 1, hi + 1, 10 ** 10]) {
        const agreed = agreedFeeRate([...Array.from({ length: f }, () => lie), ...honest], n);
        expect(agreed).toBeGreaterThanOrEqual(lo);
        expect(agreed).toBeLessThanOrEqual(hi);
      }
    }
  });

  it("a guardian re-proposes only when its node's rate moves by more than 10%", () => {
    expect(feeRateChanged(undefined, 5)).toBe(true);
    expect(feeRateChanged(1000, 1100)).toBe(false);
    expect(feeRateChanged(1000, 900)).toBe(false);
    expect(feeRateChanged(1000, 1101)).toBe(true);
    expect(feeRateChanged(1000, 899)).toBe(true);
  });

  it("the fee per payout is max(floor, rate × bytes); none without an agreed rate", () => {
    const c = { payoutFeeBytes: 3000, payoutFeeMinPiconero: 60_000_000n };
    expect(payoutFee(c, 0)).toBeUndefined();
    expect(payoutFee(c, 1_200_000)).toBe(3_600_000_000n); // regtest's rate
    expect(payoutFee(c, 20_000)).toBe(60_000_000n); // exactly the floor
    expect(payoutFee(c, 19_999)).toBe(60_000_000n); // below it: the floor
    expect(payoutFee(c, 10_000_000_000)).toBe(30_000_000_000_000n); // the largest rate, exact
    // The defaults of the federation config.
    const d = parseMoneroConfig({ network: "mainnet", address: FEDERATION, guardians: 4 });
    expect(d.payoutFeeBytes).toBe(3000);
    expect(d.payoutFeeMinPiconero).toBe(60_000_000n);
    // The fixed reserve is gone: a config that still names it is refused, naming it.
    expect(() =>
      parseMoneroConfig({ network: "mainnet", address: FEDERATION, guardians: 4, payoutFeePiconero: "1" }),
    ).toThrow(/payoutFeePiconero/);
  });

  it("FeeRate items: each guardian's latest report, the agreed rate in the state, GET payouts/terms; garbage refused", () => {
    const f = federation(CONFIG, null);
    const terms = () => {
      const views = f.guardians.map((g, i) => g.monero.payoutTerms(f.mdb(i)));
      for (const v of views.slice(1)) expect(v).toEqual(views[0]);
      return views[0]!;
    };
    expect(terms()).toMatchObject({ feeRate: 0, reportedFeeRates: [null, null, null, null] });
    expect(terms().fee).toBeUndefined();
    f.rates([200, 3, undefined, 10 ** 9]); // one honest report, a liar low and one high: 2f + 1 = 3 reports
    expect(terms().feeRate).toBe(3);
    f.rates([undefined, undefined, 210]); // guardian 2 reports: 1e9, 210, 200, 3 -> position 2
    expect(terms()).toEqual({
      minimum: "1000",
      fee: "20000",
      feeMax: "200000",
      feeRate: 200,
      feeBytes: 100,
      feeMin: "50",
      reportedFeeRates: [200, 3, 210, 10 ** 9],
      agreedHeight: 0,
    });
    // Reports may fall (unlike heights): the latest one counts; the same report again changes nothing.
    expect(f.rates([150, 3, 150]).moduleItemErrors).toBe(0);
    expect(terms()).toMatchObject({ feeRate: 150, fee: "15000" });
    // Malformed: a zero rate, one above FEE_PER_BYTE_MAX, a truncated item: refused, state unchanged.
    const raw = (perByte: bigint) => {
      const b = new Uint8Array(9);
      b[0] = 0x12;
      new DataView(b.buffer).setBigUint64(1, perByte);
      return b;
    };
    expect(decodeMoneroItem(raw(7n))).toEqual({ kind: "fee_rate", perByte: 7 });
    expect(
      f.block([
        { from: 1, item: raw(0n) },
        { from: 1, item: raw(10_000_000_001n) },
        { from: 1, item: raw(7n).subarray(0, 5) },
      ]).moduleItemErrors,
    ).toBe(3);
    expect(terms()).toMatchObject({ feeRate: 150, reportedFeeRates: [150, 3, 150, 10 ** 9] });
  });

  it("a guardian's watcher proposes its node's rate at first and then only on a change above 10%", async () => {
    let nodeRate = 1_200_000n;
    const monero = new MoneroServerModule(MONERO, CONFIG, {
      chain: {
        height: () => Promise.resolve(100),
        transaction: () => Promise.resolve({ found: false }),
        proven: () => Promise.resolve({ good: false, received: 0n }),
        feeRate: () => Promise.resolve(nodeRate),
      },
      pollMs: 1000,
      autoPoll: false,
    });
    monero.start({ self: 1, wake: () => {}, log: () => {} });
    const dummy = new DummyServerModule(DUMMY, { faucetAmountMax: 1n, feePerInput: 0n });
    const p = new FederationProcessor([dummy, monero], { verifier: new NodeVerifier(), hash: sha256 });
    const db = new MemoryKv();
    let height = 0;
    const proposedRates = () => {
      const items = monero.consensusProposal(p.moduleReadDb(db, MONERO)).map(decodeMoneroItem);
      p.processBlock(db, height++, [
        { origin: 0, items: [] },
        {
          origin: 1,
          items: items.map((item) =>
            encodeConsensusItem({ kind: "module", module: MONERO, payload: encodeMoneroItem(item) }),
          ),
        },
      ]);
      return items.flatMap((i) => (i.kind === "fee_rate" ? [i.perByte] : []));
    };
    expect(proposedRates()).toEqual([]); // not read yet
    await monero.chainWatcher!.poll();
    expect(proposedRates()).toEqual([1_200_000]);
    expect(proposedRates()).toEqual([]); // ordered: nothing more to say
    nodeRate = 1_300_000n; // +8%
    await monero.chainWatcher!.poll();
    expect(proposedRates()).toEqual([]);
    nodeRate = 1_400_000n; // +17% over the ordered report
    await monero.chainWatcher!.poll();
    expect(proposedRates()).toEqual([1_400_000]);
    nodeRate = 0n; // a node answering nonsense: nothing proposed, the last report stands
    await monero.chainWatcher!.poll();
    expect(proposedRates()).toEqual([]);
    expect(monero.payoutTerms(p.moduleReadDb(db, MONERO)).reportedFeeRates).toEqual([
      null,
      1_400_000,
      null,
      null,
    ]);
  });
});

describe("payout fees at the agreed rate", () => {
  it("refuses payouts until a rate is agreed (fee_rate_unknown); nothing moves", () => {
    const f = federation(CONFIG, null);
    f.heights(300);
    f.credit(txidOf(1), 100_000n);
    const s = f.submit(f.payoutTx(txidOf(1), 100_000n, [{ address: USER, amount: 5000n }]));
    expect(code(s)).toBe("fee_rate_unknown");
    expect(s.state === "rejected" && s.error.message).toContain("not agreed on a Monero fee rate");
    expect(f.moneroAudit()).toEqual({ assets: 0n, liabilities: 0n });
  });

  it("fee too low (naming the required fee), exactly the quote, above it, and absurdly above it", () => {
    const f = federation();
    f.heights(300);
    f.credit(txidOf(1), 100_000n);
    f.credit(txidOf(2), 100_000n);
    f.credit(txidOf(3), 100_000n);
    const low = f.submit(f.payoutTx(txidOf(1), 100_000n, [{ address: USER, amount: 5000n, fee: FEE - 1n }]));
    expect(code(low)).toBe("fee_too_low");
    expect(low.state === "rejected" && low.error.details).toMatchObject({
      fee: "99",
      required: "100",
      feeRate: 1,
    });
    const high = f.submit(
      f.payoutTx(txidOf(1), 100_000n, [{ address: USER, amount: 5000n, fee: FEE * 10n + 1n }]),
    );
    expect(code(high)).toBe("fee_too_high");
    expect(high.state === "rejected" && high.error.details).toMatchObject({ fee: "1001", required: "100" });
    expect(f.moneroAudit()).toEqual({ assets: 0n, liabilities: 0n });
    // Exactly the quote, and 10 × the quote (a rate that fell after the quote): accepted, each
    // record keeps the fee it paid, and the audit and the signers' fee bound use it.
    const exact = f.payoutTx(txidOf(1), 100_000n, [{ address: USER, amount: 5000n, fee: FEE }]);
    const generous = f.payoutTx(txidOf(2), 100_000n, [{ address: USER_SUB, amount: 6000n, fee: FEE * 10n }]);
    expect(code(f.submit(exact))).toBe("accepted");
    expect(code(f.submit(generous))).toBe("accepted");
    expect(f.outcome(exact, 0)).toMatchObject({ state: "queued", amount: "5000", fee: "100" });
    expect(f.outcome(generous, 0)).toMatchObject({ state: "queued", amount: "6000", fee: "1000" });
    // Assets: the two deposits' change (dummy coins) stay; 5000 + 100 and 6000 + 1000 left.
    expect(f.moneroAudit()).toEqual({ assets: 200_000n - 5100n - 7000n, liabilities: 0n });
    expect(f.audit().assets - f.audit().liabilities).toBe(0n);
    // A rate that rose by consensus (every guardian's node now says 3 per byte): the old quote is too low.
    f.rates([3, 3, 3, 3]);
    const stale = f.submit(f.payoutTx(txidOf(3), 100_000n, [{ address: USER, amount: 5000n, fee: FEE }]));
    expect(code(stale)).toBe("fee_too_low");
    expect(stale.state === "rejected" && stale.error.details).toMatchObject({ required: "300", feeRate: 3 });
    expect(
      code(f.submit(f.payoutTx(txidOf(3), 100_000n, [{ address: USER, amount: 5000n, fee: 300n }]))),
    ).toBe("accepted");
  });

  it("the signers' fee bound is the sum of the fees the batch's payouts paid", async () => {
    const f = federation();
    f.heights(300);
    f.credit(txidOf(1), 100_000n);
    const tx = f.payoutTx(txidOf(1), 100_000n, [
      { address: USER, amount: 5000n, fee: 100n },
      { address: USER_SUB, amount: 6000n, fee: 350n },
    ]);
    expect(code(f.submit(tx))).toBe("accepted");
    await f.round(); // exports: the batch starts, participants 0, 1, 2, creator 1
    const duty = f.guardians[1]!.monero.payouts.duty(f.mdb(1), 1);
    expect(duty).toMatchObject({ kind: "sign", slot: 0, feeMax: 450n });
  });

  it("the payout output codec: round trip; the retired 0x01 form, a zero fee, bad lengths and trailing bytes are refused", () => {
    const enc = encodePayoutOutput(USER, 123_456_789n);
    expect(enc[0]).toBe(0x02);
    expect(decodePayoutOutput(enc)).toEqual({ address: USER, fee: 123_456_789n });
    const ascii = new TextEncoder().encode(USER);
    const v1 = Uint8Array.from([0x01, ascii.length, ...ascii]);
    expect(() => decodePayoutOutput(v1)).toThrow(/retired/);
    const zero = encodePayoutOutput(USER, 1n);
    zero[8] = 0;
    expect(() => decodePayoutOutput(zero)).toThrow(/positive fee/);
    expect(() => decodePayoutOutput(enc.subarray(0, 5))).toThrow();
    expect(() => decodePayoutOutput(Uint8Array.from([...enc, 0]))).toThrow();
    const long = Uint8Array.from(enc);
    long[9] = 200;
    expect(() => decodePayoutOutput(long)).toThrow(/1 to 106/);
    const nonAscii = Uint8Array.from(enc);
    nonAscii[12] = 0x80;
    expect(() => decodePayoutOutput(nonAscii)).toThrow(/ASCII/);
    expect(() => encodePayoutOutput(USER, 0n)).toThrow();
    expect(() => encodePayoutOutput(USER, 2n ** 64n)).toThrow();
    // In a transaction: malformed_output, with the format in the message.
    const f = federation();
    f.heights(300);
    f.credit(txidOf(1), 100_000n);
    const s = f.submit(
      buildTransaction(
        [depositInput(MONERO, 100_000n, txidOf(1))],
        [{ module: MONERO, amount: 5000n, payload: v1 }],
        [alice],
        sha256,
      ),
    );
    expect(code(s)).toBe("malformed_output");
    expect(s.state === "rejected" && s.error.message).toContain("0x02 | fee u64");
  });
});

describe('fee top-up from the fee fund (docs/monero.md "Fee top-up")', () => {
  /** `n` rounds, the agreed height one block on after each (timeouts run). */
  const rounds = async (f: ReturnType<typeof federation>, n: number) => {
    for (let i = 0; i < n; i++) {
      await f.round();
      f.heights(f.chain.height + 1);
    }
  };
  const fund = (f: ReturnType<typeof federation>) => {
    const views = f.guardians.map((g, i) => g.monero.reservesView(f.mdb(i)).feeFund);
    for (const v of views.slice(1)) expect(v).toEqual(views[0]);
    return views[0];
  };
  const post = (f: ReturnType<typeof federation>, from: number, blob: Uint8Array, attempt: number) =>
    f.block([
      {
        from,
        item: {
          kind: "chunk",
          batch: 1,
          attempt,
          slot: 0,
          total: 1,
          index: 0,
          digest: sha256(blob),
          data: blob,
        },
      },
    ]).moduleItemErrors;

  it("a batch costing more than its payouts' fees waits while the fund cannot cover it, then is created, signed and confirmed from it; the fund is charged what it paid", async () => {
    const f = federation();
    f.heights(300);
    f.credit(txidOf(1), 100_000n);
    f.credit(txidOf(2), 100_000n);
    // Many small inputs: every transaction the wallet builds pays 150, its payout's fee is 100.
    for (const g of f.guardians) g.wallet.createFee = 150n;
    const first = f.payoutTx(txidOf(1), 100_000n, [{ address: USER, amount: 5000n }]);
    expect(code(f.submit(first))).toBe("accepted");
    expect(fund(f)).toEqual({ charged: "100", paid: "0", available: "100", topUpMax: "100" });
    // The fund holds only the batch's own 100: no creator proposes 150; the batch waits.
    await rounds(f, 8);
    const store = () => new PayoutStore(f.mdb());
    expect(store().blobOwners(1, 0)).toEqual([]);
    expect(f.outcome(first, 0)).toMatchObject({ state: "signing", batch: 1 });
    const waited = f.logs.filter((l) => l.event === "payout_fee_above_reserve");
    expect(waited.length).toBeGreaterThan(0);
    expect(waited[0]!.fields).toMatchObject({ batch: 1, fee: "150", feeMax: "100" });
    expect(String(waited[0]!.fields?.reason)).toMatch(/fee fund/);
    // A second withdrawal brings its fee into the fund (200): batch 1 may pay 100 + a top-up of at
    // most 100 (one payout's fee); its creator declares 150, the signers hold the set to it.
    const second = f.payoutTx(txidOf(2), 100_000n, [{ address: USER_SUB, amount: 6000n }]);
    expect(code(f.submit(second))).toBe("accepted");
    for (let i = 0; i < 12 && f.outcome(first, 0)!.state !== "confirmed"; i++) await rounds(f, 1);
    expect(f.outcome(first, 0)).toMatchObject({ state: "confirmed", batch: 1 });
    expect(store().batch(1)).toMatchObject({ fee: 150n, feeAccounted: 150n });
    expect(fund(f)).toEqual({ charged: "200", paid: "150", available: "50", topUpMax: "100" });
    // Batch 2 (its payout's 100) may pay only what the fund holds, 50: at 150 it waits ...
    await rounds(f, 6);
    expect(f.outcome(second, 0)).toMatchObject({ state: "signing", batch: 2 });
    expect(new PayoutStore(f.mdb()).blobOwners(2, 0)).toEqual([]);
    expect(f.logs.filter((l) => l.event === "payout_fee_above_reserve").at(-1)!.fields).toMatchObject({
      batch: 2,
      fee: "150",
      feeMax: "50",
    });
    // ... at 40 it is paid.
    for (const g of f.guardians) g.wallet.createFee = 40n;
    for (let i = 0; i < 12 && f.outcome(second, 0)!.state !== "confirmed"; i++) await rounds(f, 1);
    expect(f.outcome(second, 0)).toMatchObject({ state: "confirmed", batch: 2 });
    expect(fund(f)).toEqual({ charged: "200", paid: "190", available: "10", topUpMax: "100" });
    // The audit: the users' notes and the module's assets are what they were (the fees left them at
    // acceptance); the top-up came out of the fund, which never went below 0.
    expect(f.moneroAudit().assets).toBe(200_000n - 5100n - 6100n);
    expect(f.audit().assets - f.audit().liabilities).toBe(0n);
    expect(f.chain.mined.size).toBe(2);
  });

  it("consensus refuses a creator's set declaring more than the payouts' fees + the cap, or more than the fund holds; a signer refuses a set paying more than its creator declared", async () => {
    const f = federation();
    f.heights(300);
    f.credit(txidOf(1), 1_000_000n);
    // Five payouts (500 in the fund); batch 1 takes two (200 of fees): it may pay 200 + 100 = 300.
    const tx = f.payoutTx(
      txidOf(1),
      1_000_000n,
      Array.from({ length: 5 }, (_, i) => ({ address: i % 2 ? USER_SUB : USER, amount: 5000n + BigInt(i) })),
    );
    expect(code(f.submit(tx))).toBe("accepted");
    await f.round(); // exports: signing starts
    const b = new PayoutStore(f.mdb()).batch(1)!;
    const creator = b.order[0]!;
    expect(f.guardians[creator]!.monero.payouts.duty(f.mdb(creator), creator)).toMatchObject({
      kind: "sign",
      slot: 0,
      feeMax: 300n,
    });
    const dest = `${USER}:5000,${USER_SUB}:5001`;
    const k = fromHex(keyImageOf("t9"));
    f.chain.inputsOf.set(keyImageOf("t9"), "t9");
    const set = (fee: bigint) => new TextEncoder().encode(`${dest};fee=${fee};tx=t9|g${creator}`);
    // A Byzantine creator asking one piconero above the cap: refused by every guardian.
    expect(post(f, creator, encodeCreatorSet([k], set(301n), 301n), 0)).toBe(1);
    expect(new PayoutStore(f.mdb()).blobOwners(1, 0)).toEqual([]);
    // Declaring 250 for a set that pays 290: accepted by consensus (within 300), refused by the
    // signer, whose bound is the declared fee.
    expect(post(f, creator, encodeCreatorSet([k], set(290n), 250n), 0)).toBe(0);
    expect(new PayoutStore(f.mdb()).batch(1)!.fee).toBe(250n);
    await f.round();
    const refused = f.logs.filter((l) => l.event === "payout_set_refused");
    expect(refused.length).toBe(1);
    expect(String(refused[0]!.fields?.error)).toMatch(/fee 290 exceeds 250/);
    expect(new PayoutStore(f.mdb()).batch(1)!.signers).toEqual([creator]);
  });

  it("the fund bounds a batch's fee: a set above it is refused even within the cap, and one in the first form (no fee declared) is held to the payouts' fees", async () => {
    const f = federation();
    f.heights(300);
    f.credit(txidOf(1), 100_000n);
    const tx = f.payoutTx(txidOf(1), 100_000n, [{ address: USER, amount: 5000n }]);
    expect(code(f.submit(tx))).toBe("accepted");
    await f.round();
    const creator = new PayoutStore(f.mdb()).batch(1)!.order[0]!;
    const k = new Uint8Array(32).fill(5);
    const set = new TextEncoder().encode("a transaction set");
    // Fund 100 = the batch's own fee: 101 is within 100 + the cap but above the fund.
    expect(post(f, creator, encodeCreatorSet([k], set, 101n), 0)).toBe(1);
    expect(post(f, creator, encodeCreatorSet([k], set), 0)).toBe(0);
    const b = new PayoutStore(f.mdb()).batch(1)!;
    expect(b.fee).toBe(100n);
    // The next signer is held to the payouts' fees (100) for a set that declares none.
    const next = b.order[1]!;
    expect(f.guardians[next]!.monero.payouts.duty(f.mdb(next), next)).toMatchObject({
      kind: "sign",
      slot: 1,
      feeMax: 100n,
    });
  });

  it("the creator's set codec: the fee form round-trips, the first form has no fee", () => {
    const k = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];
    const set = new TextEncoder().encode("set");
    expect(decodeCreatorSet(encodeCreatorSet(k, set, 6188n))).toEqual({
      keyImages: k,
      txset: set,
      fee: 6188n,
    });
    expect(decodeCreatorSet(encodeCreatorSet(k, set))).toEqual({ keyImages: k, txset: set });
    expect(() => encodeCreatorSet(k, set, 2n ** 64n)).toThrow();
    expect(txsetOfBlob(0, encodeCreatorSet(k, set, 1n))).toEqual(set);
  });
});
