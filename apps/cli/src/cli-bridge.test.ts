// The bridge commands as a user runs them: the CLI as a process against four real guardian
// processes with the bridge module and anvil with the wXMR contract (modules/bridge's
// bridge-federation-fixture.ts): e-cash -> wXMR with --submit (balance checked on chain), the
// status, a burn to a claim key redeemed back into notes, a mint left unsent past its deadline
// refunded into notes, and bad input refused with nothing spent.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import { bytesToHex } from "viem";
import { startBridgeFederation } from "../../../modules/bridge/src/client/bridge-federation-fixture.js";
import type { BridgeFederation } from "../../../modules/bridge/src/client/bridge-federation-fixture.js";
import { runConclave } from "./cli-test-harness.js";
import type { CliRun } from "./cli-test-harness.js";

let fed: BridgeFederation;
let keyFile: string;
let user: `0x${string}`;

beforeAll(async () => {
  fed = await startBridgeFederation("conclave-cli-bridge-");
  const account = fed.anvil.accounts[1]!;
  user = account.address;
  keyFile = join(fed.dir, "user-key.txt");
  writeFileSync(keyFile, bytesToHex(account.getHdKey().privateKey!) + "\n", { mode: 0o600 });
}, 180_000);

afterAll(async () => {
  await fed?.stop();
});

const wallet = () => join(fed.dir, "cli-wallet");
/**
 * Each step is a CLI process (node, tsx transpiling the wallet and viem, then the operation): 5 to
 * 15 s each on this machine under load; a test of 6 to 9 of them gets this long.
 */
const PROCESS_STEPS_MS = 300_000;

function conclave(args: readonly string[]): Promise<CliRun> {
  return runConclave(["--data", wallet(), ...args], { timeoutMs: 120_000 });
}

async function ok(args: readonly string[]): Promise<CliRun> {
  const r = await conclave(args);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) as unknown });
  return r;
}

async function balance(): Promise<string> {
  return (JSON.parse((await ok(["--json", "info"])).stdout) as { balance: string }).balance;
}

const wxmr = () =>
  fed.anvil.publicClient.readContract({
    address: fed.contract,
    abi: wrappedMoneroAbi,
    functionName: "balanceOf",
    args: [user],
  });

