// One background loop for the modules' pollers (the monero module's chain watcher, payout signer and
// reserves monitor; the bridge's EVM watcher and mint-log index): run a step, wait pollMs (or what
// nextMs says: 0 while catching up), again; after a failed step wait pollMs × 2^failures (capped),
// and say so through the callbacks. stop() clears the timer and waits for a step in flight.

export interface PollLoopOptions {
  readonly pollMs: number;
  /** The exponent of the back-off stops growing here. */
  readonly backoffExponentMax: number;
  /** The longest wait after failures. */
  readonly backoffMaxMs: number;
  /** After each failed step, with the failures in a row and the wait before the next step. */
  readonly onFailure?: (error: unknown, failures: number, retryInMs: number) => void;
  /** After a step succeeds following `failures` failed ones. */
  readonly onRecovered?: (failures: number) => void;
  /** The wait after a step that succeeded (default pollMs): e.g. 0 while a scan is catching up. */
  readonly nextMs?: () => number;
  /** stop() waits at most this long for a step in flight (a hung node must not hold up a shutdown). */
  readonly stopWaitMs?: number;
}

export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private isStopped = true;
  private failures = 0;

  constructor(
    private readonly step: () => Promise<void>,
    private readonly options: PollLoopOptions,
  ) {}

  /** True before start() and after stop(): a long step checks it to give up early. */
  get stopped(): boolean {
    return this.isStopped;
  }

  start(): void {
    this.isStopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.options.stopWaitMs === undefined) {
      await this.running;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.stopWaitMs);
      timer.unref();
    });
    await Promise.race([this.running, bound]);
    clearTimeout(timer);
  }

  private schedule(ms: number): void {
    if (this.isStopped) return;
    this.timer = setTimeout(() => {
      this.running = this.step().then(
        () => {
          if (this.failures > 0) this.options.onRecovered?.(this.failures);
          this.failures = 0;
          this.schedule(this.options.nextMs?.() ?? this.options.pollMs);
        },
        (e: unknown) => {
          this.failures++;
          const delay = Math.min(
            this.options.pollMs * 2 ** Math.min(this.failures, this.options.backoffExponentMax),
            this.options.backoffMaxMs,
          );
          this.options.onFailure?.(e, this.failures, delay);
          this.schedule(delay);
        },
      );
    }, ms);
  }
}
