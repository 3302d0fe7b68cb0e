import type { NodeId } from '../core/types.js';
import type { TransportEvents, TransportLogger } from './transport.js';

/**
 * The events a transport owes the host, queued and delivered in order from a microtask: never
 * re-entrantly from inside send(), never after close, and a throwing handler is logged, not fatal.
 */
export class EventOutbox {
  private pending: ((ev: TransportEvents) => void)[] = [];
  private scheduled = false;

  /** `target` answers the host's events, or null once the transport is closed. */
  constructor(
    private readonly target: () => TransportEvents | null,
    private readonly log: TransportLogger,
    private readonly what: string,
  ) {}

  emit(fn: (ev: TransportEvents) => void): void {
    if (this.target() === null) return;
    this.pending.push(fn);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flush);
    }
  }

  /** Reports `group` unreachable at `to` once per `seen` set (one send's worth). */
  unreachable(group: string, to: NodeId, seen: Set<string>): void {
    const key = `${to}\u0000${group}`;
    if (seen.has(key)) return;
    seen.add(key);
    this.emit((ev) => ev.onUnreachable(group, to));
  }

  clear(): void {
    this.pending = [];
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const list = this.pending;
    this.pending = [];
    for (const fn of list) {
      const ev = this.target();
      if (ev === null) return;
      try {
        fn(ev);
      } catch (err) {
        this.log.error({ err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, `${this.what}: an event handler threw`);
      }
    }
  };
}
