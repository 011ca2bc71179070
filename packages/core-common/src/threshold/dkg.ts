// The key ceremony: a distributed key generation without a trusted dealer (joint-Feldman, as in
// Pedersen '91 / GJKR '99), making `keyCount` independent threshold keys at once. Every guardian
// deals a random polynomial of degree t - 1 per key; the federation's secret for a key is the sum
// of the qualified dealers' constant terms, which nobody learns; guardian i's secret share is the
// sum of the shares dealt to it, and its public key share and the public key follow from the
// published Feldman commitments.
//
// A pure state machine like the consensus engine: messages in, messages out, no clock, no socket,
// randomness only from the injected `rng`. It runs over authenticated, encrypted point-to-point
// links (the sender of a message is known and a message to one peer is private). Messages carry no
// ceremony id: the driver binds its link sessions to one ceremony attempt, so that nothing from an
// aborted attempt reaches the next. All n guardians must take part: with no clock a slow guardian
// and a silent one look alike, so a silent guardian stalls the ceremony (`progress().waitingFor`
// names it) and the operators restart without it. Rounds, each begun once all n messages of the
// previous one are in:
//
//  1 commit   broadcast sha256(own commitment vectors). Nobody reveals anything before everyone is
//             bound, so a rushing guardian cannot choose its polynomial after seeing the others'
//             (e.g. to cancel them out and know the secret key).
//  2 deal     to each peer: the commitment vectors (same for all) and its private shares, one per key.
//  3 complain broadcast an echo of rounds 1-2 (per sender, a hash of what we received from it) and
//             the dealers whose shares to us do not match their commitments. A dealer whose reveal
//             does not match its round-1 hash is disqualified.
//  4 answer   broadcast an echo of rounds 1-3 and, for each complaint against us, the disputed shares
//             in public. Everyone checks them: an accused dealer that does not answer, or answers
//             with shares that do not match its commitments, is disqualified; a correct answer
//             replaces the complainer's bad shares. Over authenticated links an honest guardian only
//             complains about a cheating dealer, so answers only ever reveal shares of Byzantine
//             complainers (fewer than t of them), which they knew already.
//  5 confirm  broadcast an echo of rounds 1-4. When all n agree, every honest guardian that finishes
//             holds the same public transcript, so the same qualified set and the same public keys.
//
// Disqualify or abort. Faults that everyone sees the same way (checked by the echoes) and that
// prove who is at fault disqualify the dealer: a reveal that does not match its hash, a complaint
// not answered or answered wrongly. The dealer stays a guardian (it holds valid shares), its
// polynomial is left out, and the result lists it, so a driver that wants a clean ceremony refuses
// a result with disqualified dealers and restarts. Everything else aborts, with a typed failure
// naming the suspects and an abort notice to all peers, so every operator sees why:
//  - echoes that disagree: without signatures nobody can prove whether the sender equivocated or
//    the echoer lies, and going on could leave guardians with different keys;
//  - a malformed message (bad encoding, wrong sizes, a point off the curve or outside the subgroup,
//    a scalar out of range), or two different messages for one round from one peer: only this
//    guardian sees it, and the peer is provably faulty;
//  - fewer than t qualified dealers.
// Honest guardians are never disqualified and there are at least t of them, so every key includes
// honest randomness. Disqualification keeps the joint-Feldman bias (GJKR '99): a Byzantine dealer
// may decide, after seeing the honest reveals, whether its own polynomial counts. Gennaro et al.
// (CT-RSA 2003) show this does not break threshold Schnorr signatures, and the argument carries
// over to BLS; a driver that refuses results with disqualified dealers turns that choice into a
// visible abort. Security is "with abort": if one honest guardian finishes and another aborts (a
// Byzantine echo sent to one of them), the operators restart; the `transcript` hash in the result
// lets them check out of band that every guardian finished with the same keys.
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { z } from "zod";
import { bytesEqual, fromHex, toHex, utf8 } from "../bytes.js";
import { CodecError, Writer } from "../codec.js";
import {
  DIGEST_BYTES,
  decodeDkgMessage,
  digestOf,
  dkgLimits,
  encodeDkgMessage,
  encodePublicPart,
  roundOf,
  type Answer,
  type DkgMessage,
} from "./dkg-messages.js";
import {
  Fr,
  assert,
  evaluatePolynomial,
  isScalar,
  randomPolynomial,
  scalarFromBytes,
  scalarToBytes,
  type G2Point,
  type Rng,
} from "./poly.js";
import {
  G2_POINT_BYTES,
  commitPolynomial,
  decodeG2,
  encodeG2,
  evaluateCommitments,
  verifyShares,
} from "./shares.js";

