// The Monero module's consensus rules with four guardians' processors in memory (no monerod): each
// guardian has its own database and module instance, all process the same ordered blocks, and must
// end in the same state. Guardian 3 plays the Byzantine one where a test says so.
import { describe, expect, it, vi } from "vitest";
import fc from "fast-check";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  ConclaveError,
  InvalidRequestError,
  encodeConsensusItem,
  fromHex,
  toHex,
} from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { FederationProcessor, MemoryKv, NodeSigner, NodeVerifier, sha256 } from "@conclave/core-server";
import { moduleOpenApiDocument } from "@conclave/core-server";
import type { ModuleContext, ProcessedEvent } from "@conclave/core-server";
import { openApiProblems } from "@conclave/core-server/openapi-check";
import { DummyServerModule, buildTransaction, coinOutput } from "@conclave/module-dummy";
import {
  MoneroRpcError,
  checkTxProofPart,
  encodeAddress,
  standardAddressViewKey,
  txProofPrefixHash,
} from "@conclave/monero";
import { DepositViewSchema } from "./api.js";
import { depositInput } from "./client.js";
import { agreedHeight, claimProof, encodeMoneroItem, faultTolerance } from "./common.js";
import type { MoneroConfig, MoneroItem, Verdict } from "./common.js";
import { parseMoneroConfig } from "./factory.js";
import { MoneroServerModule } from "./server.js";
import type { ChainSource, TxLocation } from "./watcher.js";
import { ProofRefusedError } from "./watcher.js";

const DUMMY = 0;
const MONERO = 2;
const N = 4;
const ADDRESS = encodeAddress({
  network: "mainnet",
  kind: "standard",
  publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(7)),
  publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(8)),
});
const CONFIG: MoneroConfig = parseMoneroConfig({
  network: "mainnet",
  address: ADDRESS,
  guardians: N,
  confirmations: 3,
  depositMinPiconero: "1000",
  claimExpiryBlocks: 10,
  openClaimsPerGuardianMax: 3,
});

const alice = new NodeSigner(new Uint8Array(32).fill(1));
const bob = new NodeSigner(new Uint8Array(32).fill(2));
const txidOf = (n: number) => new Uint8Array(32).fill(n);
/** A tx key: a canonical scalar (little-endian, below the group order), as get_tx_key gives. */
const txKeyOf = (b: number) => Uint8Array.from([...new Uint8Array(31).fill(b), 0x01]);
/** The claim proof a wallet makes from tx key `b` for (txid, claim key), as the API takes it. */
const proofOf = (txid: Uint8Array, claimKey: Uint8Array, b = 0x42) =>
  claimProof({ federationAddress: ADDRESS, txid, txKey: txKeyOf(b), claimKey });
const proofHex = (txid: string, claimKey: Uint8Array, b = 0x42) => toHex(proofOf(fromHex(txid), claimKey, b));

const valid = (amount: bigint, txHeight: number): Verdict => ({ valid: true, amount, txHeight });
const invalid = (reason: "nothing_received" | "below_minimum" | "bad_proof"): Verdict => ({
  valid: false,
  reason,
});

function federation(config: MoneroConfig = CONFIG) {
  const guardians = Array.from({ length: N }, () => {
    const monero = new MoneroServerModule(MONERO, config);
    const dummy = new DummyServerModule(DUMMY, { faucetAmountMax: 10n ** 15n, feePerInput: 0n });
    const p = new FederationProcessor([dummy, monero], { verifier: new NodeVerifier(), hash: sha256 });
    return { db: new MemoryKv(), p, monero };
  });
  let height = 0;

  /** One block: module items (from their proposers) and transactions (from guardian 0). */
  const block = (
    items: readonly { from: number; item: MoneroItem | Uint8Array }[],
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
            payload: i.item instanceof Uint8Array ? i.item : encodeMoneroItem(i.item),
          }),
        ),
    }));
    bundles[0]!.items.push(...txs.map((tx) => encodeConsensusItem({ kind: "transaction", tx })));
    const results = guardians.map((g) => g.p.processBlock(g.db, height, bundles));
    height++;
    for (const r of results) expect(r.auditFailure).toBeUndefined();
    // Every guardian decides the same.
    const view = (evs: ProcessedEvent[]) =>
      evs.map(
        (e) => `${e.txid}:${e.status.state}:${e.status.state === "rejected" ? e.status.error.code : ""}`,
      );
    for (const r of results.slice(1)) {
      expect(view(r.events)).toEqual(view(results[0]!.events));
      expect(r.moduleItemErrors).toBe(results[0]!.moduleItemErrors);
    }
    return results[0]!;
  };

  const mdb = (i = 0) => guardians[i]!.p.moduleReadDb(guardians[i]!.db, MONERO);
  /** The deposit as every guardian sees it (they must agree). */
  const deposit = (txid: Uint8Array) => {
    const views = guardians.map((_, i) => guardians[i]!.monero.depositView(mdb(i), txid));
    for (const v of views.slice(1)) expect(v).toEqual(views[0]);
    return views[0]!;
  };
  const agreed = () => guardians[0]!.monero.heightView(mdb()).agreedHeight;
  /** Every guardian reports `h` (an honest chain at height h). */
  const heights = (...hs: number[]) =>
    block(hs.map((h, from) => ({ from, item: { kind: "height", height: h } })));
  const claim = (from: number, txid: Uint8Array, claimKey: Uint8Array, proof = proofOf(txid, claimKey)) =>
    block([{ from, item: { kind: "claim", txid, claimKey, proof } }]);
  const attest = (txid: Uint8Array, round: number, verdicts: readonly [number, Verdict][]) =>
    block(verdicts.map(([from, verdict]) => ({ from, item: { kind: "attest", txid, round, verdict } })));
  const submit = (tx: Transaction) => block([], [tx]).events[0]!.status;
  const depositTx = (txid: Uint8Array, amount: bigint, signer = alice) =>
    buildTransaction(
      [depositInput(MONERO, amount, txid)],
      [coinOutput(DUMMY, amount, bob.publicKey)],
      [signer],
      sha256,
    );
  const audit = () => {
    const audits = guardians.map((g) => g.p.audit(g.db));
    for (const a of audits.slice(1)) expect(a).toEqual(audits[0]);
    return audits[0]!;
  };
  /** A deposit of `amount` in block `txHeight`, claimed by alice and attested by t guardians. */
  const credit = (txid: Uint8Array, amount: bigint, txHeight: number) => {
    claim(0, txid, alice.publicKey);
    attest(txid, 1, [
      [0, valid(amount, txHeight)],
      [1, valid(amount, txHeight)],
      [2, valid(amount, txHeight)],
    ]);
    expect(deposit(txid).state).toBe("credited");
  };
  return { guardians, block, mdb, deposit, agreed, heights, claim, attest, submit, depositTx, audit, credit };
}

