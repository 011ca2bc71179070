// The wallet against a real federation: four guardian processes on 127.0.0.1 running the test-only
// faucet and the mint (dealt keys, 2^20..2^30 denominations, a fee of one smallest note per spent
// note, at most 12 notes per transaction so that big operations take several transactions).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FederationClient } from "@conclave/core-client";
import { TransactionRejectedError, encodeInvite, federationId, fromHex, toHex } from "@conclave/core-common";
import type { FederationConfig } from "@conclave/core-common";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  DEV_MODULES,
  startGuardian,
  stopGuardian,
  waitConnected,
  writeLocalFederation,
} from "../../../apps/guardiand/src/index.js";
import type { GuardianProcess, LocalFederationFiles } from "../../../apps/guardiand/src/index.js";
import { BACKUP_NOTES_MAX, encodeSnapshot, encryptBackup } from "@conclave/module-mint/client";
import { WalletError, federationRoot, newMnemonic, webRandom } from "@conclave/wallet";
import { WalletKeys } from "./keys.js";
import { decodeNoteString, encodeNoteString } from "@conclave/module-mint/client";
import { nodeWallets } from "./node.js";
import { base64Encode } from "@conclave/core-common";
import { backupSigningBytes } from "@conclave/core-common";
import { nodeCrypto } from "@conclave/wallet/node";
import type { Wallet } from "./wallet.js";

const U = 1n << 20n; // the smallest note
const MINT_PARAMS = {
  denominationsLog2: Array.from({ length: 11 }, (_, i) => 20 + i),
  feePerInput: U.toString(),
  notesPerTxMax: 12,
};

let dir: string;
let files: LocalFederationFiles;
let invite: string;
const guardians: GuardianProcess[] = [];
const open: Wallet[] = [];
const wallets = nodeWallets({ awaitTimeoutMs: 30_000 });
let n = 0;
const walletDir = () => join(dir, `wallet-${n++}`);

function inviteOf(config: FederationConfig): string {
  return encodeInvite({
    federationId: toHex(federationId(config, sha256)),
    name: config.name,
    guardians: config.guardians.map((g) => ({ name: g.name, api: g.api?.url ?? "" })),
  });
}

async function newWallet(): Promise<{ wallet: Wallet; mnemonic: string; dir: string }> {
  const d = walletDir();
  const { wallet, mnemonic } = await wallets.joinWallet(d, invite);
  open.push(wallet);
  return { wallet, mnemonic, dir: d };
}

async function balance(w: Wallet): Promise<bigint> {
  return (await w.info()).balance;
}

async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string; error: unknown }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Error && "code" in e && typeof e.code === "string")
      return { code: e.code, message: e.message, error: e };
    throw e;
  }
  throw new Error("expected an error");
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "conclave-wallet-"));
  files = await writeLocalFederation(dir, 4, { heightsPerSession: 16 }, [
    ...DEV_MODULES,
    { instanceId: 1, kind: "mint", config: MINT_PARAMS },
  ]);
  invite = inviteOf(files.config);
  const started = await Promise.allSettled([0, 1, 2, 3].map((i) => startGuardian(files, i)));
  for (const s of started) if (s.status === "fulfilled") guardians.push(s.value);
  const failed = started.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  await waitConnected(guardians);
});

interface AuditReply {
  audit: { assets: string; liabilities: string };
}