export interface DkgConfig {
  /** Guardians in the ceremony, 1..dkgLimits.guardiansMax. */
  readonly n: number;
  /** Shares needed to use a key: 1..n; for the federation t = n - floor((n - 1) / 3). */
  readonly t: number;
  /** This guardian's index, 0..n-1. */
  readonly self: number;
  /** Independent keys to make, 1..dkgLimits.keysMax. */
  readonly keyCount: number;
  /** Cryptographically secure randomness; called only by the first start(). */
  readonly rng: Rng;
}

export interface DkgKey {
  /** The aggregate public key, a compressed G2 point (96 bytes). */
  readonly publicKey: Uint8Array;
  /** Every guardian's public key share, by guardian index (compressed G2). */
  readonly publicKeyShares: readonly Uint8Array[];
  /** This guardian's secret share: keep it secret. */
  readonly secretShare: bigint;
}

export interface Disqualification {
  readonly guardian: number;
  readonly reason: string;
}

export interface DkgResult {
  /** Dealers whose polynomials make up the keys (at least t of them). */
  readonly qualified: readonly number[];
  readonly disqualified: readonly Disqualification[];
  /** One entry per key, in the order of the ceremony's keys. */
  readonly keys: readonly DkgKey[];
  /** sha256 of the agreed public transcript: equal at every guardian that finished. */
  readonly transcript: Uint8Array;
}

export type DkgFailureCode =
  /** A peer sent something undecodable or invalid (sizes, points, scalars, indices). */
  | "malformed-message"
  /** A peer sent two different messages for one round. */
  | "equivocation"
  /** Echoes disagree: a guardian sent different messages to different peers, or an echo lies. */
  | "inconsistent-view"
  /** Fewer than t dealers survived the complaints. */
  | "too-few-qualified"
  /** A peer gave up and told us why. */
  | "peer-aborted";

/** Why the ceremony stopped: a value, never thrown. `guardians` are the suspects, first the likeliest. */
export interface DkgFailure {
  readonly code: DkgFailureCode;
  readonly guardians: readonly number[];
  readonly message: string;
}

export interface DkgSend {
  /** A guardian index, or every other guardian. */
  readonly to: number | "all";
  readonly message: DkgMessage;
}

/**
 * What the driver must do after each call: send `send` (in order), and once `done` or `failed`
 * appears (it then appears in every later output too) persist the result or report the failure.
 */
export interface DkgOutput {
  readonly send: readonly DkgSend[];
  readonly done?: DkgResult;
  readonly failed?: DkgFailure;
}

const ROUNDS = 5;
const FINISHED = ROUNDS + 1;
const DOMAIN_COMMIT = utf8.encode("conclave/dkg/commit/v1");
const DOMAIN_VIEW = utf8.encode("conclave/dkg/view/v1");
const DOMAIN_TRANSCRIPT = utf8.encode("conclave/dkg/transcript/v1");

type RoundMessage = Exclude<DkgMessage, { kind: "abort" }>;
type Slot = RoundMessage | undefined;

function isIndexList(values: readonly number[], n: number, exclude: number): boolean {
  return values.every(
    (v, k) => Number.isInteger(v) && v >= 0 && v < n && v !== exclude && (k === 0 || v > values[k - 1]!),
  );
}

/** Abort notices carry printable ASCII only (peer text ends up in logs). */
function sanitizeReason(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, dkgLimits.abortReasonBytesMax);
}

export class Dkg {
  readonly n: number;
  readonly t: number;
  readonly self: number;
  readonly keyCount: number;
  private readonly rng: Rng;

