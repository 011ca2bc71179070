// The bridge module's consensus rules with four guardians' processors in memory (no EVM node here:
// the votes are what guardians propose; chain.test.ts runs the same module against anvil). Every
// guardian processes the same blocks and must decide the same (federation-fixture.ts checks it).
import { describe, expect, it } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import { buildTransaction, fromHex, toHex } from "@conclave/core-common";
import { NodeSigner, moduleOpenApiDocument, sha256 } from "@conclave/core-server";
import { openApiProblems } from "@conclave/core-server/openapi-check";
import { coinOutput, faucetInput } from "@conclave/module-dummy";
import { encodeAddress } from "@conclave/monero";
import { recoverAddress } from "viem";
import {
  BURN_TO_CLAIM,
  BURN_TO_MONERO,
  encodeBridgeItem,
  encodeBurnClaimInput,
  encodeMintOutput,
} from "./common.js";
import type { BurnSeen } from "./common.js";
import { asHex, collectMintSignatures, mintDigest, outputDepositId, signMint } from "./eip712-mint.js";
import { BRIDGE, DUMMY, FEDERATION_ID, evmKeyOf, federation, testConfig } from "./federation-fixture.js";

const N = 4;
const RECIPIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const BURNER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const moneroAddress = (network: "mainnet" | "stagenet") =>
  encodeAddress({
    network,
    kind: "standard",
    publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(7)),
    publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(8)),
  });

const burn = (over: Partial<BurnSeen> = {}): BurnSeen => ({
  txHash: new Uint8Array(32).fill(0xb1),
  logIndex: 0,
  blockNumber: 10n,
  burnId: 1n,
  from: BURNER,
  amount: 5_000n,
  burnKind: BURN_TO_MONERO,
  destination: new TextEncoder().encode(moneroAddress("mainnet")),
  ...over,
});
const vote = (from: number, b: BurnSeen) => ({ from, payload: encodeBridgeItem({ kind: "burn", ...b }) });
const scanned = (from: number, block: bigint, timestamp: bigint) => ({
  from,
  payload: encodeBridgeItem({ kind: "scanned", block, timestamp }),
});

/**
 * A federation whose guardians agreed EVM block 20 at time 1,000,000, and a Monero fee rate of 1
 * piconero per byte (a payout's fee: 3,000).
 */
function withAgreedTime() {
  const fed = federation(testConfig(N));
  fed.block([0, 1, 2, 3].map((g) => scanned(g, 20n, 1_000_000n)));
  fed.agreeFeeRate(1);
  return fed;
}

function mintTx(amount: bigint) {
  return buildTransaction(
    [faucetInput(DUMMY, amount)],
    [{ module: BRIDGE, amount, payload: encodeMintOutput(RECIPIENT) }],
    [],
    sha256,
  );
}

describe("bridge: API", () => {
  it("declares its endpoints with schemas that make a valid OpenAPI document", async () => {
    const doc = moduleOpenApiDocument("bridge", federation(testConfig(N)).guardians[0]!.bridge.api, {
      version: "1",
    });
    expect(await openApiProblems(doc)).toEqual([]);
    expect(Object.keys(doc["paths"] as object).sort()).toEqual(
      [
        "burns/{txHash}/{logIndex}",
        "chain",
        "mints/{txid}/{index}",
        "refunds/{refundKey}",
        "refunds/{refundKey}/page/{page}",
        "supply",
        "lookup/tx/{txid}",
        "lookup/tx/{txid}/after/{cursor}",
        "lookup/deposit/{depositId}",
        "lookup/burns/{txHash}",
        "lookup/burns/{txHash}/after/{cursor}",
        "lookup/address/{address}",
        "lookup/address/{address}/after/{cursor}",
      ]
        .map((p) => `/v1/modules/bridge/${p}`)
        .sort(),
    );
  });
});

