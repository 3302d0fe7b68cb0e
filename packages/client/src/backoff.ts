/**
 * Exponential backoff with jitter: the n-th delay is drawn from [base/2, base] where
 * base = min(maxMs, initialMs * 2^n). The jitter spreads retries of many clients after a
 * leader change; the lower half-bound keeps delays from collapsing to zero.
 */
export class Backoff {
  private attempts = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The next delay in milliseconds. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempts, 30));
    this.attempts++;
    return base / 2 + this.random() * (base / 2);
  }

  reset(): void {
    this.attempts = 0;
  }
}

/** Waits `ms`, or less when `signal` fires first (it resolves either way; the caller checks the signal). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
