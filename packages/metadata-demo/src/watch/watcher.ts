// One watch's state: which keys, which events, where it is in the history.
import type { Event, WatchCreateRequest } from '../api/etcd-types.js';
import type { WatchSink } from '../api/meta-backend.js';
import { inBounds, type KeyBounds } from '../store/key-range.js';
import type { ChangeEvent } from '../store/store-types.js';

/**
 * - `catchup`: reading the history in pages (from `next` up to the store's revision);
 * - `live`: every revision is handed to it as it is applied;
 * - `paused`: its sink is full; it waits for resume() and then catches up from the history;
 * - `done`: canceled.
 */
export type WatcherState = 'catchup' | 'live' | 'paused' | 'done';

/** A change's event as watches receive it, one object for all of them (its wire form is made once). */
const plainEvents = new WeakMap<ChangeEvent, Event>();
const eventsWithPrev = new WeakMap<ChangeEvent, Event>();

function sharedEvent(e: ChangeEvent, withPrev: boolean): Event {
  const cache = withPrev ? eventsWithPrev : plainEvents;
  let out = cache.get(e);
  if (!out) {
    out = withPrev && e.prevKv ? { type: e.type, kv: e.kv, prevKv: e.prevKv } : { type: e.type, kv: e.kv };
    cache.set(e, out);
  }
  return out;
}

export class Watcher {
  state: WatcherState = 'live';
  /** The next revision it has not been given (every revision before it was, or was filtered out). */
  next = 0;
  /** A progress notification was asked for while it was not live: sent when it is. */
  pendingProgress = false;
  /** Whether it was sent anything since the last progress tick. */
  sentSinceTick = false;
  /** A catch-up page is scheduled. */
  scheduled = false;
  readonly noPut: boolean;
  readonly noDelete: boolean;

  constructor(
    readonly id: number,
    readonly bounds: KeyBounds,
    readonly request: WatchCreateRequest,
    readonly sink: WatchSink,
  ) {
    this.noPut = request.filters.includes('noput');
    this.noDelete = request.filters.includes('nodelete');
  }

  /** The events of one revision this watch wants, as it wants them (prev_kv only if asked). */
  select(events: readonly ChangeEvent[]): Event[] {
    const out: Event[] = [];
    for (const e of events) {
      if ((e.type === 'put' && this.noPut) || (e.type === 'delete' && this.noDelete)) continue;
      if (!inBounds(this.bounds, e.kv.key)) continue;
      out.push(sharedEvent(e, this.request.prevKv));
    }
    return out;
  }
}
