// What the consensus engine hands to its driver and what it is restored from.

export enum Step {
  Propose = 0,
  Prevote = 1,
  Precommit = 2,
}

/** The durable part of the chain: everything needed to validate the next block. */
export interface ChainState {
  /** The next height to decide (heights start at 0). */
  readonly height: number;
  /** Id of the block decided at height - 1 (zeros before the first). */
  readonly lastBlockId: Uint8Array;
  /** Per origin guardian, the sequence number of its last committed bundle (0: none). */
  readonly originSeq: readonly number[];
  /** Sessions 0..sessionsSigned-1 are stored with a quorum of signatures. */
  readonly sessionsSigned: number;
}

/**
 * Tendermint's per-height variables. Written before any message that depends on them is sent,
 * so that a guardian restarted at any instant never signs two different votes for one slot.
 */
export interface RoundSnapshot {
  readonly height: number;
  readonly round: number;
  readonly step: Step;
  readonly lockedRound: number;
  readonly lockedBlock: Uint8Array | null;
  readonly validRound: number;
  readonly validBlock: Uint8Array | null;
  /**
   * Every envelope this guardian signed at this height (proposals and votes), and the prevotes of
   * others that prove its lock / valid value; resent after a restart and while stuck.
   */
  readonly sent: readonly Uint8Array[];
}

export interface DecidedBlock {
  readonly height: number;
  readonly round: number;
  readonly blockId: Uint8Array;
  readonly block: Uint8Array;
  /** Precommit envelopes of a quorum; empty when the block came inside a signed session. */
  readonly certificate: readonly Uint8Array[];
}

export interface SessionRecord {
  readonly session: number;
  readonly sessionHash: Uint8Array;
  readonly blockIds: readonly Uint8Array[];
  readonly signatures: readonly { readonly signer: number; readonly signature: Uint8Array }[];
}

export type PersistOp =
  | { readonly kind: "decided"; readonly decided: DecidedBlock; readonly chain: ChainState }
  | { readonly kind: "round"; readonly round: RoundSnapshot }
  | { readonly kind: "ownBundle"; readonly seq: number; readonly envelope: Uint8Array }
  | { readonly kind: "sessionSigned"; readonly record: SessionRecord; readonly sessionsSigned: number };

export interface CommittedBundle {
  readonly origin: number;
  readonly seq: number;
  readonly items: readonly Uint8Array[];
}

export interface Commit {
  readonly height: number;
  readonly blockId: Uint8Array;
  readonly bundles: readonly CommittedBundle[];
}

export interface Outgoing {
  /** A guardian index, or "all" for every other guardian. */
  readonly to: number | "all";
  readonly bytes: Uint8Array;
}

/** Proof that a guardian signed two different messages for one slot; anyone can verify it. */
export interface Evidence {
  readonly kind: "equivocation";
  readonly sender: number;
  readonly what: "proposal" | "prevote" | "precommit" | "bundle" | "sessionSig";
  readonly height: number;
  readonly round: number;
  readonly first: Uint8Array;
  readonly second: Uint8Array;
}

/** The driver answers these from its store (the engine never reads the disk). */
export interface CatchUpRequest {
  readonly peer: number;
  readonly height: number;
  readonly sessionsSigned: number;
  /** The engine's clock when it asked (the driver's byte rate per peer is measured on it). */
  readonly at: number;
}

export interface Output {
  /** Write all of these in one atomic transaction BEFORE sending anything below. */
  readonly persist: PersistOp[];
  readonly send: Outgoing[];
  readonly commits: Commit[];
  readonly evidence: Evidence[];
  readonly catchUp: CatchUpRequest[];
  /** Own items now durable inside a signed bundle. */
  readonly bundled: { readonly seq: number; readonly items: readonly Uint8Array[] }[];
  readonly sessionsSigned: SessionRecord[];
  /**
   * True when `send` carries a message this guardian signed for the first time (a proposal, a vote,
   * a bundle): `persist` must then reach stable storage before sending, or a guardian restarted
   * after a power cut could sign a different message for the same slot. Otherwise the write may be
   * flushed lazily: LMDB commits in order, so it becomes durable with the next synced one, and a
   * lost decided block is simply learned again from peers.
   */
  syncRequired: boolean;
}

export interface RestoredState {
  readonly chain: ChainState;
  readonly round: RoundSnapshot | null;
  /** Own bundles with seq above chain.originSeq[self], in order. */
  readonly ownBundles: readonly Uint8Array[];
  /** Ids of the blocks already decided in the current (incomplete) session. */
  readonly sessionBlockIds: readonly Uint8Array[];
  /** Complete sessions not yet signed by a quorum (at most a few recent ones). */
  readonly unsignedSessions: readonly {
    readonly session: number;
    readonly blockIds: readonly Uint8Array[];
  }[];
}

export function genesisState(n: number): RestoredState {
  return {
    chain: {
      height: 0,
      lastBlockId: new Uint8Array(32),
      originSeq: new Array<number>(n).fill(0),
      sessionsSigned: 0,
    },
    round: null,
    ownBundles: [],
    sessionBlockIds: [],
    unsignedSessions: [],
  };
}

export const DROP_REASONS = [
  "malformed",
  "badSignature",
  "stale",
  "future",
  "futureBufferFull",
  "futureBytesFull",
  "duplicate",
  "wrongProposer",
  "invalidBlock",
  "invalidCertificate",
  "invalidSession",
  "bundleOutOfWindow",
  "unexpected",
] as const;
export type DropReason = (typeof DROP_REASONS)[number];
