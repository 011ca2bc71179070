// Subaddress deposits end to end against real Monero software: monerod in regtest, the real key
// ceremony making the guardians' wallets one 3-of-4 multisig wallet, four guardian processes
// (startMoneroFederation). A user pays a wallet's deposit subaddress from a plain Monero wallet and
// gives no tx key to anyone: every guardian's own share of the multisig wallet sees the payment, t
// attest it, and the wallet SDK turns it into notes. Two users' subaddresses differ and their
// deposits never cross; the same claim key asked twice keeps its subaddress; a request signed by the
// wrong key is refused; the tx-key path cannot credit the same payment again.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TransactionRejectedError, encodeTransaction, toHex } from "@conclave/core-common";
import { FederationClient } from "@conclave/core-client";
import { NodeSigner, sha256 } from "@conclave/core-server";
import { startMoneroFederation } from "@conclave/guardiand";
import type { MoneroFederation } from "@conclave/guardiand";
import { buildTransaction, coinOutput } from "@conclave/module-dummy";
import { MoneroRpcError, parseXmr } from "@conclave/monero";
import type { WalletRpc } from "@conclave/monero";
import { nodeWallets } from "@conclave/wallet-standard/node";
import type { SubaddressDepositProgress, Wallet } from "@conclave/wallet-standard/node";
import { SubaddressViewSchema } from "./api.js";
import type { SubaddressView } from "./api.js";
import { subaddressDepositInput } from "./client.js";
import { subaddressRequestMessage } from "./common.js";

const N = 4;
const MONERO = 2;
const DUMMY = 0;
const CONFIRMATIONS = 2;
const ALICE_PAYS = parseXmr("1.5");
const BOB_PAYS = parseXmr("0.75");

let fed: MoneroFederation | undefined;
let alice: Wallet;
let bob: Wallet;
const timings: Record<string, number> = {};
let lapStart = Date.now();
const lap = (name: string) => {
  timings[name] = Date.now() - lapStart;
  lapStart = Date.now();
};

function federation(): MoneroFederation {
  if (!fed) throw new Error("the federation did not start");
  return fed;
}

