// The watches of one node, served from this node's own applied state. A new watch catches up
// in pages (bounded memory; each page ends with a whole revision) from the recent revisions kept
// in memory (recent-history.ts) or, further back, from the history table, then
// goes live: the machine hands it each revision right after the entry that wrote it is applied.
// The switch from catch-up to live happens in the same synchronous step that finds the history
// read up to the store's revision, so no revision is missed or given twice. A watch whose sink
// is full is paused and later catches up from the history again, as etcd's unsynced watchers
// do; one that falls behind a compaction (or a snapshot install whose history starts later) is
// canceled with the compact revision, as etcd does.
import type { ResponseHeader, WatchCreateRequest, WatchResponse, Event } from '../api/etcd-types.js';
import type { WatchHandle, WatchSink } from '../api/meta-backend.js';
import type { MetaMachine } from '../machine/meta.machine.js';
import { boundsOf } from '../store/key-range.js';
import type { RevisionChanges } from '../store/store-types.js';
import { RecentHistory } from './recent-history.js';
import { Watcher } from './watcher.js';
import { MetaError } from '../api/meta-error.js';

/** etcd's default progress-notify interval (--experimental-watch-progress-notify-interval). */
export const DEFAULT_PROGRESS_NOTIFY_MS = 10 * 60 * 1000;

export interface WatchHubOptions {
  machine: MetaMachine;
  /** The response header for a store revision (this node's ids and term). */
  header: (revision: number) => ResponseHeader;
  progressNotifyMs?: number;
  /** A catch-up page: at most this many events and bytes (then the rest of its last revision). */
  pageEvents?: number;
  pageBytes?: number;
  /** The recent revisions kept in memory for catch-ups: at most this many, and this many bytes. */
  recentRevisions?: number;
  recentBytes?: number;
  /** Where a watch's unexpected failure is reported. */
  onError?: (e: unknown) => void;
}

const ZERO = Buffer.from([0]);

