// One Watch stream, whatever carries it (a gRPC bidi call or the JSON gateway's chunked POST):
// creates, cancels and progress requests in, responses out, as etcd's watch server answers them.
// - Watch ids are per stream: a create with watch_id 0 gets the lowest free id counting up from
//   the last one given (etcd's rule); a requested id already in use is refused. A refused create
//   is answered created+canceled with watch_id -1 and the reason, as etcd does.
// - A cancel is confirmed (canceled, with the watch's id) after the last response of the watch;
//   a cancel of an unknown id gets no answer, as in etcd.
// - A progress request is answered once for the whole stream (watch_id -1) with the lowest
//   revision every watch of the stream has reached: each watch is asked for its progress and
//   the answer goes out when all have given it, so no event at or below that revision can follow.
// - Slow readers: when the transport's buffer is full the watch that sent is held (the backend
//   waits for resume()) until the transport drains.
// - `fragment`: a response of such a watch that would be maxRequestBytes or more is sent in
//   pieces, each but the last marked fragment=true (etcd's sendFragments; clients reassemble).
//   Without it a revision always goes whole, whatever its size, as in etcd.
import type { Logger } from '@raftkit/framework';
import type { WatchCreateRequest, WatchResponse } from '../api/etcd-types.js';
import type { MetaBackend, WatchHandle } from '../api/meta-backend.js';
import { MetaError } from '../api/meta-error.js';
import { WATCH_FILTERS, enumName } from './enums.js';
import { encodeEventBytes } from './watch-response-encoder.js';
import { encodeHeader, encodeWatchResponse } from './encode.js';
import type { HeaderCache } from './header-cache.js';
import { toNumber } from './int64.js';
import type { WireResponseHeader, WireWatchCreateRequest, WireWatchRequest, WireWatchResponse } from './wire-types.js';

export interface WatchTransport {
  /** Sends one response; false when the transport's buffer is full (it calls drained() later). */
  send(response: WireWatchResponse): boolean;
}

interface Entry {
  id: number;
  handle: (WatchHandle & { resume(): void }) | undefined;
  /** Returned false to the backend: waits for the transport to drain. */
  held: boolean;
  /** Canceled (by the client, the backend or the stream's end): its sink takes nothing more. */
  done: boolean;
  /** The client asked for large responses in fragments. */
  fragment: boolean;
}

/** etcd's --max-request-bytes default: the size from which a fragmenting watch's response is split. */
const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;
/** A response's bytes besides its events (header, ids, flags), counted generously. */
const RESPONSE_OVERHEAD_BYTES = 128;

interface ProgressRound {
  waiting: Set<number>;
  header: WireResponseHeader | undefined;
}

const ZERO_KEY = Buffer.from([0]);

export class WatchSession {
  private readonly entries = new Map<number, Entry>();
  private nextId = 0;
  private rounds: ProgressRound[] = [];
  private closed = false;

  constructor(
    private readonly backend: MetaBackend,
    private readonly transport: WatchTransport,
    private readonly headers: HeaderCache,
    private readonly logger: Logger,
    private readonly maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES,
  ) {}

  /** One request of the stream (requests of no known kind are ignored, as etcd does). */
  request(w: WireWatchRequest): void {
    if (this.closed) return;
    if (w.create_request) this.create(w.create_request);
    else if (w.cancel_request) this.cancel(toNumber(w.cancel_request.watch_id));
    else if (w.progress_request) this.progress();
  }

  /** The transport can take more: lets the held watches go on. */
  drained(): void {
    for (const e of [...this.entries.values()]) {
      if (!e.held || e.done) continue;
      e.held = false;
      e.handle?.resume();
    }
  }

