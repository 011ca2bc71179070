// GET lookup/… (lookup.ts) on four guardians' processors in memory (the fixture of server.test.ts):
// every id form, paging by cursor, bad input refused as invalid_request (HTTP 400), and no answer
// holding a Monero address or a burn's destination. The EVM address's mints on chain (the index of
// mint logs from a real node) are tested on anvil in apps/web/src/web-lookup.test.ts.
import { describe, expect, it } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import { InvalidRequestError, NotFoundError, buildTransaction, fromHex, toHex } from "@conclave/core-common";
import { sha256 } from "@conclave/core-server";
import { faucetInput } from "@conclave/module-dummy";
import { encodeAddress } from "@conclave/monero";
import { bytesToHex } from "viem";
import { BURN_TO_CLAIM, BURN_TO_MONERO, encodeBridgeItem, encodeMintOutput } from "./common.js";
import type { BurnSeen } from "./common.js";
import { outputDepositId, remintDepositId } from "./eip712-mint.js";
import { BRIDGE, DUMMY, FEDERATION_ID, federation, testConfig } from "./federation-fixture.js";
import {
  AddressViewSchema,
  DepositLookupViewSchema,
  LOOKUP_PAGE_MAX,
  TxBurnsViewSchema,
  TxMintsViewSchema,
} from "./lookup-api.js";

const N = 4;
const RECIPIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const OTHER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const BURNER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const MONERO_ADDRESS = encodeAddress({
  network: "mainnet",
  kind: "standard",
  publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(7)),
  publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(8)),
});
const STAGENET_ADDRESS = encodeAddress({
  network: "stagenet",
  kind: "standard",
  publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(7)),
  publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(8)),
});
const TX_HASH = new Uint8Array(32).fill(0xb1);

const burn = (over: Partial<BurnSeen> = {}): BurnSeen => ({
  txHash: TX_HASH,
  logIndex: 0,
  blockNumber: 10n,
  burnId: 1n,
  from: BURNER,
  amount: 5_000n,
  burnKind: BURN_TO_MONERO,
  destination: new TextEncoder().encode(MONERO_ADDRESS),
  ...over,
});
const vote = (from: number, b: BurnSeen) => ({ from, payload: encodeBridgeItem({ kind: "burn", ...b }) });

function lookupFederation() {
  const fed = federation(testConfig(N));
  fed.block(
    [0, 1, 2, 3].map((g) => ({
      from: g,
      payload: encodeBridgeItem({ kind: "scanned", block: 20n, timestamp: 1_000_000n }),
    })),
  );
  fed.agreeFeeRate(1);
  /** GET /v1/modules/bridge/<path> at guardian g, as the API server calls the handler. */
  const get = (path: string, g = 0): unknown => {
    const parts = path.split("/");
    for (const e of fed.guardians[g]!.bridge.api) {
      const pattern = e.path.split("/");
      if (pattern.length !== parts.length) continue;
      const params: Record<string, string> = {};
      if (
        !pattern.every((p, i) =>
          p.startsWith(":") ? ((params[p.slice(1)] = parts[i]!), true) : p === parts[i],
        )
      )
        continue;
      return e.handle({ params, body: undefined, db: fed.mdb(g) });
    }
    throw new Error(`no route ${path}`);
  };
  return { ...fed, get };
}

/** A federation transaction paying `amounts` into mint outputs to `recipient` (a faucet funds it). */
function mintTx(amounts: readonly bigint[], recipient: `0x${string}` = RECIPIENT) {
  const total = amounts.reduce((a, b) => a + b, 0n);
  return buildTransaction(
    [faucetInput(DUMMY, total)],
    amounts.map((amount) => ({ module: BRIDGE, amount, payload: encodeMintOutput(recipient) })),
    [],
    sha256,
  );
}

