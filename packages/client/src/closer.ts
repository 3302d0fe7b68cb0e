/**
 * The client's close switch. Each call and watch takes its own AbortController from here
 * (linked to the caller's signal, if any), and close() aborts them all. Keeping one controller
 * per call, rather than one listener per call on a shared signal, keeps a busy client from
 * piling up listeners.
 */
export class Closer {
  private readonly live = new Set<AbortController>();
  private isClosed = false;

  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * A signal that fires on close(), on `abort()`, or when `linked` fires. Call `release` when the
   * call is over.
   */
  open(linked?: AbortSignal): { signal: AbortSignal; abort: () => void; release: () => void } {
    const controller = new AbortController();
    const onAbort = () => controller.abort(linked?.reason);
    if (this.isClosed) controller.abort();
    else if (linked?.aborted) onAbort();
    else linked?.addEventListener('abort', onAbort, { once: true });
    this.live.add(controller);
    return {
      signal: controller.signal,
      abort: () => controller.abort(),
      release: () => {
        this.live.delete(controller);
        linked?.removeEventListener('abort', onAbort);
      },
    };
  }

  close(): void {
    this.isClosed = true;
    for (const c of this.live) c.abort();
    this.live.clear();
  }
}
