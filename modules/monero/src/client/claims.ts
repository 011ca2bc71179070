// The Monero half's deposit claims: a payment to the federation's address, proven with its tx key
// and bound to a claim key derived from the mnemonic. The claim is written down first (its claim
// index included), posted to every guardian (or sealed to one, for a relay), watched until t
// guardians agree it is credited and confirmed, then turned into notes through the mint half.
import { del, put, scanPrefix } from "@conclave/core-client";
import type { DbOp, FederationClient, OperationRecord } from "@conclave/core-client";
import { decodeSealed, fromHex, toHex } from "@conclave/core-common";
import { sleep } from "@conclave/core-client";
import { ClaimAnswerSchema, DepositViewSchema } from "../api.js";
import type { DepositView } from "../api.js";
import { claimProof } from "../common.js";
import { depositInput } from "../client.js";
import { sealClaim as sealMoneroClaim } from "../sealed-claim.js";
import {
  CLAIMS_PATH,
  CLAIM_REPOST_MS,
  DEPOSIT_WAIT_MS_DEFAULT,
  MoneroPart,
  checkDepositProof,
  depositPath,
  errorText,
  moneroError,
  progressOf,
  progressReporter,
  randomIndex,
  rejectionText,
  xmrText,
} from "./config.js";
import { SEALED_CLAIMS_PATH } from "./relay.js";
import { K_CLAIM_COUNTER, MONERO_KIND, P_CLAIM } from "./store.js";
import type { ClaimRecord, DepositInto } from "./store.js";
import { json, parseJson } from "@conclave/core-client";
import { KEY_INDEX_MAX as NOTE_INDEX_MAX } from "@conclave/core-client";
import type {
  ClaimDepositOptions,
  ClaimDepositResult,
  DepositProof,
  RelayResult,
  SealClaimRequest,
  SealClaimResult,
} from "./types.js";

export class MoneroClaims extends MoneroPart {
  /** The claims not yet turned into notes. */
  async records(): Promise<ClaimRecord[]> {
    return (await scanPrefix(this.db, P_CLAIM)).map(([, v]) => parseJson<ClaimRecord>(v));
  }

  /** One look at each pending deposit claim: posted again, and turned into notes if spendable now. */
  async resume(): Promise<number> {
    await this.ctx.run(() => this.backfillLog());
    let finished = 0;
    for (const [, raw] of await scanPrefix(this.db, P_CLAIM)) {
      const claim = parseJson<ClaimRecord>(raw);
      try {
        const client = await this.ctx.client();
        if (claim.sealedTo === undefined) await this.postClaim(client, claim);
        const view = await this.depositView(client, claim.txid);
        if (view && this.claimOutcome(claim, view) === "spendable") {
          await this.issueDeposit(claim, view);
          finished++;
        }
      } catch (e) {
        if (!(await this.db.get(P_CLAIM + claim.txid))) finished++;
        this.ctx.warn(`deposit claim ${claim.txid}: ${errorText(e)}`);
      }
    }
    return finished;
  }

  /**
   * Claims written before the operation log get their entry (pending), all in one write, so that
   * the log lists every claim this wallet holds.
   */
  private async backfillLog(): Promise<void> {
    const ops: DbOp[] = [];
    for (const [, raw] of await scanPrefix(this.db, P_CLAIM)) {
      const claim = parseJson<ClaimRecord>(raw);
      if (claim.operationId !== undefined) continue;
      const logged = this.logClaim(claim.txid, claim.sealedTo);
      ops.push(logged.op, put(P_CLAIM + claim.txid, json({ ...claim, operationId: logged.record.id })));
    }
    if (ops.length > 0) await this.db.write(ops);
  }

  /** The claim's log entry while it is pending (none for a claim written before the log). */
  private async pendingEntry(claim: ClaimRecord): Promise<OperationRecord | undefined> {
    const entry = claim.operationId ? await this.ctx.operations.get(claim.operationId) : undefined;
    return entry?.state === "pending" ? entry : undefined;
  }

  /** The claim's log entry: what a user needs to know of it (never its tx key). */
  private logClaim(txid: string, sealedTo: number | undefined): { record: OperationRecord; op: DbOp } {
    return this.ctx.operations.startOp(this.instanceId, MONERO_KIND, "claim", {
      txid,
      ...(sealedTo === undefined ? {} : { sealedTo }),
    });
  }