export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  private readonly offChanges: () => void;
  private readonly offRestored: () => void;
  private readonly ticker: NodeJS.Timeout;
  private readonly pageEvents: number;
  private readonly pageBytes: number;
  private readonly recent: RecentHistory;

  constructor(private readonly o: WatchHubOptions) {
    this.pageEvents = o.pageEvents ?? 1000;
    this.pageBytes = o.pageBytes ?? 1024 * 1024;
    this.recent = new RecentHistory(o.recentRevisions ?? 8192, o.recentBytes ?? 16 * 1024 * 1024);
    this.offChanges = o.machine.onChanges((c) => this.onChanges(c));
    this.offRestored = o.machine.onRestored(() => this.onRestored());
    this.ticker = setInterval(() => this.progressTick(), o.progressNotifyMs ?? DEFAULT_PROGRESS_NOTIFY_MS);
    this.ticker.unref();
  }

  get size(): number {
    return this.watchers.size;
  }

  private get store() {
    return this.o.machine.store;
  }

  /** Starts a watch (see MetaBackend.watch); `created` is sent before this returns. */
  watch(r: WatchCreateRequest, sink: WatchSink): WatchHandle & { resume(): void } {
    // etcd: an empty key is "\0", the smallest key; range_end "\0" is every key from it.
    const key = r.key.length === 0 ? ZERO : r.key;
    const w = new Watcher(r.watchId, boundsOf({ key, rangeEnd: r.rangeEnd }), r, sink);
    const current = this.store.counters.revision;
    w.next = r.startRevision > 0 ? r.startRevision : current + 1;
    this.watchers.add(w);
    w.state = w.next <= current ? 'catchup' : 'live';
    if (!this.send(w, { ...this.response(w, current), created: true })) w.state = 'paused';
    else if (w.state === 'catchup') this.schedule(w);
    return {
      watchId: w.id,
      cancel: () => this.stop(w),
      requestProgress: () => this.requestProgress(w),
      resume: () => this.resume(w),
    };
  }

  /** Stops every watch without a word (the node is stopping) and lets go of the machine. */
  close(): void {
    for (const w of this.watchers) w.state = 'done';
    this.watchers.clear();
    clearInterval(this.ticker);
    this.offChanges();
    this.offRestored();
  }

  private response(w: Watcher, revision: number, events: Event[] = []): WatchResponse {
    return { header: this.o.header(revision), watchId: w.id, created: false, canceled: false, compactRevision: 0, cancelReason: '', fragment: false, events };
  }

  /** Sends; false when the sink is full (the watch then pauses). */
  private send(w: Watcher, r: WatchResponse): boolean {
    if (w.state === 'done') return true;
    if (r.events.length > 0) w.sentSinceTick = true;
    return w.sink.send(r);
  }

  private stop(w: Watcher): void {
    w.state = 'done';
    this.watchers.delete(w);
  }

  private cancel(w: Watcher, fields: Partial<WatchResponse>): void {
    const r = { ...this.response(w, this.store.counters.revision), canceled: true, ...fields };
    w.sink.send(r);
    this.stop(w);
  }

  private schedule(w: Watcher): void {
    if (w.scheduled || w.state !== 'catchup') return;
    w.scheduled = true;
    setImmediate(() => {
      w.scheduled = false;
      try {
        this.catchUp(w);
      } catch (e) {
        // The store is closed for a snapshot install: the install's end restarts the catch-up.
        if (e instanceof MetaError && e.code === 'timeout') return;
        this.o.onError?.(e);
        if (w.state !== 'done') this.cancel(w, { cancelReason: `etcdserver: watch failed: ${(e as Error).message}` });
      }
    });
  }

  /** One page of the history; then live, or the next page on a later turn of the event loop. */
  private catchUp(w: Watcher): void {
    if (w.state !== 'catchup') return;
    const { revision, compactRevision } = this.store.counters;
    if (w.next < compactRevision) return this.cancel(w, { compactRevision });
    if (w.next > revision) return this.goLive(w);
    const { events, through } = this.recent.covers(w.next, revision) ? this.recentPage(w, revision) : this.storedPage(w, revision);
    w.next = through + 1;
    if (events.length > 0 && !this.send(w, this.response(w, revision, events))) {
      w.state = 'paused';
      return;
    }
    // Read up to the store's revision in this same step: nothing was applied since, live now.
    if (w.next > revision) return this.goLive(w);
    this.schedule(w);
  }

  /** A catch-up page from memory: the events live watches got, shared. */
  private recentPage(w: Watcher, revision: number): { events: Event[]; through: number } {
    const page = this.recent.page(w.next, revision, { maxEvents: this.pageEvents, maxBytes: this.pageBytes });
    const events: Event[] = [];
    for (const c of page.changes) for (const e of w.select(c.events)) events.push(e);
    return { events, through: page.through };
  }

  /** A catch-up page from the history table. */
  private storedPage(w: Watcher, revision: number): { events: Event[]; through: number } {
    const page = this.store.eventsPage(w.bounds, w.next, revision, { maxEvents: this.pageEvents, maxBytes: this.pageBytes });
    const events: Event[] = [];
    for (const e of page.events) {
      if ((e.type === 'put' && w.noPut) || (e.type === 'delete' && w.noDelete)) continue;
      const prevKv = w.request.prevKv ? this.store.previousKv(e.kv.key, e.revision) : undefined;
      events.push(prevKv ? { type: e.type, kv: e.kv, prevKv } : { type: e.type, kv: e.kv });
    }
    return { events, through: page.through };
  }

  private goLive(w: Watcher): void {
    w.state = 'live';
    if (w.pendingProgress) {
      w.pendingProgress = false;
      this.sendProgress(w);
    }
  }

  private onChanges(c: RevisionChanges): void {
    this.recent.push(c);
    for (const w of this.watchers) {
      if (w.state !== 'live' || c.revision < w.next) continue;
      w.next = c.revision + 1;
      const events = w.select(c.events);
      if (events.length > 0 && !this.send(w, this.response(w, c.revision, events))) w.state = 'paused';
    }
  }

  /** Another replica's state replaced this one: every watch re-reads from where it was, in the new history. */
  private onRestored(): void {
    this.recent.clear();
    for (const w of this.watchers) {
      if (w.state === 'live' || w.state === 'catchup') {
        w.state = 'catchup';
        this.schedule(w);
      }
    }
  }

  private resume(w: Watcher): void {
    if (w.state !== 'paused') return;
    w.state = 'catchup';
    this.schedule(w);
  }

  /** An empty response whose header revision says every event up to it was sent: only while live. */
  private sendProgress(w: Watcher): void {
    if (!this.send(w, this.response(w, this.store.counters.revision))) w.state = 'paused';
  }

  private requestProgress(w: Watcher): void {
    if (w.state === 'done') return;
    if (w.state === 'live') this.sendProgress(w);
    else w.pendingProgress = true;
  }

  /** etcd's progress_notify: watches that got nothing since the last tick get an empty response. */
  private progressTick(): void {
    for (const w of this.watchers) {
      if (w.request.progressNotify && w.state === 'live' && !w.sentSinceTick) this.sendProgress(w);
      w.sentSinceTick = false;
    }
  }
}
