// The TypeScript OutProofV2 (packages/monero tx-proof.ts) against a real monero-wallet-rpc on regtest:
// a sender pays a "federation" address, get_tx_key gives the tx key, the proof we compute from it
// passes check_tx_proof (good, the amount received) for its message and fails for another; a wallet's
// own get_tx_proof passes our checker; a transaction with additional tx keys (it pays a subaddress
// too) is proven part by part; and malformed proofs go through the real wallet-rpc, which must answer
// (good: false or an error) and stay up.
import { ed25519 } from "@noble/curves/ed25519.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ED25519_ORDER,
  MoneroRpcError,
  TX_PROOF_PART_BYTES,
  checkTxProofPart,
  isWellFormedOutProof,
  makeOutProof,
  outProofText,
  parseAddress,
  parseOutProofText,
  parseXmr,
  txProofPrefixHash,
} from "@conclave/monero";
import type { WalletRpc } from "@conclave/monero";
import { BLOCKS_BEFORE_FIRST_TRANSFER, ensureMoneroInstalled, mineBlocks, startRegtest } from "./regtest.js";
import type { Regtest } from "./regtest.js";

const AMOUNT = parseXmr("1.25");
const TO_SUBADDRESS = parseXmr("0.5");

let net: Regtest | undefined;
let sender: WalletRpc;
let guardian: WalletRpc;
let federationAddress = "";
let viewKey: Uint8Array = new Uint8Array();

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, "hex"));
const message = (claimKey: string): string => `conclave-claim-v1:${claimKey}`;
const le = (v: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
};
const big = (b: Uint8Array): bigint => b.reduceRight((v, x) => (v << 8n) | BigInt(x), 0n);

beforeAll(async () => {
  ensureMoneroInstalled();
  net = await startRegtest({ walletRpcs: 2 });
  sender = net.walletRpcs[0]!.rpc;
  guardian = net.walletRpcs[1]!.rpc;
  await sender.createWallet({ filename: "sender", password: "" });
  const senderAddress = (await sender.getAddress()).address;
  const mining = mineBlocks(net.daemon.rpc, BLOCKS_BEFORE_FIRST_TRANSFER, senderAddress);
  void mining.catch(() => undefined);
  await guardian.createWallet({ filename: "federation", password: "" });
  federationAddress = (await guardian.getAddress()).address;
  viewKey = parseAddress(federationAddress, "regtest", ["standard"]).publicViewKey;
  await mining;
  await sender.refresh();
}, 300_000);

afterAll(async () => {
  await net?.stop();
});

/** The guardian's check_tx_proof against the federation's address. */
const check = (txid: string, signature: string, message: string) =>
  guardian.checkTxProof({ txid, address: federationAddress, signature, message });
/** Its answer, or the error it gave, as text. */
const answerOf = (txid: string, signature: string, message: string): Promise<string> =>
  check(txid, signature, message).then(
    (a) => `good: ${a.good}, received ${a.received}`,
    (e: unknown) => (e instanceof MoneroRpcError ? `error ${e.rpcCode}: ${e.rpcMessage}` : String(e)),
  );

async function alive(w: WalletRpc): Promise<void> {
  expect((await w.getVersion()).version).toBeGreaterThan(0);
}

let paid = { txid: "", txKey: "" };

