// The wallet page's own check of a signed wXMR mint before the user's EVM wallet sends it
// (page/wallet/wxmr-chain.ts checkedCall), in Node: a call signed by t guardian keys passes; a call
// for another recipient, chain or deposit id, with a non-guardian signer, a signature that does not
// recover to the signer it names, signers out of order, or fewer than t signatures is refused.
import { describe, expect, it } from "vitest";
import { getAddress } from "viem";
import type { MintCall } from "@conclave/wallet-standard";
import { evmAddressOfKey, signMint } from "../../../modules/bridge/src/eip712-mint.js";
import { checkedCall } from "../page/wallet/wxmr-chain.js";
import { outputDepositId } from "../page/wxmr.js";

const keys = [0, 1, 2, 3].map((i) => new Uint8Array(32).fill(0x31 + i));
const outsider = new Uint8Array(32).fill(0x77);
const bridge = {
  chainId: 31337,
  contract: getAddress(`0x${"11".repeat(20)}`),
  guardians: keys.map((k) => evmAddressOfKey(k)),
  threshold: 3,
};
const federationId = "ab".repeat(32);
const mint = { txid: "cd".repeat(32), output: 1, recipient: getAddress(`0x${"22".repeat(20)}`) };
const message = {
  recipient: mint.recipient,
  amount: 5_000_000_000n,
  depositId: outputDepositId(federationId, mint.txid, mint.output),
  deadline: 1_000n,
  setIndex: 1,
};

/** A call signed by `signers` (sorted by address unless told), as the SDK returns it. */
function callOf(signers: Uint8Array[], over: Partial<MintCall> = {}, sort = true): MintCall {
  const signed = signers.map((k) => ({
    signer: evmAddressOfKey(k),
    signature: signMint(
      k,
      { chainId: over.chainId ?? bridge.chainId, contract: bridge.contract },
      {
        ...message,
        recipient: over.recipient ?? message.recipient,
        depositId: over.depositId ?? message.depositId,
      },
    ),
  }));
  if (sort) signed.sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : 1));
  return {
    chainId: bridge.chainId,
    contract: bridge.contract,
    ...message,
    signatures: signed.map((s) => s.signature),
    signers: signed.map((s) => s.signer),
    badGuardians: [],
    ...over,
  };
}

const refused = async (call: MintCall) =>
  checkedCall(bridge, federationId, mint, call).then(
    () => "accepted",
    (e: unknown) => (e instanceof Error ? e.message : String(e)),
  );

describe("the wallet page's check of a signed mint (checkedCall)", () => {
  it("passes t guardian signatures in ascending order, giving the call the page sends", async () => {
    const call = await checkedCall(bridge, federationId, mint, callOf(keys.slice(0, 3)));
    expect(call.signers).toEqual(
      [...keys.slice(0, 3).map((k) => evmAddressOfKey(k))].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)),
    );
    expect(call).toMatchObject({
      recipient: mint.recipient,
      amount: message.amount,
      depositId: message.depositId,
    });
  });

  it("refuses another recipient, chain or deposit id", async () => {
    const other = getAddress(`0x${"33".repeat(20)}`);
    expect(await refused(callOf(keys.slice(0, 3), { recipient: other }))).toMatch(/pays 0x3333.*not 0x2222/);
    expect(await refused(callOf(keys.slice(0, 3), { chainId: 1 }))).toMatch(
      /on chain 1, not the federation's/,
    );
    const depositId = outputDepositId(federationId, mint.txid, 0);
    expect(await refused(callOf(keys.slice(0, 3), { depositId }))).toMatch(/this page computes/);
  });

  it("refuses a non-guardian signer, a signature not of the signer it names, signers out of order, fewer than t", async () => {
    expect(await refused(callOf([keys[0]!, keys[1]!, outsider]))).toMatch(/is not one of the guardians/);
    const good = callOf(keys.slice(0, 3));
    const swapped = { ...good, signers: [good.signers[1]!, good.signers[0]!, good.signers[2]!] };
    expect(await refused(swapped)).toMatch(/does not recover to the signer it names/);
    const reversed = {
      ...good,
      signatures: [...good.signatures].reverse(),
      signers: [...good.signers].reverse(),
    };
    expect(await refused(reversed)).toMatch(/not in ascending order/);
    expect(await refused(callOf(keys.slice(0, 2)))).toMatch(/2 good signatures; the contract needs 3/);
  });
});
