// The snapshot streams queued to one outbound peer, sent one at a time.
//
// A snapshot can be far larger than any frame, so it does not go through the frame queue: it
// is cut into SnapshotBegin + SnapshotChunk frames that the peer's pump interleaves with its
// normal frames (so heartbeats keep flowing), read from the caller's buffer or, for a snapshot
// larger than memory, from its stored file one chunk ahead of the socket. Raft
// needs to know how each one ended, so every stream is settled exactly once, by the
// receiver's ack, its rejection, an ack timeout, a disconnect or being superseded, and that
// is reported as onSnapshotStatus.
import { WebSocket } from 'ws';
import type { NodeId } from '../core/types.js';
import { encodeSnapshotAbort, encodeSnapshotBegin, encodeSnapshotChunk, envelopeProblem, type Frame, type FrameKind } from './codec.js';
import type { Envelope, SnapshotSource } from './transport.js';
import type { TransportContext } from './ws-options.js';

export interface OutSnapshot {
  envelope: Envelope;
  source: SnapshotSource;
  total: number;
  streamId: number;
  /** Next byte to send; -1 before the begin frame went out. */
  offset: number;
  state: 'pending' | 'sending' | 'awaiting-ack';
  timer: NodeJS.Timeout | null;
  /** The chunk at `offset`, read ahead of the socket; null while it is being read. */
  next: Uint8Array | null;
  reading: boolean;
}

/** The message's own bytes as a source. */
function bufferSource(data: Uint8Array): SnapshotSource {
  return { length: data.length, read: async (offset, length) => data.subarray(offset, offset + length), close: async () => undefined };
}

/** What the sender needs from the peer connection it streams over. */
export interface SnapshotLink {
  readonly id: NodeId;
  /** The peer's current socket, or null between connections. */
  readonly ws: WebSocket | null;
  write(ws: WebSocket, data: Uint8Array, onWritten?: () => void): void;
  /** Lets the peer make progress (dial or pump) after a stream was settled by a timer. */
  kick(): void;
}

type AckFrame = Extract<Frame, { kind: FrameKind.SnapshotAck }>;

/** Why a Snapshot message cannot be streamed, or null. */
export function snapshotProblem(env: Envelope): string | null {
  const snap = env.message.snapshot;
  if (!snap || !(snap.data instanceof Uint8Array)) return 'a Snapshot message must carry snapshot data';
  const src = env.snapshotSource;
  if (src !== undefined && (snap.data.length !== 0 || !Number.isSafeInteger(src.length) || src.length < 0 || typeof src.read !== 'function')) {
    return 'a Snapshot message with a snapshot source must carry empty data and a source of known length';
  }
  return envelopeProblem(env);
}

export class SnapshotSender {
  /** Waiting and in-progress streams; the first one is the one being sent. Only ever changed in place. */
  private readonly list: OutSnapshot[] = [];
  private nextStreamId = 1;

  constructor(
    private readonly link: SnapshotLink,
    private readonly ctx: TransportContext,
  ) {}

  /** The same array for the sender's lifetime, so the pump may hold on to it. */
  get streams(): readonly OutSnapshot[] {
    return this.list;
  }

  /** Queues a (valid) Snapshot message; false if it was refused, already reported as failed. */
  add(env: Envelope): boolean {
    const group = env.group;
    const to = this.link.id;
    // A newer snapshot for the same group supersedes one that has not started yet.
    for (let i = 0; i < this.list.length; i++) {
      const old = this.list[i]!;
      if (old.envelope.group === group && old.state === 'pending') {
        this.finish(old, false, 'superseded by a newer snapshot');
        break;
      }
    }
    if (this.list.length >= this.ctx.o.maxPendingSnapshots) {
      this.ctx.counters.messagesDropped++;
      this.ctx.counters.snapshotsFailed++;
      this.ctx.log.warn({ peer: to, group, pending: this.list.length }, 'raft transport: too many snapshot streams queued; dropped one');
      this.ctx.outbox.emit((ev) => ev.onSnapshotStatus(group, to, false));
      void env.snapshotSource?.close().catch(() => undefined);
      return false;
    }
    const source = env.snapshotSource ?? bufferSource(env.message.snapshot!.data);
    this.list.push({ envelope: env, source, total: source.length, streamId: 0, offset: -1, state: 'pending', timer: null, next: null, reading: false });
    return true;
  }

  /** Whether the stream's next frame can be written now; starts reading its next chunk if not. */
  ready(s: OutSnapshot): boolean {
    if (s.state === 'pending') return true;
    if (s.state !== 'sending') return false;
    if (s.next !== null) return true;
    this.readAhead(s);
    return s.next !== null;
  }

  private readAhead(s: OutSnapshot): void {
    if (s.reading || s.next !== null || s.offset >= s.total) return;
    s.reading = true;
    const length = Math.min(this.ctx.o.snapshotChunkBytes, s.total - s.offset);
    const at = s.offset;
    s.source.read(at, length).then(
      (piece) => {
        s.reading = false;
        if (!this.list.includes(s) || s.offset !== at) return;
        if (piece.length !== length) {
          this.abortStream(s, `the snapshot source gave ${piece.length} bytes at ${at}, expected ${length}`);
          return;
        }
        s.next = piece;
        this.link.kick();
      },
      (err: unknown) => {
        s.reading = false;
        if (this.list.includes(s)) this.abortStream(s, `cannot read the snapshot: ${(err as Error).message}`);
      },
    );
  }