describe("bridge: mint outputs", () => {
  it("refuses a mint output until the guardians agree on the EVM time, then accepts it", () => {
    const fed = federation(testConfig(N));
    const early = fed.block([], [mintTx(1_000n)]);
    expect(early.events[0]!.status).toMatchObject({ state: "rejected", error: { code: "evm_time_unknown" } });
    // Three of four reports: the agreed time is position 2f = 2 of the sorted reports.
    fed.block([scanned(0, 20n, 1_000_000n), scanned(1, 21n, 1_000_012n), scanned(2, 19n, 999_988n)]);
    expect(fed.guardians[0]!.bridge.chainView(fed.mdb()).agreedTimestamp).toBe("999988");
    const accepted = fed.block([], [mintTx(1_000n)]);
    expect(accepted.events[0]!.status.state).toBe("accepted");
  });

  it("gives each guardian's EIP-712 signature of the accepted output; a client keeps t good ones, sorted, and skips a bad one", async () => {
    const fed = withAgreedTime();
    const tx = mintTx(7_000n);
    const out = fed.block([], [tx]);
    expect(out.events[0]!.status.state).toBe("accepted");
    const txid = fromHex(out.events[0]!.txid);
    const views = fed.guardians.map((g, i) => g.bridge.outputOutcome(fed.mdb(i), { txid, index: 0 })!);
    const config = testConfig(N);
    const domain = { chainId: config.chainId, contract: config.contract };
    const message = {
      recipient: RECIPIENT,
      amount: 7_000n,
      depositId: outputDepositId(FEDERATION_ID, txid, 0),
      deadline: 1_000_000n + 3600n,
      setIndex: 1,
    } as const;
    for (const [i, v] of views.entries()) {
      expect(v).toMatchObject({
        recipient: RECIPIENT,
        amount: "7000",
        deadline: "1003600",
        setIndex: 1,
        guardian: i,
      });
      expect(v.depositId).toBe(message.depositId);
      expect(
        await recoverAddress({ hash: mintDigest(domain, message), signature: asHex(v.signature!) }),
      ).toBe(config.guardians[i]);
    }
    // Guardian 3 is Byzantine: it hands out a signature by another key.
    const bad = signMint(new Uint8Array(32).fill(0x77), domain, message);
    const collected = await collectMintSignatures(domain, message, config.guardians, config.threshold, [
      { guardian: 3, signature: bad },
      ...views.slice(0, 3).map((v) => ({ guardian: v.guardian, signature: v.signature! })),
    ]);
    expect(collected.bad).toEqual([3]);
    expect(collected.signatures).toHaveLength(3);
    const sorted = [...collected.signers].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    expect(collected.signers).toEqual(sorted);
    // With two bad ones, fewer than t are good: the client says so rather than submit.
    await expect(
      collectMintSignatures(domain, message, config.guardians, config.threshold, [
        { guardian: 3, signature: bad },
        { guardian: 2, signature: bad },
        ...views.slice(0, 2).map((v) => ({ guardian: v.guardian, signature: v.signature! })),
      ]),
    ).rejects.toThrow(/only 2 of the 3/);
    // The audit carries the minted value as the bridge's liability (the faucet's asset backs it).
    expect(fed.guardians[0]!.bridge.audit(fed.mdb())).toEqual({ assets: 0n, liabilities: 7_000n });
  });

  it("refuses a zero recipient, a malformed payload and an amount below the minimum", () => {
    const fed = federation(testConfig(N, { mintMinPiconero: "100" }));
    fed.block([0, 1, 2, 3].map((g) => scanned(g, 20n, 1_000_000n)));
    const zero = new Uint8Array(21);
    zero[0] = 1;
    const txs = [
      buildTransaction(
        [faucetInput(DUMMY, 500n)],
        [{ module: BRIDGE, amount: 500n, payload: zero }],
        [],
        sha256,
      ),
      buildTransaction(
        [faucetInput(DUMMY, 500n)],
        [{ module: BRIDGE, amount: 500n, payload: Uint8Array.of(1, 2) }],
        [],
        sha256,
      ),
      buildTransaction(
        [faucetInput(DUMMY, 50n)],
        [{ module: BRIDGE, amount: 50n, payload: encodeMintOutput(RECIPIENT) }],
        [],
        sha256,
      ),
    ];
    const out = fed.block([], txs);
    expect(out.events.map((e) => (e.status.state === "rejected" ? e.status.error.code : "accepted"))).toEqual(
      ["malformed_output", "malformed_output", "below_minimum"],
    );
  });
});

