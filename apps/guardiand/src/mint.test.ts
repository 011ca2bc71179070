// The mint in real guardian processes (4 conclaved on 127.0.0.1: TLS links, LMDB, the HTTP API,
// native blst): notes issued through consensus and combined from t guardians' shares, and every
// double spend and forged note refused with a clear code, with the audit checked at every guardian
// after each case. The client here is the core client plus the mint's own client helpers.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import {
  TransactionRejectedError,
  encodeInvite,
  encodeTransaction,
  federationId,
  toHex,
  transactionId,
} from "@conclave/core-common";
import type { Transaction, TxOutput } from "@conclave/core-common";
import { commitPolynomial, encodeG2, randomPolynomial } from "@conclave/core-common/threshold";
import { FederationClient, SessionCountSchema } from "@conclave/core-client";
import { sha256 } from "@conclave/core-server";
import { faucetInput } from "@conclave/module-dummy";
import {
  MintOutputOutcomeSchema,
  buildTransaction,
  denominationAmount,
  finishNote,
  noteInput,
  noteOutput,
  noteSigner,
  parseMintConfig,
  prepareNote,
} from "@conclave/module-mint";
import type { MintConfig, PendingNote, SpendableNote } from "@conclave/module-mint";
import { blstTbs } from "@conclave/tbs-native";
import { startGuardian, stopGuardian, waitConnected } from "./guardian-processes.js";
import type { GuardianProcess } from "./guardian-processes.js";
import { DEV_MODULES_WITH_MINT, writeLocalFederation } from "./local-federation.js";
import type { LocalFederationFiles } from "./local-federation.js";

const DUMMY = 0;
const MINT = 1;
const UNIT = 20; // the smallest denomination, 2^20 piconero

let dir: string;
let files: LocalFederationFiles;
let client: FederationClient;
let mint: MintConfig;
const guardians: GuardianProcess[] = [];
/** What the mint must owe: the value of every note issued and not yet spent. */
let outstanding = 0n;

const keyOf = (log2: number) => mint.keys[mint.denominationsLog2.indexOf(log2)]!;
const txid = (tx: Transaction) => toHex(transactionId(tx, sha256));

interface AuditReply {
  audit: {
    assets: string;
    liabilities: string;
    modules: { instanceId: number; kind: string; assets: string; liabilities: string }[];
  };
}