describe("bridge look-up by any id", () => {
  it("lists a federation transaction's mint outputs by its txid alone, the same at every guardian, paged by cursor", () => {
    const fed = lookupFederation();
    const amounts = Array.from({ length: LOOKUP_PAGE_MAX + 3 }, (_, i) => 1_000n + BigInt(i));
    const out = fed.block([], [mintTx(amounts)]);
    expect(out.events[0]!.status.state).toBe("accepted");
    const txid = out.events[0]!.txid;
    const first = TxMintsViewSchema.parse(fed.get(`lookup/tx/${txid}`));
    expect(first.mints.map((m) => m.index)).toEqual([...Array(LOOKUP_PAGE_MAX).keys()]);
    expect(first.mints[5]!.mint).toMatchObject({ recipient: RECIPIENT, amount: "1005" });
    // No signature in a list (GET mints/:txid/:index gives one mint's): a page costs no signing.
    expect(first.mints.every((m) => m.mint.signature === undefined)).toBe(true);
    expect(first.mints[5]!.mint.depositId).toBe(outputDepositId(FEDERATION_ID, fromHex(txid), 5));
    expect(first.next).toBeDefined();
    const second = TxMintsViewSchema.parse(fed.get(`lookup/tx/${txid}/after/${first.next}`));
    expect(second.mints.map((m) => m.index)).toEqual([32, 33, 34]);
    expect(second.next).toBeUndefined();
    for (const g of [1, 2, 3]) {
      const other = TxMintsViewSchema.parse(fed.get(`lookup/tx/${txid}`, g));
      expect(other.mints.map((m) => ({ ...m.mint, guardian: 0 }))).toEqual(first.mints.map((m) => m.mint));
    }
    expect(() => fed.get(`lookup/tx/${"ab".repeat(32)}`)).toThrow(NotFoundError);
  });

  it("finds a mint output and a burn's re-mint by their deposit ids", () => {
    const fed = lookupFederation();
    const out = fed.block([], [mintTx([2_000n, 3_000n])]);
    const txid = out.events[0]!.txid;
    const depositId = outputDepositId(FEDERATION_ID, fromHex(txid), 1);
    // Upper-case hex is the same id.
    const view = DepositLookupViewSchema.parse(
      fed.get(`lookup/deposit/0x${depositId.slice(2).toUpperCase()}`),
    );
    expect(view.ref).toEqual({ kind: "output", txid, index: 1 });
    expect(view.mint).toMatchObject({ recipient: RECIPIENT, amount: "3000", depositId });
    // A burn to a stagenet address at this mainnet federation is re-minted to the burner.
    const wrong = burn({ logIndex: 4, destination: new TextEncoder().encode(STAGENET_ADDRESS) });
    fed.block([0, 1, 2].map((g) => vote(g, wrong)));
    const remintId = remintDepositId(FEDERATION_ID, TX_HASH, 4);
    const remint = DepositLookupViewSchema.parse(fed.get(`lookup/deposit/${remintId}`, 2));
    expect(remint.ref).toEqual({ kind: "remint", txHash: bytesToHex(TX_HASH), logIndex: 4 });
    expect(remint.burn).toMatchObject({ state: "accepted", settlement: "reminted", amount: "5000" });
    expect(remint.burn!.remint).toMatchObject({ recipient: BURNER, depositId: remintId });
    expect(() => fed.get(`lookup/deposit/0x${"00".repeat(32)}`)).toThrow(NotFoundError);
  });

  it("lists every burn of one EVM transaction by its hash alone: accepted and voting, no destination", () => {
    const fed = lookupFederation();
    const paid = burn({ logIndex: 0 });
    const claim = burn({
      logIndex: 3,
      burnId: 2n,
      burnKind: BURN_TO_CLAIM,
      destination: ed25519.getPublicKey(new Uint8Array(32).fill(9)),
    });
    const voting = burn({ logIndex: 7, burnId: 3n });
    fed.block([...[0, 1, 2].flatMap((g) => [vote(g, paid), vote(g, claim)]), vote(3, voting)]);
    const view = TxBurnsViewSchema.parse(fed.get(`lookup/burns/${bytesToHex(TX_HASH)}`, 1));
    expect(view.burns.map((b) => [b.logIndex, b.state, b.settlement])).toEqual([
      [0, "accepted", "payout"],
      [3, "accepted", "claimable"],
      [7, "voting", undefined],
    ]);
    expect(view.next).toBeUndefined();
    expect(() => fed.get(`lookup/burns/0x${"cd".repeat(32)}`)).toThrow(NotFoundError);
  });

  it("lists an EVM address's accepted burns with their settlement, and none of its signed mints", () => {
    const fed = lookupFederation();
    // A mint signed to BURNER and not on chain: the address look-up does not list it.
    fed.block([], [mintTx([9_000n], BURNER), mintTx([4_000n], OTHER)]);
    const b1 = burn({ logIndex: 0 });
    const b2 = burn({ txHash: new Uint8Array(32).fill(0xb2), logIndex: 1, burnId: 2n, amount: 6_000n });
    fed.block([0, 1, 2].flatMap((g) => [vote(g, b1), vote(g, b2)]));
    const view = AddressViewSchema.parse(fed.get(`lookup/address/${BURNER.toLowerCase()}`, 3));
    expect(view.address).toBe(BURNER);
    expect(view.burns).toEqual([
      { txHash: bytesToHex(TX_HASH), logIndex: 0, burnId: "1", amount: "5000", settlement: "payout" },
      {
        txHash: bytesToHex(new Uint8Array(32).fill(0xb2)),
        logIndex: 1,
        burnId: "2",
        amount: "6000",
        settlement: "payout",
      },
    ]);
    expect(view.mints).toEqual([]);
    expect(JSON.stringify(view)).not.toContain("9000");
    // No EVM node here: this guardian's index of mint logs is absent, and the answer says so.
    expect(view.mintsComplete).toBe(false);
    expect(view.indexFull).toBe(false);
    expect(AddressViewSchema.parse(fed.get(`lookup/address/${OTHER}`)).burns).toEqual([]);
  });

  it("refuses malformed ids and cursors as invalid requests (HTTP 400), saying what form they take", () => {
    const fed = lookupFederation();
    const bad: [string, RegExp][] = [
      ["lookup/tx/XYZ", /federation transaction is named by its id/],
      [`lookup/tx/${"AB".repeat(32)}`, /64 lowercase hex/],
      [`lookup/tx/${"ab".repeat(32)}/after/zz`, /cursor/],
      [`lookup/tx/${"ab".repeat(32)}/after/0000000g`, /cursor/],
      ["lookup/deposit/0x1234", /deposit id is 0x and 64 hex/],
      [`lookup/burns/${"ab".repeat(32)}`, /EVM transaction is named by its hash/],
      [`lookup/burns/0x${"ab".repeat(32)}/after/1`, /cursor/],
      ["lookup/address/0x12", /EVM address is 0x and 40 hex/],
      [`lookup/address/${BURNER}/after/2${"0".repeat(8)}`, /address cursor/],
    ];
    for (const [path, message] of bad) {
      let error: unknown;
      try {
        fed.get(path);
      } catch (e) {
        error = e;
      }
      expect(error, path).toBeInstanceOf(InvalidRequestError);
      expect((error as InvalidRequestError).status, path).toBe(400);
      expect((error as Error).message, path).toMatch(message);
    }
  });

  it("never answers with a Monero address or a burn's destination, whatever id is asked", () => {
    const fed = lookupFederation();
    const out = fed.block([], [mintTx([2_000n])]);
    const txid = out.events[0]!.txid;
    const claimKey = ed25519.getPublicKey(new Uint8Array(32).fill(9));
    const burns = [
      burn({ logIndex: 0 }),
      burn({ logIndex: 1, destination: new TextEncoder().encode(STAGENET_ADDRESS) }),
      burn({ logIndex: 2, burnKind: BURN_TO_CLAIM, destination: claimKey }),
    ];
    fed.block([0, 1, 2].flatMap((g) => burns.map((b) => vote(g, b))));
    const answers = [
      fed.get(`lookup/tx/${txid}`),
      fed.get(`lookup/deposit/${outputDepositId(FEDERATION_ID, fromHex(txid), 0)}`),
      fed.get(`lookup/deposit/${remintDepositId(FEDERATION_ID, TX_HASH, 1)}`),
      fed.get(`lookup/burns/${bytesToHex(TX_HASH)}`),
      fed.get(`lookup/address/${BURNER}`),
    ];
    const text = JSON.stringify(answers);
    expect(text).toContain('"settlement":"claimable"'); // the burns are in the answers
    for (const secret of [MONERO_ADDRESS, STAGENET_ADDRESS, toHex(claimKey)])
      expect(text).not.toContain(secret);
    expect(text).not.toContain(bytesToHex(new TextEncoder().encode(MONERO_ADDRESS)).slice(2, 40));
    // Any Monero address (mainnet 4…/8…, stagenet 5…/7…, testnet 9…/A/B: 95 or 106 base58 chars).
    expect(text).not.toMatch(/[1-9A-HJ-NP-Za-km-z]{95}/);
  });
});