/** After every test: each running guardian reports the same audit, and the federation is solvent. */
afterEach(async () => {
  const running = guardians.filter((g) => g.child.exitCode === null && g.child.signalCode === null);
  // A guardian may be a block behind the t that answered the last call: wait (bounded) for it.
  let replies: AuditReply[] = [];
  for (let i = 0; i < 50; i++) {
    replies = await Promise.all(running.map((g) => g.request<AuditReply>({ cmd: "audit" })));
    if (replies.every((r) => JSON.stringify(r.audit) === JSON.stringify(replies[0]!.audit))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const r of replies) expect(r.audit).toEqual(replies[0]!.audit);
  const audit = replies[0]!.audit;
  expect(BigInt(audit.liabilities)).toBeGreaterThan(0n);
  expect(BigInt(audit.assets) >= BigInt(audit.liabilities)).toBe(true);
});

afterAll(async () => {
  for (const w of open) await w.close().catch(() => undefined);
  await Promise.all(guardians.map((g) => stopGuardian(g, "SIGKILL")));
  rmSync(dir, { recursive: true, force: true });
});

describe("wallet against four real guardians", () => {
  let alice: { wallet: Wallet; mnemonic: string; dir: string };
  let bob: { wallet: Wallet; mnemonic: string; dir: string };
  let firstSpend: string;

  it("funds a wallet from the faucet, spends with change, and a second wallet receives", async () => {
    alice = await newWallet();
    bob = await newWallet();
    const faucet = await alice.wallet.devFaucet(100n * U);
    expect(faucet).toMatchObject({ amount: 100n * U, fee: 0n, notesIssued: 3 }); // 64 + 32 + 4
    expect(await balance(alice.wallet)).toBe(100n * U);

    // 37 = 32 + 4 + 1: no 1 note, so one note is reissued for change first (fee: one note).
    const spent = await alice.wallet.spend(37n * U);
    expect(spent.amount).toBe(37n * U);
    firstSpend = spent.notes;
    const info = await alice.wallet.info();
    expect(info.balance).toBe(100n * U - 37n * U - U);
    expect(info.outgoing.map((o) => o.id)).toEqual([spent.id]);
    expect(info.pendingOperations).toBe(0);

    const received = await bob.wallet.reissue(spent.notes);
    const count = decodeNoteString(spent.notes).notes.length;
    expect(received.fee).toBe(BigInt(count) * U);
    expect(received.amount).toBe(37n * U - BigInt(count) * U);
    expect(await balance(bob.wallet)).toBe(received.amount);
  });

  it("streams the faucet's operation: a progress event per transaction, then done; a refusal ends it failed", async () => {
    const w = await newWallet();
    // 4095 U = 3 x 2^30 + 2^20..2^29: 13 notes, 12 per transaction at most, so two transactions.
    const amount = 4095n * U;
    const events = [];
    for await (const e of w.wallet.devFaucetOperation(amount)) events.push(e);
    expect(events.map((e) => e.type)).toEqual(["progress", "progress", "done"]);
    expect(events.slice(0, 2).map((e) => (e.type === "progress" ? e.progress.transactions : 0))).toEqual([
      1, 2,
    ]);
    const first = events[0]!.type === "progress" ? events[0]!.progress.issued : 0n;
    expect(first).toBeGreaterThan(0n);
    expect(first).toBeLessThan(amount);
    expect(events[1]).toMatchObject({ type: "progress", progress: { issued: amount, amount } });
    expect(events[2]).toMatchObject({ type: "done", result: { amount, notesIssued: 13 } });
    expect(await balance(w.wallet)).toBe(amount);

    const refused = w.wallet.devFaucetOperation(U + 1n); // not a multiple of the smallest note
    const ends = [];
    for await (const e of refused) ends.push(e);
    expect(ends.map((e) => e.type)).toEqual(["failed"]);
    await expect(refused.result).rejects.toMatchObject({ code: "invalid_amount" });
    expect(await balance(w.wallet)).toBe(amount);
  });

  it("refuses a second redemption of the same notes with spent_input, and nothing is lost", async () => {
    const carol = await newWallet();
    const before = await balance(bob.wallet);
    const err = await rejection(carol.wallet.reissue(firstSpend));
    expect(err.error).toBeInstanceOf(TransactionRejectedError);
    expect(err.code).toBe("spent_input");
    expect(err.message).toMatch(/already redeemed/);
    const info = await carol.wallet.info();
    expect(info.balance).toBe(0n);
    expect(info.pendingOperations).toBe(0);
    expect(await balance(bob.wallet)).toBe(before);
    // The sender's own copy of a redeemed spend cannot be cancelled either: a clear error, entry closed.
    const id = (await alice.wallet.info()).outgoing[0]!.id;
    const cancel = await rejection(alice.wallet.cancel(id));
    expect(cancel.code).toBe("spent_input");
    expect(cancel.message).toMatch(/already redeemed .* outgoing entry is closed/);
    expect((await alice.wallet.info()).outgoing).toEqual([]);
  });

  it("cancels an unredeemed spend: the notes come back minus the fee; unknown ids are refused", async () => {
    const before = await balance(alice.wallet);
    const spent = await alice.wallet.spend(4n * U);
    const afterSpend = await balance(alice.wallet);
    const cancelled = await alice.wallet.cancel(spent.id);
    const notes = decodeNoteString(spent.notes).notes.length;
    expect(cancelled.amount).toBe(4n * U - BigInt(notes) * U);
    const info = await alice.wallet.info();
    expect(info.outgoing).toEqual([]);
    expect(info.balance).toBe(afterSpend + cancelled.amount);
    expect(info.balance).toBeLessThan(before);
    expect((await rejection(alice.wallet.cancel(spent.id))).code).toBe("unknown_spend");
    expect((await rejection(alice.wallet.cancel("00ff"))).code).toBe("unknown_spend");
  });

  it("splits into many small notes over several transactions, and combines notes again", async () => {
    const frank = await newWallet();
    await frank.wallet.devFaucet(1024n * U); // one 2^30 note
    const split = await frank.wallet.split(20, 30);
    expect(split.txids?.length).toBeGreaterThan(1); // 12 notes per transaction at most
    const afterSplit = await frank.wallet.info();
    expect(afterSplit.notes.find((h) => h.denominationLog2 === 20)?.count).toBeGreaterThanOrEqual(30);
    expect(afterSplit.balance).toBe(1024n * U - split.fee);
    expect(split.fee).toBe(BigInt(split.txids?.length ?? 0) * U); // one input each

    await frank.wallet.devFaucet(6n * U); // 2^21 + 2^22
    await frank.wallet.devFaucet(6n * U); // again: two pairs to combine
    const before = await frank.wallet.info();
    const combined = await frank.wallet.combine();
    expect(combined.notesIssued).toBeGreaterThan(0);
    const after = await frank.wallet.info();
    const count = (i: typeof after) => i.notes.reduce((s, h) => s + h.count, 0);
    expect(count(after)).toBeLessThan(count(before));
    expect(after.balance).toBe(before.balance - combined.fee);
    // Nothing left to gain: a second combine does nothing.
    expect(await frank.wallet.combine()).toMatchObject({ txid: "", notesIssued: 0 });

    // A note string of 14 notes is redeemed in two transactions (12 notes per transaction at most).
    await frank.wallet.split(21, 14);
    const strings = [];
    for (let i = 0; i < 14; i++) strings.push((await frank.wallet.spend(2n * U)).notes);
    const merged = encodeNoteString({
      federationId: (await frank.wallet.info()).federationId,
      notes: strings.flatMap((t) => decodeNoteString(t).notes),
    });
    const received = await bob.wallet.reissue(merged);
    expect(received.txids).toHaveLength(2);
    expect(received).toMatchObject({ amount: 28n * U - 14n * U, fee: 14n * U });
  });

  it("validates note strings offline and online, and refuses tampered and foreign ones", async () => {
    const spent = await alice.wallet.spend(2n * U);
    const offline = await bob.wallet.validate(spent.notes);
    expect(offline.amount).toBe(2n * U);
    expect(offline.notes.every((n) => n.valid)).toBe(true);
    expect(offline.spent).toBeUndefined();
    expect((await bob.wallet.validate(spent.notes, { online: true })).spent?.every((s) => !s)).toBe(true);
    expect((await bob.wallet.validate(firstSpend, { online: true })).spent?.every((s) => s)).toBe(true);

    const decoded = decodeNoteString(spent.notes);
    const sig = decoded.notes[0]!.signature.slice();
    sig[10] = sig[10]! ^ 1;
    const tampered = encodeNoteString({
      ...decoded,
      notes: [{ ...decoded.notes[0]!, signature: sig }, ...decoded.notes.slice(1)],
    });
    const check = await bob.wallet.validate(tampered);
    expect(check.notes[0]!.valid).toBe(false);
    expect((await rejection(bob.wallet.reissue(tampered))).code).toBe("invalid_note");
    const amountForged = encodeNoteString({
      ...decoded,
      notes: [{ ...decoded.notes[0]!, denominationLog2: 29 }],
    });
    expect((await bob.wallet.validate(amountForged)).notes[0]!.valid).toBe(false);
    const foreign = encodeNoteString({ ...decoded, federationId: "ab".repeat(32) });
    expect((await rejection(bob.wallet.validate(foreign))).code).toBe("wrong_federation");
    expect((await rejection(bob.wallet.reissue(foreign))).code).toBe("wrong_federation");
    expect((await rejection(bob.wallet.reissue("cnotes1garbage"))).code).toBe("malformed_notes");
    expect((await rejection(bob.wallet.spend(U + 1n))).code).toBe("invalid_amount");
    expect((await rejection(bob.wallet.spend(1n << 40n))).code).toBe("insufficient_funds");
    await alice.wallet.cancel(spent.id);
  });

  it("backs up, and restores from the mnemonic alone: backed-up notes and notes issued after the backup", async () => {
    const backup = await alice.wallet.backup();
    expect(backup.storedBy.length).toBeGreaterThanOrEqual(3);
    const second = await alice.wallet.backup();
    expect(second.version).toBeGreaterThan(backup.version);
    await alice.wallet.devFaucet(8n * U); // after the last backup: only the scan can find it
    const info = await alice.wallet.info();
    const { wallet, result } = await wallets.restoreWallet(walletDir(), invite, alice.mnemonic);
    open.push(wallet);
    expect(result.backupVersion).toBe(second.version);
    expect(result.amount).toBe(info.balance);
    expect(result.notes).toBe(info.notes.reduce((s, h) => s + h.count, 0));
    expect(result.fromScan).toBe(1);
    expect(result.fromBackup).toBe(result.notes - 1);
    expect((await wallet.info()).notes).toEqual(info.notes);
    // The restored wallet spends: its counter is past every note the scan found.
    const spent = await wallet.spend(8n * U);
    await bob.wallet.reissue(spent.notes);
  });

  it("restores a wallet that never made a backup by scanning, dropping spent notes", async () => {
    const dave = await newWallet();
    await dave.wallet.devFaucet(7n * U); // 4 + 2 + 1
    const spent = await dave.wallet.spend(2n * U);
    await bob.wallet.reissue(spent.notes);
    const { wallet, result } = await wallets.restoreWallet(walletDir(), invite, dave.mnemonic);
    open.push(wallet);
    expect(result).toMatchObject({ notes: 2, amount: 5n * U, fromBackup: 0, fromScan: 2, spentDropped: 0 });
    expect(result.backupVersion).toBeUndefined();
  });

  it("finishes a transaction after a crash before sending it or between submit and settle, with resume() or on reopening", async () => {
    const crashing = nodeWallets({
      hooks: {
        afterSubmit: () => {
          throw new Error("simulated crash");
        },
      },
    });
    const d = walletDir();
    const { wallet } = await crashing.joinWallet(d, invite);
    await expect(wallet.devFaucet(3n * U)).rejects.toThrow(/simulated crash/);
    expect(await wallet.info()).toMatchObject({ balance: 0n, pendingOperations: 1 });
    expect(await wallet.resume()).toBe(1);
    expect(await wallet.info()).toMatchObject({ balance: 3n * U, pendingOperations: 0 });

    await expect(wallet.spend(3n * U).then((s) => bob.wallet.reissue(s.notes))).resolves.toBeDefined();
    await expect(wallet.devFaucet(5n * U)).rejects.toThrow(/simulated crash/);
    await wallet.close();
    const reopened = await wallets.openWallet(d); // open resumes
    open.push(reopened);
    expect(await reopened.info()).toMatchObject({ balance: 5n * U, pendingOperations: 0 });

    // A crash after the operation was written but before anything was sent: resume sends it.
    const beforeSend = nodeWallets({
      hooks: {
        beforeSubmit: () => {
          throw new Error("simulated crash before sending");
        },
      },
    });
    const d2 = walletDir();
    const early = (await beforeSend.joinWallet(d2, invite)).wallet;
    await expect(early.devFaucet(2n * U)).rejects.toThrow(/before sending/);
    await early.close();
    const again = await wallets.openWallet(d2);
    open.push(again);
    expect(await again.info()).toMatchObject({ balance: 2n * U, pendingOperations: 0 });
  });

  it("measures restore speed from the largest backup a guardian stores (notes/s, printed)", async () => {
    const mnemonic = newMnemonic();
    const client = await FederationClient.join(invite);
    const fed = fromHex(client.federationId);
    const keys = new WalletKeys(await federationRoot(mnemonic, fed));
    // BACKUP_NOTES_MAX: 128 KiB of ciphertext (core-common BACKUP_CIPHERTEXT_BYTES_MAX).
    const count = BACKUP_NOTES_MAX;
    // Random nonces the mint never saw: every one is reported unspent, as in a real backup.
    const notes = Array.from({ length: count }, (_, i) => ({
      index: i,
      denominationLog2: 20,
      nonce: webRandom(32),
      signature: webRandom(48),
    }));
    const ciphertext = encryptBackup(
      keys.backupKey,
      fed,
      encodeSnapshot({ nextIndex: count, notes }),
      webRandom,
    );
    const signer = nodeCrypto.ed25519Signer(keys.backupIdSeed);
    const version = Date.now();
    await client.uploadBackup({
      id: toHex(signer.publicKey),
      version,
      ciphertext: base64Encode(ciphertext),
      signature: toHex(signer.sign(backupSigningBytes(sha256, fed, signer.publicKey, version, ciphertext))),
    });
    const { wallet, result } = await wallets.restoreWallet(walletDir(), invite, mnemonic);
    open.push(wallet);
    expect(result).toMatchObject({ notes: count, fromBackup: count, fromScan: 0, backupVersion: version });
    console.log(
      `restore: ${count} notes in ${result.elapsedMs} ms = ${Math.round((count * 1000) / result.elapsedMs)} notes/s ` +
        "(join, download, decrypt, spent queries, 100-index scan, LMDB write); phases ms:",
      result.phasesMs,
    );
  });

  it("ignores a guardian that sends wrong blind shares, names it, and still issues valid notes", async () => {
    const liarUrl = files.config.guardians[2]!.api!.url;
    // The G1 generator: a valid point, but not guardian 2's share of anything.
    const wrongShare =
      "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb";
    // Guardian 3 answers late, so that the t answers the wallet gets first include the liar's.
    const slowUrl = files.config.guardians[3]!.api!.url;
    const lyingFetch: typeof fetch = async (input, init) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      if (url.startsWith(slowUrl) && url.includes("/v1/transactions/"))
        await new Promise((resolve) => setTimeout(resolve, 1500));
      const res = await fetch(input, init);
      if (!url.startsWith(liarUrl) || !url.includes("/v1/transactions/") || !res.ok) return res;
      const body = (await res.json()) as { state?: string; outcomes?: unknown[] };
      if (body.state === "accepted" && Array.isArray(body.outcomes))
        body.outcomes = body.outcomes.map((o) =>
          o !== null && typeof o === "object" ? { ...o, blindShare: wrongShare } : o,
        );
      return new Response(JSON.stringify(body), {
        status: res.status,
        headers: { "content-type": "application/json" },
      });
    };
    const { wallet } = await nodeWallets({ client: { fetch: lyingFetch } }).joinWallet(walletDir(), invite);
    open.push(wallet);
    const faucet = await wallet.devFaucet(7n * U);
    expect(faucet.notesIssued).toBe(3);
    expect(await balance(wallet)).toBe(7n * U);
    expect(wallet.warnings.join("\n")).toMatch(/guardian 2 sent blind signature shares that do not verify/);
    const spent = await wallet.spend(7n * U);
    expect((await bob.wallet.validate(spent.notes)).notes.every((n) => n.valid)).toBe(true);
    await bob.wallet.reissue(spent.notes);
  });

  it("keeps working with one guardian of four stopped (f = 1)", async () => {
    await stopGuardian(guardians[3]!, "SIGKILL");
    const erin = await newWallet();
    await erin.wallet.devFaucet(6n * U);
    const spent = await erin.wallet.spend(2n * U);
    const received = await bob.wallet.reissue(spent.notes);
    expect(received.amount).toBe(2n * U - U);
    const backup = await erin.wallet.backup();
    expect(backup.storedBy).toEqual([0, 1, 2]);
    const { wallet, result } = await wallets.restoreWallet(walletDir(), invite, erin.mnemonic);
    open.push(wallet);
    expect(result.amount).toBe(4n * U);
    expect((await rejection(erin.wallet.reissue(spent.notes))).code).toBe("spent_input");
  });

  it("refuses the faucet-free path and re-joining: not_dev_federation is for non-dev, already_joined here", async () => {
    expect((await rejection(wallets.joinWallet(alice.dir, invite))).code).toBe("already_joined");
    expect((await rejection(wallets.openWallet(walletDir()))).code).toBe("not_joined");
    expect(WalletError.name).toBe("WalletError");
  });

  it("refuses a deposit claim on a federation without the Monero module, before writing or sending anything", async () => {
    const txid = "ab".repeat(32);
    const txKey = `${"42".repeat(31)}01`;
    expect((await rejection(alice.wallet.claimDeposit({ txid, txKey }))).code).toBe("no_monero_module");
    expect((await alice.wallet.info()).pendingDeposits).toBeUndefined();
  });

  it("logs every transaction in the operation log: kind, module, state and result, a refusal as failed", async () => {
    const dave = await newWallet();
    const erin = await newWallet();
    await dave.wallet.devFaucet(4n * U);
    const spent = await dave.wallet.spend(2n * U);
    await erin.wallet.reissue(spent.notes);
    await expect(dave.wallet.reissue(spent.notes)).rejects.toThrow(/already redeemed/);
    const log = await dave.wallet.operations();
    expect(log.map((o) => [o.module, o.kind, o.state])).toEqual([
      ["mint", "faucet", "done"],
      ["mint", "change", "done"],
      ["mint", "reissue", "failed"],
    ]);
    expect(log[0]!.result).toMatchObject({ amount: (4n * U).toString(), notesIssued: 1 });
    expect(log[2]!.error).toMatchObject({ code: "spent_input" });
  });
});