  // ---- Monero deposits -------------------------------------------------------------------------

  /**
   * Claims a deposit and waits for it outside the wallet's lock (it can take many blocks): only
   * writing the claim and issuing the notes take the lock.
   */
  async claimDeposit(proof: DepositProof, options: ClaimDepositOptions = {}): Promise<ClaimDepositResult> {
    const { txid, txKey } = checkDepositProof(proof);
    const claim = await this.ctx.run(() => this.recordClaim(txid, txKey));
    return this.awaitClaim(claim, options);
  }

  /**
   * Seals the claim to one guardian instead of posting it: the claim is written down first (claim key
   * index included, marked sealed so that nothing sends it in clear), then sealed for the relay.
   */
  async sealClaim(request: SealClaimRequest, into?: DepositInto): Promise<SealClaimResult> {
    const { txid, txKey } = checkDepositProof(request);
    const n = this.federation.guardians.length;
    const guardian = request.guardian ?? randomIndex(this.crypto.random, n);
    const entry = Number.isInteger(guardian) ? this.federation.guardians[guardian] : undefined;
    if (!entry)
      throw moneroError(
        "unknown_guardian",
        `guardian ${guardian} is not one of this federation's guardians (0 to ${n - 1}; \`conclave info\` lists them)`,
        { guardian, guardians: n },
      );
    const claim = await this.ctx.run(async () => {
      const recorded = await this.recordClaim(txid, txKey, guardian);
      if (!into) return recorded;
      // Spent into another half's output once credited (a wXMR mint), whoever waits for it.
      await this.db.write([put(P_CLAIM + txid, json({ ...recorded, into }))]);
      return { ...recorded, into };
    });
    const sealed = await sealMoneroClaim({
      guardianPublicKey: fromHex(entry.publicKey),
      guardian,
      federationId: this.federationIdBytes,
      instanceId: this.instanceId,
      txid: fromHex(txid),
      claimKey: this.claimKeyOf(claim),
      proof: this.claimProofOf(claim),
    });
    return { txid, guardian, guardianName: entry.name, sealed };
  }

  async waitDeposit(txid: string, options: ClaimDepositOptions = {}): Promise<ClaimDepositResult> {
    return this.awaitClaim(await this.ctx.run(() => this.pendingClaim(txid)), options);
  }

  async relaySealed(sealed: string): Promise<RelayResult> {
    const s = decodeSealed(sealed);
    if (toHex(s.federationId) !== this.federationId)
      throw moneroError(
        "wrong_federation",
        `this sealed claim is for federation ${toHex(s.federationId).slice(0, 16)}…, not this wallet's ` +
          `(${this.federationId.slice(0, 16)}…); relay it with --url <the guardian's API URL>`,
        { federationId: toHex(s.federationId) },
      );
    const client = await this.ctx.client();
    if (s.guardian >= client.guardians.length)
      throw moneroError(
        "unknown_guardian",
        `this sealed claim is for guardian ${s.guardian}, which this federation does not have`,
        { guardian: s.guardian },
      );
    const [answer] = await client.postEach(SEALED_CLAIMS_PATH, { sealed }, ClaimAnswerSchema, {
      guardians: [s.guardian],
    });
    if (!answer) throw new Error("postEach answered for no guardian");
    if (!answer.ok) throw answer.error;
    return { txid: answer.value.txid, guardian: s.guardian, state: answer.value.state };
  }

