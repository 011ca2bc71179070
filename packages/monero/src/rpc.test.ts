// The RPC clients against a fake Monero server on 127.0.0.1: every kind of failure becomes its typed
// error, and amounts travel exactly in both directions.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DaemonRpc } from "./daemon-rpc.js";
import {
  MoneroConnectionError,
  MoneroError,
  MoneroResponseError,
  MoneroRpcError,
  MoneroStatusError,
  MoneroTimeoutError,
  WalletRpcErrorCode,
} from "./errors.js";
import { reply, startFakeRpcServer } from "./fake-rpc-server.js";
import type { FakeRpcServer } from "./fake-rpc-server.js";
import { WalletRpc } from "./wallet-rpc.js";

let fake: FakeRpcServer;
let url = "";

beforeAll(async () => {
  fake = await startFakeRpcServer();
  url = fake.url;
});

afterAll(() => fake.close());

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e,
  );
}

describe("Monero RPC error mapping", () => {
  it("maps a JSON-RPC error object to MoneroRpcError with the server's code, message and a hint", async () => {
    fake.handle(
      reply(
        '{"id":"0","jsonrpc":"2.0","error":{"code":-48,"message":"This wallet is multisig, and multisig is disabled."}}',
      ),
    );
    const e = await failure(new WalletRpc(url).exchangeMultisigKeys({ multisigInfo: ["a"], password: "p" }));
    expect(e).toBeInstanceOf(MoneroRpcError);
    expect(e).toBeInstanceOf(MoneroError);
    const rpc = e as MoneroRpcError;
    expect(rpc).toMatchObject({
      rpcCode: WalletRpcErrorCode.Disabled,
      rpcMessage: "This wallet is multisig, and multisig is disabled.",
      method: "exchange_multisig_keys",
      code: "monero_rpc_error",
      status: 502,
    });
    expect(rpc.message).toContain("code -48 Disabled");
    expect(rpc.message).toContain("enable-multisig-experimental");
    expect(MoneroRpcError.hasCode(e, WalletRpcErrorCode.Disabled)).toBe(true);
    expect(MoneroRpcError.hasCode(e, WalletRpcErrorCode.NotOpen)).toBe(false);
  });

  it("maps a monerod status other than OK to MoneroStatusError with the reason and the flags that are set", async () => {
    fake.handle(
      reply(
        '{"status":"Failed","reason":"double spend","double_spend":true,"fee_too_low":false,"untrusted":false}',
      ),
    );
    const e = await failure(new DaemonRpc(url).sendRawTransaction("00"));
    expect(e).toBeInstanceOf(MoneroStatusError);
    expect(e).toMatchObject({ rpcStatus: "Failed", reason: "double spend", method: "send_raw_transaction" });
    expect((e as Error).message).toContain("[double_spend]");
  });

  it("maps an HTTP error, a body that is not JSON, and an answer of the wrong shape to MoneroResponseError", async () => {
    const wallet = new WalletRpc(url);
    fake.handle(reply("", 401));
    expect(await failure(wallet.getHeight())).toSatisfy(
      (e: unknown) =>
        e instanceof MoneroResponseError && e.message.includes("HTTP 401") && e.details.httpStatus === 401,
    );
    fake.handle(reply("<html>busy</html>"));
    expect(await failure(wallet.getHeight())).toSatisfy(
      (e: unknown) => e instanceof MoneroResponseError && e.message.includes("not JSON"),
    );
    fake.handle(reply('{"id":"0","jsonrpc":"2.0","result":{"height":"tall"}}'));
    const shape = await failure(wallet.getHeight());
    expect(shape).toBeInstanceOf(MoneroResponseError);
    expect((shape as MoneroResponseError).details.issues).toEqual([expect.stringContaining("height")]);
    fake.handle(reply('{"id":"0","jsonrpc":"2.0"}'));
    expect(await failure(wallet.getHeight())).toBeInstanceOf(MoneroResponseError);
  });

  it("maps no answer within the time limit to MoneroTimeoutError", async () => {
    fake.handle(() => {
      // never answers
    });
    const e = await failure(new DaemonRpc({ url, timeoutMs: 50 }).getInfo());
    expect(e).toBeInstanceOf(MoneroTimeoutError);
    expect(e).toMatchObject({ timeoutMs: 50, code: "monero_timeout", status: 504 });
    fake.dropConnections();
  });

  it("maps a refused connection to MoneroConnectionError with the errno", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const e = await failure(new DaemonRpc(`http://127.0.0.1:${port}`).getHeight());
    expect(e).toBeInstanceOf(MoneroConnectionError);
    expect(e).toMatchObject({ errno: "ECONNREFUSED", code: "monero_connection_failed", status: 503 });
  });
});

