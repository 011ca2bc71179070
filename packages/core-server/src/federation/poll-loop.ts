// One background loop for the modules' pollers (the monero module's chain watcher, payout signer and
// reserves monitor; the bridge's EVM watcher and mint-log index): run a step, wait pollMs (or what
// nextMs says: 0 while catching up), again; after a failed step wait pollMs × 2^failures (capped),
// and say so through the callbacks. poke() runs the step now when new work arrived (no wait for the
// rest of pollMs). stop() clears the timer and waits for a step in flight.

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
  /** A step is running (between its timer firing and its promise settling). */
  private stepping = false;
  /** poke() came while a step was running: the next step follows it at once. */
  private again = false;

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

  /**
   * New work arrived (e.g. a new duty in the consensus state): the step runs now instead of after
   * the rest of its wait, or, when one is running, once more right after it. Pokes during one step
   * coalesce into one more step, so the steps stay bounded by the pokes' sources (each a change of
   * the consensus state) plus the polls. Ignored during a failure back-off (a failing node is not
   * asked more often), before start() and after stop().
   */
  poke(): void {
    if (this.isStopped || this.failures > 0) return;
    if (this.stepping) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
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
      this.timer = undefined;
      this.stepping = true;
      this.again = false;
      this.running = this.step().then(
        () => {
          this.stepping = false;
          if (this.failures > 0) this.options.onRecovered?.(this.failures);
          this.failures = 0;
          this.schedule(this.again ? 0 : (this.options.nextMs?.() ?? this.options.pollMs));
        },
        (e: unknown) => {
          this.stepping = false;
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