/** Every guardian reports the same audit: the mint owes exactly the outstanding notes. */
async function checkAudit(): Promise<void> {
  // A guardian may be a block behind the t that answered the last call: wait (bounded) for it.
  let replies: AuditReply[] = [];
  for (let i = 0; i < 50; i++) {
    replies = await Promise.all(guardians.map((g) => g.request<AuditReply>({ cmd: "audit" })));
    if (replies.every((r) => JSON.stringify(r.audit) === JSON.stringify(replies[0]!.audit))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const r of replies) {
    expect(r.audit).toEqual(replies[0]!.audit);
    const m = r.audit.modules.find((x) => x.instanceId === MINT)!;
    expect(BigInt(m.liabilities)).toBe(outstanding);
    expect(BigInt(r.audit.assets) >= BigInt(r.audit.liabilities)).toBe(true);
  }
}

/** Submits, waits for t guardians to agree, and turns each guardian's share into notes. */
async function issueInto(tx: Transaction, pending: readonly PendingNote[], firstOutput = 0) {
  await client.submitTransaction(encodeTransaction(tx));
  const agreed = await client.awaitTransaction(txid(tx), { agreeOnOutcomes: false, timeoutMs: 20_000 });
  expect(agreed.value.state).toBe("accepted");
  const views = agreed.answers.flatMap((a) => (a.ok && a.value.state === "accepted" ? [a] : []));
  return pending.map((note, i) => {
    const shares = views.map((a) => {
      if (a.value.state !== "accepted") throw new Error("unreachable");
      const outcome = MintOutputOutcomeSchema.parse(a.value.outcomes[firstOutput + i]);
      return { guardian: a.guardian, blindShare: outcome.blindShare };
    });
    const key = keyOf(note.denominationLog2);
    const r = finishNote(note, key, client.t, shares);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    return r.value;
  });
}

async function faucetNotes(denoms: readonly number[]): Promise<SpendableNote[]> {
  const pending = denoms.map((d) => prepareNote(d));
  const total = denoms.reduce((a, d) => a + denominationAmount(d), 0n);
  const tx = buildTransaction(
    [faucetInput(DUMMY, total)],
    pending.map((n) => noteOutput(MINT, n)),
    [],
    sha256,
  );
  const notes = await issueInto(tx, pending);
  outstanding += total;
  return notes;
}

const spendTx = (notes: readonly SpendableNote[], outputs: readonly TxOutput[]) =>
  buildTransaction(
    notes.map((n) => noteInput(MINT, n)),
    outputs,
    notes.map(noteSigner),
    sha256,
  );

async function rejection(tx: Transaction): Promise<TransactionRejectedError> {
  const e: unknown = await client.submitTransaction(encodeTransaction(tx)).catch((x: unknown) => x);
  if (!(e instanceof TransactionRejectedError)) throw new Error(`expected a refusal, got ${String(e)}`);
  return e;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "conclave-mint-"));
  files = await writeLocalFederation(dir, 4, { heightsPerSession: 4 }, DEV_MODULES_WITH_MINT);
  for (let i = 0; i < 4; i++) guardians.push(await startGuardian(files, i, { quiet: true }));
  await waitConnected(guardians);
  const invite = encodeInvite({
    federationId: toHex(federationId(files.config, sha256)),
    name: files.config.name,
    guardians: files.config.guardians.map((g) => ({ name: g.name, api: g.api!.url })),
  });
  client = await FederationClient.join(invite);
  mint = parseMintConfig(files.config.modules.find((m) => m.kind === "mint")!.config);
}, 60_000);

afterAll(async () => {
  await Promise.all(guardians.map((g) => stopGuardian(g)));
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await checkAudit();
});

