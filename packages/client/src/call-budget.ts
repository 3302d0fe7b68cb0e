import { RaftClientError } from './raft-client-error.js';

/** setTimeout fires at once for longer delays; a deadline further out than this (24.8 days) is left to the step itself. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The deadline and abort signal of one call that takes more than one step (a machine client's
 * schema read, then the operation), so that the whole call keeps the one deadline callers are
 * promised. A step shared with other calls is waited for, not cancelled: the others still need it.
 */
export class CallBudget {
  private readonly deadline: number;

  constructor(
    /** The call, for error messages: `command or query "addItem" of group "inventory"`. */
    private readonly what: string,
    private readonly deadlineMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.deadline = Date.now() + deadlineMs;
  }

  /** What is left of the deadline for the next step (at least 1 ms: a step that got here may still try once). */
  remainingMs(): number {
    return Math.max(1, this.deadline - Date.now());
  }

  /** `step`'s outcome, unless the call's signal fires (`aborted`) or its deadline passes (`deadline_exceeded`) first. */
  wait<T>(step: Promise<T>, waitingFor: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const signal = this.signal;
      const onAbort = () => settle(() => reject(new RaftClientError('aborted', 'the call was aborted by its signal', { cause: signal?.reason })));
      const onDeadline = () =>
        settle(() =>
          reject(new RaftClientError('deadline_exceeded', `${this.what} did not succeed within ${this.deadlineMs} ms: ${waitingFor} took too long`, { retryable: true })),
        );
      const left = this.deadline - Date.now();
      const timer = left > MAX_TIMER_MS ? undefined : setTimeout(onDeadline, left);
      const settle = (done: () => void) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        done();
      };
      // Attached before anything can return, so a shared step that fails later is never an unhandled rejection.
      step.then(
        (value) => settle(() => resolve(value)),
        (e: unknown) => settle(() => reject(e)),
      );
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
