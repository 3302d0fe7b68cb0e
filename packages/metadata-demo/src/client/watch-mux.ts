// Every watch of a client on one Watch stream, as etcd's clients do it:
// - Ids are the server's: a create is sent (one at a time) and the next `created` response is its
//   answer (etcd answers a stream's creates in order); a refused create (created + canceled) goes
//   to the caller as such.
// - Responses go to the watch their id names; a progress response for the whole stream
//   (watch_id -1) to the watches that asked for one.
// - Each watch remembers the next revision it needs (after its last event or progress). When the
//   stream breaks (the endpoint died, was paused past the keep-alive timeout, or stopped) the
//   watches are created again on the next endpoint from that revision, so the caller sees no gap
//   and no repeat, and no second `created`; if that revision was compacted meanwhile the server's
//   cancel (with compact_revision) reaches the caller.
// - A sink that answers false pauses the stream until its resume().
// - Closing the client ends every watch with a canceled response (cancel_reason says why).
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import type { WatchCreateRequest, WatchResponse } from '../api/etcd-types.js';
import type { WatchHandle, WatchSink } from '../api/meta-backend.js';
import { decodeWatchResponse } from '../wire/decode-responses.js';
import { encodeWatchCreateRequest } from '../wire/encode-requests.js';
import type { Endpoints } from './endpoints.js';
import { methodOf, type CallSettings } from './unary.js';

interface ClientWatch {
  req: WatchCreateRequest;
  sink: WatchSink;
  /** The server's id on the current stream; -1 while it has none. */
  id: number;
  /** The revision to resume from; 0 until known (the first create asks for req.startRevision). */
  next: number;
  /** The caller got `created`. */
  announced: boolean;
  /** Canceled by the caller: nothing more reaches the sink. */
  cancelled: boolean;
  /** Ended by the server (or the client's close): nothing more reaches the sink. */
  ended: boolean;
  held: boolean;
  wantsProgress: boolean;
}

/** Pause before opening a stream again, doubled after each failure up to the maximum. */
const REOPEN_MIN_MS = 50;
const REOPEN_MAX_MS = 1000;

export class WatchMux {
  private stream: ClientDuplexStream<object, unknown> | undefined;
  private streamEndpoint = -1;
  private opening = false;
  private reopenTimer: NodeJS.Timeout | undefined;
  private reopenDelay = 0;
  /** Watches neither cancelled nor ended, in creation order. */
  private readonly live = new Set<ClientWatch>();
  private readonly byId = new Map<number, ClientWatch>();
  private queue: ClientWatch[] = [];
  private inflight: ClientWatch | undefined;
  private heldCount = 0;
  private closed = false;

  constructor(
    private readonly endpoints: Endpoints,
    private readonly settings: CallSettings,
  ) {}

  get watchCount(): number {
    return this.live.size;
  }

  watch(req: WatchCreateRequest, sink: WatchSink): WatchHandle & { resume(): void } {
    const w: ClientWatch = { req, sink, id: -1, next: 0, announced: false, cancelled: false, ended: false, held: false, wantsProgress: false };
    if (this.closed) {
      // Answered after the caller has its handle, as a stream would.
      queueMicrotask(() => sink.send(this.closedResponse(w, true)));
      w.ended = true;
    } else {
      this.live.add(w);
      this.queue.push(w);
      if (this.stream) this.pump();
      else this.open();
    }
    return {
      get watchId() {
        return w.id;
      },
      cancel: () => this.cancel(w),
      requestProgress: () => this.requestProgress(w),
      resume: () => this.release(w),
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    const stream = this.stream;
    this.stream = undefined;
    stream?.cancel();
    for (const w of [...this.live]) {
      this.finish(w);
      w.sink.send(this.closedResponse(w, !w.announced));
    }
  }

  private closedResponse(w: ClientWatch, created: boolean): WatchResponse {
    return {
      header: { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 },
      watchId: w.id,
      created,
      canceled: true,
      compactRevision: 0,
      cancelReason: 'the client was closed',
      fragment: false,
      events: [],
    };
  }

  private cancel(w: ClientWatch): void {
    if (w.cancelled || w.ended) return;
    w.cancelled = true;
    this.finish(w);
    // Still waiting for its `created`: the cancel goes out when the id is known.
    if (w.id >= 0 && this.stream) this.stream.write({ cancel_request: { watch_id: String(w.id) } });
  }

  private requestProgress(w: ClientWatch): void {
    if (w.cancelled || w.ended) return;
    w.wantsProgress = true;
    if (w.id >= 0 && this.stream) this.stream.write({ progress_request: {} });
  }

  /** The watch takes nothing more (cancelled or ended); its hold on the stream goes. */
  private finish(w: ClientWatch): void {
    this.live.delete(w);
    this.release(w);
  }

  private release(w: ClientWatch): void {
    if (!w.held) return;
    w.held = false;
    this.heldCount--;
    if (this.heldCount === 0) this.stream?.resume();
  }

  private deliver(w: ClientWatch, r: WatchResponse): void {
    if (w.cancelled) return;
    if (!w.sink.send(r) && !w.held && this.live.has(w)) {
      w.held = true;
      this.heldCount++;
      if (this.heldCount === 1) this.stream?.pause();
    }
  }

  // ---- the stream ----

  private open(): void {
    if (this.closed || this.stream || this.opening || this.reopenTimer) return;
    if (this.live.size === 0) return;
    this.opening = true;
    void this.connect().finally(() => (this.opening = false));
  }

  private async connect(): Promise<void> {
    const i = this.endpoints.current;
    const ok = await this.endpoints.ready(i, this.settings.connectTimeoutMs);
    if (this.closed) return;
    if (!ok) {
      this.endpoints.failover(i);
      return this.scheduleReopen();
    }
    const method = methodOf('Watch', 'Watch');
    const stream = this.endpoints.client(i).makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, new Metadata(), {});
    this.stream = stream;
    this.streamEndpoint = i;
    stream.on('data', (raw: unknown) => {
      if (this.stream === stream) this.onResponse(decodeWatchResponse(raw));
    });
    const broken = () => this.onBroken(stream);
    stream.on('error', broken);
    stream.on('end', broken);
    stream.on('close', broken);
    if (this.heldCount > 0) stream.pause();
    this.queue = [...this.live];
    this.pump();
  }