describe("monero API document", () => {
  it("declares every endpoint's path parameters, body and answer, so that /openapi.json documents them", async () => {
    const doc = moduleOpenApiDocument("monero", new MoneroServerModule(MONERO, CONFIG).api, { version: "1" });
    expect(await openApiProblems(doc)).toEqual([]);
    const paths = doc["paths"] as Record<string, Record<string, { parameters: { name: string }[] }>>;
    expect(Object.keys(paths).sort()).toEqual(
      [
        "claims",
        "sealed-claims",
        "height",
        "deposits/{txid}",
        "reserves",
        "payouts/terms",
        "payouts/{txid}/{index}",
        "subaddresses",
        "subaddresses/{claimKey}",
        "subaddresses/{claimKey}/seen",
        "subaddress-deposits/{txid}",
      ]
        .map((p) => `/v1/modules/monero/${p}`)
        .sort(),
    );
    expect(paths["/v1/modules/monero/payouts/{txid}/{index}"]!["get"]!.parameters.map((p) => p.name)).toEqual(
      ["txid", "index"],
    );
  });
});

describe("agreed height", () => {
  it("is a height at least f+1 honest guardians reached, whatever f liars report (property, n = 4..16)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 16 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.array(fc.integer({ min: 0, max: 1_000_000 }), {
              minLength: n - faultTolerance(n),
              maxLength: n - faultTolerance(n),
            }),
            fc.array(fc.integer({ min: 0, max: 2 ** 48 }), {
              minLength: faultTolerance(n),
              maxLength: faultTolerance(n),
            }),
          ),
        ),
        ([n, honest, liars]) => {
          const h = agreedHeight([...honest, ...liars], n);
          const sorted = [...honest].sort((a, b) => b - a);
          // Between the lowest honest report and the (f+1)-th highest honest report.
          expect(h).toBeGreaterThanOrEqual(sorted[sorted.length - 1]!);
          expect(h).toBeLessThanOrEqual(sorted[faultTolerance(n)]!);
        },
      ),
    );
  });

  it("ignores a Byzantine guardian's huge, zero and decreasing reports", () => {
    const f = federation();
    f.heights(100, 101, 102, 2 ** 48);
    expect(f.agreed()).toBe(101);
    const g0 = f.guardians[0]!.monero.heightView(f.mdb());
    expect(g0.reported).toEqual([100, 101, 102, 2 ** 48]);
    // The liar goes to zero: its report only grows, so nothing changes.
    f.block([{ from: 3, item: { kind: "height", height: 0 } }]);
    expect(f.guardians[0]!.monero.heightView(f.mdb()).reported[3]).toBe(2 ** 48);
    expect(f.agreed()).toBe(101);
    // A federation whose liar reports 0 from the start: still the honest ones decide.
    const g = federation();
    g.heights(200, 201, 202, 0);
    expect(g.agreed()).toBe(200);
    // An honest guardian's lower report (its node restarted on a shorter chain) is ignored.
    g.block([{ from: 0, item: { kind: "height", height: 150 } }]);
    expect(g.agreed()).toBe(200);
    g.heights(205, 205, 205, 0);
    expect(g.agreed()).toBe(205);
  });

  it("stays 0 until 2f+1 guardians reported", () => {
    const f = federation();
    f.block([
      { from: 0, item: { kind: "height", height: 50 } },
      { from: 1, item: { kind: "height", height: 50 } },
    ]);
    expect(f.agreed()).toBe(0);
    f.block([{ from: 2, item: { kind: "height", height: 49 } }]);
    expect(f.agreed()).toBe(49);
  });
});

