// What a payout shows whoever asks for it by its federation transaction id (payout-status.ts): its
// progress and proof of payment, never its destination address or amount. One guardian's processor
// in memory with a queued payout (no monerod), and the status of a confirmed one.
import { describe, expect, it } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import { encodeConsensusItem, toHex, transactionId } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { FederationProcessor, MemoryKv, NodeSigner, NodeVerifier, sha256 } from "@conclave/core-server";
import { DummyServerModule, buildTransaction, coinOutput } from "@conclave/module-dummy";
import { encodeAddress } from "@conclave/monero";
import { depositInput } from "./client.js";
import { claimProof, encodeMoneroItem } from "./common.js";
import type { MoneroItem } from "./common.js";
import { parseMoneroConfig } from "./factory.js";
import { PayoutOutcomeSchema, encodePayoutOutput } from "./payout-common.js";
import type { PayoutOutcome } from "./payout-common.js";
import { PayoutStatusSchema, payoutStatusOf } from "./payout-status.js";
import { MoneroServerModule } from "./server.js";

const DUMMY = 0;
const MONERO = 2;
const address = (seed: number) =>
  encodeAddress({
    network: "mainnet",
    kind: "standard",
    publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(seed)),
    publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(seed + 1)),
  });
const FEDERATION = address(7);
const USER = address(20);
const CONFIG = parseMoneroConfig({
  network: "mainnet",
  address: FEDERATION,
  guardians: 4,
  confirmations: 1,
  payoutMinPiconero: "1000",
  payoutFeeBytes: 100,
  payoutFeeMinPiconero: "50",
  payoutBatchMax: 2,
  payoutRoundBlocks: 3,
  payoutConfirmations: 2,
});
const alice = new NodeSigner(new Uint8Array(32).fill(1));
const TXKEY = Uint8Array.from([...new Uint8Array(31).fill(0x42), 0x01]);

/** One guardian's processor, fed blocks whose items come from all four guardians. */
function guardian() {
  const monero = new MoneroServerModule(MONERO, CONFIG);
  const dummy = new DummyServerModule(DUMMY, { faucetAmountMax: 10n ** 15n, feePerInput: 0n });
  const p = new FederationProcessor([dummy, monero], { verifier: new NodeVerifier(), hash: sha256 });
  const db = new MemoryKv();
  let height = 0;
  const block = (items: readonly { from: number; item: MoneroItem }[], txs: readonly Transaction[] = []) => {
    const bundles = [0, 1, 2, 3].map((origin) => ({
      origin,
      items: items
        .filter((i) => i.from === origin)
        .map((i) =>
          encodeConsensusItem({ kind: "module", module: MONERO, payload: encodeMoneroItem(i.item) }),
        ),
    }));
    bundles[0]!.items.push(...txs.map((tx) => encodeConsensusItem({ kind: "transaction", tx })));
    return p.processBlock(db, height++, bundles);
  };
  const all = (item: MoneroItem) => [0, 1, 2, 3].map((from) => ({ from, item }));
  block(all({ kind: "fee_rate", perByte: 1 }));
  block(all({ kind: "height", height: 300 }));
  // A deposit of 100 000 piconero, claimed by alice and attested by t = 3 guardians.
  const deposit = new Uint8Array(32).fill(1);
  const proof = claimProof({
    federationAddress: FEDERATION,
    txid: deposit,
    txKey: TXKEY,
    claimKey: alice.publicKey,
  });
  block([{ from: 0, item: { kind: "claim", txid: deposit, claimKey: alice.publicKey, proof } }]);
  block(
    [0, 1, 2].map((from) => ({
      from,
      item: {
        kind: "attest",
        txid: deposit,
        round: 1,
        verdict: { valid: true, amount: 100_000n, txHeight: 50 },
      },
    })),
  );
  const tx = buildTransaction(
    [depositInput(MONERO, 100_000n, deposit)],
    [
      { module: MONERO, amount: 40_000n, payload: encodePayoutOutput(USER, 100n) },
      coinOutput(DUMMY, 100_000n - 40_100n, alice.publicKey),
    ],
    [alice],
    sha256,
  );
  const outcome = block([], [tx]);
  expect(outcome.events[0]?.status.state).toBe("accepted");
  const route = monero.api.find((e) => e.method === "GET" && e.path === "payouts/:txid/:index")!;
  const txid = transactionId(tx, sha256);
  return {
    monero,
    txid,
    mdb: () => p.moduleReadDb(db, MONERO),
    get: (index: number) =>
      route.handle({
        params: { txid: toHex(txid), index: String(index) },
        body: undefined,
        db: p.moduleReadDb(db, MONERO),
      }),
  };
}

describe("a payout's status", () => {
  it("GET payouts/:txid/:index and the transaction's outcome show the payout's progress, not its address or amount", () => {
    const g = guardian();
    // The guardians' own record holds both (they build the Monero transaction from it)...
    expect(g.monero.payoutView(g.mdb(), { txid: toHex(g.txid), index: "0" })).toMatchObject({
      address: USER,
      amount: "40000",
    });
    // ...what anyone holding the txid is served does not.
    const served = g.get(0);
    expect(served).toEqual({ kind: "payout", state: "queued", fee: "100", batch: 0 });
    expect(JSON.stringify(served)).not.toContain(USER);
    expect(PayoutStatusSchema.parse(served)).toEqual(served);
    const asOutcome = g.monero.outputOutcome(g.mdb(), { txid: g.txid, index: 0 });
    expect(asOutcome).toEqual(served);
    // Output 1 is the dummy coin: no payout there.
    expect(() => g.get(1)).toThrow(/no payout at output 1/);
  });

  it("keeps what the user needs to prove the payment: the Monero txid, the tx key, confirmations", () => {
    const confirmed: PayoutOutcome = PayoutOutcomeSchema.parse({
      kind: "payout",
      state: "confirmed",
      address: USER,
      amount: "40000",
      fee: "100",
      batch: 3,
      attempt: 0,
      moneroTxid: "ab".repeat(32),
      txKey: "cd".repeat(32),
      txHeight: 310,
      confirmations: 4,
    });
    expect(payoutStatusOf(confirmed)).toEqual({
      kind: "payout",
      state: "confirmed",
      fee: "100",
      batch: 3,
      attempt: 0,
      moneroTxid: "ab".repeat(32),
      txKey: "cd".repeat(32),
      txHeight: 310,
      confirmations: 4,
    });
    // The wallet's schema refuses an answer that still names a destination: strict, so a guardian
    // that serves one is noticed rather than trusted.
    expect(PayoutStatusSchema.safeParse(confirmed).success).toBe(false);
  });
});