  /** Drawn by the first start(); with the inbox, everything this guardian sends follows from them. */
  private polys: (readonly bigint[])[] | undefined;
  private ownCommitments: (readonly G2Point[])[] = [];
  private ownCommitmentBytes: (readonly Uint8Array[])[] = [];
  /** 0 before start(); r in 1..5: our round-r message is out and we collect round r; 6: finished. */
  private round = 0;
  /** inbox[r - 1][sender]: the first valid round-r message from each guardian, ours included. */
  private readonly inbox: Slot[][];
  /** Decoded commitment vectors per dealer, per key. */
  private readonly commitments: ((readonly G2Point[])[] | undefined)[];
  /** The shares dealt to us, per dealer, per key (replaced by a correct public answer if needed). */
  private readonly sharesFrom: (readonly bigint[] | undefined)[];
  /** Per sender, a hash chain over the public parts of its messages of the rounds processed so far. */
  private readonly view: Uint8Array[];
  private readonly disqualified = new Map<number, string>();
  private outcome: DkgResult | undefined;
  private failure: DkgFailure | undefined;

  constructor(config: DkgConfig) {
    const { n, t, self, keyCount } = config;
    const int = (v: number, lo: number, hi: number): boolean => Number.isInteger(v) && v >= lo && v <= hi;
    if (!int(n, 1, dkgLimits.guardiansMax)) throw new RangeError(`n must be 1..${dkgLimits.guardiansMax}`);
    if (!int(t, 1, n)) throw new RangeError(`t must be 1..n (${n}), got ${t}`);
    if (!int(self, 0, n - 1)) throw new RangeError(`self must be 0..${n - 1}, got ${self}`);
    if (!int(keyCount, 1, dkgLimits.keysMax))
      throw new RangeError(`keyCount must be 1..${dkgLimits.keysMax}`);
    this.n = n;
    this.t = t;
    this.self = self;
    this.keyCount = keyCount;
    this.rng = config.rng;
    this.inbox = Array.from({ length: ROUNDS }, () => new Array<Slot>(n).fill(undefined));
    this.commitments = new Array<(readonly G2Point[])[] | undefined>(n).fill(undefined);
    this.sharesFrom = new Array<readonly bigint[] | undefined>(n).fill(undefined);
    // Binding the parameters into every echo makes guardians with different parameters disagree early.
    const params = new Writer().raw(DOMAIN_VIEW).u16(n).u16(t).u16(keyCount).finish();
    this.view = Array.from({ length: n }, (_, j) => digestOf(params, new Writer().u16(j).finish()));
  }

  /**
   * Starts the ceremony; later calls (after a reconnect, or on a restored instance) return every
   * message sent so far, byte for byte the same, for peers that may have missed them.
   */
  start(): DkgOutput {
    if (this.polys !== undefined || this.failure !== undefined) return this.output(this.resend());
    const out: DkgSend[] = [];
    this.begin(Array.from({ length: this.keyCount }, () => randomPolynomial(this.t, this.rng)));
    this.broadcast(this.inbox[0]![this.self]!, out);
    this.advance(out);
    return this.output(out);
  }

  /** Handles one message from guardian `from` (as authenticated by the link). */
  receive(from: number, message: DkgMessage): DkgOutput {
    this.assertPeer(from);
    const out: DkgSend[] = [];
    if (this.failure !== undefined || this.outcome !== undefined) return this.output(out);
    if (message.kind === "abort") {
      this.fail(
        {
          code: "peer-aborted",
          guardians: [from],
          message: `guardian ${from} aborted the ceremony: ${sanitizeReason(message.reason)}`,
        },
        out,
      );
      return this.output(out);
    }
    const problem = this.accept(from, message);
    if (problem !== undefined) this.fail(problem, out);
    else this.advance(out);
    return this.output(out);
  }

  /** receive() for bytes off the wire: an undecodable message is that peer's fault, not a crash. */
  receiveBytes(from: number, bytes: Uint8Array): DkgOutput {
    this.assertPeer(from);
    let message: DkgMessage;
    try {
      message = decodeDkgMessage(bytes);
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      const out: DkgSend[] = [];
      if (this.failure === undefined && this.outcome === undefined) {
        this.fail(
          {
            code: "malformed-message",
            guardians: [from],
            message: `guardian ${from} sent an undecodable message: ${err.message}`,
          },
          out,
        );
      }
      return this.output(out);
    }
    return this.receive(from, message);
  }

  /** The link layer names the sender; a sender that is not a peer is a bug in the driver. */
  private assertPeer(from: number): void {
    if (!Number.isInteger(from) || from < 0 || from >= this.n || from === this.self) {
      throw new RangeError(`not a peer of guardian ${this.self}: ${from}`);
    }
  }

