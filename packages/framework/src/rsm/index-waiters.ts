// Callers waiting until an index is applied (read-your-writes through a follower, a read that
// names the index of a write it must see): resolved the moment the applied index passes theirs,
// instead of polling it on a timer (which cost a forwarded write 1-5 ms of latency).

interface Waiter {
  index: number;
  resolve: (reached: boolean) => void;
  timer: NodeJS.Timeout;
}

export class IndexWaiters {
  private waiters: Waiter[] = [];

  /** Resolves true once release() reports `index` or more, false after `timeoutMs`. */
  wait(index: number, applied: number, timeoutMs: number): Promise<boolean> {
    if (applied >= index) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const w: Waiter = {
        index,
        resolve,
        timer: setTimeout(
          () => {
            this.waiters = this.waiters.filter((x) => x !== w);
            resolve(false);
          },
          Math.max(0, timeoutMs),
        ),
      };
      this.waiters.push(w);
    });
  }

  /** The applied index is now `applied`: resolves everyone waiting for it or less. */
  release(applied: number): void {
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      if (w.index > applied) return true;
      clearTimeout(w.timer);
      w.resolve(true);
      return false;
    });
  }
}
