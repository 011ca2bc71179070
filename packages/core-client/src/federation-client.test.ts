// The client against a real federation: four guardian processes on 127.0.0.1 (TLS links, LMDB,
// the HTTP API), the test-only dummy module for money. One guardian may be down or replaced by a
// lying HTTP server started here, and the client must still get every answer right.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConfigError,
  TransactionRejectedError,
  encodeConsensusItem,
  encodeInvite,
  encodeTransaction,
  federationId,
  fromHex,
  toHex,
  transactionId,
} from "@conclave/core-common";
import type { FederationConfig, Transaction } from "@conclave/core-common";
import { NodeSigner, sha256 } from "@conclave/core-server";
import { buildTransaction, coinOutput, faucetInput, spendInput } from "@conclave/module-dummy";
import {
  freePort,
  startGuardian,
  stopGuardian,
  waitConnected,
  writeLocalFederation,
} from "../../../apps/guardiand/src/index.js";
import type { GuardianProcess, LocalFederationFiles } from "../../../apps/guardiand/src/index.js";
import { FederationMismatchError } from "./errors.js";
import { FederationClient } from "./federation-client.js";
import { sessionFromView, sessionHash, sessionSigningBytes, verifySession } from "./session-verify.js";
import { GuardianHttp } from "./transport.js";
import { SessionViewSchema, TxStatusViewSchema } from "./wire.js";
import type { SessionView } from "./wire.js";

const M = 0; // the dummy module's instance id in a dev federation
const alice = new NodeSigner(new Uint8Array(32).fill(1));
const bob = new NodeSigner(new Uint8Array(32).fill(2));
const carol = new NodeSigner(new Uint8Array(32).fill(3));
const liarKey = new NodeSigner(new Uint8Array(32).fill(66));

let dir: string;
let files: LocalFederationFiles;
let invite: string;
const guardians: GuardianProcess[] = [];
const servers: Server[] = [];

function inviteOf(
  config: FederationConfig,
  urls: readonly string[],
  id = toHex(federationId(config, sha256)),
): string {
  return encodeInvite({
    federationId: id,
    name: config.name,
    guardians: config.guardians.map((g, i) => ({ name: g.name, api: urls[i]! })),
  });
}

function apiUrls(config: FederationConfig): string[] {
  return config.guardians.map((g) => g.api?.url ?? "");
}

const faucetTx = (owner: NodeSigner, amount: bigint): Transaction =>
  buildTransaction([faucetInput(M, amount)], [coinOutput(M, amount, owner.publicKey)], [], sha256);

const spendTx = (coin: Uint8Array, amount: bigint, from: NodeSigner, to: NodeSigner): Transaction =>
  buildTransaction([spendInput(M, amount, coin, 0)], [coinOutput(M, amount, to.publicKey)], [from], sha256);

const txidOf = (tx: Transaction) => toHex(transactionId(tx, sha256));

async function startServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  return `http://127.0.0.1:${address.port}`;
}

async function closeServer(url: string): Promise<void> {
  const server = servers.find((s) => {
    const a = s.address();
    return a !== null && typeof a !== "string" && url.endsWith(`:${a.port}`);
  });
  if (!server) return;
  servers.splice(servers.indexOf(server), 1);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Waits (bounded) until every guardian in `indices` has signed `count` sessions. */
async function waitForSessions(
  client: FederationClient,
  count: number,
  indices: readonly number[],
): Promise<void> {
  for (let round = 0; round < 40; round++) {
    const status = await client.status();
    const signed = indices.map((i) => {
      const s = status[i]!;
      return s.reachable ? s.status.sessionsSigned : 0;
    });
    if (Math.min(...signed) >= count) return;
    // Blocks are only decided when there is something to decide: give consensus a transaction.
    const tx = faucetTx(carol, 1n);
    await client.submitTransaction(encodeTransaction(tx));
    await client.awaitTransaction(txidOf(tx), { timeoutMs: 20_000 });
  }
  throw new Error(`guardians ${indices.join(", ")} did not sign ${count} sessions`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "conclave-client-"));
  files = await writeLocalFederation(dir, 4, { heightsPerSession: 2 });
  invite = inviteOf(files.config, apiUrls(files.config));
  const started = await Promise.allSettled([0, 1, 2, 3].map((i) => startGuardian(files, i)));
  for (const s of started) if (s.status === "fulfilled") guardians.push(s.value);
  const failed = started.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  await waitConnected(guardians);
});

afterAll(async () => {
  await Promise.all(guardians.map((g) => stopGuardian(g, "SIGKILL")));
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  rmSync(dir, { recursive: true, force: true });
});

