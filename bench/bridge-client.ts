// npm run bench:bridge-client — the bridge's client half end to end on real parts: anvil with the
// wXMR contract, four guardian processes with the bridge module (confirmations 1, watchers polling
// every 200 ms), one wallet on LMDB. Per round: e-cash -> signed mint call (one federation
// transaction, then each guardian's EIP-712 signature collected and checked), the mint sent and
// mined (viem, gas = estimate + 50 %), and burnToClaim -> notes (burn signed and mined, t guardians'
// votes at depth, the redeeming federation transaction). Prints each round and the medians.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex } from "viem";
import { nodeWallets } from "@conclave/wallet-standard/node";
import { startBridgeFederation } from "../modules/bridge/src/client/bridge-federation-fixture.js";

const ROUNDS = Number(process.env["ROUNDS"] ?? 5);
const XMR = 1_000_000_000_000n;
const fed = await startBridgeFederation("bench-bridge-client-");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  const account = fed.anvil.accounts[1]!;
  const sender = { privateKey: bytesToHex(account.getHdKey().privateKey!), rpcUrl: fed.anvil.rpcUrl };
  const { wallet } = await nodeWallets({ awaitTimeoutMs: 30_000 }).joinWallet(
    join(mkdtempSync(join(tmpdir(), "bench-bridge-wallet-")), "w"),
    fed.invite,
  );
  await wallet.devFaucet(10n * XMR);
  const signed: number[] = [];
  const sent: number[] = [];
  const back: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const amount = XMR / 2n + BigInt(i);
    let t = performance.now();
    const minted = await wallet.bridgeMint(account.address, amount);
    signed.push(performance.now() - t);
    t = performance.now();
    const submission = await wallet.bridgeSubmit(minted.txid, sender);
    sent.push(performance.now() - t);
    t = performance.now();
    const burned = await wallet.bridgeBurn(amount, { toClaim: true }, { sender, pollMs: 100 });
    back.push(performance.now() - t);
    if (burned.redeemed?.amount !== amount)
      throw new Error(`round ${i}: redeemed ${burned.redeemed?.amount}`);
    process.stdout.write(
      `round ${i}: e-cash -> signed call ${signed.at(-1)!.toFixed(0)} ms, mint sent and mined ${sent.at(-1)!.toFixed(0)} ms ` +
        `(gas ${submission.gasUsed} of ${submission.gasLimit}), burnToClaim -> notes ${back.at(-1)!.toFixed(0)} ms\n`,
    );
  }
  process.stdout.write(
    `median of ${ROUNDS}: e-cash -> signed call ${median(signed).toFixed(0)} ms, mint sent and mined ` +
      `${median(sent).toFixed(0)} ms, burnToClaim -> notes ${median(back).toFixed(0)} ms\n`,
  );
  await wallet.close();
} finally {
  await fed.stop();
}