describe("mint across 4 guardian processes", () => {
  it("issues notes from t verified shares, and a resubmitted transaction issues nothing twice", async () => {
    const pending = [prepareNote(UNIT + 1), prepareNote(UNIT)];
    const total = denominationAmount(UNIT + 1) + denominationAmount(UNIT);
    const tx = buildTransaction(
      [faucetInput(DUMMY, total)],
      pending.map((n) => noteOutput(MINT, n)),
      [],
      sha256,
    );
    const notes = await issueInto(tx, pending);
    outstanding += total;
    expect(notes.map((n) => blstTbs.verifyNote(keyOf(UNIT + 1).publicKey, n.spendKey, n.signature))).toEqual([
      true,
      false, // a 2^20 note does not verify under the 2^21 key
    ]);
    // A client that crashed after submitting sends the same bytes again: the final status comes back.
    const again = await client.submitTransaction(encodeTransaction(tx));
    expect(again.txid).toBe(txid(tx));
    const status = await client.awaitTransaction(txid(tx), { agreeOnOutcomes: false, timeoutMs: 10_000 });
    expect(status.value.state).toBe("accepted");
  });

  it("accepts exactly one of two transactions spending the same note sent to different guardians at once", async () => {
    const [note] = await faucetNotes([UNIT + 2]);
    const a = spendTx([note!], [noteOutput(MINT, prepareNote(UNIT + 2))]);
    const b = spendTx(
      [note!],
      [noteOutput(MINT, prepareNote(UNIT + 1)), noteOutput(MINT, prepareNote(UNIT + 1))],
    );
    // Both reach every guardian before either is decided, so consensus orders them: one wins.
    const submit = async (tx: Transaction): Promise<string> => {
      try {
        await client.submitTransaction(encodeTransaction(tx));
      } catch (e) {
        if (e instanceof TransactionRejectedError) return `refused at submission: ${e.code}`;
        throw e;
      }
      const r = await client.awaitTransaction(txid(tx), { agreeOnOutcomes: false, timeoutMs: 20_000 });
      return r.value.state === "accepted" ? "accepted" : `rejected: ${r.value.error.code}`;
    };
    const outcomes = await Promise.all([submit(a), submit(b)]);
    expect(outcomes.filter((o) => o === "accepted")).toHaveLength(1);
    expect(outcomes.find((o) => o !== "accepted")).toMatch(/^(refused at submission|rejected): spent_input$/);
    // The value moved once: the note's value is now in the winner's outputs.
  });

  it("refuses a note spent in an earlier session, at submission, with spent_input", async () => {
    const [note] = await faucetNotes([UNIT + 3]);
    const fresh = prepareNote(UNIT + 3);
    await issueInto(spendTx([note!], [noteOutput(MINT, fresh)]), [fresh]);
    const sessions = async () =>
      (await client.queryConsensus("/v1/sessions/count", SessionCountSchema)).value.count;
    const spentIn = await sessions();
    // Blocks are decided only when there is something to decide: feed consensus until a session closes.
    for (let i = 0; i < 20 && (await sessions()) <= spentIn; i++) await faucetNotes([UNIT]);
    expect(await sessions()).toBeGreaterThan(spentIn);
    const again = await rejection(spendTx([note!], [noteOutput(MINT, prepareNote(UNIT + 3))]));
    expect(again.code).toBe("spent_input");
    expect(again.message).toMatch(/already spent/);
  });

  it("refuses tampered notes and notes signed by another federation's key, and the note stays spendable", async () => {
    const [note, small] = await faucetNotes([UNIT + 4, UNIT]);
    const out = () => [noteOutput(MINT, prepareNote(UNIT))];
    // Another note's valid signature on this nonce.
    expect((await rejection(spendTx([{ ...note!, signature: small!.signature }], out()))).code).toBe(
      "invalid_note",
    );
    // The amount tampered with: a 2^24 note presented as 2^25.
    expect((await rejection(spendTx([{ ...note!, denominationLog2: UNIT + 5 }], out()))).code).toBe(
      "invalid_note",
    );
    // A corrupted signature.
    const flipped = Uint8Array.from(note!.signature);
    flipped[20] = flipped[20]! ^ 0x40;
    expect((await rejection(spendTx([{ ...note!, signature: flipped }], out()))).code).toMatch(
      /^(malformed_note|invalid_note)$/,
    );
    // A note made by another federation (its own key for the same denomination).
    const foreignSecret = randomPolynomial(1, (n) => new Uint8Array(randomBytes(n)))[0]!;
    const foreignKey = encodeG2(commitPolynomial([foreignSecret])[0]!);
    const pending = prepareNote(UNIT);
    const share = blstTbs.signBlindShare(foreignSecret, pending.blindedMessage);
    if (!share.ok) throw new Error(share.error.message);
    const foreign = finishNote(pending, { publicKey: foreignKey, publicKeyShares: [foreignKey] }, 1, [
      { guardian: 0, blindShare: toHex(share.value) },
    ]);
    if (!foreign.ok) throw new Error(foreign.error.message);
    const refused = await rejection(spendTx([foreign.value], []));
    expect(refused.code).toBe("invalid_note");
    expect(refused.message).toMatch(/federation's signature/);
    // Nothing was spent by the refusals.
    const fresh = prepareNote(UNIT + 4);
    await issueInto(spendTx([note!], [noteOutput(MINT, fresh)]), [fresh]);
  });

  it("refuses the same note twice in one transaction, and garbage inputs, with clear codes", async () => {
    const [note] = await faucetNotes([UNIT + 1]);
    const twice = buildTransaction(
      [noteInput(MINT, note!), noteInput(MINT, note!)],
      [noteOutput(MINT, prepareNote(UNIT + 2))],
      [noteSigner(note!), noteSigner(note!)],
      sha256,
    );
    const e = await rejection(twice);
    expect(e.code).toBe("spent_input");
    expect(e.details).toMatchObject({ input: 1 });
    const garbage = buildTransaction(
      [{ module: MINT, amount: denominationAmount(UNIT), payload: new Uint8Array(7) }],
      [],
      [],
      sha256,
    );
    expect((await rejection(garbage)).code).toBe("malformed_input");
  });
});