describe("claims", () => {
  it("binds the first ordered claim's key; later claims of the txid are refused and shown", () => {
    const f = federation();
    f.heights(100, 100, 100, 100);
    const txid = txidOf(1);
    // Two claims in one block: guardian 1's bundle comes after guardian 0's.
    f.block([
      {
        from: 1,
        item: { kind: "claim", txid, claimKey: bob.publicKey, proof: proofOf(txid, bob.publicKey) },
      },
      {
        from: 0,
        item: { kind: "claim", txid, claimKey: alice.publicKey, proof: proofOf(txid, alice.publicKey) },
      },
    ]);
    const d = f.deposit(txid);
    expect(d).toMatchObject({ state: "open", round: 1, claimKey: toHex(alice.publicKey), claimedBy: 0 });
    expect(d.refusedClaims).toEqual([
      { claimKey: toHex(bob.publicKey), guardian: 1, reason: "already_claimed" },
    ]);
    // The same claim again (another guardian proposed it too) changes nothing.
    f.claim(2, txid, alice.publicKey);
    expect(f.deposit(txid).refusedClaims).toHaveLength(1);
    // Same key, another proof: refused as well (the open claim is settled first).
    f.claim(3, txid, alice.publicKey, proofOf(txid, alice.publicKey, 0x43));
    expect(f.deposit(txid).refusedClaims[1]).toMatchObject({ reason: "other_proof" });
  });

  it("lists a few refused claims and only counts the rest (a spammer cannot grow the state)", () => {
    const f = federation();
    const txid = txidOf(2);
    f.claim(0, txid, alice.publicKey);
    for (let i = 0; i < 12; i++) f.claim(1, txid, ed25519.getPublicKey(new Uint8Array(32).fill(100 + i)));
    const d = f.deposit(txid);
    expect(d.refusedClaims).toHaveLength(8);
    expect(d.refusedClaimsNotListed).toBe(4);
  });

  it("bounds the open claims each guardian may propose", () => {
    const f = federation();
    for (let i = 0; i < 3; i++) f.claim(1, txidOf(10 + i), alice.publicKey);
    const r = f.claim(1, txidOf(13), alice.publicKey);
    expect(r.moduleItemErrors).toBe(1);
    expect(f.deposit(txidOf(13)).state).toBe("unclaimed");
    // Another guardian's budget is its own.
    f.claim(2, txidOf(13), alice.publicKey);
    expect(f.deposit(txidOf(13)).state).toBe("open");
  });

  it("expires a claim t guardians never settle after claimExpiryBlocks, releasing the txid, then forgets it", () => {
    const f = federation();
    f.heights(100, 100, 100, 100);
    const txid = txidOf(3);
    f.claim(0, txid, bob.publicKey);
    expect(f.deposit(txid)).toMatchObject({ state: "open", claimedAtHeight: 100, expiresAtHeight: 110 });
    f.heights(109, 109, 109, 109);
    expect(f.deposit(txid).state).toBe("open");
    f.heights(110, 110, 110, 110);
    expect(f.deposit(txid)).toMatchObject({ state: "expired", closedReason: "expired" });
    // Released: the real owner claims it now, and it no longer counts against guardian 0's budget.
    f.claim(1, txid, alice.publicKey);
    expect(f.deposit(txid)).toMatchObject({ state: "open", round: 2, claimKey: toHex(alice.publicKey) });
    // A closed claim is forgotten claimExpiryBlocks after it closed.
    const other = txidOf(4);
    f.claim(0, other, bob.publicKey);
    f.heights(120, 120, 120, 120);
    expect(f.deposit(other).state).toBe("expired");
    f.heights(130, 130, 130, 130);
    expect(f.deposit(other).state).toBe("unclaimed");
  });

  it("starts the expiry clock of a claim made before any height was agreed when the first height is agreed", () => {
    const f = federation();
    const txid = txidOf(5);
    f.claim(0, txid, alice.publicKey);
    f.heights(5000, 5000, 5000, 5000);
    expect(f.deposit(txid)).toMatchObject({ state: "open", claimedAtHeight: 5000 });
  });
});