  /** The stream is over: cancels every watch on it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const e of this.entries.values()) {
      e.done = true;
      e.handle?.cancel();
    }
    this.entries.clear();
    this.rounds = [];
  }

  get watchCount(): number {
    return this.entries.size;
  }

  private create(c: WireWatchCreateRequest): void {
    const key = c.key && c.key.length > 0 ? c.key : ZERO_KEY;
    const rangeEnd = c.range_end ?? Buffer.alloc(0);
    if (rangeEnd.length > 0 && !rangeEnd.equals(ZERO_KEY) && Buffer.compare(key, rangeEnd) >= 0) return this.refuse('mvcc: watcher range is empty');
    const requested = Number(c.watch_id ?? 0);
    if (!Number.isSafeInteger(requested)) return this.refuse(`etcdserver: invalid argument: watch_id ${String(c.watch_id)} is out of range`);
    if (requested !== 0 && this.entries.has(requested)) return this.refuse('mvcc: duplicate watch ID provided on the WatchStream');
    const id = requested !== 0 ? requested : this.autoId();

    const request: WatchCreateRequest = {
      key,
      rangeEnd,
      startRevision: Math.max(0, toNumber(c.start_revision)),
      progressNotify: c.progress_notify === true,
      filters: (c.filters ?? []).map((f) => enumName(WATCH_FILTERS, f)).filter((f) => f !== undefined),
      prevKv: c.prev_kv === true,
      watchId: id,
      fragment: c.fragment === true,
    };
    const entry: Entry = { id, handle: undefined, held: false, done: false, fragment: request.fragment };
    this.entries.set(id, entry);
    try {
      const handle = this.backend.watch(request, { send: (r) => this.deliver(entry, r) });
      if (entry.done) handle.cancel();
      else entry.handle = handle;
    } catch (e) {
      this.entries.delete(id);
      entry.done = true;
      if (!(e instanceof MetaError)) this.logger.error({ err: errorFields(e) }, 'watch: the backend failed to create a watch');
      this.refuse(e instanceof MetaError ? e.message : new MetaError('internal').message);
    }
  }

  private autoId(): number {
    while (this.entries.has(this.nextId)) this.nextId++;
    return this.nextId++;
  }

  /** A response from the backend for one watch. */
  private deliver(entry: Entry, r: WatchResponse): boolean {
    if (this.closed || entry.done) return true;
    if (r.canceled) {
      // The backend ended the watch (a compacted start revision): its id is free again.
      entry.done = true;
      if (this.entries.get(entry.id) === entry) this.entries.delete(entry.id);
      this.forgetProgress(entry.id);
    } else if (!r.created && r.events.length === 0 && this.claimProgress(entry.id, r)) {
      return !entry.held;
    }
    const wire = encodeWatchResponse(r);
    this.headers.note(wire.header);
    let ok = true;
    for (const piece of entry.fragment ? fragments(wire, this.maxRequestBytes) : [wire]) ok = this.transport.send(piece) && ok;
    if (!ok && !entry.done) entry.held = true;
    return ok;
  }

  private cancel(id: number): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    entry.done = true;
    entry.handle?.cancel();
    this.control(this.headers.get(), id, { canceled: true });
    this.forgetProgress(id);
  }

  private progress(): void {
    const live = [...this.entries.values()].filter((e) => !e.done && e.handle);
    if (live.length === 0) return this.control(this.headers.get(), -1, {});
    this.rounds.push({ waiting: new Set(live.map((e) => e.id)), header: undefined });
    for (const e of live) e.handle!.requestProgress();
  }

  /** Takes a watch's progress notification into the oldest progress round waiting for it. */
  private claimProgress(id: number, r: WatchResponse): boolean {
    const round = this.rounds.find((x) => x.waiting.has(id));
    if (!round) return false;
    round.waiting.delete(id);
    const header = encodeHeader(r.header);
    if (!round.header || BigInt(header.revision) < BigInt(round.header.revision)) round.header = header;
    this.flushRounds();
    return true;
  }

  private forgetProgress(id: number): void {
    for (const round of this.rounds) round.waiting.delete(id);
    this.flushRounds();
  }

  /** Answers the progress requests whose watches have all reported, in the order asked. */
  private flushRounds(): void {
    while (this.rounds.length > 0 && this.rounds[0]!.waiting.size === 0) {
      const round = this.rounds.shift()!;
      this.control(round.header ?? this.headers.get(), -1, {});
    }
  }

  private refuse(reason: string): void {
    this.control(this.headers.get(), -1, { created: true, canceled: true, cancel_reason: reason });
  }

  /** A response the stream makes itself (not a watch's): sent even when the transport is full. */
  private control(header: WireResponseHeader, watchId: number, fields: Partial<WireWatchResponse>): void {
    this.transport.send({
      header,
      watch_id: String(watchId),
      created: false,
      canceled: false,
      compact_revision: '0',
      cancel_reason: '',
      fragment: false,
      events: [],
      ...fields,
    });
  }
}

function errorFields(e: unknown): object {
  return e instanceof Error ? { message: e.message, stack: e.stack } : { message: String(e) };
}

/**
 * etcd's sendFragments: pieces of at least one event each, each under `maxBytes` when it can be,
 * every one but the last marked fragment. A response under the limit, or of one event, goes whole.
 */
export function fragments(wire: WireWatchResponse, maxBytes: number): WireWatchResponse[] {
  if (wire.events.length < 2) return [wire];
  const sizes = wire.events.map((e) => encodeEventBytes(e).length + 6);
  if (sizes.reduce((a, b) => a + b, RESPONSE_OVERHEAD_BYTES) < maxBytes) return [wire];
  const out: WireWatchResponse[] = [];
  let start = 0;
  while (start < wire.events.length) {
    let end = start + 1;
    let bytes = RESPONSE_OVERHEAD_BYTES + sizes[start]!;
    while (end < wire.events.length && bytes + sizes[end]! < maxBytes) bytes += sizes[end++]!;
    out.push({ ...wire, events: wire.events.slice(start, end), fragment: end < wire.events.length });
    start = end;
  }
  return out;
}