  /**
   * Waits for a recorded claim outside the wallet's lock (it can take many blocks), posting it in
   * clear unless it is sealed, then issues the notes (under the lock).
   */
  private async awaitClaim(claim: ClaimRecord, options: ClaimDepositOptions): Promise<ClaimDepositResult> {
    const txid = claim.txid;
    const sealed = claim.sealedTo !== undefined;
    const report = progressReporter(options.onProgress);
    const client = await this.ctx.client();
    const pollMs = options.pollMs ?? 1000;
    const deadline = this.ctx.now() + (options.timeoutMs ?? DEPOSIT_WAIT_MS_DEFAULT);
    let postedAt = this.ctx.now();
    if (!sealed) {
      const taken = await this.postClaim(client, claim);
      report({
        txid,
        stage: "claimed",
        message: `claim taken by ${taken} of ${client.guardians.length} guardians`,
      });
    }
    let spendable: DepositView | undefined;
    while (!spendable) {
      const view = await this.depositView(client, txid);
      if (view) {
        const outcome = this.claimOutcome(claim, view);
        if (outcome === "spendable") {
          spendable = view;
          break;
        }
        if (!sealed && outcome === "repost" && this.ctx.now() - postedAt >= CLAIM_REPOST_MS) {
          postedAt = this.ctx.now();
          await this.postClaim(client, claim);
        }
        report(progressOf(view, claim, client.t));
      }
      if (this.ctx.now() >= deadline)
        throw moneroError(
          "deposit_timeout",
          `deposit ${txid} is not spendable yet${view ? ` (${progressOf(view, claim, client.t).message})` : ""}; ` +
            (sealed
              ? `the claim stays pending: relay the sealed claim to guardian ${claim.sealedTo} if it has not arrived, then wait again`
              : "the claim stays pending: run the claim again (or resume) later"),
          { txid },
        );
      await sleep(pollMs);
    }
    report({ txid, stage: "issuing", message: "issuing notes" });
    const result = await this.issueDeposit(claim, spendable);
    report({ txid, stage: "done", message: `received ${xmrText(result.amount)}`, amount: result.amount });
    return result;
  }

  /**
   * The claim of `txid`, written down with a fresh claim index unless one with this tx key exists
   * (then it continues). A corrected tx key gets a fresh claim key too: the federation may hold an
   * open claim of the old (wrong) key bound to the old claim key; once it is rejected, the txid is
   * released and the new claim, under another key, is posted again.
   */
  private async recordClaim(txid: string, txKey: string, sealedTo?: number): Promise<ClaimRecord> {
    const raw = await this.db.get(P_CLAIM + txid);
    if (raw) {
      const existing = parseJson<ClaimRecord>(raw);
      if (existing.txKey === txKey) {
        // Same claim (same key); sealed now, or claimed in clear after sealing: the latest choice counts.
        if (existing.sealedTo === sealedTo && existing.operationId !== undefined) return existing;
        const { sealedTo: _old, ...rest } = existing;
        const updated: ClaimRecord = sealedTo === undefined ? rest : { ...rest, sealedTo };
        // Its entry shows the latest choice; a claim from before the log gets one here (or in resume).
        const entry = await this.pendingEntry(updated);
        const logged = entry
          ? this.ctx.operations.updateOp(entry, { txid, ...(sealedTo === undefined ? {} : { sealedTo }) })
          : this.logClaim(txid, sealedTo);
        const withId: ClaimRecord = { ...updated, operationId: logged.record.id };
        await this.db.write([put(P_CLAIM + txid, json(withId)), logged.op]);
        return withId;
      }
    }
    // A claim of this txid under another tx key is replaced below: its entry ends failed in that write.
    const replaced = raw ? await this.pendingEntry(parseJson<ClaimRecord>(raw)) : undefined;
    const counterRaw = await this.db.get(K_CLAIM_COUNTER);
    const index = counterRaw ? parseJson<{ next: number }>(counterRaw).next : 0;
    if (index > NOTE_INDEX_MAX) throw new Error("the wallet ran out of claim indexes");
    // The operation log's entry, in the claim's own write.
    const logged = this.logClaim(txid, sealedTo);
    const claim: ClaimRecord = {
      txid,
      txKey,
      index,
      createdAtMs: this.ctx.now(),
      ...(sealedTo === undefined ? {} : { sealedTo }),
      operationId: logged.record.id,
    };
    await this.db.write([
      put(K_CLAIM_COUNTER, json({ next: index + 1 })),
      put(P_CLAIM + txid, json(claim)),
      logged.op,
      ...(replaced
        ? [
            this.ctx.operations.failOp(
              replaced,
              new Error("replaced by a claim of the same txid with another tx key"),
            ),
          ]
        : []),
    ]);
    return claim;
  }

  private claimKeyOf(claim: ClaimRecord): Uint8Array {
    return this.crypto.ed25519PublicKey(this.claimSeed(claim.index));
  }

  /**
   * Whether `claimKey` is this wallet's key of an earlier claim (index below `below`): a claim of
   * a deposit this wallet already received gets a fresh index, so its key differs from the one the
   * deposit is bound to. Only on that refusal path, one derivation per earlier claim.
   */
  private isEarlierClaimKey(claimKey: string | undefined, below: number): boolean {
    if (claimKey === undefined) return false;
    for (let i = 0; i < below; i++) {
      if (toHex(this.crypto.ed25519PublicKey(this.claimSeed(i))) === claimKey) return true;
    }
    return false;
  }

