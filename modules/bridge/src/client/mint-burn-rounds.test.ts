// Back-to-back mints and burns against four guardian processes and anvil, each mint submitted the
// moment t guardians signed it: a guardian that has not yet processed the block accepting a mint
// reads a wXMR supply above its books. It must not halt for that (the accountant judges its
// reading where consensus orders it: server.ts checkBooks). Before that rule, one guardian in four
// halted within the first two rounds here (09:32 UTC on 2026-12-07, the CI's burn failures), and
// every later burn showed it as an internal error. Each round, every guardian reports the burn.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeWallets } from "@conclave/wallet-standard/node";
import { bytesToHex } from "viem";
import { startBridgeFederation } from "./bridge-federation-fixture.js";
import type { BridgeFederation } from "./bridge-federation-fixture.js";

const XMR = 1_000_000_000_000n;
const ROUNDS = 8;
let fed: BridgeFederation;

beforeAll(async () => {
  fed = await startBridgeFederation("mint-burn-rounds-");
}, 180_000);

afterAll(async () => {
  await fed?.stop();
});

/** Guardian `url`'s view of the burn once it accepted it (or its last answer after 30 s: one a block behind says so a moment later). */
async function burnState(url: string, txHash: string, logIndex: number): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${url}/v1/modules/bridge/burns/${txHash}/${logIndex}`);
    const body = (await res.json()) as { state?: string; code?: string };
    const state = body.state ?? `error ${body.code ?? res.status}`;
    if (body.state === "accepted" || Date.now() > deadline) return state;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("mints submitted at once and burned back, round after round (anvil, four guardian processes)", () => {
  it(`${ROUNDS} rounds: every mint minted, every burn redeemed into notes and accepted at every guardian, none halted`, async () => {
    const { wallet } = await nodeWallets({ awaitTimeoutMs: 30_000 }).joinWallet(
      join(fed.dir, "wallet"),
      fed.invite,
    );
    await wallet.devFaucet(10n * XMR);
    const account = fed.anvil.accounts[2]!;
    const sender = { privateKey: bytesToHex(account.getHdKey().privateKey!), rpcUrl: fed.anvil.rpcUrl };
    for (let round = 0; round < ROUNDS; round++) {
      const minted = await wallet.bridgeMint(account.address, XMR / 4n, { submit: sender });
      expect(minted.submission?.status).toBe("success");
      const burned = await wallet.bridgeBurn(XMR / 4n, { toClaim: true }, { sender, waitMs: 60_000 });
      expect(burned.redeemed?.amount).toBe(XMR / 4n);
      const states = await Promise.all(
        fed.guardianUrls.map((url) => burnState(url, burned.txHash!, burned.logIndex!)),
      );
      expect({ round, states }).toEqual({ round, states: ["accepted", "accepted", "accepted", "accepted"] });
    }
    for (const g of fed.guardians) expect(g.child.exitCode).toBeNull();
  }, 600_000);
});
