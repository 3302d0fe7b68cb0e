// The snapshot streams arriving on one inbound connection, reassembled and delivered whole.
//
// Raft hands a snapshot over as one message, but it travels as a SnapshotBegin and a run of
// chunks, so the receiver has to hold it until it is complete. A peer announces the size up
// front, which lets us refuse what we cannot hold before any byte arrives: one buffer is
// preallocated per stream, bounded by maxSnapshotBytes per stream, a few streams per
// connection and a shared budget across all connections. Refusals and the final result are
// acked so the sender can report onSnapshotStatus; a stream that stops making progress is
// dropped so a stuck sender cannot pin its buffer.
import type { NodeId } from '../core/types.js';
import { encodeSnapshotAck, type Frame, type FrameKind } from './codec.js';
import type { Envelope } from './transport.js';
import type { TransportContext } from './ws-options.js';

/** Bytes preallocated by all inbound streams of the transport; at most twice maxSnapshotBytes. */
export interface ReceiveBudget {
  reserved: number;
}

interface InStream {
  streamId: number;
  envelope: Envelope;
  buf: Uint8Array;
  received: number;
  lastActivity: number;
}

type BeginFrame = Extract<Frame, { kind: FrameKind.SnapshotBegin }>;
type ChunkFrame = Extract<Frame, { kind: FrameKind.SnapshotChunk }>;
type AbortFrame = Extract<Frame, { kind: FrameKind.SnapshotAbort }>;

const MAX_INBOUND_STREAMS_PER_CONN = 4;
/** How many refused stream ids are remembered (their in-flight chunks are ignored, not errors). */
const MAX_REJECTED_REMEMBERED = 64;

export class SnapshotReceiver {
  private readonly streams = new Map<number, InStream>();
  /** Streams we refused; their in-flight chunks are ignored. Bounded. */
  private readonly rejected: number[] = [];

  constructor(
    private readonly peerId: NodeId,
    private readonly ctx: TransportContext,
    private readonly budget: ReceiveBudget,
    /** Sends a frame back to the peer on this connection (if it is still open). */
    private readonly reply: (frame: Uint8Array) => void,
  ) {}

  /** Starts a stream, or refuses it with a not-ok ack. Returns a protocol violation, or null. */
  begin(frame: BeginFrame): string | null {
    const env = frame.envelope;
    const id = frame.streamId;
    if (this.streams.has(id) || this.rejected.includes(id)) return `snapshot stream ${id} begun twice`;
    const total = frame.totalSize;
    const max = this.ctx.o.maxSnapshotBytes;
    let refuse: string | null = null;
    if (total > max) refuse = `snapshot of ${total} bytes exceeds the limit of ${max}`;
    else if (this.streams.size >= MAX_INBOUND_STREAMS_PER_CONN) refuse = 'too many concurrent snapshot streams';
    else if (this.budget.reserved + total > 2 * max) refuse = 'too many snapshot bytes in flight; retry later';
    if (refuse !== null) {
      this.remember(id);
      this.ctx.log.warn({ peer: this.peerId, group: env.group, bytes: total, reason: refuse }, 'raft transport: refused a snapshot stream');
      this.reply(encodeSnapshotAck(id, false, refuse));
      return null;
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(total);
    } catch {
      this.rejected.push(id);
      this.reply(encodeSnapshotAck(id, false, 'out of memory'));
      return null;
    }
    this.budget.reserved += total;
    const s: InStream = { streamId: id, envelope: env, buf: bytes, received: 0, lastActivity: Date.now() };
    this.streams.set(id, s);
    if (total === 0) this.complete(s);
    return null;
  }

  /** Copies a chunk into its stream, delivering the stream when complete. Returns a protocol violation, or null. */
  chunk(frame: ChunkFrame): string | null {
    const s = this.streams.get(frame.streamId);
    if (!s) {
      if (this.rejected.includes(frame.streamId)) return null;
      return `chunk for unknown snapshot stream ${frame.streamId}`;
    }
    if (frame.offset !== s.received) return `snapshot chunk at offset ${frame.offset}, expected ${s.received}`;
    if (frame.offset + frame.data.length > s.buf.length) return `snapshot chunk overruns the announced ${s.buf.length} bytes`;
    s.buf.set(frame.data, frame.offset);
    s.received += frame.data.length;
    s.lastActivity = Date.now();
    this.ctx.counters.snapshotChunksReceived++;
    if (s.received === s.buf.length) this.complete(s);
    return null;
  }

  /** The sender gave up on a stream. */
  abort(frame: AbortFrame): void {
    const s = this.streams.get(frame.streamId);
    if (s) {
      this.streams.delete(s.streamId);
      this.budget.reserved -= s.buf.length;
      this.ctx.log.warn({ peer: this.peerId, group: s.envelope.group, reason: frame.reason }, 'raft transport: sender aborted a snapshot stream');
    }
  }

  /** Drops streams that made no progress for snapshotIdleTimeoutMs, telling the sender. */
  sweep(now: number): void {
    for (const s of [...this.streams.values()]) {
      if (now - s.lastActivity > this.ctx.o.snapshotIdleTimeoutMs) {
        this.streams.delete(s.streamId);
        this.budget.reserved -= s.buf.length;
        this.remember(s.streamId);
        this.ctx.log.warn({ peer: this.peerId, group: s.envelope.group }, 'raft transport: dropped a stalled inbound snapshot stream');
        this.reply(encodeSnapshotAck(s.streamId, false, 'stream stalled'));
      }
    }
  }

  /** Frees every stream's buffer (the connection is going away). */
  release(): void {
    for (const s of this.streams.values()) this.budget.reserved -= s.buf.length;
    this.streams.clear();
  }

  private remember(id: number): void {
    this.rejected.push(id);
    if (this.rejected.length > MAX_REJECTED_REMEMBERED) this.rejected.shift();
  }

  private complete(s: InStream): void {
    this.streams.delete(s.streamId);
    this.budget.reserved -= s.buf.length;
    const env = s.envelope;
    env.message.snapshot!.data = s.buf;
    this.ctx.counters.snapshotsReceived++;
    this.ctx.counters.messagesReceived++;
    const from = this.peerId;
    this.ctx.log.info({ peer: from, group: env.group, bytes: s.buf.length }, 'raft snapshot received');
    this.ctx.outbox.emit((ev) => {
      let ok = true;
      try {
        ev.onMessages(from, [env]);
      } catch (err) {
        ok = false;
        this.ctx.log.error({ peer: from, group: env.group, err: String(err) }, 'raft transport: onMessages threw on a snapshot');
      }
      this.reply(encodeSnapshotAck(s.streamId, ok, ok ? '' : 'receiver failed to accept the snapshot'));
    });
  }
}
