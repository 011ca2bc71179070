// What the client does when guardians do not agree: scripted guardians behind an injected fetch
// (the same seam a browser page or a test harness uses), so every combination of answers is exact.
import { describe, expect, it } from "vitest";
import {
  InvalidRequestError,
  TransactionRejectedError,
  decodeTransaction,
  encodeInvite,
  encodeTransaction,
  federationId,
  parseFederationConfig,
  toHex,
  txidHex,
} from "@conclave/core-common";
import type { FederationConfigInput } from "@conclave/core-common";
import { sha256 } from "@noble/hashes/sha2.js";
import { NoQuorumError } from "./errors.js";
import { FederationClient } from "./federation-client.js";
import { TxStatusViewSchema } from "./wire.js";

const config = parseFederationConfig({
  version: 1,
  name: "scripted",
  environment: "dev",
  guardians: [0, 1, 2, 3].map((i) => ({
    name: `g${i}`,
    publicKey: toHex(new Uint8Array(32).fill(i + 1)),
    p2p: { host: "127.0.0.1", port: 1000 + i },
  })),
  consensus: { heightsPerSession: 2 },
} satisfies FederationConfigInput);
const fid = toHex(federationId(config, sha256));
const urls = [0, 1, 2, 3].map((i) => `http://g${i}.test`);
const invite = encodeInvite({
  federationId: fid,
  name: config.name,
  guardians: urls.map((api, i) => ({ name: `g${i}`, api })),
});

/** What a scripted guardian answers: a JSON body with a status, or a thrown network error. */
type Script = (method: string, path: string) => { status: number; body: unknown } | "network-error";

function scriptedFetch(scripts: readonly Script[]): typeof fetch {
  return (input, init) => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    const g = urls.indexOf(url.origin);
    const path = url.pathname + url.search;
    if (path === "/v1/federation")
      return Promise.resolve(Response.json({ federationId: fid, config }, { status: 200 }));
    const answer = scripts[g]!(init?.method ?? "GET", path);
    if (answer === "network-error") return Promise.reject(new TypeError("fetch failed"));
    return Promise.resolve(Response.json(answer.body, { status: answer.status }));
  };
}

const fastLimits = { backoffBaseMs: 1, backoffMaxMs: 2, retriesMax: 1, finalRecheckMs: 5, pollGapMs: 1 };
const join = (scripts: readonly Script[]) =>
  FederationClient.join(invite, { fetch: scriptedFetch(scripts), limits: fastLimits });

const tx = encodeTransaction({ inputs: [], outputs: [], nonce: new Uint8Array(32), signatures: [] });
const refuse = (code: string) => () => ({ status: 422, body: { code, message: `refused: ${code}` } });

describe("FederationClient when guardians disagree", () => {
  it("throws the refusal t guardians share, even if one guardian took the transaction", async () => {
    const client = await join([
      refuse("spent_input"),
      refuse("spent_input"),
      (_m, _p) => ({
        status: 202,
        body: { txid: txidHex(decodeTransaction(tx), sha256), state: "proposed" },
      }),
      refuse("spent_input"),
    ]);
    const e = await client.submitTransaction(tx).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TransactionRejectedError);
    expect(e).toMatchObject({ code: "spent_input", message: "refused: spent_input" });
  });

  it("takes a spend that a guardian behind refuses with unknown_input and a Byzantine one with spent_input", async () => {
    // The simulator's seed 214 (testing/sim wallets.ts NOT_YET): its wallet took these two refusals
    // for a rejection. The client needs t refusals with one code; an output of a transaction t
    // guardians agreed on is unknown to at most 2f < t of them.
    const proposed = () => ({
      status: 202,
      body: { txid: txidHex(decodeTransaction(tx), sha256), state: "proposed" },
    });
    const client = await join([proposed, proposed, refuse("spent_input"), refuse("unknown_input")]);
    const r = await client.submitTransaction(tx);
    expect(r.acceptedBy).toEqual([0, 1]);
  });

  it("names what every guardian said when no guardian took it and no t refusals agree", async () => {
    const client = await join([
      refuse("spent_input"),
      refuse("bad_signature"),
      () => ({ status: 503, body: { code: "unavailable", message: "halted" } }),
      () => "network-error",
    ]);
    const e = await client.submitTransaction(tx).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NoQuorumError);
    const message = (e as NoQuorumError).message;
    expect(message).toMatch(/guardian 0 \(http:\/\/g0\.test\): spent_input/);
    expect(message).toMatch(/guardian 1 \(http:\/\/g1\.test\): bad_signature/);
    expect(message).toMatch(/guardian 2 \(http:\/\/g2\.test\): unavailable: halted/);
    expect(message).toMatch(/guardian 3 \(http:\/\/g3\.test\): unreachable/);
  });

  it("refuses bytes that are not a transaction before asking anyone", async () => {
    const client = await join([]);
    await expect(client.submitTransaction(new Uint8Array([1, 2, 3]))).rejects.toBeInstanceOf(
      InvalidRequestError,
    );
  });

  it("does not settle on a final state that only two of four guardians report", async () => {
    const txid = "cd".repeat(32);
    const accepted = (owner: string) => () => ({
      status: 200,
      body: { txid, state: "accepted", height: 3, fee: "0", outcomes: [{ owner }] },
    });
    const client = await join([accepted("a"), accepted("a"), accepted("b"), accepted("b")]);
    const e = await client.awaitTransaction(txid, { timeoutMs: 200 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NoQuorumError);
    expect((e as NoQuorumError).answers.map((a) => a.answer)).toEqual([
      'accepted at height 3, outcomes [{"owner":"a"}]',
      'accepted at height 3, outcomes [{"owner":"a"}]',
      'accepted at height 3, outcomes [{"owner":"b"}]',
      'accepted at height 3, outcomes [{"owner":"b"}]',
    ]);
  });

  it("settles on the state three guardians report, with a fourth saying otherwise", async () => {
    const txid = "cd".repeat(32);
    const rejected = () => ({
      status: 200,
      body: { txid, state: "rejected", height: 4, error: { code: "spent_input", message: "spent" } },
    });
    const client = await join([
      () => ({ status: 200, body: { txid, state: "accepted", height: 4, fee: "0", outcomes: [] } }),
      rejected,
      rejected,
      rejected,
    ]);
    const agreed = await client.awaitTransaction(txid, { timeoutMs: 10_000 });
    expect(agreed.agreedBy).toEqual([1, 2, 3]);
    expect(agreed.value).toMatchObject({ state: "rejected", error: { code: "spent_input" } });
  });

  it("gives up a query as soon as no answer can reach t, naming every answer", async () => {
    const txid = "ef".repeat(32);
    const proposedBy = (g: number) => () =>
      g < 2
        ? { status: 200, body: { txid, state: "proposed" } }
        : { status: 404, body: { code: "not_found", message: `guardian ${g} does not know it` } };
    const client = await join([proposedBy(0), proposedBy(1), proposedBy(2), proposedBy(3)]);
    const e = await client
      .queryConsensus(`/v1/transactions/${txid}`, TxStatusViewSchema)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NoQuorumError);
    expect((e as NoQuorumError).answers.map((a) => a.answer)).toEqual([
      expect.stringMatching(/proposed/),
      expect.stringMatching(/proposed/),
      expect.stringMatching(/not_found/),
      expect.stringMatching(/not_found/),
    ]);
  });
});