describe("conclave bridge-* against anvil and four guardian processes", () => {
  it("joins and gets 2 XMR of notes from the dev faucet", async () => {
    await ok(["join", fed.invite]);
    await ok(["dev-faucet", "2"]);
    expect(await balance()).toBe("2000000000000");
  });

  it(
    "refuses bad addresses, amounts and option combinations before anything is spent",
    async () => {
      const usage = await conclave(["bridge-mint", "0x1234", "1"]);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain("EVM-ADDRESS is 0x and 40 hex digits");
      // The checksum of a mixed-case address: one letter's case flipped.
      const i = [...user].findIndex((c, k) => k > 1 && /[a-fA-F]/.test(c));
      const c = user.charAt(i);
      const typo =
        user.slice(0, i) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + user.slice(i + 1);
      const checksum = await conclave(["bridge-mint", typo, "1"]);
      expect(checksum.code).toBe(1);
      expect(checksum.stderr).toContain("error [invalid_evm_address]");
      expect(checksum.stderr).toContain("nothing was spent");
      const noRpc = await conclave(["bridge-mint", user, "1", "--submit", "--evm-key-file", keyFile]);
      expect(noRpc.code).toBe(2);
      expect(noRpc.stderr).toContain("--rpc");
      const both = await conclave(["bridge-burn", "1", "--to-claim", "4".repeat(95)]);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain("either a MONERO-ADDRESS or --to-claim");
      expect(await balance()).toBe("2000000000000");
      const help = await ok(["help", "bridge-mint"]);
      expect(help.stdout).toContain("EIP-55");
    },
    PROCESS_STEPS_MS,
  );

  it(
    "bridge-mint --submit puts wXMR on chain; bridge-status says minted; bridge-burn --to-claim brings it back as notes",
    async () => {
      const minted = await ok([
        "bridge-mint",
        user,
        "0.5",
        "--submit",
        "--evm-key-file",
        keyFile,
        "--rpc",
        fed.anvil.rpcUrl,
      ]);
      expect(minted.stdout).toContain("accepted and signed by 3 guardians");
      // The federation's fee for the refundable mint (its config's default, 0.0001 XMR) is printed.
      expect(minted.stdout).toContain("paid to the federation for a refundable mint 0.0001 XMR");
      expect(minted.stdout).toMatch(/Minted: EVM transaction 0x[0-9a-f]{64}/);
      expect(await wxmr()).toBe(500_000_000_000n);
      expect(await balance()).toBe("1499900000000");
      const txid = /\(transaction ([0-9a-f]{64}), output \d+/.exec(minted.stdout)?.[1];
      expect(txid).toBeDefined();
      const status = await ok(["bridge-status", txid!, "--rpc", fed.anvil.rpcUrl]);
      expect(status.stdout).toMatch(new RegExp(`^mint ${txid}:\\d+: minted`));

      const burned = await ok([
        "bridge-burn",
        "0.5",
        "--to-claim",
        "--evm-key-file",
        keyFile,
        "--rpc",
        fed.anvil.rpcUrl,
      ]);
      expect(burned.stdout).toContain("Redeemed 0.5 XMR (500000000000p)");
      expect(await wxmr()).toBe(0n);
      expect(await balance()).toBe("1999900000000");
    },
    PROCESS_STEPS_MS,
  );

  it(
    "bridge-mint without --submit prints the signed call and a cast line; bridge-submit sends it",
    async () => {
      const r = await ok(["bridge-mint", user, "0.25"]);
      expect(r.stdout).toContain("Send it before the deadline");
      expect(r.stdout).toContain(
        `cast send ${fed.contract} "mint((address,uint256,bytes32,uint64,uint32),bytes[])"`,
      );
      const txid = /\(transaction ([0-9a-f]{64}), output \d+/.exec(r.stdout)?.[1];
      const sent = await ok(["bridge-submit", txid!, "--evm-key-file", keyFile, "--rpc", fed.anvil.rpcUrl]);
      expect(sent.stdout).toMatch(/Minted: EVM transaction 0x[0-9a-f]{64}/);
      expect(await wxmr()).toBe(250_000_000_000n);
    },
    PROCESS_STEPS_MS,
  );

  it(
    "a mint left unsent past its deadline: bridge-refund waits until t guardians return it and brings it back as notes; bridge-status says refunded",
    async () => {
      const before = BigInt(await balance());
      const r = await ok(["bridge-mint", user, "0.25"]);
      const txid = /\(transaction ([0-9a-f]{64}), output \d+/.exec(r.stdout)?.[1];
      expect(txid).toBeDefined();
      expect(BigInt(await balance())).toBe(before - 250_000_000_000n - 100_000_000n);
      await fed.anvil.testClient.increaseTime({ seconds: 3_700 });
      await fed.anvil.testClient.mine({ blocks: 1 });
      const refunded = await ok(["bridge-refund", txid!]);
      expect(refunded.stdout).toContain(`Returned the expired mint ${txid}:`);
      expect(refunded.stdout).toContain("0.25 XMR (250000000000p)");
      // The amount comes back; the federation's fee for the refundable mint does not.
      expect(BigInt(await balance())).toBe(before - 100_000_000n);
      const status = await ok(["bridge-status", txid!, "--rpc", fed.anvil.rpcUrl]);
      expect(status.stdout).toMatch(new RegExp(`^mint ${txid}:\\d+: refunded`));
      expect(status.stdout).toContain("refunded in ");
    },
    PROCESS_STEPS_MS,
  );
});
