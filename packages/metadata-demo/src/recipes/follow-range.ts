// "Get at R, then watch from R + 1": a range of keys followed without a gap or a repeat. Should
// the watch be cancelled (its start was compacted away, or the node lost its history to a
// snapshot), the range is read again and the follower told to start over from that state.
import type { Event, KeyRange, KeyValue } from '../api/etcd-types.js';
import type { MetaBackend } from '../api/meta-backend.js';
import { rangeRequest, watchRequest } from '../api/request-builders.js';

export interface RangeFollower {
  /** The whole state of the range at `revision` (first, and again after a reset). */
  reset(kvs: KeyValue[], revision: number): void;
  /** Changes after the last state or batch, one revision's events together, in order. */
  changes(events: Event[], revision: number): void;
  /** A failure reading the range; following goes on after `retryMs`. */
  error?(e: unknown): void;
}

export interface FollowOptions {
  /** Pause after a failed read before the next try (default 500 ms). */
  retryMs?: number;
  prevKv?: boolean;
}

/** Follows `range` until the returned function is called. */
export function followRange(backend: MetaBackend, range: KeyRange, follower: RangeFollower, o: FollowOptions = {}): () => void {
  let stopped = false;
  let stopWatch: (() => void) | undefined;
  const retryMs = o.retryMs ?? 500;
  const run = async (): Promise<void> => {
    while (!stopped) {
      let revision: number;
      try {
        const r = await backend.range(rangeRequest(range.key, { rangeEnd: range.rangeEnd }));
        revision = r.header.revision;
        if (stopped) return;
        follower.reset(r.kvs, revision);
      } catch (e) {
        follower.error?.(e);
        await new Promise((r) => setTimeout(r, retryMs));
        continue;
      }
      await new Promise<void>((ended) => {
        const handle = backend.watch(watchRequest(range.key, { rangeEnd: range.rangeEnd, startRevision: revision + 1, prevKv: o.prevKv ?? false }), {
          send: (w) => {
            if (w.canceled) {
              ended();
              return true;
            }
            if (w.events.length > 0) {
              // A response may carry several revisions: hand them over one revision at a time.
              let start = 0;
              for (let i = 1; i <= w.events.length; i++) {
                if (i === w.events.length || w.events[i]!.kv.modRevision !== w.events[start]!.kv.modRevision) {
                  follower.changes(w.events.slice(start, i), w.events[start]!.kv.modRevision);
                  start = i;
                }
              }
            }
            return true;
          },
        });
        stopWatch = () => {
          handle.cancel();
          ended();
        };
      });
    }
  };
  void run();
  return () => {
    stopped = true;
    stopWatch?.();
  };
}