describe("bridge: burn votes", () => {
  it("accepts a burn at t equal votes; f votes never accept it; one guardian's repeated vote counts once", () => {
    const fed = withAgreedTime();
    const b = burn();
    const view = () => fed.guardians[0]!.bridge.burnView(fed.mdb(), b);
    // The Byzantine guardian 3 alone (f = 1), many times: never accepted.
    fed.block([vote(3, b), vote(3, b)]);
    fed.block([vote(3, b)]);
    expect(view()).toMatchObject({ state: "voting", votes: 1 });
    // wPOKT's bug: one signer counted several times. Guardian 0 twice more: still 2 distinct votes.
    fed.block([vote(0, b), vote(0, b), vote(0, b)]);
    expect(view()).toMatchObject({ state: "voting", votes: 2 });
    fed.block([vote(1, b)]);
    expect(view()).toMatchObject({
      state: "accepted",
      settlement: "payout",
      amount: "5000",
      from: BURNER,
      payout: { amount: "2000", fee: "3000", state: "queued" },
    });
    // Never the destination: a Monero address is shown to no one.
    expect(JSON.stringify(view())).not.toContain(moneroAddress("mainnet"));
    // A late equal vote changes nothing; a different one is refused (counted as an item error).
    expect(fed.block([vote(2, b)]).moduleItemErrors).toBe(0);
    expect(fed.block([vote(2, { ...b, amount: 1n })]).moduleItemErrors).toBe(1);
    // No mint was signed in this test: the burn handed to the monero module left this module's books.
    expect(fed.guardians[0]!.bridge.audit(fed.mdb())).toEqual({ assets: 0n, liabilities: -5000n });
  });

  it("never accepts one burn twice when a reorg deeper than the confirmations moves it to another block and log index (failed before: accepted and paid twice)", () => {
    const fed = withAgreedTime();
    const b = burn({ logIndex: 0, blockNumber: 10n });
    fed.block([vote(0, b), vote(1, b), vote(2, b)]);
    const payoutsBefore = fed.guardians[0]!.bridge.audit(fed.mdb());
    expect(fed.guardians[0]!.bridge.burnView(fed.mdb(), b)).toMatchObject({ state: "accepted" });
    // The same transaction included again on a fork, after another transaction's log: log index 1,
    // block 14 (found by the simulator's --evm-deep-reorg, seeds 8 and 9). All four vote it.
    const moved = burn({ logIndex: 1, blockNumber: 14n, burnId: 2n });
    const r = fed.block([vote(0, moved), vote(1, moved), vote(2, moved), vote(3, moved)]);
    expect(r.moduleItemErrors).toBe(4); // burn_moved
    expect(fed.guardians[0]!.bridge.burnView(fed.mdb(), moved)).toMatchObject({ state: "unknown" });
    expect(fed.guardians[0]!.bridge.audit(fed.mdb())).toEqual(payoutsBefore);
    // Another burn of the same transaction in its block (another burn id) is a burn of its own, even
    // when its fields are equal.
    const second = burn({ logIndex: 1, blockNumber: 10n, burnId: 2n });
    fed.block([vote(0, second), vote(1, second), vote(2, second)]);
    expect(fed.guardians[0]!.bridge.burnView(fed.mdb(), second)).toMatchObject({ state: "accepted" });
  });

  it("never accepts a burn that f guardians invent while the honest ones vote the real one", () => {
    const fed = withAgreedTime();
    const real = burn();
    const invented = burn({ amount: 10n ** 12n, from: RECIPIENT });
    fed.block([vote(3, invented), vote(0, real), vote(1, real)]);
    // A guardian votes once per burn key: the liar's other vote for the same key is refused.
    expect(fed.block([vote(3, real)]).moduleItemErrors).toBe(1);
    fed.block([vote(2, real)]);
    expect(fed.guardians[1]!.bridge.burnView(fed.mdb(1), real)).toMatchObject({
      state: "accepted",
      amount: "5000",
    });
  });

  it("settles a wrong-network address and a non-point claim key as re-mints to the burner, signed by each guardian", async () => {
    const fed = withAgreedTime();
    const wrongNetwork = burn({
      logIndex: 1,
      destination: new TextEncoder().encode(moneroAddress("stagenet")),
    });
    const badKey = burn({ logIndex: 2, burnKind: BURN_TO_CLAIM, destination: new Uint8Array(32).fill(0xff) });
    fed.block([0, 1, 2].flatMap((g) => [vote(g, wrongNetwork), vote(g, badKey)]));
    for (const b of [wrongNetwork, badKey]) {
      const v = fed.guardians[2]!.bridge.burnView(fed.mdb(2), b);
      expect(v).toMatchObject({ state: "accepted", settlement: "reminted" });
      expect(v.remint).toMatchObject({ recipient: BURNER, amount: "5000", guardian: 2 });
      const config = testConfig(N);
      const message = {
        recipient: BURNER,
        amount: 5_000n,
        depositId: asHex(v.remint!.depositId),
        deadline: BigInt(v.remint!.deadline),
        setIndex: 1,
      } as const;
      const signer = await recoverAddress({
        hash: mintDigest({ chainId: config.chainId, contract: config.contract }, message),
        signature: asHex(v.remint!.signature!),
      });
      expect(signer).toBe(config.guardians[2]);
    }
    expect(fed.guardians[0]!.bridge.burnView(fed.mdb(), wrongNetwork).reason).toMatch(/stagenet|network/);
    // A re-mint is a signed mint again: the burns' 10,000 left and came back as signed mints.
    expect(fed.guardians[0]!.bridge.audit(fed.mdb())).toEqual({ assets: 0n, liabilities: 0n });
  });

  it("turns a burn to a claim key into an input only that key can spend, once", () => {
    const fed = withAgreedTime();
    const holder = new NodeSigner(new Uint8Array(32).fill(0x31));
    const b = burn({ logIndex: 4, burnKind: BURN_TO_CLAIM, destination: holder.publicKey });
    fed.block([0, 1, 2].map((g) => vote(g, b)));
    expect(fed.guardians[0]!.bridge.burnView(fed.mdb(), b)).toMatchObject({ settlement: "claimable" });
    const input = { module: BRIDGE, amount: 5_000n, payload: encodeBurnClaimInput(b) };
    const owner = new NodeSigner(new Uint8Array(32).fill(0x32));
    const stranger = new NodeSigner(new Uint8Array(32).fill(0x33));
    const byStranger = buildTransaction(
      [input],
      [coinOutput(DUMMY, 5_000n, owner.publicKey)],
      [stranger],
      sha256,
    );
    const byHolder = buildTransaction(
      [input],
      [coinOutput(DUMMY, 5_000n, owner.publicKey)],
      [holder],
      sha256,
    );
    const again = buildTransaction([input], [coinOutput(DUMMY, 5_000n, owner.publicKey)], [holder], sha256);
    const out = fed.block([], [byStranger, byHolder, again]);
    expect(out.events.map((e) => (e.status.state === "rejected" ? e.status.error.code : "accepted"))).toEqual(
      ["bad_signature", "accepted", "spent_input"],
    );
    expect(fed.guardians[0]!.bridge.burnView(fed.mdb(), b)).toMatchObject({ settlement: "claimed" });
  });

  it("bounds the votes no one else confirms that one guardian can store", () => {
    const fed = federation(testConfig(N, { openVotesPerGuardianMax: 2 }));
    // Three burns of one transaction (each its own burn id, as the contract numbers them: equal ones
    // with one burn id would be one burn moved by a deep reorg, refused burn_moved).
    const nth = (i: number) => burn({ logIndex: i, burnId: BigInt(i), amount: 5_000n + BigInt(i) });
    const out = fed.block([1, 2, 3].map((i) => vote(3, nth(i))));
    expect(out.moduleItemErrors).toBe(1);
    expect(fed.guardians[0]!.bridge.burnView(fed.mdb(), nth(3)).state).toBe("unknown");
    // Once the others confirm one, the liar's count goes down with it... only for real burns.
    fed.block([0, 1].map((g) => vote(g, nth(1))));
    expect(fed.guardians[0]!.bridge.burnView(fed.mdb(), nth(1)).state).toBe("accepted");
    expect(fed.block([vote(3, nth(3))]).moduleItemErrors).toBe(0);
  });

  it("ignores items from an unknown guardian and garbage", () => {
    const fed = withAgreedTime();
    const g = fed.guardians[0]!;
    const db = fed.guardians[0]!.p.moduleDb(g.db, BRIDGE);
    expect(g.bridge.processConsensusItem(db, encodeBridgeItem({ kind: "burn", ...burn() }), 7)).toMatchObject(
      {
        ok: false,
        error: { code: "unknown_guardian" },
      },
    );
    expect(g.bridge.processConsensusItem(db, Uint8Array.of(9, 9, 9), 1)).toMatchObject({
      ok: false,
      error: { code: "malformed_item" },
    });
    expect(toHex(evmKeyOf(0))).toHaveLength(64);
  });
});
