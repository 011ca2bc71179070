// npm run demo:pay -- <amount in XMR>: pays the local federation's Monero deposit address from the
// demo user's wallet that `npm start` runs (regtest coins), and prints the txid and the tx key that
// prove the payment, with the `conclave claim` command that turns it into e-cash.
//
//   npm run demo:pay -- 1.5 [--dir .tmp/local-federation]
//   npm run demo:pay -- 1.5 --to <address>   pays another address: a wallet's `conclave deposit`
//                                            subaddress (no tx key needed), or a standard address
//                                            (prints the tx key that proves the payment)
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { WalletRpc, formatXmr, parseAddress, parseXmr, payStallSafe } from "@conclave/monero";

export const DemoMoneroSchema = z.strictObject({
  daemonUrl: z.string().url(),
  demoWalletRpcUrl: z.string().url(),
  federationAddress: z.string().min(1),
});
export type DemoMonero = z.infer<typeof DemoMoneroSchema>;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { dir: { type: "string", default: ".tmp/local-federation" }, to: { type: "string" } },
    allowPositionals: true,
  });
  const [amountText] = positionals;
  if (amountText === undefined || positionals.length !== 1) {
    process.stderr.write("usage: npm run demo:pay -- <amount in XMR> [--to ADDRESS] [--dir DIR]\n");
    process.exit(2);
  }
  let amount: bigint;
  try {
    amount = parseXmr(amountText);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  }
  const statePath = join(resolve(values.dir), "monero.json");
  let state: DemoMonero;
  try {
    state = DemoMoneroSchema.parse(JSON.parse(readFileSync(statePath, "utf8")));
  } catch {
    process.stderr.write(`no running local federation with Monero at ${statePath}: run npm start first\n`);
    process.exit(1);
  }
  const to = values.to?.trim();
  let toSubaddress = false;
  if (to !== undefined) {
    try {
      // Regtest uses mainnet addresses; a standard address or a subaddress (a deposit subaddress).
      toSubaddress = parseAddress(to, "mainnet", ["standard", "subaddress"]).kind === "subaddress";
    } catch (e) {
      process.stderr.write(`--to: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(2);
    }
  }
  const wallet = new WalletRpc({ url: state.demoWalletRpcUrl });
  // npm start stops mining while this file is fresh (dev.ts): wallet-rpc's transfer starts over
  // when the chain grows under it, which with a block every second or two can go on for minutes.
  const pause = join(resolve(values.dir), "mining-paused");
  writeFileSync(pause, String(process.pid));
  let sent;
  try {
    // A stalled transfer is waited out and not paid twice (payStallSafe).
    sent = await payStallSafe(wallet, to ?? state.federationAddress, [amount]);
  } finally {
    rmSync(pause, { force: true });
  }
  const fee = (await wallet.getTransferByTxid(sent.txid)).find((t) => t.type !== "in")?.fee ?? 0n;
  if (to !== undefined && toSubaddress) {
    process.stdout.write(
      `Paid ${formatXmr(amount)} XMR (fee ${formatXmr(fee)}) to ${to.slice(0, 12)}…\n  txid    ${sent.txid}\n` +
        `No tx key is needed for a deposit subaddress: the guardians see the payment themselves.\n`,
    );
    return;
  }
  const txKey = sent.txKey;
  if (to !== undefined && to !== state.federationAddress) {
    // A standard address: the tx key is what proves the payment to its owner (check_tx_key).
    process.stdout.write(
      `Paid ${formatXmr(amount)} XMR (fee ${formatXmr(fee)}) to ${to.slice(0, 12)}…\n` +
        `  txid    ${sent.txid}\n  tx key  ${txKey}\n` +
        `Proof of payment: check_tx_key ${sent.txid} ${txKey} ${to}\n`,
    );
    return;
  }
  process.stdout.write(
    `Paid ${formatXmr(amount)} XMR (fee ${formatXmr(fee)}) to the federation ${state.federationAddress.slice(0, 12)}…\n` +
      `  txid    ${sent.txid}\n  tx key  ${txKey}\n` +
      `Claim it (it confirms after 2 blocks; npm start mines one every few seconds):\n` +
      `  conclave --data .tmp/alice claim --txid ${sent.txid} --tx-key ${txKey}\n` +
      `The demo wallet's own address, to withdraw back to:\n  ${(await wallet.getAddress()).address}\n`,
  );
}

await main().catch((e: unknown) => {
  process.stderr.write(`demo payment failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