  /**
   * The claim's payment proof, made here from the tx key (which never leaves this wallet): Monero's
   * OutProofV2 of the txid to the federation's address for a message naming the claim key, so that a
   * guardian who sees it cannot claim the deposit for its own key. Deterministic: posting the claim
   * again sends the same bytes.
   */
  private claimProofOf(claim: ClaimRecord): Uint8Array {
    const federationAddress = this.address;
    if (federationAddress === undefined)
      throw moneroError(
        "no_monero_module",
        "this federation's config names no Monero address to prove a payment to",
      );
    return claimProof({
      federationAddress,
      txid: fromHex(claim.txid),
      txKey: fromHex(claim.txKey),
      claimKey: this.claimKeyOf(claim),
    });
  }

  /** Posts the claim to every guardian; returns how many took it (throws when none did). */
  private async postClaim(client: FederationClient, claim: ClaimRecord): Promise<number> {
    const body = {
      txid: claim.txid,
      claimKey: toHex(this.claimKeyOf(claim)),
      proof: toHex(this.claimProofOf(claim)),
    };
    const answers = await client.postEach(CLAIMS_PATH, body, ClaimAnswerSchema);
    const took = answers.filter((a) => a.ok).length;
    if (took > 0) return took;
    // Bound to another key already: what the deposit's state says next tells the user.
    if (answers.some((a) => !a.ok && a.error.code === "already_claimed")) return 0;
    const refusal = answers.find((a) => !a.ok && a.error.status === 400);
    if (refusal && !refusal.ok) {
      // The claim itself is wrong: nothing to resume.
      await this.dropClaim(claim, refusal.error);
      throw refusal.error;
    }
    throw moneroError(
      "claim_not_taken",
      `no guardian took the claim of ${claim.txid} (${answers
        .map((a) => (a.ok ? "" : `guardian ${a.guardian}: ${a.error.message}`))
        .join("; ")}); it stays pending: run the claim again later`,
      { txid: claim.txid },
    );
  }

  /**
   * What the agreed state means for this wallet's claim: spendable (issue the notes), wait, repost
   * (the claim is not ordered, or the txid was released); a deposit bound to another key or a
   * rejected claim of ours throws (and the claim is dropped).
   */
  private claimOutcome(claim: ClaimRecord, view: DepositView): "spendable" | "wait" | "repost" {
    const mine = view.claimKey === toHex(this.claimKeyOf(claim));
    switch (view.state) {
      case "unclaimed":
        return "repost";
      case "open":
        return mine ? "wait" : "repost";
      case "credited":
      case "spent":
        if (mine && view.state === "credited") return view.spendable ? "spendable" : "wait";
        throw this.forgetClaim(
          claim,
          moneroError(
            "deposit_claimed",
            mine || this.isEarlierClaimKey(view.claimKey, claim.index)
              ? `deposit ${claim.txid} is already credited to this wallet: an earlier claim of it ` +
                  "turned it into notes (they are in your balance, or were spent since)"
              : `deposit ${claim.txid} was claimed first by another key (someone else holding its tx key); ` +
                  "this wallet cannot receive it",
            { txid: claim.txid, state: view.state },
          ),
        );
      case "rejected":
      case "expired":
        if (!mine) return "repost";
        throw this.forgetClaim(
          claim,
          moneroError(
            "deposit_rejected",
            view.state === "expired"
              ? `the claim of ${claim.txid} expired: not enough guardians could verify it in time ` +
                  "(is the transaction mined, and sent to the federation's address?); claim it again"
              : `the guardians refused the claim of ${claim.txid}: ${rejectionText(view.closedReason)}`,
            { txid: claim.txid, reason: view.closedReason ?? view.state },
          ),
        );
    }
  }

  /** Drops the claim and ends its log entry failed (with `reason`), in one write. */
  private async dropClaim(claim: ClaimRecord, reason: Error): Promise<void> {
    await this.ctx.run(async () => {
      // Only this record (a newer claim of the txid, with another tx key, stays).
      const raw = await this.db.get(P_CLAIM + claim.txid);
      if (!raw) return;
      const stored = parseJson<ClaimRecord>(raw);
      if (stored.index !== claim.index) return;
      const entry = await this.pendingEntry(stored);
      await this.db.write([
        del(P_CLAIM + claim.txid),
        ...(entry ? [this.ctx.operations.failOp(entry, reason)] : []),
      ]);
    });
  }

