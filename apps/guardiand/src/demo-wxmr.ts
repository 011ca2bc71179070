// npm run demo:wxmr -- <notes> <evm address>: turns e-cash notes (a note string from `conclave spend`,
// or @FILE holding one) into wXMR on `npm start`'s anvil: one federation transaction spends the notes
// into "wXMR to <evm address>", t guardians' EIP-712 signatures are gathered from their APIs, and the
// contract's `mint` is sent from npm start's funded dev account (anyone may send it; the recipient
// need not pay the gas). Prints the federation txid, the mint transaction and the same mint as a
// `cast send` command. A dev tool working from a note string; from a wallet, `conclave bridge-mint`
// (the bridge's client half) does the same.
//
//   npm run demo:wxmr -- @notes.txt 0x7099… [--dir .tmp/local-federation] [--no-send]
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { encodeInvite, parseFederationConfig } from "@conclave/core-common";
import { FederationClient } from "@conclave/core-client";
import { wrappedMoneroAbi } from "@conclave/evm";
import { parseBridgeConfig } from "@conclave/module-bridge";
import { createPublicClient, createWalletClient, defineChain, getAddress, http, isAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { z } from "zod";
import { BRIDGE_INSTANCE } from "./monero-federation.js";
import { notesToWxmr } from "./notes-to-wxmr.js";
import { inviteOf } from "./setup-cli.js";

const MINT_INSTANCE = 1; // the dev federation's mint (dummy 0, mint 1, monero 2, bridge 3)

const evmStateSchema = z.strictObject({
  rpcUrl: z.url(),
  chainId: z.number().int(),
  contract: z.string(),
  account: z.string(),
  privateKey: z.string().regex(/^0x[0-9a-f]{64}$/),
});

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      dir: { type: "string", default: ".tmp/local-federation" },
      "no-send": { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  const [notesArg, recipientArg] = positionals;
  if (notesArg === undefined || recipientArg === undefined || positionals.length !== 2) {
    process.stderr.write(
      "usage: npm run demo:wxmr -- <note string | @FILE> <EVM address> [--dir DIR] [--no-send]\n",
    );
    process.exit(2);
  }
  if (!isAddress(recipientArg, { strict: false })) {
    process.stderr.write(`not an EVM address: ${recipientArg.slice(0, 60)}\n`);
    process.exit(2);
  }
  const recipient = getAddress(recipientArg);
  const noteString = notesArg.startsWith("@") ? readFileSync(notesArg.slice(1), "utf8") : notesArg;
  const dir = resolve(values.dir);
  const evm = evmStateSchema.parse(JSON.parse(readFileSync(join(dir, "evm.json"), "utf8")));
  const federation = parseFederationConfig(
    JSON.parse(readFileSync(join(dir, "guardian-0", "federation.json"), "utf8")),
  );
  const entry = federation.modules.find((m) => m.kind === "bridge");
  if (!entry) throw new Error(`the federation in ${dir} has no bridge module (started with --no-bridge?)`);
  const bridge = parseBridgeConfig(entry.config);
  const client = await FederationClient.join(encodeInvite(inviteOf(federation)));
  const r = await notesToWxmr({
    client,
    noteString,
    recipient,
    mintInstance: MINT_INSTANCE,
    bridgeInstance: BRIDGE_INSTANCE,
    bridge,
  });
  const m = r.message;
  process.stdout.write(
    `Spent ${r.amount} piconero of notes into wXMR to ${recipient} (federation transaction ${r.txid});\n` +
      `${r.signatures.length} guardian signatures, deposit id ${m.depositId}, valid until ${new Date(Number(m.deadline) * 1000).toISOString()}\n` +
      `The same mint with cast (anyone may send it, once):\n` +
      `  npx cast send ${bridge.contract} "mint((address,uint256,bytes32,uint64,uint32),bytes[])" ` +
      `"(${m.recipient},${m.amount},${m.depositId},${m.deadline},${m.setIndex})" "[${r.signatures.join(",")}]" ` +
      `--private-key $KEY --rpc-url ${evm.rpcUrl}\n`,
  );
  if (values["no-send"]) return;
  const chain = defineChain({
    id: evm.chainId,
    name: "anvil",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [evm.rpcUrl] } },
  });
  const account = privateKeyToAccount(evm.privateKey as `0x${string}`);
  const wallet = createWalletClient({ account, chain, transport: http(evm.rpcUrl) });
  const hash = await wallet.writeContract({
    address: bridge.contract,
    abi: wrappedMoneroAbi,
    functionName: "mint",
    args: [m, r.signatures],
  });
  const receipt = await createPublicClient({ chain, transport: http(evm.rpcUrl) }).waitForTransactionReceipt({
    hash,
    pollingInterval: 200,
  });
  if (receipt.status !== "success") throw new Error(`mint ${hash} reverted`);
  process.stdout.write(
    `Minted on chain ${evm.chainId}: transaction ${hash} (block ${receipt.blockNumber}), sent by ${account.address}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`demo:wxmr: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
