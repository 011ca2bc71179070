// The multisig steps' own checks, against a fake wallet-rpc: what reaches the wallet from other
// participants is checked first, and a signer refuses a transaction that is not the agreed one.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MoneroMultisigError } from "./errors.js";
import { jsonRpcResults, startFakeRpcServer } from "./fake-rpc-server.js";
import type { FakeRpcServer } from "./fake-rpc-server.js";
import {
  multisigCheckTransfer,
  multisigExchangeRounds,
  multisigImportInfo,
  multisigMake,
  othersOf,
  setupMultisig,
} from "./multisig.js";
import { WalletRpc } from "./wallet-rpc.js";

const MS = "multisig-address";
const ALICE = "alice-address";

let fake: FakeRpcServer;
let wallet: WalletRpc;
beforeAll(async () => {
  fake = await startFakeRpcServer();
  wallet = new WalletRpc(fake.url);
});
afterAll(() => fake.close());

function describeAnswer(d: {
  recipients: [string, number][];
  change: number;
  changeAddress: string;
  fee: number;
}): string {
  return JSON.stringify({
    desc: [
      {
        amount_in: 10_000,
        amount_out: 10_000 - d.fee,
        recipients: d.recipients.map(([address, amount]) => ({ address, amount })),
        change_amount: d.change,
        change_address: d.changeAddress,
        fee: d.fee,
        ring_size: 16,
        unlock_time: 0,
        dummy_outputs: 0,
        payment_id: "",
        extra: "",
      },
    ],
  });
}

async function refusal(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(MoneroMultisigError);
  return (e as MoneroMultisigError).message;
}

describe("multisig steps", () => {
  it("counts N - M + 1 exchange rounds and refuses unsupported M-of-N", () => {
    expect(multisigExchangeRounds(2, 3)).toBe(2);
    expect(multisigExchangeRounds(3, 4)).toBe(2);
    expect(multisigExchangeRounds(2, 4)).toBe(3);
    expect(multisigExchangeRounds(11, 16)).toBe(6);
    expect(() => multisigExchangeRounds(1, 3)).toThrow(MoneroMultisigError);
    expect(() => multisigExchangeRounds(4, 3)).toThrow(MoneroMultisigError);
    expect(() => multisigExchangeRounds(2, 17)).toThrow(MoneroMultisigError);
  });

  it("gives each participant the others' messages in participant order", () => {
    expect(othersOf(["a", "b", "c", "d"], 0)).toEqual(["b", "c", "d"]);
    expect(othersOf(["a", "b", "c", "d"], 2)).toEqual(["a", "b", "d"]);
    expect(() => othersOf(["a"], 1)).toThrow(RangeError);
  });

  it("refuses peers' key exchange messages that are missing, empty, duplicated or oversized, before calling the wallet", async () => {
    fake.received.length = 0;
    const params = { threshold: 2, total: 3, password: "p" };
    expect(await refusal(multisigMake(wallet, params, ["a"]))).toMatch(/expected 2 messages/);
    expect(await refusal(multisigMake(wallet, params, ["a", ""]))).toMatch(/message 1 has 0 characters/);
    expect(await refusal(multisigMake(wallet, params, ["a", "a"]))).toMatch(/same message/);
    expect(await refusal(multisigMake(wallet, params, ["a", "x".repeat(300_000)]))).toMatch(
      /300000 characters/,
    );
    expect(await refusal(multisigImportInfo(wallet, { threshold: 3, total: 4 }, ["a"]))).toMatch(
      /needs 2..3/,
    );
    expect(await refusal(setupMultisig([wallet], { threshold: 2, password: "p" }))).toMatch(/2-of-1/);
    expect(fake.received).toEqual([]);
  });

  it("a signer accepts the agreed transaction and refuses one that pays someone else, sends change elsewhere or pays too much fee", async () => {
    const agreed = { destinations: [{ address: ALICE, amount: 4_000n }], changeAddress: MS, feeMax: 100n };
    fake.handle(
      jsonRpcResults({
        describe_transfer: describeAnswer({
          recipients: [[ALICE, 4_000]],
          change: 5_950,
          changeAddress: MS,
          fee: 50,
        }),
      }),
    );
    expect(await multisigCheckTransfer(wallet, "txset", agreed)).toMatchObject({
      fee: 50n,
      changeAmount: 5_950n,
    });

    fake.handle(
      jsonRpcResults({
        describe_transfer: describeAnswer({
          recipients: [["mallory", 4_000]],
          change: 5_950,
          changeAddress: MS,
          fee: 50,
        }),
      }),
    );
    expect(await refusal(multisigCheckTransfer(wallet, "txset", agreed))).toMatch(
      /does not pay what was agreed/,
    );

    fake.handle(
      jsonRpcResults({
        describe_transfer: describeAnswer({
          recipients: [[ALICE, 4_001]],
          change: 5_949,
          changeAddress: MS,
          fee: 50,
        }),
      }),
    );
    expect(await refusal(multisigCheckTransfer(wallet, "txset", agreed))).toMatch(
      /does not pay what was agreed/,
    );

    fake.handle(
      jsonRpcResults({
        describe_transfer: describeAnswer({
          recipients: [[ALICE, 4_000]],
          change: 5_950,
          changeAddress: "mallory",
          fee: 50,
        }),
      }),
    );
    expect(await refusal(multisigCheckTransfer(wallet, "txset", agreed))).toMatch(/change elsewhere/);

    fake.handle(
      jsonRpcResults({
        describe_transfer: describeAnswer({
          recipients: [[ALICE, 4_000]],
          change: 5_000,
          changeAddress: MS,
          fee: 1_000,
        }),
      }),
    );
    expect(await refusal(multisigCheckTransfer(wallet, "txset", agreed))).toMatch(/fee 1000 exceeds 100/);
  });
});