describe("attestations", () => {
  it("credits a deposit when t guardians attest the same amount and block; one guardian counts once", () => {
    const f = federation();
    f.heights(100, 100, 100, 100);
    const txid = txidOf(1);
    f.claim(0, txid, alice.publicKey);
    f.attest(txid, 1, [[0, valid(5000n, 97)]]);
    // Guardian 0 again, in a later block: counted once.
    f.attest(txid, 1, [[0, valid(5000n, 97)]]);
    // The Byzantine guardian attests another amount: no agreement with it.
    f.attest(txid, 1, [[3, valid(9_999_999n, 97)]]);
    f.attest(txid, 1, [[1, valid(5000n, 97)]]);
    expect(f.deposit(txid)).toMatchObject({ state: "open" });
    expect(f.deposit(txid).attestations).toHaveLength(3);
    f.attest(txid, 1, [[2, valid(5000n, 97)]]);
    expect(f.deposit(txid)).toMatchObject({ state: "credited", amount: "5000", txHeight: 97 });
  });

  it("refuses a guardian's second, different verdict on the same claim", () => {
    const f = federation();
    const txid = txidOf(1);
    f.claim(0, txid, alice.publicKey);
    f.attest(txid, 1, [[3, valid(1000n, 10)]]);
    const r = f.attest(txid, 1, [[3, valid(2000n, 10)]]);
    expect(r.moduleItemErrors).toBe(1);
    expect(f.deposit(txid).attestations).toEqual([
      { guardian: 3, verdict: "valid", amount: "1000", txHeight: 10 },
    ]);
  });

  it("cannot be credited by f liars, nor blocked by them: t matching verdicts decide", () => {
    const f = federation();
    const txid = txidOf(1);
    f.claim(0, txid, alice.publicKey);
    // The liar claims a huge amount; with the honest ones split by a reorg (two heights) nothing is credited.
    f.attest(txid, 1, [
      [3, valid(10n ** 15n, 50)],
      [0, valid(5000n, 50)],
      [1, valid(5000n, 51)],
    ]);
    expect(f.deposit(txid).state).toBe("open");
    // The liar says invalid for another deposit: the three honest ones still credit it.
    const other = txidOf(2);
    f.claim(0, other, alice.publicKey);
    f.attest(other, 1, [
      [3, invalid("nothing_received")],
      [0, valid(5000n, 50)],
      [1, valid(5000n, 50)],
      [2, valid(5000n, 50)],
    ]);
    expect(f.deposit(other)).toMatchObject({ state: "credited", amount: "5000" });
  });

  it("rejects a claim t guardians find invalid, releases the txid, and refuses stale attestations of the old round", () => {
    const f = federation();
    f.heights(100, 100, 100, 100);
    const txid = txidOf(1);
    f.claim(0, txid, bob.publicKey, proofOf(txid, bob.publicKey, 0x43));
    f.attest(txid, 1, [
      [0, invalid("nothing_received")],
      [1, invalid("nothing_received")],
      [2, invalid("nothing_received")],
    ]);
    expect(f.deposit(txid)).toMatchObject({ state: "rejected", closedReason: "nothing_received" });
    f.claim(1, txid, alice.publicKey);
    expect(f.deposit(txid)).toMatchObject({ state: "open", round: 2, attestations: [] });
    // Guardian 3's verdict on round 1 arrives late: refused, it does not count for round 2.
    const r = f.attest(txid, 1, [[3, invalid("nothing_received")]]);
    expect(r.moduleItemErrors).toBe(1);
    f.attest(txid, 2, [
      [0, valid(7000n, 99)],
      [1, valid(7000n, 99)],
      [2, valid(7000n, 99)],
    ]);
    expect(f.deposit(txid)).toMatchObject({ state: "credited", claimKey: toHex(alice.publicKey) });
  });

  it("refuses malformed items and items from unknown guardians with a code, and changes nothing", () => {
    const f = federation();
    f.heights(100, 100, 100, 100);
    const txid = txidOf(1);
    f.claim(0, txid, alice.publicKey);
    const before = JSON.stringify(f.deposit(txid));
    const offCurve = new Uint8Array(32).fill(0xff);
    const bad: Uint8Array[] = [
      new Uint8Array(),
      Uint8Array.of(0x09),
      Uint8Array.of(0x01, 0, 0), // truncated height
      Uint8Array.of(0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), // above 2^53
      Uint8Array.of(0x01, 0, 0x02, 0, 0, 0, 0, 0, 0), // 2^49: above HEIGHT_MAX
      Uint8Array.of(...encodeMoneroItem({ kind: "height", height: 5 }), 0), // trailing byte
      Uint8Array.of(0x03, ...txid, 0, 0, 0, 1, 0, ...new Uint8Array(8), 0, 0, 0, 0, 0, 0, 0, 1), // zero amount
      Uint8Array.of(0x03, ...txid, 0, 0, 0, 1, 77), // unknown reason
      Uint8Array.of(0x08, ...txidOf(9), ...alice.publicKey, 0), // a proof of 0 parts
      Uint8Array.of(0x08, ...txidOf(9), ...alice.publicKey, 1, ...new Uint8Array(95)), // a part cut short
      // The retired claim that carried the tx key in clear: an unknown kind now.
      Uint8Array.of(0x02, ...txidOf(9), ...alice.publicKey, 1, ...txKeyOf(0x42)),
    ];
    const r = f.block(bad.map((item) => ({ from: 3, item })));
    expect(r.moduleItemErrors).toBe(bad.length);
    // Well-formed but refused: a claim key off the curve, a proof whose scalars are not canonical
    // (never sent to a wallet-rpc), an attestation of an unknown claim.
    const good = proofOf(txidOf(8), alice.publicKey);
    const r2 = f.block([
      { from: 3, item: { kind: "claim", txid: txidOf(8), claimKey: offCurve, proof: good } },
      {
        from: 3,
        item: {
          kind: "claim",
          txid: txidOf(8),
          claimKey: alice.publicKey,
          proof: Uint8Array.from([...good.subarray(0, 64), ...new Uint8Array(32).fill(0xff)]),
        },
      },
      { from: 3, item: { kind: "attest", txid: txidOf(7), round: 1, verdict: valid(5n, 5) } },
    ]);
    expect(r2.moduleItemErrors).toBe(3);
    expect(JSON.stringify(f.deposit(txid))).toBe(before);
    expect(f.deposit(txidOf(8)).state).toBe("unclaimed");
    // An item from a guardian index the module does not know (a config that disagrees).
    const g = f.guardians[0]!;
    expect(
      g.monero.processConsensusItem(
        g.p.moduleDb(g.db, MONERO),
        encodeMoneroItem({ kind: "height", height: 5 }),
        7,
      ),
    ).toMatchObject({ ok: false, error: { code: "unknown_guardian" } });
  });
});