describe("FederationClient against four real guardians", () => {
  let aliceCoin: Uint8Array;
  let doubleSpend: Transaction;

  it("joins with the invite code, and refuses a tampered or damaged invite", async () => {
    const client = await FederationClient.join(invite);
    expect(client.federationId).toBe(toHex(federationId(files.config, sha256)));
    expect(client.config.guardians.map((g) => g.publicKey)).toEqual(
      files.config.guardians.map((g) => g.publicKey),
    );
    expect([client.n, client.f, client.t]).toEqual([4, 1, 3]);
    expect(client.guardians.map((g) => g.url)).toEqual(apiUrls(files.config));

    // Same guardians, another federation id (checksum recomputed, so only the id check can tell).
    const otherId = toHex(new Uint8Array(32).fill(0xab));
    const tampered = inviteOf(files.config, apiUrls(files.config), otherId);
    const refused = await FederationClient.join(tampered).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FederationMismatchError);
    const answers = (refused as FederationMismatchError).answers;
    expect(answers).toHaveLength(4);
    for (const a of answers) expect(a.answer).toMatch(/serves federation [0-9a-f]{64}, not abab/);

    const damaged = invite.slice(0, 20) + (invite[20] === "A" ? "B" : "A") + invite.slice(21);
    await expect(FederationClient.join(damaged)).rejects.toBeInstanceOf(ConfigError);
  });

  it("submits a faucet transaction and awaits the accepted state that t guardians report", async () => {
    const client = await FederationClient.join(invite);
    const tx = faucetTx(alice, 1000n);
    const submitted = await client.submitTransaction(encodeTransaction(tx));
    expect(submitted.txid).toBe(txidOf(tx));
    expect(submitted.acceptedBy.length).toBeGreaterThanOrEqual(1);

    const final = await client.awaitTransaction(submitted.txid, { timeoutMs: 20_000 });
    expect(final.agreedBy.length).toBeGreaterThanOrEqual(3);
    expect(final.value).toMatchObject({
      txid: submitted.txid,
      state: "accepted",
      fee: "0",
      outcomes: [{ amount: "1000", owner: toHex(alice.publicKey), spent: false }],
    });
    aliceCoin = transactionId(tx, sha256);
  });

  it("refuses a double spend with spent_input, at submission and when consensus decides it", async () => {
    const client = await FederationClient.join(invite);
    const first = spendTx(aliceCoin, 1000n, alice, bob);
    await client.submitTransaction(encodeTransaction(first));
    const accepted = await client.awaitTransaction(txidOf(first), { timeoutMs: 20_000 });
    expect(accepted.value.state).toBe("accepted");

    doubleSpend = spendTx(aliceCoin, 1000n, alice, carol);
    const refused = await client.submitTransaction(encodeTransaction(doubleSpend)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TransactionRejectedError);
    expect(refused).toMatchObject({ code: "spent_input", status: 422 });

    // Past the guardians' check (straight into consensus, as a guardian lagging behind would
    // propose it): consensus rejects it, and t guardians report the same rejection.
    const item = toHex(encodeConsensusItem({ kind: "transaction", tx: doubleSpend }));
    await guardians[1]!.request({ cmd: "submit", items: [item] });
    const rejected = await client.awaitTransaction(txidOf(doubleSpend), { timeoutMs: 20_000 });
    expect(rejected.value.state === "rejected" && rejected.value.error.code).toBe("spent_input");
    expect(rejected.agreedBy.length).toBeGreaterThanOrEqual(3);
  });

  it("cannot be convinced by a lying guardian (other config, outcomes, verdicts, forged session)", async () => {
    const honest = await FederationClient.join(invite);
    await waitForSessions(honest, 1, [1, 2, 3]);
    const realSession = await new GuardianHttp(honest.guardians[1]!.url).get(
      "/v1/sessions/0",
      SessionViewSchema,
    );
    const liar = await startServer(liarHandler(files.config, forge(realSession)));
    try {
      // The liar takes guardian 0's place in the invite; the real guardian 0 keeps running.
      const client = await FederationClient.join(
        inviteOf(files.config, [liar, ...apiUrls(files.config).slice(1)]),
      );
      expect(client.config.guardians.map((g) => g.publicKey)).toEqual(
        files.config.guardians.map((g) => g.publicKey),
      );
      // Joining stops asking once t guardians served the config; the liar may not have been heard.
      expect(client.joinAnswers[0]!.answer).toMatch(/serves federation [0-9a-f]{64}, not |not needed/);

      // With only the liar and one honest guardian reachable, every answer is heard: the one
      // honest guardian's config (which hashes to the invite's id) is kept, the liar's is named.
      const dead = `http://127.0.0.1:${await freePort()}`;
      const sparse = await FederationClient.join(
        inviteOf(files.config, [liar, apiUrls(files.config)[1]!, dead, dead]),
        { limits: { backoffBaseMs: 1, backoffMaxMs: 5 } },
      );
      expect(sparse.config.guardians.map((g) => g.publicKey)).toEqual(
        files.config.guardians.map((g) => g.publicKey),
      );
      expect(sparse.joinAnswers.map((a) => a.answer)).toEqual([
        expect.stringMatching(/serves federation [0-9a-f]{64}, not /),
        "served the federation config",
        expect.stringMatching(/^unreachable/),
        expect.stringMatching(/^unreachable/),
      ]);

      // The liar refuses every transaction, and says every transaction was accepted with its outcomes.
      const tx = faucetTx(carol, 77n);
      const submitted = await client.submitTransaction(encodeTransaction(tx));
      expect(submitted.acceptedBy).not.toContain(0);
      const liarAnswer = submitted.answers.find((a) => a.guardian === 0);
      if (liarAnswer) expect(liarAnswer.ok === false && liarAnswer.error.code).toBe("bad_signature");
      const final = await client.awaitTransaction(submitted.txid, { timeoutMs: 20_000 });
      expect(final.agreedBy).not.toContain(0);
      expect(final.value).toMatchObject({
        state: "accepted",
        outcomes: [{ amount: "77", owner: toHex(carol.publicKey), spent: false }],
      });

      // The double spend consensus rejected stays rejected, whatever the liar says.
      const rejected = await client.awaitTransaction(txidOf(doubleSpend), { timeoutMs: 20_000 });
      expect(rejected.value.state === "rejected" && rejected.value.error.code).toBe("spent_input");
      expect(rejected.agreedBy).toEqual([1, 2, 3]);

      const agreed = await client.queryConsensus(`/v1/transactions/${submitted.txid}`, TxStatusViewSchema);
      expect(agreed.agreedBy).toEqual([1, 2, 3]);
      expect(agreed.value).toEqual(final.value);

      // The forged session is skipped and reported; a real guardian's copy verifies.
      const session = await client.session(0);
      expect(session.servedBy).toBe(1);
      expect(session.skipped).toEqual([
        {
          guardian: 0,
          url: liar,
          answer: expect.stringMatching(/does not verify: 0 valid guardian signatures, 3 needed/) as unknown,
        },
      ]);
      expect(session.signers.length).toBeGreaterThanOrEqual(3);

      // Status is each guardian's own word: reported as such, not agreed on.
      const status = await client.status();
      expect(status.map((s) => s.reachable)).toEqual([true, true, true, true]);
    } finally {
      await closeServer(liar);
    }
  });

  it("serves the public session headers and signatures only: no block, so none of a transaction's contents", async () => {
    const client = await FederationClient.join(invite);
    // A transaction whose bytes name a key nobody else uses: its output's owner.
    const dave = new NodeSigner(new Uint8Array(32).fill(4));
    const tx = faucetTx(dave, 4242n);
    await client.submitTransaction(encodeTransaction(tx));
    const final = await client.awaitTransaction(txidOf(tx), { timeoutMs: 20_000 });
    expect(final.value.state).toBe("accepted");
    const height = final.value.state === "accepted" ? final.value.height : -1;
    const session = Math.floor(height / files.config.consensus.heightsPerSession);
    await waitForSessions(client, session + 1, [0, 1, 2, 3]);

    const secrets = [toHex(dave.publicKey), toHex(encodeTransaction(tx)), txidOf(tx)];
    for (const g of client.guardians) {
      const res = await fetch(`${g.url}/v1/sessions/${session}`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(Object.keys(JSON.parse(text) as object).sort()).toEqual([
        "blockIds",
        "session",
        "sessionHash",
        "signatures",
      ]);
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
    // What is served is still enough to check: t signatures over the hash of the block ids.
    const verified = await client.session(session);
    expect(verified.skipped).toEqual([]);
    expect(verified.signers.length).toBeGreaterThanOrEqual(3);
    expect(verified.blockIds).toHaveLength(files.config.consensus.heightsPerSession);
  });

  it("refuses tampered copies of real session headers", async () => {
    const client = await FederationClient.join(invite);
    await waitForSessions(client, 2, [0, 1, 2, 3]);
    const s0 = await client.session(0);
    const s1 = await client.session(1);
    const trust = clientTrust(client);
    expect(verifySession(trust, s1, 1)).toMatchObject({ ok: true });
    const otherId = (() => {
      const ids = [...s1.blockIds];
      ids[0] = s0.blockIds[0]!;
      return ids;
    })();
    for (const [bad, reason] of [
      [{ ...s1, signatures: s1.signatures.slice(0, 2) }, /2 valid guardian signatures, 3 needed/],
      [{ ...s1, sessionHash: s0.sessionHash }, /hash does not match/],
      [{ ...s1, blockIds: otherId }, /hash does not match/],
      [{ ...s0, session: 1 }, /hash does not match/],
    ] as const) {
      const check = verifySession(trust, bad, 1);
      expect(check.ok).toBe(false);
      expect(!check.ok && check.reason).toMatch(reason);
    }
    await expect(client.session(10_000)).rejects.toMatchObject({ code: "session_unavailable" });
  });

  it("still joins, submits and awaits with one of four guardians killed (SIGKILL)", async () => {
    const killed = guardians[3]!;
    killed.child.kill("SIGKILL");
    await killed.exited;

    const client = await FederationClient.join(invite);
    expect(client.joinAnswers[3]!.answer).toMatch(/unreachable|not needed/);
    const tx = faucetTx(bob, 5n);
    const submitted = await client.submitTransaction(encodeTransaction(tx));
    expect(submitted.acceptedBy.length).toBeGreaterThanOrEqual(1);
    expect(submitted.acceptedBy).not.toContain(3);
    const final = await client.awaitTransaction(submitted.txid, { timeoutMs: 20_000 });
    expect(final.agreedBy).toEqual([0, 1, 2]);
    expect(final.value.state).toBe("accepted");

    const status = await client.status();
    expect(status.map((s) => s.reachable)).toEqual([true, true, true, false]);
    const down = status[3]!;
    expect(!down.reachable && down.error.code).toBe("unreachable");
  });
});

function clientTrust(client: FederationClient) {
  return {
    federationId: fromHex(client.federationId),
    publicKeys: client.config.guardians.map((g) => fromHex(g.publicKey)),
    heightsPerSession: client.config.consensus.heightsPerSession,
    threshold: client.t,
  };
}

/**
 * A session with a block id changed, the hash recomputed, and "signatures" of the guardians made
 * with the liar's own key: all it can do without t keys.
 */
function forge(real: SessionView): SessionView {
  const s = sessionFromView(real);
  const ids = [...s.blockIds.slice(0, -1), sha256(s.blockIds.at(-1)!)];
  const fid = federationId(files.config, sha256);
  const hash = sessionHash(fid, s.session, ids);
  const signature = toHex(liarKey.sign(sessionSigningBytes(fid, s.session, hash)));
  return {
    session: s.session,
    sessionHash: toHex(hash),
    blockIds: ids.map(toHex),
    signatures: [0, 1, 2, 3].map((signer) => ({ signer, signature })),
  };
}

/** A fake guardian that lies about everything it is asked. */
function liarHandler(real: FederationConfig, forged: SessionView) {
  // Another federation: the liar's own key in guardian 0's place.
  const other: FederationConfig = {
    ...real,
    guardians: real.guardians.map((g, i) => (i === 0 ? { ...g, publicKey: toHex(liarKey.publicKey) } : g)),
  };
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  return (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const path = (req.url ?? "/").split("?")[0]!;
    const tx = /^\/v1\/transactions\/([0-9a-f]{64})$/.exec(path);
    if (path === "/v1/federation")
      return send(res, 200, { federationId: toHex(federationId(real, sha256)), config: other });
    if (path === "/v1/transactions" && req.method === "POST")
      return send(res, 422, { code: "bad_signature", message: "the liar refuses everything" });
    if (tx)
      return send(res, 200, {
        txid: tx[1],
        state: "accepted",
        height: 1,
        fee: "0",
        outcomes: [{ amount: "1000000", owner: toHex(liarKey.publicKey), spent: false }],
      });
    if (path === `/v1/sessions/${forged.session}`) return send(res, 200, forged);
    if (path === "/v1/status")
      return send(res, 200, {
        guardian: 0,
        name: "guardian-0",
        height: 1_000_000,
        round: 0,
        sessionsSigned: 1_000,
        peersConnected: 3,
        peersTotal: 3,
        mempoolItems: 0,
        halted: null,
        version: "liar",
      });
    return send(res, 404, { code: "not_found", message: "no" });
  };
}
