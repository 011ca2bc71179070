// A Byzantine last signer against real software (issue 10, items 2 and 3): monerod in regtest, the
// real key ceremony's 3-of-4 multisig wallet, four `conclaved run` processes (startMoneroFederation),
// a block a second. One guardian process at a time runs with the test-only `testByzantinePayout`
// setting (payout-byzantine.ts): as the last signer of a batch it completes the transaction, keeps
// it, and withholds it (silent) or publishes garbage in its place. The signing order of batch b
// (attempt 0, all four exported) starts at federation index b mod 4, so its last signer is index
// (b + 2) mod 4: each case arms that guardian. Shown, for each case:
//   - the withdrawal is still paid, by another participant's completion of the same transaction
//     (no freeze: the batch is confirmed and the next one goes on);
//   - the kept completion, broadcast by the Byzantine guardian's own wallet afterwards, is refused by
//     monerod: the inputs are spent (no double payout);
//   - when the Byzantine guardian broadcasts its completion first, that is the payment: the honest
//     guardians' completion is refused, their wallets see the inputs spent by the kept transaction,
//     they vote its txid and the batch is confirmed once (without a tx key: no honest wallet has it).
// "Paid once": among all incoming transfers of the user's wallet, exactly one pays the amount (each
// case withdraws a distinct amount), in the outcome's transaction.
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guardianAudits, startMoneroFederation } from "@conclave/guardiand";
import type { MoneroFederation } from "@conclave/guardiand";
import { MoneroRpcError, parseXmr } from "@conclave/monero";
import { OUTPUT_UNLOCK_BLOCKS } from "@conclave/testing-monero";
import { nodeWallets } from "@conclave/wallet-standard/node";
import type { Wallet, WithdrawResult } from "@conclave/wallet-standard/node";
import type { ByzantinePayoutMode } from "./payout-byzantine.js";

const N = 4;
const MONERO = 2;
const DEPOSIT_OUTPUTS = 4;
const DEPOSIT_OUTPUT = parseXmr("1");
const ROUND_BLOCKS = 4;

