// Feeds one watcher from a group's applied entries at the pace its socket takes them: history
// (and anything applied while the watcher is paused) is read from the manager's ring of recent
// entries, never copied into a per-watcher buffer, so a reader of a large backlog gets all of it
// as fast as it drains and a paused one costs nothing but its position.
import { RaftkitError } from '../common/errors.js';
import type { AppliedEntry, WatchHandle, WatchSubscription } from '../api/node-service.js';

/** What a feed reads: the manager's ring of recent entries and its apply/restore events. */
export interface WatchSource {
  readonly recentFrom: number;
  recent(from: number): AppliedEntry[] | undefined;
  onApplied(listener: (e: AppliedEntry) => void): () => void;
  onRestored(listener: (index: number) => void): () => void;
}

/** Entries handed over per turn of the event loop while catching up, so a long backlog never blocks the loop. */
const SLICE = 1000;

/**
 * Starts feeding `sub` from index `from` (throws compacted when the ring no longer holds it).
 * Entries go out in index order without gaps or duplicates. `pause()` stops delivery at once
 * (from inside `onEntry` too); `resume()` continues from the next index out of the ring; when
 * the ring has moved past it meanwhile, the stream ends with `compacted` and the index to resume
 * from elsewhere. Live entries are handed over as they are applied once the feed has caught up.
 */
export function feedWatch(group: string, source: WatchSource, from: number, sub: WatchSubscription): WatchHandle {
  const compacted = (index: number) =>
    new RaftkitError('compacted', `index ${index} of "${group}" is no longer available to watch; resume from ${source.recentFrom} or later`, {
      firstIndex: source.recentFrom,
    });
  if (source.recent(from) === undefined) throw compacted(from);
  let next = from;
  let done = false;
  let paused = false;
  /** Caught up: entries are handed over from onApplied as they come. */
  let live = false;
  let scheduled: NodeJS.Immediate | undefined;

  const deliver = (e: AppliedEntry) => {
    next = e.index + 1;
    sub.onEntry(e);
  };
  const schedule = () => {
    if (!scheduled && !done) scheduled = setImmediate(catchUp);
  };
  // Reads the ring from `next`; switching to live happens in the same synchronous block as the
  // last read, so no entry falls between the two.
  const catchUp = () => {
    scheduled = undefined;
    if (done || paused) return;
    const backlog = source.recent(next);
    if (backlog === undefined) {
      const err = compacted(next);
      stop();
      sub.onClose(err.code, err.message, err.details);
      return;
    }
    let sent = 0;
    for (const e of backlog) {
      if (done || paused) return;
      if (e.index < next) continue;
      if (sent++ === SLICE) {
        schedule();
        return;
      }
      deliver(e);
    }
    if (!done && !paused) live = true;
  };
  const offApplied = source.onApplied((e) => {
    if (done || !live || e.index < next) return;
    deliver(e);
  });
  const offRestored = source.onRestored((index) => {
    if (done) return;
    // A follower installs a snapshot only when it lacks what the leader's log keeps, which is
    // also all the history the snapshot carries: the entries from `next` on are not here.
    stop();
    sub.onClose('compacted', `the node installed a snapshot at ${index}; resume the watch from ${source.recentFrom} here, or on another node`, {
      firstIndex: source.recentFrom,
    });
  });
  const stop = () => {
    done = true;
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    offApplied();
    offRestored();
  };
  schedule();
  return {
    cancel: stop,
    pause() {
      paused = true;
      live = false;
    },
    resume() {
      if (!paused) return;
      paused = false;
      schedule();
    },
  };
}