  /** Tells the receiver the stream is over and reports it failed. */
  private abortStream(s: OutSnapshot, why: string): void {
    const ws = this.link.ws;
    if (ws && ws.readyState === WebSocket.OPEN && s.streamId > 0) {
      try {
        this.link.write(ws, encodeSnapshotAbort(s.streamId, why.slice(0, 200)));
      } catch {
        /* closing */
      }
    }
    this.ctx.log.error({ peer: this.link.id, group: s.envelope.group, stream: s.streamId, reason: why }, 'raft snapshot stream aborted');
    this.finish(s, false, why);
    this.link.kick();
  }

  /** Writes the next frame of a snapshot stream (ready() said it can); returns its size. */
  writePiece(ws: WebSocket, s: OutSnapshot): number {
    const total = s.total;
    if (s.state === 'pending') {
      s.streamId = this.nextStreamId++;
      s.state = 'sending';
      s.offset = 0;
      let begin: Uint8Array;
      try {
        begin = encodeSnapshotBegin(s.streamId, total, s.envelope);
      } catch (err) {
        this.finish(s, false, `unencodable snapshot: ${String(err)}`);
        return 0;
      }
      this.ctx.log.info({ peer: this.link.id, group: s.envelope.group, bytes: total, stream: s.streamId }, 'raft snapshot stream started');
      if (total === 0) {
        s.state = 'awaiting-ack';
        this.link.write(ws, begin, () => this.startAckTimer(s));
      } else {
        this.link.write(ws, begin);
        this.readAhead(s);
      }
      return begin.length;
    }
    const piece = s.next;
    if (piece === null) return 0;
    s.next = null;
    const end = s.offset + piece.length;
    const chunk = encodeSnapshotChunk(s.streamId, s.offset, piece);
    s.offset = end;
    this.readAhead(s);
    this.ctx.counters.snapshotChunksSent++;
    if (end === total) {
      s.state = 'awaiting-ack';
      this.link.write(ws, chunk, () => this.startAckTimer(s));
    } else {
      this.link.write(ws, chunk);
    }
    return chunk.length;
  }

  /**
   * Settles the stream in progress from the receiver's ack. Returns true when one was settled
   * (the pump may go on), false for a stale ack (timed out or aborted), or the protocol
   * violation to close the connection for.
   */
  ack(frame: AckFrame): boolean | string {
    const s = this.list[0];
    if (!s || s.streamId !== frame.streamId || s.state === 'pending') return false;
    if (frame.ok) {
      if (s.state !== 'awaiting-ack') return `snapshot stream ${s.streamId} acknowledged before it was complete`;
      this.finish(s, true, '');
    } else {
      this.finish(s, false, `rejected by the receiver: ${frame.reason}`);
    }
    return true;
  }

  /** Fails the stream in progress (its connection is gone); waiting ones stay for the next. */
  failActive(why: string): void {
    const active = this.list[0];
    if (active && active.state !== 'pending') this.finish(active, false, why);
  }

  failAll(why: string): void {
    for (const s of [...this.list]) this.finish(s, false, why);
  }

  clearTimers(): void {
    for (const s of this.list) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = null;
    }
  }

  /** Forgets every stream without reporting them (the transport is closing). */
  clear(): void {
    for (const s of this.list) void s.source.close().catch(() => undefined);
    this.list.length = 0;
  }

  private startAckTimer(s: OutSnapshot): void {
    if (this.list[0] !== s || s.timer) return;
    s.timer = setTimeout(() => {
      s.timer = null;
      if (this.list[0] !== s) return;
      const ws = this.link.ws;
      if (ws && ws.readyState === WebSocket.OPEN) {
        try {
          this.link.write(ws, encodeSnapshotAbort(s.streamId, 'ack timeout'));
        } catch {
          /* closing */
        }
      }
      this.finish(s, false, 'no ack from the receiver in time');
      this.link.kick();
    }, this.ctx.o.snapshotAckTimeoutMs);
    s.timer.unref();
  }

  /** Removes a stream from the list and reports its status. */
  private finish(s: OutSnapshot, ok: boolean, why: string): void {
    const i = this.list.indexOf(s);
    if (i < 0) return;
    this.list.splice(i, 1);
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    s.next = null;
    void s.source.close().catch(() => undefined);
    const group = s.envelope.group;
    const to = this.link.id;
    const counters = this.ctx.counters;
    if (ok) {
      counters.snapshotsSent++;
      counters.messagesSent++;
      this.ctx.log.info({ peer: to, group, bytes: s.total, stream: s.streamId }, 'raft snapshot stream acknowledged');
    } else {
      counters.snapshotsFailed++;
      counters.messagesDropped++;
      this.ctx.log.warn({ peer: to, group, bytes: s.total, stream: s.streamId, reason: why }, 'raft snapshot stream failed');
    }
    this.ctx.outbox.emit((ev) => ev.onSnapshotStatus(group, to, ok));
  }
}