  get result(): DkgResult | undefined {
    return this.outcome;
  }

  get failed(): DkgFailure | undefined {
    return this.failure;
  }

  /** Where the ceremony stands, and whose messages it waits for: what an operator needs when it stalls. */
  progress(): { readonly round: number; readonly waitingFor: readonly number[] } {
    if (this.round < 1 || this.round > ROUNDS || this.failure !== undefined) {
      return { round: this.round, waitingFor: [] };
    }
    const slots = this.inbox[this.round - 1]!;
    return { round: this.round, waitingFor: slots.flatMap((m, j) => (m === undefined ? [j] : [])) };
  }

  // ---------------------------------------------------------------------------------------------
  // Intake

  /** Validates and stores a message; returns the failure it proves, if any. */
  private accept(from: number, message: RoundMessage): DkgFailure | undefined {
    const shapeError = this.shapeError(from, message);
    if (shapeError !== undefined) {
      return { code: "malformed-message", guardians: [from], message: `guardian ${from} sent ${shapeError}` };
    }
    const round = roundOf(message.kind);
    const slots = this.inbox[round - 1]!;
    const previous = slots[from];
    if (previous !== undefined) {
      // A restarted peer resends what it sent before: identical copies are expected and ignored.
      if (bytesEqual(encodeDkgMessage(previous), encodeDkgMessage(message))) return undefined;
      return {
        code: "equivocation",
        guardians: [from],
        message: `guardian ${from} sent two different round-${round} (${message.kind}) messages`,
      };
    }
    if (message.kind === "deal") {
      const decoded = this.decodeCommitments(message.commitments);
      if (typeof decoded === "string") {
        return { code: "malformed-message", guardians: [from], message: `guardian ${from} sent ${decoded}` };
      }
      this.commitments[from] = decoded;
    }
    slots[from] = message;
    return undefined;
  }

  /** Everything about a message that is cheap to check; undefined when it fits this ceremony. */
  private shapeError(from: number, m: RoundMessage): string | undefined {
    const { n, t, keyCount } = this;
    const scalars = (s: readonly bigint[]): boolean => s.length === keyCount && s.every(isScalar);
    const echo = (e: readonly Uint8Array[]): boolean =>
      e.length === n && e.every((d) => d.length === DIGEST_BYTES);
    switch (m.kind) {
      case "commit":
        return m.digest.length === DIGEST_BYTES ? undefined : "a commit digest of the wrong size";
      case "deal":
        if (m.commitments.length !== keyCount) {
          return `${m.commitments.length} commitment vectors for ${keyCount} keys`;
        }
        if (!m.commitments.every((v) => v.length === t && v.every((c) => c.length === G2_POINT_BYTES))) {
          return `commitment vectors that are not ${t} compressed G2 points each`;
        }
        return scalars(m.shares)
          ? undefined
          : `shares that are not ${keyCount} scalars below the group order`;
      case "complain":
        if (!echo(m.echo)) return `an echo that is not ${n} digests`;
        return isIndexList(m.accused, n, from)
          ? undefined
          : "a complaint list that is not increasing peer indices";
      case "answer":
        if (!echo(m.echo)) return `an echo that is not ${n} digests`;
        if (!isIndexList(answerComplainers(m.answers), n, from)) {
          return "answers whose complainers are not increasing peer indices";
        }
        return m.answers.every((a) => scalars(a.shares))
          ? undefined
          : `answers that are not ${keyCount} scalars below the group order`;
      case "confirm":
        return echo(m.echo) ? undefined : `an echo that is not ${n} digests`;
      default:
        // Unreachable for typed callers; plain objects from elsewhere get a typed failure too.
        return "a message of an unknown kind";
    }
  }

