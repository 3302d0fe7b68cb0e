// The snapshot streams queued to one outbound peer, sent one at a time.
//
// A snapshot can be far larger than any frame, so it does not go through the frame queue: it
// is cut into SnapshotBegin + SnapshotChunk frames that the peer's pump interleaves with its
// normal frames (so heartbeats keep flowing), read straight from the caller's buffer. Raft
// needs to know how each one ended, so every stream is settled exactly once, by the
// receiver's ack, its rejection, an ack timeout, a disconnect or being superseded, and that
// is reported as onSnapshotStatus.
import { WebSocket } from 'ws';
import type { NodeId } from '../core/types.js';
import { encodeSnapshotAbort, encodeSnapshotBegin, encodeSnapshotChunk, envelopeProblem, type Frame, type FrameKind } from './codec.js';
import type { Envelope } from './transport.js';
import type { TransportContext } from './ws-options.js';

export interface OutSnapshot {
  envelope: Envelope;
  data: Uint8Array;
  streamId: number;
  /** Next byte to send; -1 before the begin frame went out. */
  offset: number;
  state: 'pending' | 'sending' | 'awaiting-ack';
  timer: NodeJS.Timeout | null;
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
  return snap && snap.data instanceof Uint8Array ? envelopeProblem(env) : 'a Snapshot message must carry snapshot data';
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
      return false;
    }
    this.list.push({ envelope: env, data: env.message.snapshot!.data, streamId: 0, offset: -1, state: 'pending', timer: null });
    return true;
  }

  /** Writes the next frame of a snapshot stream; returns its size. */
  writePiece(ws: WebSocket, s: OutSnapshot): number {
    const total = s.data.length;
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
      }
      return begin.length;
    }
    const end = Math.min(s.offset + this.ctx.o.snapshotChunkBytes, total);
    const chunk = encodeSnapshotChunk(s.streamId, s.offset, s.data.subarray(s.offset, end));
    s.offset = end;
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
    const group = s.envelope.group;
    const to = this.link.id;
    const counters = this.ctx.counters;
    if (ok) {
      counters.snapshotsSent++;
      counters.messagesSent++;
      this.ctx.log.info({ peer: to, group, bytes: s.data.length, stream: s.streamId }, 'raft snapshot stream acknowledged');
    } else {
      counters.snapshotsFailed++;
      counters.messagesDropped++;
      this.ctx.log.warn({ peer: to, group, bytes: s.data.length, stream: s.streamId, reason: why }, 'raft snapshot stream failed');
    }
    this.ctx.outbox.emit((ev) => ev.onSnapshotStatus(group, to, ok));
  }
}