describe("deposit input", () => {
  it("is spendable once confirmed at the agreed height: agreedHeight - txHeight >= confirmations", () => {
    const f = federation();
    f.heights(101, 101, 101, 101);
    const txid = txidOf(1);
    f.credit(txid, 5000n, 100); // the tx is in block 100; 3 confirmations needed
    expect(f.deposit(txid)).toMatchObject({ confirmations: 1, spendable: false });
    f.heights(102, 102, 102, 102);
    const early = f.submit(f.depositTx(txid, 5000n));
    expect(early.state === "rejected" && early.error).toMatchObject({
      code: "deposit_unconfirmed",
      details: { confirmations: 2, confirmationsRequired: 3, agreedHeight: 102 },
    });
    // Top block 102 = txHeight + confirmations - 1: block count 103.
    f.heights(103, 103, 103, 103);
    expect(f.deposit(txid)).toMatchObject({ confirmations: 3, spendable: true });
    expect(f.submit(f.depositTx(txid, 5000n)).state).toBe("accepted");
    expect(f.deposit(txid)).toMatchObject({ state: "spent", spent: true, spendable: false });
  });

  it("a deposit spent by a transaction names it (spentIn) in its view; a refused spend names none", () => {
    const f = federation();
    f.heights(200, 200, 200, 200);
    const txid = txidOf(1);
    f.credit(txid, 5000n, 100);
    expect(f.deposit(txid).spentIn).toBeUndefined();
    // Refused (worth 5000, declares 6000): nothing spent, no spender named.
    expect(f.submit(f.depositTx(txid, 6000n)).state).toBe("rejected");
    expect(f.deposit(txid)).toMatchObject({ state: "credited" });
    expect(f.deposit(txid).spentIn).toBeUndefined();
    const [spend] = f.block([], [f.depositTx(txid, 5000n)]).events;
    expect(spend!.status.state).toBe("accepted");
    expect(f.deposit(txid)).toMatchObject({ state: "spent", spentIn: spend!.txid });
    expect(DepositViewSchema.parse(f.deposit(txid)).spentIn).toMatch(/^[0-9a-f]{64}$/);
  });

  it("is spent once: a second transaction is refused, in the same block and later, whoever signs", () => {
    const f = federation();
    f.heights(200, 200, 200, 200);
    const txid = txidOf(1);
    f.credit(txid, 5000n, 100);
    const a = f.depositTx(txid, 5000n);
    const b = buildTransaction(
      [depositInput(MONERO, 5000n, txid)],
      [coinOutput(DUMMY, 5000n, alice.publicKey)],
      [alice],
      sha256,
    );
    const events = f.block([], [a, b]).events;
    expect(events.map((e) => e.status.state)).toEqual(["accepted", "rejected"]);
    const second = events[1]!.status;
    expect(second.state === "rejected" && second.error.code).toBe("spent_input");
    const later = f.submit(
      buildTransaction(
        [depositInput(MONERO, 5000n, txid)],
        [coinOutput(DUMMY, 4000n, alice.publicKey)],
        [alice],
        sha256,
      ),
    );
    expect(later.state === "rejected" && later.error.code).toBe("spent_input");
    // A new claim of the spent txid is refused too.
    f.claim(2, txid, bob.publicKey);
    expect(f.deposit(txid)).toMatchObject({ state: "spent", claimKey: toHex(alice.publicKey) });
    expect(f.deposit(txid).refusedClaims).toEqual([
      { claimKey: toHex(bob.publicKey), guardian: 2, reason: "already_credited" },
    ]);
  });

  it("needs the bound claim key's signature and the attested amount", () => {
    const f = federation();
    f.heights(200, 200, 200, 200);
    const txid = txidOf(1);
    f.credit(txid, 5000n, 100);
    const stolen = f.submit(f.depositTx(txid, 5000n, bob));
    expect(stolen.state === "rejected" && stolen.error.code).toBe("bad_signature");
    const more = f.submit(f.depositTx(txid, 6000n));
    expect(more.state === "rejected" && more.error.code).toBe("amount_mismatch");
    expect(f.deposit(txid).state).toBe("credited");
    expect(f.submit(f.depositTx(txid, 5000n)).state).toBe("accepted");
  });

  it("refuses unknown, open, rejected and malformed deposits, and every output, with clear codes", () => {
    const f = federation();
    f.heights(200, 200, 200, 200);
    const code = (tx: Transaction) => {
      const s = f.submit(tx);
      return s.state === "rejected" ? s.error.code : s.state;
    };
    expect(code(f.depositTx(txidOf(1), 5n))).toBe("unknown_deposit");
    f.claim(0, txidOf(2), alice.publicKey);
    expect(code(f.depositTx(txidOf(2), 5n))).toBe("deposit_not_credited");
    f.claim(0, txidOf(3), alice.publicKey);
    f.attest(txidOf(3), 1, [
      [0, invalid("below_minimum")],
      [1, invalid("below_minimum")],
      [2, invalid("below_minimum")],
    ]);
    expect(code(f.depositTx(txidOf(3), 5n))).toBe("deposit_rejected");
    const malformed = buildTransaction(
      [{ module: MONERO, amount: 5n, payload: Uint8Array.of(0x01, 1, 2) }],
      [coinOutput(DUMMY, 5n, alice.publicKey)],
      [],
      sha256,
    );
    expect(code(malformed)).toBe("malformed_input");
    f.credit(txidOf(4), 5000n, 100);
    const payout = buildTransaction(
      [depositInput(MONERO, 5000n, txidOf(4))],
      [{ module: MONERO, amount: 5000n, payload: new Uint8Array(10) }],
      [alice],
      sha256,
    );
    expect(code(payout)).toBe("malformed_output");
    expect(f.deposit(txidOf(4)).state).toBe("credited");
  });

  it("audit: the module's assets are the deposits spent into the federation, backing what they paid for", () => {
    const f = federation();
    f.heights(300, 300, 300, 300);
    const monero = () => f.audit().modules.find((m) => m.instanceId === MONERO)!.audit;
    expect(monero()).toEqual({ assets: 0n, liabilities: 0n });
    f.credit(txidOf(1), 5000n, 100);
    // Credited but not spent: nothing is owed yet, nothing counted.
    expect(monero()).toEqual({ assets: 0n, liabilities: 0n });
    f.submit(f.depositTx(txidOf(1), 5000n));
    f.credit(txidOf(2), 7000n, 101);
    f.submit(f.depositTx(txidOf(2), 7000n));
    expect(monero()).toEqual({ assets: 12_000n, liabilities: 0n });
    expect(f.audit()).toMatchObject({ assets: 12_000n, liabilities: 12_000n });
  });
});

