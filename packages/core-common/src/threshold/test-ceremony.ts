// Test support, not exported: a deterministic in-memory network that runs a whole key ceremony,
// with hooks to make a guardian Byzantine (rewrite what it sends) or crash and restore it.
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8 } from "../bytes.js";
import { Writer } from "../codec.js";
import { decodeDkgMessage, encodeDkgMessage, type DkgMessage } from "./dkg-messages.js";
import { Dkg, type DkgFailure, type DkgOutput, type DkgResult } from "./dkg.js";
import type { Rng } from "./poly.js";

/** sha256 in counter mode: reproducible randomness for tests only. */
export function seededRng(seed: string): Rng {
  let counter = 0;
  return (bytes: number) => {
    const out = new Uint8Array(bytes);
    for (let offset = 0; offset < bytes; offset += 32) {
      const block = sha256(new Writer().raw(utf8.encode(seed)).u32(counter++).finish());
      out.set(block.subarray(0, Math.min(32, bytes - offset)), offset);
    }
    return out;
  };
}

export interface Envelope {
  readonly from: number;
  readonly to: number;
  readonly bytes: Uint8Array;
}

/**
 * Rewrites what guardian `from` sends to `to`: the message unchanged for honest behaviour,
 * undefined to drop it.
 */
export type Tamper = (from: number, to: number, message: DkgMessage) => DkgMessage | undefined;

export interface CeremonyOptions {
  readonly n: number;
  readonly t: number;
  readonly keyCount?: number;
  readonly seed?: string;
  /** Deliver in a seeded pseudo-random order instead of first-in first-out. */
  readonly shuffle?: boolean;
  readonly tamper?: Tamper;
  /** Called before each delivery; may replace guardians (crash and restore). */
  readonly beforeDelivery?: (ceremony: Ceremony, next: Envelope) => void;
}

export class Ceremony {
  readonly guardians: Dkg[];
  readonly queue: Envelope[] = [];
  /** Everything each guardian sent, in order, after tampering. */
  readonly sent: Envelope[][];
  private readonly order: Rng;

  constructor(private readonly options: CeremonyOptions) {
    const { n, t, keyCount = 1, seed = "ceremony" } = options;
    this.guardians = Array.from(
      { length: n },
      (_, self) => new Dkg({ n, t, self, keyCount, rng: seededRng(`${seed}/guardian/${self}`) }),
    );
    this.sent = Array.from({ length: n }, () => []);
    this.order = seededRng(`${seed}/order`);
  }

  /** Queues a guardian's output as the driver would send it. */
  post(from: number, output: DkgOutput): void {
    for (const { to, message } of output.send) {
      const recipients = to === "all" ? [...this.guardians.keys()].filter((g) => g !== from) : [to];
      for (const recipient of recipients) {
        const tampered =
          this.options.tamper === undefined ? message : this.options.tamper(from, recipient, message);
        if (tampered === undefined) continue;
        const envelope = { from, to: recipient, bytes: encodeDkgMessage(tampered) };
        this.sent[from]!.push(envelope);
        this.queue.push(envelope);
      }
    }
  }

  /** Starts every guardian and delivers until the network is quiet. */
  run(): this {
    this.guardians.forEach((g, i) => this.post(i, g.start()));
    while (this.queue.length > 0) {
      const pick = this.options.shuffle === true ? this.randomIndex(this.queue.length) : 0;
      const next = this.queue[pick]!;
      this.options.beforeDelivery?.(this, next);
      this.queue.splice(pick, 1);
      this.post(next.to, this.guardians[next.to]!.receiveBytes(next.from, next.bytes));
    }
    return this;
  }

  /** The results of the given guardians (all by default); throws if one did not finish. */
  results(guardians: readonly number[] = [...this.guardians.keys()]): DkgResult[] {
    return guardians.map((i) => {
      const g = this.guardians[i]!;
      if (g.result === undefined) {
        throw new Error(`guardian ${i} did not finish: ${g.failed?.message ?? JSON.stringify(g.progress())}`);
      }
      return g.result;
    });
  }

  failures(): (DkgFailure | undefined)[] {
    return this.guardians.map((g) => g.failed);
  }

  private randomIndex(length: number): number {
    const b = this.order(4);
    return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) % length;
  }
}

/** Decodes what a guardian sent, for assertions. */
export function sentMessages(envelopes: readonly Envelope[]): DkgMessage[] {
  return envelopes.map((e) => decodeDkgMessage(e.bytes));
}
