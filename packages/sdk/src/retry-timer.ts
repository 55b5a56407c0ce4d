/**
 * Runs work again after a backoff: `schedule()` arms one timer (a second call
 * while it is armed does nothing), each arming waits twice as long as the last
 * (from `minMs` up to `maxMs`), and `reset()` starts over after a success.
 * The timer never keeps a Node process alive.
 */
export class RetryTimer {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private delayMs = 0;

  constructor(
    private readonly run: () => void,
    private readonly minMs = 500,
    private readonly maxMs = 30_000,
  ) {}

  schedule(): void {
    if (this.timer) return;
    this.delayMs = Math.min(this.maxMs, Math.max(this.minMs, this.delayMs * 2));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.run();
    }, this.delayMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  reset(): void {
    this.delayMs = 0;
  }
}
