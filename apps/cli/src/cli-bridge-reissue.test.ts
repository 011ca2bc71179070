// `conclave bridge-status` and `bridge-submit` of a re-issued mint (docs/bridge.md "Re-issue of an
// expired mint without refund key"), the CLI as a process against four guardian processes and anvil
// (modules/bridge's bridge-federation-fixture.ts): a plain (0x01) mint output made by another tool,
// left unsubmitted past its deadline, is re-issued by t guardians; the status prints the attempt and
// its deposit id (computed by the wallet from the first), bridge-submit mints it exactly once.
// Before, bridge-status said "accepted" with "no 3 guardians answered with the same mint".
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeTransaction } from "@conclave/core-common";
import { sha256 } from "@conclave/core-server";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import { buildTransaction, faucetInput } from "@conclave/module-dummy";
import { bytesToHex } from "viem";
import { encodeMintOutput } from "../../../modules/bridge/src/common.js";
import { reissueDepositId } from "../../../modules/bridge/src/eip712-mint.js";
import {
  BRIDGE_INSTANCE,
  startBridgeFederation,
} from "../../../modules/bridge/src/client/bridge-federation-fixture.js";
import type { BridgeFederation } from "../../../modules/bridge/src/client/bridge-federation-fixture.js";
import { runConclave } from "./cli-test-harness.js";
import type { CliRun } from "./cli-test-harness.js";

let fed: BridgeFederation;
let keyFile: string;
let user: `0x${string}`;

beforeAll(async () => {
  fed = await startBridgeFederation("conclave-cli-reissue-");
  const account = fed.anvil.accounts[1]!;
  user = account.address;
  keyFile = join(fed.dir, "user-key.txt");
  writeFileSync(keyFile, bytesToHex(account.getHdKey().privateKey!) + "\n", { mode: 0o600 });
}, 180_000);

afterAll(async () => {
  await fed?.stop();
});

const conclave = (args: readonly string[]): Promise<CliRun> =>
  runConclave(["--data", join(fed.dir, "cli-wallet"), ...args], { timeoutMs: 120_000 });

async function ok(args: readonly string[]): Promise<CliRun> {
  const r = await conclave(args);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) as unknown });
  return r;
}

const wxmr = () =>
  fed.anvil.publicClient.readContract({
    address: fed.contract,
    abi: wrappedMoneroAbi,
    functionName: "balanceOf",
    args: [user],
  });

/** A plain (0x01) mint output to `user`, paid by the dev faucet, straight to guardian 0's API. */
async function plainMint(amount: bigint): Promise<string> {
  const tx = buildTransaction(
    [faucetInput(0, amount)],
    [{ module: BRIDGE_INSTANCE, amount, payload: encodeMintOutput(user) }],
    [],
    sha256,
  );
  const url = fed.guardianUrls[0]!;
  const r = await fetch(`${url}/v1/transactions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ transaction: Buffer.from(encodeTransaction(tx)).toString("hex") }),
  });
  const { txid } = (await r.json()) as { txid: string };
  const done = (await (await fetch(`${url}/v1/transactions/${txid}?wait=20000`)).json()) as { state: string };
  expect(done.state).toBe("accepted");
  return txid;
}

describe("conclave bridge-status / bridge-submit of a re-issued mint (anvil, four guardian processes)", () => {
  it("an expired 0x01 mint: bridge-status shows re-issued attempt 1 with its own deposit id; bridge-submit mints it exactly once", async () => {
    await ok(["join", fed.invite]);
    const amount = 125_000_000_000n;
    const txid = await plainMint(amount);
    const before = await ok(["bridge-status", `${txid}:0`, "--rpc", fed.anvil.rpcUrl]);
    expect(before.stdout).toMatch(new RegExp(`^mint ${txid}:0: signed`));
    expect(before.stdout).not.toContain("re-issued");

    // An hour and a minute later on the chain (the fixture's mints have a 3,600 s deadline); blocks
    // until every guardian signs attempt 1.
    await fed.anvil.testClient.increaseTime({ seconds: 3_660 });
    const attempts = async () =>
      (
        await Promise.all(
          fed.guardianUrls.map(async (u) => {
            const r = await fetch(`${u}/v1/modules/bridge/mints/${txid}/0`);
            return r.ok
              ? ((await r.json()) as { reissue?: { attempt: number } }).reissue?.attempt
              : undefined;
          }),
        )
      ).filter((a) => a === 1).length;
    await expect
      .poll(
        async () => {
          await fed.anvil.testClient.mine({ blocks: 1 });
          return attempts();
        },
        { timeout: 120_000, interval: 1_000 },
      )
      .toBe(4);

    const view = (await (
      await fetch(`${fed.guardianUrls[0]!}/v1/modules/bridge/mints/${txid}/0`)
    ).json()) as {
      reissue: { firstDepositId: `0x${string}` };
    };
    const expected = reissueDepositId(view.reissue.firstDepositId, 1);
    const status = await ok(["bridge-status", `${txid}:0`, "--rpc", fed.anvil.rpcUrl]);
    expect(status.stdout).toMatch(
      new RegExp(`^mint ${txid}:0: signed \\(re-issued: attempt 1, deadline \\d+`),
    );
    expect(status.stdout).toContain(`  depositId  ${expected}`);
    expect(status.stdout).toContain(`  first deposit id ${view.reissue.firstDepositId}`);
    const json = JSON.parse((await ok(["--json", "bridge-status", `${txid}:0`])).stdout) as {
      depositId: string;
      reissue: { attempt: number; depositId: string };
    };
    expect(json).toMatchObject({ depositId: expected, reissue: { attempt: 1, depositId: expected } });

    const held = await wxmr();
    const sent = await ok([
      "bridge-submit",
      `${txid}:0`,
      "--evm-key-file",
      keyFile,
      "--rpc",
      fed.anvil.rpcUrl,
    ]);
    expect(sent.stdout).toContain(`re-issued: attempt 1, deadline `);
    expect(sent.stdout).toMatch(/Minted: EVM transaction 0x[0-9a-f]{64}/);
    expect(await wxmr()).toBe(held + amount);
    const again = await conclave([
      "bridge-submit",
      `${txid}:0`,
      "--evm-key-file",
      keyFile,
      "--rpc",
      fed.anvil.rpcUrl,
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("DepositUsed");
    expect(await wxmr()).toBe(held + amount);
    const minted = await ok(["bridge-status", `${txid}:0`, "--rpc", fed.anvil.rpcUrl]);
    expect(minted.stdout).toMatch(new RegExp(`^mint ${txid}:0: minted`));
  }, 400_000);
});
