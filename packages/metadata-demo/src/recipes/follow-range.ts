// "Get at R, then watch from R + 1": a range of keys followed without a gap or a repeat. Should
// the watch be cancelled (its start was compacted away, or the node lost its history to a
// snapshot), the range is read again and the follower told to start over from that state.
import type { Event, KeyRange, KeyValue } from '../api/etcd-types.js';
import type { MetaBackend, WatchHandle } from '../api/meta-backend.js';
import { MetaError } from '../api/meta-error.js';
import { rangeRequest, watchRequest } from '../api/request-builders.js';

export interface RangeFollower {
  /** The whole state of the range at `revision` (first, and again after a reset). */
  reset(kvs: KeyValue[], revision: number): void;
  /** Changes after the last state or batch, one revision's events together, in order. */
  changes(events: Event[], revision: number): void;
  /** A failure reading or watching the range; following goes on after `retryMs` (unless it was the backend closing). */
  error?(e: unknown): void;
}

export interface FollowOptions {
  /** Pause after a failed read before the next try (default 500 ms). */
  retryMs?: number;
  prevKv?: boolean;
}

/** Splits a response's events into revisions (a response may carry several) and hands each over. */
function byRevision(events: Event[], deliver: (events: Event[], revision: number) => void): void {
  let start = 0;
  for (let i = 1; i <= events.length; i++) {
    if (i === events.length || events[i]!.kv.modRevision !== events[start]!.kv.modRevision) {
      deliver(events.slice(start, i), events[start]!.kv.modRevision);
      start = i;
    }
  }
}

/**
 * Follows `range` until the returned function is called, or until the backend answers
 * MetaError 'canceled' (a closed client: there is nothing left to follow with).
 */
export function followRange(backend: MetaBackend, range: KeyRange, follower: RangeFollower, o: FollowOptions = {}): () => void {
  let stopped = false;
  let stopWatch: (() => void) | undefined;
  const retryMs = o.retryMs ?? 500;
  const failed = async (e: unknown): Promise<boolean> => {
    follower.error?.(e);
    if (e instanceof MetaError && e.code === 'canceled') return false;
    await new Promise((r) => setTimeout(r, retryMs));
    return true;
  };

  /** Watches from `revision + 1` until the watch ends; resolves how it ended. */
  const watchFrom = (revision: number) =>
    new Promise<{ compacted: boolean; reason: string }>((ended) => {
      let handle: WatchHandle | undefined;
      let over = false;
      const end = (how: { compacted: boolean; reason: string }) => {
        if (over) return;
        over = true;
        stopWatch = undefined;
        handle?.cancel();
        ended(how);
      };
      handle = backend.watch(watchRequest(range.key, { rangeEnd: range.rangeEnd, startRevision: revision + 1, prevKv: o.prevKv ?? false }), {
        send: (w) => {
          if (over) return true;
          if (w.canceled) end({ compacted: w.compactRevision > 0, reason: w.cancelReason });
          else if (w.events.length > 0) {
            byRevision(w.events, (events, rev) => {
              try {
                follower.changes(events, rev);
              } catch (e) {
                // The follower's own failure: reported, and it does not stop the watch.
                follower.error?.(e);
              }
            });
          }
          return true;
        },
      });
      if (over) handle.cancel();
      else stopWatch = () => end({ compacted: false, reason: 'stopped' });
    });

  const run = async (): Promise<void> => {
    while (!stopped) {
      let revision: number;
      try {
        const r = await backend.range(rangeRequest(range.key, { rangeEnd: range.rangeEnd }));
        if (stopped) return;
        revision = r.header.revision;
        follower.reset(r.kvs, revision);
      } catch (e) {
        if (stopped || !(await failed(e))) return;
        continue;
      }
      try {
        const how = await watchFrom(revision);
        // A compaction: read again at once. Anything else (a refused watch, a closed client) is a failure.
        if (!stopped && !how.compacted && !(await failed(new MetaError('canceled', `etcdserver: request cancelled (the watch ended: ${how.reason || 'no reason given'})`)))) return;
      } catch (e) {
        if (stopped || !(await failed(e))) return;
      }
    }
  };
  void run().catch(() => undefined);
  return () => {
    stopped = true;
    stopWatch?.();
  };
}