async function post(g: number, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const r = await fetch(`${federation().apiUrl(g)}/v1/modules/monero/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

async function subaddressView(g: number, claimKey: string): Promise<SubaddressView> {
  const r = await fetch(`${federation().apiUrl(g)}/v1/modules/monero/subaddresses/${claimKey}`);
  return SubaddressViewSchema.parse(await r.json());
}

/**
 * Guardian wallet `w`'s addresses at `indices`. t guardians agreed on them; the last one may still be
 * creating them in its wallet (get_address answers -15 until then), so it is asked again for a while.
 */
async function addressesOf(
  w: WalletRpc,
  indices: number[],
): Promise<Awaited<ReturnType<WalletRpc["getAddress"]>>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await w.getAddress({ addressIndices: indices });
    } catch (e) {
      if (!(e instanceof MoneroRpcError && e.rpcCode === -15) || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

beforeAll(async () => {
  lapStart = Date.now();
  fed = await startMoneroFederation({
    n: N,
    moneroConfig: { confirmations: CONFIRMATIONS },
    pollMs: 200,
    blockEveryMs: 500,
    prefix: "conclave-monero-subaddress-",
  });
  Object.assign(timings, fed.timings);
  lapStart = Date.now();
  alice = (await nodeWallets().joinWallet(join(fed.root, "alice"), fed.invite)).wallet;
  bob = (await nodeWallets().joinWallet(join(fed.root, "bob"), fed.invite)).wallet;
  lap("2 wallets joined");
}, 240_000);

afterAll(async () => {
  await alice?.close();
  await bob?.close();
  await fed?.stop();
  console.log(`monero subaddress e2e timings (ms): ${JSON.stringify(timings)}`);
});

describe("subaddress deposits (real monerod, the ceremony's 3-of-4 multisig, 4 guardian processes)", () => {
  let aliceAddress = { address: "", index: 0, claimKey: "" };
  let bobAddress = { address: "", index: 0, claimKey: "" };
  let aliceTxid = "";

  it("gives each claim key its own subaddress, the one every guardian's share of the wallet derives", async () => {
    lapStart = Date.now();
    aliceAddress = await alice.depositAddress({ pollMs: 200 });
    bobAddress = await bob.depositAddress({ pollMs: 200 });
    lap("two deposit addresses agreed");
    expect(aliceAddress.address).not.toBe(bobAddress.address);
    expect(aliceAddress.index).not.toBe(bobAddress.index);
    expect(aliceAddress.address).not.toBe(federation().address);
    for (const w of federation().guardianWallets) {
      const got = await addressesOf(w, [aliceAddress.index, bobAddress.index]);
      expect(got.addresses.map((a) => a.address)).toEqual([aliceAddress.address, bobAddress.address]);
      expect((await w.validateAddress({ address: aliceAddress.address })).subaddress).toBe(true);
    }
  }, 60_000);

  it("the same claim key asked again (at another guardian) gets the same subaddress", async () => {
    // Alice's wallet signed its request; anyone replaying it gets Alice's index, bound to Alice's key.
    const r = await post(2, "subaddresses", {
      claimKey: aliceAddress.claimKey,
      signature: "00".repeat(64),
    });
    expect(r.status).toBe(400);
    const signer = new NodeSigner(new Uint8Array(32).fill(77));
    const pub = toHex(signer.publicKey);
    const body = {
      claimKey: pub,
      signature: toHex(signer.sign(subaddressRequestMessage(federation().address, signer.publicKey))),
    };
    expect((await post(1, "subaddresses", body)).json).toMatchObject({ state: "queued" });
    // t guardians agree on the index and the address their own wallets derive.
    const client = await FederationClient.join(federation().invite);
    let first: SubaddressView | undefined;
    for (let i = 0; i < 150 && first?.address === undefined; i++) {
      await new Promise((res) => setTimeout(res, 200));
      first = await client
        .queryConsensus(`/v1/modules/monero/subaddresses/${pub}`, SubaddressViewSchema)
        .then((a) => a.value)
        .catch(() => undefined);
    }
    expect(first?.state).toBe("assigned");
    expect(first?.address).toMatch(/^8/);
    const again = await post(3, "subaddresses", body);
    expect(again.json).toMatchObject({ state: "assigned", index: first!.index });
    // Guardian 3 may not be among the t that agreed: its wallet may still be creating the address.
    expect(await addressesOf(federation().guardianWallets[3]!, [first!.index!])).toMatchObject({
      addresses: [{ address: first!.address }],
    });
  }, 60_000);

  it("refuses a request signed by another key than the one it binds (400 bad_signature), binding nothing", async () => {
    const victim = new NodeSigner(new Uint8Array(32).fill(88));
    const mallory = new NodeSigner(new Uint8Array(32).fill(89));
    const body = {
      claimKey: toHex(victim.publicKey),
      signature: toHex(mallory.sign(subaddressRequestMessage(federation().address, victim.publicKey))),
    };
    const r = await post(0, "subaddresses", body);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ code: "bad_signature" });
    expect((await subaddressView(0, toHex(victim.publicKey))).state).toBe("unassigned");
  });

  it("a payment to Alice's subaddress, no tx key given to anyone, is credited once after the confirmations and becomes notes", async () => {
    lapStart = Date.now();
    const user = federation().user;
    await user.refresh();
    const sent = await user.transfer({
      destinations: [{ address: aliceAddress.address, amount: ALICE_PAYS }],
    });
    aliceTxid = sent.txid!;
    const progress: SubaddressDepositProgress[] = [];
    const r = await alice.receiveDeposits(aliceAddress.address, {
      pollMs: 200,
      timeoutMs: 120_000,
      onProgress: (p) => progress.push(p),
    });
    lap("paid -> notes");
    expect(r.deposits.map((d) => d.txid)).toEqual([aliceTxid]);
    expect(r.amount + r.deposits[0]!.dust).toBe(ALICE_PAYS);
    expect((await alice.info()).balance).toBe(r.amount);
    const stages = progress.map((p) => p.stage);
    expect(stages.at(-1)).toBe("done");
    expect(stages).toContain("issuing");
    expect(stages.some((s) => s === "seen" || s === "confirming" || s === "verifying")).toBe(true);
    // Credited once: spent now, and nothing else is spendable.
    const view = await subaddressView(0, aliceAddress.claimKey);
    expect(view.deposits).toEqual([
      expect.objectContaining({
        txid: aliceTxid,
        state: "spent",
        amount: ALICE_PAYS.toString(),
        spendable: false,
      }),
    ]);
    // The payment's operation log entry: one, written with the deposit's transaction and ended done
    // in the write that issued its notes (no tx key anywhere; the subaddress itself is not logged).
    const monero = (await alice.operations()).filter((o) => o.module === "monero");
    expect(monero).toMatchObject([
      {
        kind: "subaddress-deposit",
        state: "done",
        meta: { txid: aliceTxid, address: aliceAddress.address, subaddressIndex: aliceAddress.index },
        result: { depositTxid: aliceTxid, amount: r.amount.toString(), state: "credited" },
      },
    ]);
    expect((await bob.operations()).filter((o) => o.module === "monero")).toEqual([]);
    expect(await alice.resume()).toBe(0);
    expect((await alice.info()).balance).toBe(r.amount);
    // Bob's subaddress saw nothing of it.
    expect((await subaddressView(0, bobAddress.claimKey)).deposits).toEqual([]);
  }, 150_000);

  it("the claim path cannot credit the same payment again (no proof for the primary address holds for it)", async () => {
    const txKey = await federation().user.getTxKey(aliceTxid);
    const e = await bob.claimDeposit({ txid: aliceTxid, txKey }, { pollMs: 200, timeoutMs: 60_000 }).then(
      () => undefined,
      (x: unknown) => x,
    );
    // The wallet's proof is for the primary address (R = r·G); a payment to one subaddress carries
    // R = r·D instead, so check_tx_proof finds it not good (with check_tx_key it was "nothing received").
    // Every guardian's API asks its own wallet-rpc before queuing a claim (issue 10, item 6): 400.
    expect(e).toMatchObject({ code: "bad_proof", status: 400 });
    expect((await bob.info()).balance).toBe(0n);
  }, 90_000);

  it("a payment to Bob's subaddress is credited to Bob's key only: Alice's key cannot spend it", async () => {
    const user = federation().user;
    await user.refresh();
    const sent = await user.transfer({ destinations: [{ address: bobAddress.address, amount: BOB_PAYS }] });
    // Wait until it is credited and spendable (without Bob's wallet taking it yet).
    let view: SubaddressView | undefined;
    for (let i = 0; i < 600 && !view?.deposits.some((d) => d.spendable); i++) {
      await new Promise((res) => setTimeout(res, 200));
      view = await subaddressView(0, bobAddress.claimKey);
    }
    expect(view?.deposits).toEqual([
      expect.objectContaining({ txid: sent.txid, state: "credited", spendable: true }),
    ]);
    // Alice signs a transaction spending Bob's deposit: refused, nothing moves.
    const aliceSigner = new NodeSigner(new Uint8Array(32).fill(90));
    const tx = buildTransaction(
      [subaddressDepositInput(MONERO, BOB_PAYS, Buffer.from(sent.txid!, "hex"), bobAddress.index)],
      [coinOutput(DUMMY, BOB_PAYS, aliceSigner.publicKey)],
      [aliceSigner],
      sha256,
    );
    const client = await FederationClient.join(federation().invite);
    const e: unknown = await client.submitTransaction(encodeTransaction(tx)).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(TransactionRejectedError);
    expect((e as TransactionRejectedError).code).toBe("bad_signature");
    expect((await subaddressView(1, aliceAddress.claimKey)).deposits.map((d) => d.txid)).toEqual([aliceTxid]);
    const got = await bob.receiveDeposits(bobAddress.address, { pollMs: 200, timeoutMs: 60_000 });
    expect(got.deposits.map((d) => d.txid)).toEqual([sent.txid]);
    expect(got.amount + got.deposits[0]!.dust).toBe(BOB_PAYS);
    expect((await bob.info()).balance).toBe(got.amount);
  }, 150_000);
});
