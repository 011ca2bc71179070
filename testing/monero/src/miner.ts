// A regtest "chain clock": mines a block now and then while a test or a benchmark waits on the
// federation (as a real chain does), and remembers when each block count was reached.
import type { DaemonRpc } from "@conclave/monero";
import { mineBlocks } from "./regtest.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class BlockMiner {
  private running: Promise<void> | undefined;
  private stopping = false;
  private everyMs = 1000;
  /** generateblocks calls that failed (retried at the next tick: a dead loop would hang a test). */
  readonly failures: string[] = [];
  /** When each block count (height + 1) was reached, by performance.now(). */
  readonly reachedAt = new Map<number, number>();

  constructor(
    private readonly daemon: DaemonRpc,
    private readonly address: string,
  ) {}

  /** Mines one block every `everyMs` until stop(); a second start while running changes nothing. */
  start(everyMs = 1000): void {
    if (this.running && !this.stopping) return;
    this.stopping = false;
    this.everyMs = everyMs;
    this.running = (async () => {
      while (!this.stopping) {
        await sleep(everyMs);
        if (this.stopping) break;
        await this.mine(1).catch((e: unknown) => {
          this.failures.push(e instanceof Error ? e.message : String(e));
        });
      }
    })();
  }

  /** Stops the loop; resolves once a block being mined is in. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /**
   * Runs `f` with the loop stopped, then restarts it if it was running. For a wallet's `transfer`:
   * wallet-rpc's transfer can stall (minutes, seen here) while blocks keep arriving.
   */
  async paused<T>(f: () => Promise<T>): Promise<T> {
    const wasRunning = this.isRunning;
    await this.stop();
    try {
      return await f();
    } finally {
      if (wasRunning) this.start(this.everyMs);
    }
  }

  get isRunning(): boolean {
    return this.running !== undefined && !this.stopping;
  }

  /** Mines `n` blocks now; returns the new block count. */
  async mine(n: number): Promise<number> {
    const count = (await mineBlocks(this.daemon, n, this.address)) + 1;
    if (!this.reachedAt.has(count)) this.reachedAt.set(count, performance.now());
    return count;
  }
}