const VIEW_KEY = standardAddressViewKey(ADDRESS);

/**
 * A chain a test moves by hand: the watcher's view of one guardian's monerod and wallet-rpc. Each
 * transaction has its tx key (byte b of txKeyOf) and what the federation's address received;
 * `proven` checks a proof's first part for real (R = r·G), as check_tx_proof does.
 */
class FakeChain implements ChainSource {
  height_ = 100;
  failures = 0;
  readonly txs = new Map<
    string,
    { location: TxLocation; txKey?: number; received: bigint; refuse?: boolean }
  >();
  height(): Promise<number> {
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:18081"));
    }
    return Promise.resolve(this.height_);
  }
  transaction(txid: string): Promise<{ found: false } | TxLocation> {
    return Promise.resolve(this.txs.get(txid)?.location ?? { found: false });
  }
  proven(
    txid: string,
    proof: string,
    message: string,
    address: string,
  ): Promise<{ good: boolean; received: bigint }> {
    if (address !== ADDRESS) throw new Error("the watcher must ask about the federation's address");
    const tx = this.txs.get(txid);
    if (tx?.refuse)
      return Promise.reject(new ProofRefusedError("Signature size mismatch with additional tx pubkeys"));
    const R = ed25519.Point.BASE.multiply(
      BigInt(`0x${toHex(txKeyOf(tx?.txKey ?? 0x42).reverse())}`),
    ).toBytes();
    const good = checkTxProofPart(
      txProofPrefixHash(fromHex(txid), message),
      R,
      VIEW_KEY,
      fromHex(proof).subarray(0, 96),
    );
    return Promise.resolve({ good, received: good ? (tx?.received ?? 0n) : 0n });
  }
}

function watchingFederation(now?: () => number) {
  const chain = new FakeChain();
  const wakes: number[] = [];
  const logs: { event: string; fields: Record<string, unknown> }[] = [];
  const monero = new MoneroServerModule(
    MONERO,
    { ...CONFIG, openClaimsPerGuardianMax: 16 },
    { chain, pollMs: 1000, autoPoll: false },
    now,
  );
  const context: ModuleContext = {
    self: 1,
    wake: () => wakes.push(1),
    log: (event, fields) => logs.push({ event, fields }),
  };
  monero.start(context);
  const db = new MemoryKv();
  const p = new FederationProcessor([monero], { verifier: new NodeVerifier(), hash: sha256 });
  let height = 0;
  /** Orders what guardian 1 proposes now, plus the others' items. */
  const round = (others: { from: number; item: MoneroItem }[] = []) => {
    const own = monero.consensusProposal(p.moduleReadDb(db, MONERO));
    const bundles = Array.from({ length: N }, (_, origin) => ({
      origin,
      items: [
        ...(origin === 1 ? own : []),
        ...others.filter((o) => o.from === origin).map((o) => encodeMoneroItem(o.item)),
      ].map((payload) => encodeConsensusItem({ kind: "module", module: MONERO, payload })),
    }));
    p.processBlock(db, height++, bundles);
    return own.length;
  };
  const view = (txid: Uint8Array) => monero.depositView(p.moduleReadDb(db, MONERO), txid);
  const post = (body: unknown, client?: string) =>
    Promise.resolve(
      monero.api[0]!.handle({
        params: {},
        body,
        db: p.moduleReadDb(db, MONERO),
        ...(client === undefined ? {} : { client }),
      }),
    );
  return { chain, monero, round, view, post, wakes, logs };
}