  private decodeCommitments(vectors: readonly (readonly Uint8Array[])[]): (readonly G2Point[])[] | string {
    const out: G2Point[][] = [];
    for (const [key, vector] of vectors.entries()) {
      const points: G2Point[] = [];
      for (const [k, bytes] of vector.entries()) {
        const decoded = decodeG2(bytes);
        if (!decoded.ok)
          return `an invalid commitment (key ${key}, coefficient ${k}): ${decoded.error.message}`;
        points.push(decoded.point);
      }
      out.push(points);
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Rounds

  private begin(polys: (readonly bigint[])[]): void {
    this.polys = polys;
    this.ownCommitments = polys.map(commitPolynomial);
    this.ownCommitmentBytes = this.ownCommitments.map((v) => v.map(encodeG2));
    this.inbox[0]![this.self] = {
      kind: "commit",
      digest: this.commitDigest(this.self, this.ownCommitmentBytes),
    };
    this.round = 1;
  }

  /** Processes every round whose n messages are in, sending our next message after each. */
  private advance(out: DkgSend[]): void {
    while (
      this.failure === undefined &&
      this.round >= 1 &&
      this.round <= ROUNDS &&
      this.inbox[this.round - 1]!.every((m) => m !== undefined)
    ) {
      const round = this.round;
      if (round >= 3 && !this.checkEchoes(round, out)) return;
      // Round 5 only confirms; its messages are not echoed, so they stay out of the transcript.
      if (round < ROUNDS) this.extendView(round);
      switch (round) {
        case 1:
          this.round = 2;
          this.deal(out);
          break;
        case 2:
          this.round = 3;
          this.broadcast({ kind: "complain", echo: [...this.view], accused: this.checkDeals() }, out);
          break;
        case 3:
          this.round = 4;
          this.broadcast({ kind: "answer", echo: [...this.view], answers: this.answersOwed() }, out);
          break;
        case 4:
          this.resolveComplaints();
          this.round = 5;
          this.broadcast({ kind: "confirm", echo: [...this.view] }, out);
          break;
        case 5:
          this.round = FINISHED;
          this.finish(out);
          break;
      }
    }
  }

  /** Round 2: our commitments and our own shares go to the inbox, each peer's shares to that peer. */
  private deal(out: DkgSend[]): void {
    const own = this.dealFor(this.self);
    this.inbox[1]![this.self] = own;
    this.commitments[this.self] = this.ownCommitments;
    for (let peer = 0; peer < this.n; peer++) {
      if (peer !== this.self) out.push({ to: peer, message: this.dealFor(peer) });
    }
  }

  private dealFor(recipient: number): RoundMessage {
    const polys = this.polys!;
    return {
      kind: "deal",
      commitments: this.ownCommitmentBytes,
      shares: polys.map((p) => evaluatePolynomial(p, recipient)),
    };
  }

  /** After round 2: disqualify dealers whose reveal breaks their round-1 hash; accuse bad shares. */
  private checkDeals(): number[] {
    const toCheck: number[] = [];
    for (let j = 0; j < this.n; j++) {
      const deal = this.slot(2, j, "deal");
      this.sharesFrom[j] = deal.shares;
      if (j === this.self) continue;
      const committed = this.slot(1, j, "commit").digest;
      if (bytesEqual(this.commitDigest(j, deal.commitments), committed)) toCheck.push(j);
      else this.disqualify(j, "its round-2 commitments do not match the hash it sent in round 1");
    }
    // One batched check of every dealer's shares; only if it fails, one per dealer to find the culprits.
    const all = (dealers: readonly number[]): boolean =>
      verifyShares(
        dealers.flatMap((j) => this.commitments[j]!),
        this.self,
        dealers.flatMap((j) => this.sharesFrom[j]!),
      );
    if (toCheck.length === 0 || all(toCheck)) return [];
    return toCheck.filter((j) => !all([j]));
  }

  /** Round 4 content: the shares of every guardian that accused us, in public. */
  private answersOwed(): Answer[] {
    const polys = this.polys!;
    const answers: Answer[] = [];
    for (let i = 0; i < this.n; i++) {
      if (i !== this.self && this.slot(3, i, "complain").accused.includes(this.self)) {
        answers.push({ complainer: i, shares: polys.map((p) => evaluatePolynomial(p, i)) });
      }
    }
    return answers;
  }

  /** After round 4: every complaint must have been answered with shares that match the commitments. */
  private resolveComplaints(): void {
    for (let i = 0; i < this.n; i++) {
      for (const j of this.slot(3, i, "complain").accused) {
        if (this.disqualified.has(j)) continue;
        const answer = this.slot(4, j, "answer").answers.find((a) => a.complainer === i);
        if (answer === undefined) {
          this.disqualify(j, `it did not answer guardian ${i}'s complaint about its shares`);
        } else if (!verifyShares(this.commitments[j]!, i, answer.shares)) {
          this.disqualify(
            j,
            `it answered guardian ${i}'s complaint with shares that do not match its commitments`,
          );
        } else if (i === this.self) {
          this.sharesFrom[j] = answer.shares;
        }
      }
    }
  }

  /** After round 5: the transcript is agreed; compute the keys. */
  private finish(out: DkgSend[]): void {
    const qualified = [...Array(this.n).keys()].filter((j) => !this.disqualified.has(j));
    const disqualified = [...this.disqualified.entries()]
      .sort(([a], [b]) => a - b)
      .map(([guardian, reason]) => ({ guardian, reason }));
    if (qualified.length < this.t) {
      const names = disqualified.map((d) => `guardian ${d.guardian}: ${d.reason}`).join("; ");
      this.fail(
        {
          code: "too-few-qualified",
          guardians: disqualified.map((d) => d.guardian),
          message: `only ${qualified.length} dealers qualified, ${this.t} needed (${names})`,
        },
        out,
      );
      return;
    }
    const aggregates = Array.from({ length: this.keyCount }, (_, key) =>
      Array.from({ length: this.t }, (_, k) =>
        qualified.reduce((acc, j) => acc.add(this.commitments[j]![key]![k]!), bls12_381.G2.Point.ZERO),
      ),
    );
    const secretShares = aggregates.map((_, key) =>
      qualified.reduce((acc, j) => Fr.add(acc, this.sharesFrom[j]![key]!), 0n),
    );
    // Every share we kept was checked against its dealer's commitments, so this cannot fail.
    assert(
      verifyShares(aggregates, this.self, secretShares),
      "secret shares do not match the public key shares",
    );
    const keys = aggregates.map((aggregate, key): DkgKey => {
      assert(!aggregate[0]!.is0(), "aggregate public key is the point at infinity");
      return {
        publicKey: encodeG2(aggregate[0]!),
        publicKeyShares: Array.from({ length: this.n }, (_, i) =>
          encodeG2(evaluateCommitments(aggregate, i)),
        ),
        secretShare: secretShares[key]!,
      };
    });
    const transcript = digestOf(DOMAIN_TRANSCRIPT, ...this.view);
    this.outcome = { qualified, disqualified, keys, transcript };
  }

  // ---------------------------------------------------------------------------------------------
  // Echoes

  /** Folds round `round`'s messages into each sender's view hash. */
  private extendView(round: number): void {
    const r = new Writer().u8(round).finish();
    for (let j = 0; j < this.n; j++) {
      this.view[j] = digestOf(this.view[j]!, r, encodePublicPart(this.inbox[round - 1]![j]!));
    }
  }

  /**
   * The echoes in round `round`'s messages must equal our view of rounds 1..round-1, for every
   * sender other than the echoer and us. Those two entries are not compared because agreement does
   * not need them: what an echoer sent us directly is what counts, and what we sent is what every
   * honest guardian received; comparing them would only let one Byzantine echoer make one honest
   * guardian abort (it can anyway, with an abort notice, but no need to invite it).
   */
  private checkEchoes(round: number, out: DkgSend[]): boolean {
    const pairs: { sender: number; echoer: number }[] = [];
    for (let echoer = 0; echoer < this.n; echoer++) {
      if (echoer === this.self) continue;
      const echo = this.echoOf(this.inbox[round - 1]![echoer]!);
      for (let sender = 0; sender < this.n; sender++) {
        if (sender === echoer || sender === this.self || bytesEqual(echo[sender]!, this.view[sender]!))
          continue;
        pairs.push({ sender, echoer });
      }
    }
    if (pairs.length === 0) return true;
    const suspects = rankSuspects(pairs);
    const shown = pairs
      .slice(0, PAIRS_SHOWN_MAX)
      .map((p) => `guardian ${p.echoer} about guardian ${p.sender}`);
    if (pairs.length > PAIRS_SHOWN_MAX) shown.push(`${pairs.length - PAIRS_SHOWN_MAX} more`);
    this.fail(
      {
        code: "inconsistent-view",
        guardians: suspects,
        message:
          `echoes of rounds 1-${round - 1} disagree with what we received (${shown.join(", ")}): a ` +
          `guardian sent different messages to different guardians, or an echo misreports; most ` +
          `suspect: guardian ${suspects[0]!}; restart the ceremony without the faulty guardian`,
      },
      out,
    );
    return false;
  }

  private echoOf(m: RoundMessage): readonly Uint8Array[] {
    assert(
      m.kind === "complain" || m.kind === "answer" || m.kind === "confirm",
      "echo in a round without one",
    );
    return m.echo;
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private commitDigest(dealer: number, commitments: readonly (readonly Uint8Array[])[]): Uint8Array {
    const w = new Writer().raw(DOMAIN_COMMIT).u16(this.n).u16(this.t).u16(this.keyCount).u16(dealer);
    for (const vector of commitments) for (const c of vector) w.fixed(c, G2_POINT_BYTES);
    return digestOf(w.finish());
  }

  private slot<K extends RoundMessage["kind"]>(
    round: number,
    sender: number,
    kind: K,
  ): Extract<RoundMessage, { kind: K }> {
    const m = this.inbox[round - 1]![sender];
    assert(m !== undefined && m.kind === kind, `round ${round} slot of guardian ${sender} holds no ${kind}`);
    return m as Extract<RoundMessage, { kind: K }>;
  }

  private disqualify(dealer: number, reason: string): void {
    if (!this.disqualified.has(dealer)) this.disqualified.set(dealer, reason);
  }

  private broadcast(message: DkgMessage, out: DkgSend[]): void {
    if (message.kind !== "abort") this.inbox[roundOf(message.kind) - 1]![this.self] = message;
    if (this.n > 1) out.push({ to: "all", message });
  }

  private fail(failure: DkgFailure, out: DkgSend[]): void {
    this.failure = failure;
    if (this.n > 1)
      out.push({ to: "all", message: { kind: "abort", reason: sanitizeReason(failure.message) } });
  }

  private resend(): DkgSend[] {
    const out: DkgSend[] = [];
    if (this.failure !== undefined) {
      if (this.n > 1)
        out.push({ to: "all", message: { kind: "abort", reason: sanitizeReason(this.failure.message) } });
      return out;
    }
    if (this.n === 1) return out;
    for (let round = 1; round <= Math.min(this.round, ROUNDS); round++) {
      if (round === 2) {
        for (let peer = 0; peer < this.n; peer++) {
          if (peer !== this.self) out.push({ to: peer, message: this.dealFor(peer) });
        }
      } else {
        const own = this.inbox[round - 1]![this.self];
        if (own !== undefined) out.push({ to: "all", message: own });
      }
    }
    return out;
  }

  private output(send: DkgSend[]): DkgOutput {
    return {
      send,
      ...(this.outcome !== undefined ? { done: this.outcome } : {}),
      ...(this.failure !== undefined ? { failed: this.failure } : {}),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Persistence

  /**
   * Everything needed to resume after a restart: the polynomials (SECRET: store the snapshot like a
   * key, and delete it once the result is stored) and every message received. Plain JSON.
   * Persist it after every call, before sending that call's messages.
   */
  snapshot(): DkgSnapshot {
    const received: { from: number; message: string }[] = [];
    for (const slots of this.inbox) {
      slots.forEach((m, from) => {
        if (m !== undefined && from !== this.self)
          received.push({ from, message: toHex(encodeDkgMessage(m)) });
      });
    }
    return {
      version: 1,
      n: this.n,
      t: this.t,
      self: this.self,
      keyCount: this.keyCount,
      polynomials: this.polys?.map((p) => p.map((c) => toHex(scalarToBytes(c)))) ?? null,
      received,
      failure:
        this.failure === undefined ? null : { ...this.failure, guardians: [...this.failure.guardians] },
    };
  }

  /**
   * Rebuilds a ceremony from a snapshot by replaying it: the same polynomials and messages give the
   * same state, so start() then resends exactly what was sent before. `rng` is only used when the
   * snapshot was taken before start(). Throws DkgSnapshotError if the snapshot is not one this
   * code wrote.
   */
  static restore(snapshot: unknown, rng: Rng = noRandomness): Dkg {
    const parsed = snapshotSchema.safeParse(snapshot);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new DkgSnapshotError(
        `invalid DKG snapshot at ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "unknown"}`,
      );
    }
    const s = parsed.data;
    let dkg: Dkg;
    try {
      dkg = new Dkg({
        n: s.n,
        t: s.t,
        self: s.self,
        keyCount: s.keyCount,
        rng,
      });
    } catch (err) {
      throw new DkgSnapshotError(`invalid DKG snapshot: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (s.polynomials !== null) {
      const polys = s.polynomials.map((p) => p.map((hex) => scalarFromBytes(fromHex(hex))));
      if (polys.length !== s.keyCount || !polys.every((p) => p.length === s.t)) {
        throw new DkgSnapshotError("invalid DKG snapshot: polynomials do not match keyCount and t");
      }
      if (!polys.every((p) => p.every((c) => c !== undefined && c !== 0n))) {
        throw new DkgSnapshotError("invalid DKG snapshot: polynomial coefficient out of range");
      }
      dkg.begin(polys.map((p) => p.map((c) => c!)));
    }
    for (const { from, message } of s.received) {
      if (from === s.self || from >= s.n)
        throw new DkgSnapshotError(`invalid DKG snapshot: message from ${from}`);
      let decoded: DkgMessage;
      try {
        decoded = decodeDkgMessage(fromHex(message));
      } catch (err) {
        throw new DkgSnapshotError(`invalid DKG snapshot: message from ${from}: ${String(err)}`);
      }
      dkg.receive(from, decoded);
    }
    if (s.failure !== null) dkg.failure = s.failure;
    return dkg;
  }
}

const PAIRS_SHOWN_MAX = 8;

/**
 * Everyone involved in a disagreement, likeliest culprit first: the guardian in the most
 * disagreeing (sender, echoer) pairs, and on a tie the sender. One equivocating sender shows up in
 * every pair seen by the guardian it lied to; one lying echoer in every pair it reports.
 */
function rankSuspects(pairs: readonly { sender: number; echoer: number }[]): number[] {
  const count = new Map<number, number>();
  const senders = new Set<number>();
  for (const { sender, echoer } of pairs) {
    count.set(sender, (count.get(sender) ?? 0) + 1);
    count.set(echoer, (count.get(echoer) ?? 0) + 1);
    senders.add(sender);
  }
  const rank = (g: number): number => count.get(g)! * 2 + (senders.has(g) ? 1 : 0);
  return [...count.keys()].sort((a, b) => rank(b) - rank(a) || a - b);
}

function noRandomness(): never {
  throw new Error("this restored ceremony had not started: pass an rng to Dkg.restore");
}

function answerComplainers(answers: readonly Answer[]): number[] {
  return answers.map((a) => a.complainer);
}

export class DkgSnapshotError extends Error {
  override readonly name = "DkgSnapshotError";
}

const hexScalar = z.string().regex(/^[0-9a-f]{64}$/, "a 32-byte scalar as 64 lowercase hex digits");

const snapshotSchema = z.strictObject({
  version: z.literal(1),
  n: z.number().int().min(1).max(dkgLimits.guardiansMax),
  t: z.number().int().min(1).max(dkgLimits.guardiansMax),
  self: z
    .number()
    .int()
    .min(0)
    .max(dkgLimits.guardiansMax - 1),
  keyCount: z.number().int().min(1).max(dkgLimits.keysMax),
  polynomials: z.array(z.array(hexScalar).max(dkgLimits.guardiansMax)).max(dkgLimits.keysMax).nullable(),
  received: z
    .array(
      z.strictObject({
        from: z
          .number()
          .int()
          .min(0)
          .max(dkgLimits.guardiansMax - 1),
        message: z.string().regex(/^([0-9a-f]{2})*$/, "lowercase hex"),
      }),
    )
    .max(ROUNDS * dkgLimits.guardiansMax),
  failure: z
    .strictObject({
      code: z.enum([
        "malformed-message",
        "equivocation",
        "inconsistent-view",
        "too-few-qualified",
        "peer-aborted",
      ]),
      guardians: z
        .array(
          z
            .number()
            .int()
            .min(0)
            .max(dkgLimits.guardiansMax - 1),
        )
        .max(dkgLimits.guardiansMax),
      message: z.string().max(16_384),
    })
    .nullable(),
});

export type DkgSnapshot = z.infer<typeof snapshotSchema>;