  private scheduleReopen(): void {
    if (this.closed || this.reopenTimer) return;
    this.reopenDelay = Math.min(REOPEN_MAX_MS, Math.max(REOPEN_MIN_MS, this.reopenDelay * 2));
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      this.open();
    }, this.reopenDelay);
  }

  /** The stream failed or ended: every live watch is created again on the next endpoint. */
  private onBroken(stream: ClientDuplexStream<object, unknown>): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    stream.cancel();
    this.endpoints.failover(this.streamEndpoint);
    this.inflight = undefined;
    this.byId.clear();
    for (const w of this.live) w.id = -1;
    this.queue = [];
    this.scheduleReopen();
  }

  /** Sends the next create when none is waiting for its answer. */
  private pump(): void {
    const stream = this.stream;
    if (!stream || this.inflight) return;
    for (;;) {
      const w = this.queue.shift();
      if (!w) return;
      if (w.cancelled || w.ended) continue;
      this.inflight = w;
      stream.write({ create_request: { ...encodeWatchCreateRequest(w.req, w.next > 0 ? w.next : w.req.startRevision), watch_id: '0' } });
      return;
    }
  }

  private onResponse(r: WatchResponse): void {
    if (r.created) return this.onCreated(r);
    if (r.watchId === -1) {
      // A progress answer for the whole stream: every watch has reached its revision.
      for (const w of this.live) {
        if (!w.wantsProgress || w.id < 0) continue;
        w.wantsProgress = false;
        w.next = Math.max(w.next, r.header.revision + 1);
        this.deliver(w, { ...r, watchId: w.id });
      }
      return;
    }
    const w = this.byId.get(r.watchId);
    if (!w) return;
    if (r.canceled) {
      this.byId.delete(r.watchId);
      if (w.cancelled) return;
      w.ended = true;
      this.finish(w);
      this.deliver(w, r);
      return;
    }
    if (w.cancelled) return;
    const last = r.events[r.events.length - 1];
    w.next = last ? Math.max(w.next, last.kv.modRevision + 1) : Math.max(w.next, r.header.revision + 1);
    this.deliver(w, r);
  }

  private onCreated(r: WatchResponse): void {
    const w = this.inflight;
    this.inflight = undefined;
    if (!w) return;
    if (r.canceled || r.watchId < 0) {
      // Refused (a bad range, an id in use): the server's reason goes to the caller.
      if (!w.cancelled) {
        w.ended = true;
        this.finish(w);
        this.deliver(w, w.announced ? { ...r, created: false } : r);
      }
    } else {
      this.reopenDelay = 0;
      w.id = r.watchId;
      this.byId.set(w.id, w);
      if (w.next === 0) w.next = w.req.startRevision > 0 ? w.req.startRevision : r.header.revision + 1;
      if (w.cancelled) this.stream?.write({ cancel_request: { watch_id: String(w.id) } });
      else {
        if (!w.announced) {
          w.announced = true;
          this.deliver(w, r);
        }
        if (w.wantsProgress) this.stream?.write({ progress_request: {} });
      }
    }
    this.pump();
  }
}