  /** Drops a claim the federation settled against it, in the background; returns the error to throw. */
  private forgetClaim(claim: ClaimRecord, reason: Error): Error {
    this.dropClaim(claim, reason).catch((e: unknown) =>
      this.ctx.warn(`could not drop claim ${claim.txid}: ${errorText(e)}`),
    );
    return reason;
  }

  /**
   * One transaction: the deposit as input (signed by the claim key), fresh notes of its amount, or,
   * when the claim names another half's output (`into`), that output worth the deposit less the fee
   * the output pays the federation (`into.fee`; the transaction's fee is then exactly that).
   */
  private issueDeposit(claim: ClaimRecord, view: DepositView): Promise<ClaimDepositResult> {
    return this.ctx.run(async () => {
      // Finished meanwhile (a concurrent call or resume); the stored record is the latest choice.
      const raw = await this.db.get(P_CLAIM + claim.txid);
      if (!raw)
        throw moneroError("deposit_claimed", `deposit ${claim.txid} was already turned into notes`, {
          txid: claim.txid,
        });
      const current = parseJson<ClaimRecord>(raw);
      const amount = BigInt(view.amount ?? "0");
      const intoFee = BigInt(current.into?.fee ?? "0");
      const into =
        current.into && amount >= BigInt(current.into.amountMin) && amount > intoFee
          ? current.into
          : undefined;
      const { notes, dust } = into ? { notes: [], dust: 0n } : this.depositNotes(amount);
      const seed = this.claimSeed(current.index);
      const input = depositInput(this.instanceId, amount, fromHex(current.txid));
      // The claim leaves its table in the transaction's own write, and comes back if it is refused.
      const r = await this.mint().issueLocked("deposit", {
        inputs: [input],
        signers: [this.crypto.ed25519Signer(seed, this.claimKeyOf(current))],
        outputs: notes,
        ...(into
          ? { extra: [{ module: into.module, amount: amount - intoFee, payload: fromHex(into.payload) }] }
          : {}),
        attach: { claim: { ...current }, ...into?.attach },
        writes: () => [del(P_CLAIM + current.txid)],
      });
      return {
        ...r,
        depositTxid: current.txid,
        dust,
        ...(into ? { into: { amount: amount - intoFee, fee: intoFee } } : {}),
      };
    });
  }

  /**
   * Claims a deposit (with its tx key, or the pending claim of `txid`, sealed or not) to be spent
   * into another half's output instead of notes (`into`), then waits for it as claimDeposit does.
   * A claim already turned into notes is gone: `unknown_claim`.
   */
  async claimDepositInto(
    deposit: { readonly txid: string; readonly txKey?: string },
    into: DepositInto,
    options: ClaimDepositOptions = {},
  ): Promise<ClaimDepositResult> {
    const claim = await this.ctx.run(async () => {
      let base: ClaimRecord;
      if (deposit.txKey === undefined) base = await this.pendingClaim(deposit.txid);
      else {
        const { txid, txKey } = checkDepositProof({ txid: deposit.txid, txKey: deposit.txKey });
        base = await this.recordClaim(txid, txKey);
      }
      const withInto: ClaimRecord = { ...base, into };
      await this.db.write([put(P_CLAIM + base.txid, json(withInto))]);
      return withInto;
    });
    return this.awaitClaim(claim, options);
  }

  /** This wallet's pending claim of `txid`, or `unknown_claim`. */
  private async pendingClaim(txid: string): Promise<ClaimRecord> {
    const id = txid.trim().toLowerCase();
    const raw = /^[0-9a-f]{64}$/.test(id) ? await this.db.get(P_CLAIM + id) : undefined;
    if (!raw)
      throw moneroError(
        "unknown_claim",
        `this wallet has no pending claim of deposit ${txid.slice(0, 100)}: either it was turned into notes ` +
          "already (resume does that; see the balance) or it was never claimed here (claim it, or seal it, first)",
        { txid: txid.slice(0, 100) },
      );
    return parseJson<ClaimRecord>(raw);
  }
  private depositView(client: FederationClient, txid: string): Promise<DepositView | undefined> {
    return this.agreed(client, depositPath(txid), DepositViewSchema);
  }
}