let fed: MoneroFederation | undefined;
let wallet: Wallet | undefined;
const timings: Record<string, number> = {};
const observed: string[] = [];
let lapStart = Date.now();
const lap = (name: string) => {
  timings[name] = Date.now() - lapStart;
  lapStart = Date.now();
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The completed sets the Byzantine guardians kept, by batch (from their `byzantine_kept` log lines). */
const kept = new Map<number, { guardian: number; txset: string }>();
const moduleLog: string[] = [];
/** Each guardian process's last log lines (shown if it fails to start). */
const tails = new Map<number, string[]>();
/** Called when a Byzantine guardian logs what it kept (the broadcast-first case arms it). */
let onKept: ((batch: number, txset: string, guardian: number) => void) | undefined;

function federation(): MoneroFederation {
  if (!fed) throw new Error("the federation did not start");
  return fed;
}

/** `guardian-i` of the federation's index `k` (the config orders guardians by public key). */
function dirIndexOf(k: number): number {
  const name = federation().config.guardians[k]!.name;
  return Number(/^guardian-(\d+)$/.exec(name)![1]);
}

/** The guardian (`guardian-i`) running with a Byzantine setting now, if any. */
let armed: number | undefined;

/**
 * Restarts guardian `i` (`guardian-i`) with `mode` as its test-only Byzantine payout setting (or
 * honest again: undefined). One Byzantine guardian at a time: f = 1 of 4.
 */
async function setByzantine(i: number, mode: ByzantinePayoutMode | undefined): Promise<void> {
  const f = federation();
  await f.stopGuardian(i);
  const file = join(f.dirs[i]!, "guardian.local.json");
  const local = JSON.parse(readFileSync(file, "utf8")) as {
    modules: Record<string, Record<string, unknown>>;
  };
  const settings = local.modules[String(MONERO)]!;
  if (mode) settings["testByzantinePayout"] = mode;
  else delete settings["testByzantinePayout"];
  writeFileSync(file, JSON.stringify(local, null, 2), { mode: 0o600 });
  try {
    await f.startGuardian(i);
  } catch (e) {
    throw new Error(`${(e as Error).message}; its last lines: ${(tails.get(i) ?? []).join("\n")}`);
  }
}

/** Makes the last signer of batch b (federation index (b + 2) mod 4) the one Byzantine guardian. */
async function armLastSignerOf(batch: number, mode: ByzantinePayoutMode): Promise<void> {
  if (armed !== undefined) await setByzantine(armed, undefined);
  armed = dirIndexOf((batch + 2) % N);
  await setByzantine(armed, mode);
}

beforeAll(async () => {
  fed = await startMoneroFederation({
    n: N,
    prefix: "conclave-monero-payout-byzantine-",
    moneroConfig: {
      payoutConfirmations: 2,
      payoutRoundBlocks: ROUND_BLOCKS,
      // All four export within a second or two here: wait long enough that every batch has four
      // participants, so that the case's armed guardian is the last signer.
      payoutExportWaitBlocks: 6,
    },
    guardianOptions: (i) => ({
      quiet: false,
      onLine: (line) => {
        if (process.env["CONCLAVE_TEST_GUARDIAN_LOG_DIR"])
          appendFileSync(
            join(process.env["CONCLAVE_TEST_GUARDIAN_LOG_DIR"], `guardian-${i}.log`),
            `${line}\n`,
          );
        const tail = tails.get(i) ?? [];
        tail.push(line);
        tails.set(i, tail.slice(-20));
        if (!line.includes('"module.monero.')) return;
        if (line.includes('"module.monero.byzantine_kept"')) {
          const { batch, txset } = JSON.parse(line) as { batch: number; txset: string };
          kept.set(batch, { guardian: i, txset });
          onKept?.(batch, txset, i);
          moduleLog.push(`g${i} byzantine_kept batch ${batch}`);
          return;
        }
        moduleLog.push(`g${i} ${line}`);
      },
    }),
  });
  Object.assign(timings, fed.timings);
  lapStart = Date.now();
  wallet = (await nodeWallets().joinWallet(join(fed.root, "wallet"), fed.invite)).wallet;
  const sent = await fed.userPay(fed.address, Array<bigint>(DEPOSIT_OUTPUTS).fill(DEPOSIT_OUTPUT));
  await wallet.claimDeposit(sent, { pollMs: 200, timeoutMs: 120_000 });
  // The creator can spend the deposit's outputs only once they are unlocked (10 blocks): wait, so
  // that batch 1's creator is not the one that times out.
  const daemon = fed.regtest.daemon.rpc;
  const [tx] = (await daemon.getTransactions([sent.txid])).found;
  const unlockAt = (tx?.blockHeight ?? 0) + OUTPUT_UNLOCK_BLOCKS + 1;
  while ((await daemon.getHeight()).height < unlockAt) await sleep(500);
  lap("4 XMR deposited, claimed and unlocked");
}, 900_000);

afterAll(async () => {
  onKept = undefined;
  await wallet?.close();
  await fed?.stop();
  console.log(`monero payout byzantine e2e timings (ms): ${JSON.stringify(timings)}`);
  console.log(`observed: ${observed.join("; ")}`);
  const steps = moduleLog.filter((l) =>
    /payout_(step|set_refused|sign_failed|submit_refused|tx_key_unknown)"|byzantine_kept/.test(l),
  );
  console.log(`payout steps:\n${steps.slice(-60).join("\n")}`);
});

/** The user's wallet received `amount` exactly once, in `moneroTxid`. */
async function expectPaidOnce(moneroTxid: string, amount: bigint): Promise<void> {
  const user = federation().user;
  await user.refresh();
  const all = await user.getTransfers({ in: true, pool: true, out: false, pending: false, failed: false });
  const payments = [...all.in, ...all.pool].filter((t) => t.amount === amount);
  expect(payments.map((t) => t.txid)).toEqual([moneroTxid]);
}

async function withdraw(amount: bigint): Promise<WithdrawResult> {
  const r = await wallet!.withdraw(federation().userAddress, amount, { pollMs: 250, timeoutMs: 200_000 });
  expect(r.amount).toBe(amount);
  return r;
}

/** The Byzantine guardian broadcasts the completion it kept: monerod must refuse it (inputs spent). */
async function broadcastKeptIsRefused(batch: number): Promise<void> {
  const k = kept.get(batch);
  expect(k).toBeDefined();
  const refused = await federation()
    .guardianWallets[k!.guardian]!.submitMultisig(k!.txset)
    .then(
      (txids) => `accepted ${txids.join(",")}`,
      (e: unknown) => e,
    );
  expect(refused).toBeInstanceOf(MoneroRpcError);
  observed.push(
    `batch ${batch}: the kept completion was refused: ${(refused as Error).message.slice(0, 120)}`,
  );
}

/** The audits of every guardian agree (whatever the Byzantine one did, the books are the same). */
async function auditsAgree(): Promise<void> {
  const replies = await guardianAudits(federation().guardians);
  for (const r of replies) expect(r.audit).toEqual(replies[0]!.audit);
}

describe("a Byzantine last signer (real monerod, the ceremony's 3-of-4 multisig, 4 guardian processes)", () => {
  it("withholds its completed transaction: another participant completes the same one after payoutRoundBlocks; the kept one is refused as a double spend", async () => {
    lapStart = Date.now();
    const amount = parseXmr("0.31");
    await armLastSignerOf(1, "silent");
    const r = await withdraw(amount);
    lap("batch 1 paid with its last signer silent");
    expect(kept.get(1)).toBeDefined();
    expect(r.txKey).toMatch(/^[0-9a-f]{64}/);
    await expectPaidOnce(r.moneroTxid, amount);
    await broadcastKeptIsRefused(1);
    await sleep(2000); // a block: the refused one must not appear later either
    await expectPaidOnce(r.moneroTxid, amount);
    await auditsAgree();
  }, 300_000);

  it("publishes a garbage final set: every node refuses it, another participant completes the same transaction; the kept one is refused as a double spend", async () => {
    lapStart = Date.now();
    const amount = parseXmr("0.32");
    await armLastSignerOf(2, "garbage");
    const r = await withdraw(amount);
    lap("batch 2 paid with a garbage final set");
    expect(kept.get(2)).toBeDefined();
    await expectPaidOnce(r.moneroTxid, amount);
    await broadcastKeptIsRefused(2);
    await auditsAgree();
  }, 300_000);

  it("broadcasts its completion first: that is the payment; the others' completion is refused, they vote the kept transaction's txid and the batch is confirmed once", async () => {
    lapStart = Date.now();
    const amount = parseXmr("0.33");
    await armLastSignerOf(3, "silent");
    let broadcast: Promise<string> | undefined;
    onKept = (batch, txset, g) => {
      if (batch !== 3 || broadcast) return;
      broadcast = federation()
        .guardianWallets[g]!.submitMultisig(txset)
        .then((txids) => txids[0] ?? "");
      broadcast.catch(() => undefined);
    };
    const r = await withdraw(amount);
    onKept = undefined;
    lap("batch 3 paid by the kept completion, broadcast first");
    expect(broadcast).toBeDefined();
    const keptTxid = await broadcast!;
    expect(r.moneroTxid).toBe(keptTxid);
    observed.push(
      `batch 3: paid by the kept completion ${keptTxid}; tx key ${r.txKey ? "known" : "unknown"}`,
    );
    await expectPaidOnce(keptTxid, amount);
    await auditsAgree();
  }, 300_000);
});