describe("the background watcher and proposals (a fake chain)", () => {
  it("reports its node's height, proposes API claims, and attests a deposit once it is confirmations deep", async () => {
    const w = watchingFederation();
    const txid = "ab".repeat(32);
    const proof = proofHex(txid, alice.publicKey);
    w.chain.txs.set(txid, { location: { found: true, inPool: true }, received: 5000n });
    await w.monero.chainWatcher!.poll();
    expect(w.wakes.length).toBe(1);
    // Heights from the others too, so that a height is agreed.
    const heights = (h: number) =>
      [0, 2].map((from) => ({ from, item: { kind: "height" as const, height: h } }));
    w.round(heights(100));
    expect(await w.post({ txid, proof, claimKey: toHex(alice.publicKey) })).toEqual({
      txid,
      state: "queued",
    });
    expect(w.round()).toBe(1); // the claim
    expect(w.view(fromHex(txid))).toMatchObject({ state: "open", claimedBy: 1 });
    // Posting it again: consensus already bound it.
    expect(await w.post({ txid, proof, claimKey: toHex(alice.publicKey) })).toEqual({
      txid,
      state: "already",
    });
    // In the pool: the amount is known, no verdict yet.
    expect(w.round()).toBe(0);
    await w.monero.chainWatcher!.poll();
    expect(w.round()).toBe(0);
    // Mined in block 100; 3 confirmations at block count 103.
    w.chain.txs.set(txid, { location: { found: true, inPool: false, blockHeight: 100 }, received: 5000n });
    w.chain.height_ = 102;
    await w.monero.chainWatcher!.poll();
    expect(w.round()).toBe(1); // only the new height
    w.chain.height_ = 103;
    await w.monero.chainWatcher!.poll();
    expect(w.round()).toBe(2); // height and the attestation
    expect(w.view(fromHex(txid)).attestations).toEqual([
      { guardian: 1, verdict: "valid", amount: "5000", txHeight: 100 },
    ]);
    // Proposed once: the attestation is in the state now.
    expect(w.round()).toBe(0);
    expect(w.logs.some((l) => l.event === "deposit_verified")).toBe(true);
  });

  it("says invalid at once (even in the pool) for another recipient, too little, a wrong tx key, a refused proof, or a copied proof", async () => {
    const w = watchingFederation();
    const cases: [string, { txKey?: number; received: bigint; refuse?: boolean }, string, string][] = [
      ["01".repeat(32), { received: 0n }, proofHex("01".repeat(32), alice.publicKey), "nothing_received"],
      ["02".repeat(32), { received: 999n }, proofHex("02".repeat(32), alice.publicKey), "below_minimum"],
      // A proof made from another tx key than the transaction's.
      [
        "03".repeat(32),
        { txKey: 0x55, received: 5000n },
        proofHex("03".repeat(32), alice.publicKey),
        "bad_proof",
      ],
      // wallet2 refused the proof itself (its part count is not the transaction's key count).
      [
        "07".repeat(32),
        { received: 5000n, refuse: true },
        proofHex("07".repeat(32), alice.publicKey),
        "bad_proof",
      ],
      // Front-running: Bob's good proof for his key, copied into a claim for Alice's key.
      ["08".repeat(32), { received: 5000n }, proofHex("08".repeat(32), bob.publicKey), "bad_proof"],
    ];
    // Ordered by another guardian (this one's API refuses such claims: "deposit intake" below).
    const ordered = (txid: string, proof: string) => ({
      from: 0,
      item: { kind: "claim" as const, txid: fromHex(txid), claimKey: alice.publicKey, proof: fromHex(proof) },
    });
    for (const [txid, tx] of cases) w.chain.txs.set(txid, { location: { found: true, inPool: true }, ...tx });
    // An unknown txid gets no verdict (it may still be relayed): it expires instead.
    w.round([
      ...cases.map(([txid, , proof]) => ordered(txid, proof)),
      ordered("04".repeat(32), proofHex("04".repeat(32), alice.publicKey)),
    ]);
    w.round(); // the watcher learns what is wanted
    await w.monero.chainWatcher!.poll();
    w.round();
    for (const [txid, , , reason] of cases)
      expect(w.view(fromHex(txid)).attestations).toEqual([{ guardian: 1, verdict: reason }]);
    expect(w.view(fromHex("04".repeat(32))).attestations).toEqual([]);
  });

  it("front-running: a Byzantine guardian's claim with a copied proof under its own key is attested bad_proof and released; the owner's claim credits the owner", async () => {
    const w = watchingFederation();
    const txid = "09".repeat(32);
    const id = fromHex(txid);
    w.chain.txs.set(txid, { location: { found: true, inPool: false, blockHeight: 90 }, received: 5000n });
    const aliceProof = proofHex(txid, alice.publicKey);
    const others = (item: MoneroItem) => [0, 2].map((from) => ({ from, item }));
    await w.monero.chainWatcher!.poll();
    w.round(others({ kind: "height", height: 100 }));
    // Guardian 3 saw Alice's claim (txid, her key, her proof) and gets its own ordered first.
    w.round([
      { from: 3, item: { kind: "claim", txid: id, claimKey: bob.publicKey, proof: fromHex(aliceProof) } },
    ]);
    expect(w.view(id)).toMatchObject({ state: "open", claimKey: toHex(bob.publicKey), claimedBy: 3 });
    // While it is open, Alice's claim is refused here (409); her wallet posts again once it is released.
    await expect(w.post({ txid, proof: aliceProof, claimKey: toHex(alice.publicKey) })).rejects.toThrow(
      /another key/,
    );
    w.round(); // the watcher learns what is wanted
    await w.monero.chainWatcher!.poll();
    // This guardian's wallet-rpc check (check_tx_proof for Bob's message) fails: bad_proof, as at the others.
    w.round(others({ kind: "attest", txid: id, round: 1, verdict: invalid("bad_proof") }));
    expect(w.view(id)).toMatchObject({ state: "rejected", closedReason: "bad_proof" });
    expect(w.view(id).attestations).toContainEqual({ guardian: 1, verdict: "bad_proof" });
    // Released: Alice's claim binds and is credited to her key.
    expect(await w.post({ txid, proof: aliceProof, claimKey: toHex(alice.publicKey) })).toEqual({
      txid,
      state: "queued",
    });
    w.round();
    expect(w.view(id)).toMatchObject({ state: "open", round: 2, claimKey: toHex(alice.publicKey) });
    w.round();
    await w.monero.chainWatcher!.poll();
    w.round(others({ kind: "attest", txid: id, round: 2, verdict: valid(5000n, 90) }));
    expect(w.view(id)).toMatchObject({ state: "credited", amount: "5000", claimKey: toHex(alice.publicKey) });
  });

  it("backs off a claim its node keeps refusing, without stalling the height or the other claims", async () => {
    const w = watchingFederation();
    const troubled = "05".repeat(32);
    const fine = "06".repeat(32);
    for (const txid of [troubled, fine])
      w.chain.txs.set(txid, { location: { found: true, inPool: true }, received: 0n });
    const proven = w.chain.proven.bind(w.chain);
    w.chain.proven = (txid, proof, message, address) =>
      txid === troubled
        ? Promise.reject(
            new MoneroRpcError({
              url: "http://wallet",
              method: "check_tx_proof",
              rpcCode: -1,
              rpcMessage: "Failed to get transaction from daemon",
            }),
          )
        : proven(txid, proof, message, address);
    w.round(
      [troubled, fine].map((txid) => ({
        from: 0,
        item: {
          kind: "claim" as const,
          txid: fromHex(txid),
          claimKey: alice.publicKey,
          proof: proofOf(fromHex(txid), alice.publicKey),
        },
      })),
    );
    w.round();
    w.chain.height_ = 120;
    await w.monero.chainWatcher!.poll();
    expect(w.monero.chainWatcher!.nodeHeight).toBe(120);
    w.round();
    expect(w.view(fromHex(fine)).attestations).toEqual([{ guardian: 1, verdict: "nothing_received" }]);
    expect(w.view(fromHex(troubled)).attestations).toEqual([]);
    expect(w.logs.find((l) => l.event === "claim_check_failed")).toMatchObject({
      fields: { txid: troubled, failures: 1, retryInMs: 2000 },
    });
  });

  it("retries a claim its node refused on the module's own clock (the `now` it was given), not the wall clock", async () => {
    // The simulator (testing/sim) runs the module on simulated time: a retry timed by Date.now came
    // at a wall-clock moment, so a seed did not replay and a refused claim waited on real seconds.
    let clock = 1_000_000;
    const w = watchingFederation(() => clock);
    const txid = "0a".repeat(32);
    w.chain.txs.set(txid, { location: { found: true, inPool: true }, received: 0n });
    const proven = w.chain.proven.bind(w.chain);
    let refuse = true;
    w.chain.proven = (t, proof, message, address) =>
      refuse
        ? Promise.reject(
            new MoneroRpcError({
              url: "http://wallet",
              method: "check_tx_proof",
              rpcCode: -1,
              rpcMessage: "Failed to get transaction from daemon",
            }),
          )
        : proven(t, proof, message, address);
    w.round([
      {
        from: 0,
        item: {
          kind: "claim",
          txid: fromHex(txid),
          claimKey: alice.publicKey,
          proof: proofOf(fromHex(txid), alice.publicKey),
        },
      },
    ]);
    w.round();
    await w.monero.chainWatcher!.poll();
    expect(w.logs.find((l) => l.event === "claim_check_failed")).toMatchObject({
      fields: { retryInMs: 2000 },
    });
    refuse = false;
    // Not yet due on the module's clock: not asked again.
    clock += 1_999;
    await w.monero.chainWatcher!.poll();
    w.round();
    expect(w.view(fromHex(txid)).attestations).toEqual([]);
    // Due on the module's clock (no wall-clock time has passed): asked again, and attested.
    clock += 1;
    await w.monero.chainWatcher!.poll();
    w.round();
    expect(w.view(fromHex(txid)).attestations).toEqual([{ guardian: 1, verdict: "nothing_received" }]);
  });

  it("validates claims at the API: form, claim key, proof bytes, and a txid bound to another key", async () => {
    const w = watchingFederation();
    const txid = "cd".repeat(32);
    w.chain.txs.set(txid, { location: { found: true, inPool: true }, received: 5000n });
    const proof = proofHex(txid, alice.publicKey);
    const part = (at: number, bytes: string) =>
      proof.slice(0, at * 2) + bytes + proof.slice(at * 2 + bytes.length);
    const bad = async (body: unknown) => {
      try {
        await w.post(body);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const me = toHex(alice.publicKey);
    expect(await bad({ txid: "CD".repeat(32), proof, claimKey: me })).toBeInstanceOf(InvalidRequestError);
    expect(await bad({ txid, proof: proof.slice(2), claimKey: me })).toBeInstanceOf(InvalidRequestError);
    expect(await bad({ txid, proof, claimKey: "ff".repeat(32) })).toBeInstanceOf(InvalidRequestError);
    // The tx key itself is not a claim any more (the old request form).
    expect(await bad({ txid, txKey: toHex(txKeyOf(0x42)), claimKey: me })).toBeInstanceOf(
      InvalidRequestError,
    );
    // Bytes no honest proof has never get past the API: D off the curve, D of small order, c or s
    // not below the group order.
    for (const broken of [
      part(0, "ff".repeat(31) + "7f"),
      part(0, "00".repeat(32)),
      part(32, "ff".repeat(32)),
      part(64, "ff".repeat(32)),
    ])
      expect(await bad({ txid, proof: broken, claimKey: me })).toBeInstanceOf(InvalidRequestError);
    expect(await bad({ txid, proof, claimKey: me, extra: 1 })).toBeInstanceOf(InvalidRequestError);
    await w.post({ txid, proof, claimKey: me });
    w.round();
    const taken = await bad({
      txid,
      proof: proofHex(txid, bob.publicKey),
      claimKey: toHex(bob.publicKey),
    });
    expect(taken).toBeInstanceOf(ConclaveError);
    expect(taken).toMatchObject({ code: "already_claimed", status: 409 });
  });

  it("logs an RPC failure and retries with exponential backoff, then recovers", async () => {
    vi.useFakeTimers();
    try {
      const chain = new FakeChain();
      chain.failures = 2;
      const logs: { event: string; fields: Record<string, unknown> }[] = [];
      const monero = new MoneroServerModule(MONERO, CONFIG, { chain, pollMs: 100 });
      monero.start({ self: 0, wake: () => {}, log: (event, fields) => logs.push({ event, fields }) });
      await vi.advanceTimersByTimeAsync(0);
      expect(logs.map((l) => [l.event, l.fields["retryInMs"]])).toEqual([["rpc_failed", 200]]);
      await vi.advanceTimersByTimeAsync(200);
      expect(logs.map((l) => [l.event, l.fields["retryInMs"]])).toEqual([
        ["rpc_failed", 200],
        ["rpc_failed", 400],
      ]);
      await vi.advanceTimersByTimeAsync(400);
      expect(logs.at(-1)).toMatchObject({ event: "rpc_recovered", fields: { after: 2 } });
      expect(monero.chainWatcher!.nodeHeight).toBe(100);
      await monero.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