describe("Monero RPC amounts", () => {
  it("reads balances above 2^53 exactly as bigint piconero", async () => {
    fake.handle(
      reply(
        '{"id":"0","jsonrpc":"2.0","result":{"balance":18446744073709551615,"unlocked_balance":9007199254740993,' +
          '"multisig_import_needed":false,"per_subaddress":[{"account_index":0,"address_index":0,"address":"x",' +
          '"balance":18446744073709551615,"unlocked_balance":9007199254740993,"label":"","num_unspent_outputs":2}]}}',
      ),
    );
    const b = await new WalletRpc(url).getBalance();
    expect(b.balance).toBe(18446744073709551615n);
    expect(b.unlockedBalance).toBe(9007199254740993n);
    expect(b.perSubaddress[0]).toMatchObject({ balance: 18446744073709551615n, unspentOutputs: 2 });
  });

  it("reads check_tx_proof's unset fields (a proof not good) and a wrapped confirmation count as 0", async () => {
    const answer = (good: boolean, confirmations: string) =>
      reply(
        `{"id":"0","jsonrpc":"2.0","result":{"good":${good},"received":140737488355328,` +
          `"confirmations":${confirmations},"in_pool":true}}`,
      );
    const args = { txid: "00".repeat(32), address: "x", signature: "OutProofV2", message: "m" };
    fake.handle(answer(false, "18446603336221196287"));
    expect(await new WalletRpc(url).checkTxProof(args)).toEqual({
      good: false,
      received: 0n,
      confirmations: 0,
      inPool: false,
    });
    fake.handle(answer(true, "3"));
    expect(await new WalletRpc(url).checkTxProof(args)).toEqual({
      good: true,
      received: 140737488355328n,
      confirmations: 3,
      inPool: true,
    });
    // The wallet's cached daemon height one block behind the transaction's: 0 − 1 in uint64.
    fake.handle(answer(true, "18446744073709551615"));
    expect(await new WalletRpc(url).checkTxProof(args)).toMatchObject({ good: true, confirmations: 0 });
  });

  it("sends transfer amounts as bare integers, exact above 2^53", async () => {
    fake.handle(
      reply(
        '{"id":"0","jsonrpc":"2.0","result":{"tx_hash":"","tx_key":"","amount":9007199254740993,"fee":30000000,' +
          '"multisig_txset":"abcd","unsigned_txset":"","weight":1500}}',
      ),
    );
    fake.received.length = 0;
    const r = await new WalletRpc(url).transfer({
      destinations: [{ address: "addr", amount: 9007199254740993n }],
    });
    expect(fake.received[0]).toContain('"destinations":[{"address":"addr","amount":9007199254740993}]');
    expect(r).toMatchObject({
      txid: undefined,
      txKey: undefined,
      amount: 9007199254740993n,
      multisigTxset: "abcd",
    });
  });

  it("refuses an amount above 2^64 - 1 from the server", async () => {
    fake.handle(
      reply(
        '{"id":"0","jsonrpc":"2.0","result":{"received":18446744073709551616,"confirmations":1,"in_pool":false}}',
      ),
    );
    const e = await failure(new WalletRpc(url).checkTxKey({ txid: "a", txKey: "b", address: "c" }));
    expect(e).toBeInstanceOf(MoneroResponseError);
  });
});