describe("OutProofV2 made in TypeScript, checked by a real monero-wallet-rpc 0.18", () => {
  it("proves a payment for its message (good, the amount) and for no other message", async () => {
    const sent = await sender.transfer({ destinations: [{ address: federationAddress, amount: AMOUNT }] });
    paid = { txid: sent.txid!, txKey: await sender.getTxKey(sent.txid!) };
    expect(paid.txKey).toMatch(/^[0-9a-f]{64}$/);
    const mine = message("aa".repeat(32));
    const proof = makeOutProof({ txid: bytes(paid.txid), txKey: bytes(paid.txKey), viewKey, message: mine });
    expect(isWellFormedOutProof(proof)).toBe(true);
    const signature = outProofText(proof);

    const checked = await check(paid.txid, signature, mine);
    expect(checked).toEqual({ good: true, received: AMOUNT, confirmations: 0, inPool: true });
    // check_tx_key with the key itself agrees.
    const byKey = await guardian.checkTxKey({
      txid: paid.txid,
      txKey: paid.txKey,
      address: federationAddress,
    });
    expect(byKey.received).toBe(AMOUNT);

    // The same proof presented for another claim key: refused.
    for (const other of [message("bb".repeat(32)), "", `${mine} `]) {
      const r = await check(paid.txid, signature, other);
      expect(r).toMatchObject({ good: false });
    }
    // Mined: the same proof still holds. (Its `confirmations` is wallet-rpc's cached daemon height
    // minus the block's: it lags blocks just mined, even wraps below 0; the module never uses it.)
    await mineBlocks(net!.daemon.rpc, 2, federationAddress);
    const deep = await check(paid.txid, signature, mine);
    expect(deep).toMatchObject({ good: true, received: AMOUNT, inPool: false });
  });

  it("reads the sender wallet's own get_tx_proof and verifies it with the TypeScript checker", async () => {
    const text = await sender.getTxProof({ txid: paid.txid, address: federationAddress, message: "m" });
    expect(text.startsWith("OutProofV2")).toBe(true);
    const proof = parseOutProofText(text);
    expect(outProofText(proof)).toBe(text);
    const R = ed25519.Point.BASE.multiply(big(bytes(paid.txKey))).toBytes();
    const prefix = txProofPrefixHash(bytes(paid.txid), "m");
    expect(checkTxProofPart(prefix, R, viewKey, proof)).toBe(true);
    expect(checkTxProofPart(txProofPrefixHash(bytes(paid.txid), "n"), R, viewKey, proof)).toBe(false);
    // Same D (the shared secret r·A) as ours: the wallet's nonce is random, ours derived.
    const ours = makeOutProof({ txid: bytes(paid.txid), txKey: bytes(paid.txKey), viewKey, message: "m" });
    expect(hex(ours.subarray(0, 32))).toBe(hex(proof.subarray(0, 32)));
  });

  it("proves a transaction with additional tx keys (it also pays a subaddress): one part per key", async () => {
    const sub = await guardian.createAddress({});
    const sent = await sender.transfer({
      destinations: [
        { address: federationAddress, amount: AMOUNT },
        { address: sub.address, amount: TO_SUBADDRESS },
      ],
    });
    const txid = sent.txid!;
    const txKey = await sender.getTxKey(txid);
    const parts = txKey.length / 64;
    expect(parts).toBeGreaterThan(1); // the main key and one additional key per output
    const mine = message("cc".repeat(32));
    const proof = makeOutProof({ txid: bytes(txid), txKey: bytes(txKey), viewKey, message: mine });
    expect(proof.length).toBe(parts * TX_PROOF_PART_BYTES);
    const signature = outProofText(proof);
    const checked = await check(txid, signature, mine);
    // What the primary address received; the subaddress's output is not the primary address's.
    expect(checked).toMatchObject({ good: true, received: AMOUNT });
    const other = await check(txid, signature, message("dd".repeat(32)));
    expect(other.good).toBe(false);
    // A proof with fewer parts than the transaction has tx keys: wallet2 refuses it with an error.
    const short = outProofText(proof.subarray(0, TX_PROOF_PART_BYTES));
    expect(await answerOf(txid, short, mine)).toMatch(/^error -1: Signature size mismatch/);
    await alive(guardian);
  });

  it("answers malformed proofs without crashing (the module never sends them: isWellFormedOutProof)", async () => {
    const mine = message("aa".repeat(32));
    const good = makeOutProof({ txid: bytes(paid.txid), txKey: bytes(paid.txKey), viewKey, message: mine });
    const edit = (at: number, b: Uint8Array): Uint8Array => {
      const p = good.slice();
      p.set(b, at);
      return p;
    };
    const offCurve = new Uint8Array(32).fill(0xff);
    offCurve[31] = 0x7f;
    const notOnCurve = le(2n); // y = 2: no x solves the curve equation
    const forms: [string, Uint8Array][] = [
      ["D not canonical", edit(0, offCurve)],
      ["D not on the curve", edit(0, notOnCurve)],
      ["D the identity", edit(0, le(1n))],
      ["D all zero (order 4)", edit(0, new Uint8Array(32))],
      ["D with a torsion component", edit(0, le(3n))],
      ["c = the group order", edit(32, le(ED25519_ORDER))],
      ["c all 0xff", edit(32, new Uint8Array(32).fill(0xff))],
      ["s = the group order + 1", edit(64, le(ED25519_ORDER + 1n))],
      ["s all 0xff", edit(64, new Uint8Array(32).fill(0xff))],
      ["all zero", new Uint8Array(TX_PROOF_PART_BYTES)],
      ["all 0xff", new Uint8Array(TX_PROOF_PART_BYTES).fill(0xff)],
    ];
    const answers: Record<string, string> = {};
    for (const [name, proof] of forms) {
      const r = await answerOf(paid.txid, outProofText(proof), mine);
      answers[name] = r;
      await alive(guardian);
      expect(r, name).not.toMatch(/good: true/);
    }
    // Texts our parts never make: a bare header, an inbound header, a cut one, two parts for one key.
    const text = outProofText(good);
    for (const signature of [
      "OutProofV2",
      `InProofV2${text.slice(10)}`,
      text.slice(0, -3),
      outProofText(new Uint8Array([...good, ...good])),
    ]) {
      const r = await answerOf(paid.txid, signature, mine);
      answers[signature.slice(0, 12) + `…(${signature.length})`] = r;
      await alive(guardian);
      expect(r).not.toMatch(/good: true/);
    }
    console.log(`check_tx_proof on malformed proofs: ${JSON.stringify(answers, null, 1)}`);
    for (const [, proof] of forms) expect(isWellFormedOutProof(proof)).toBe(false);
  });
});
