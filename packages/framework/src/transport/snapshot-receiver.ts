// The snapshot streams arriving on one inbound connection, reassembled and delivered whole.
//
// Raft hands a snapshot over as one message, but it travels as a SnapshotBegin and a run of
// chunks, so the receiver has to hold it until it is complete. A peer announces the size up
// front, which lets us refuse what we cannot hold before any byte arrives: one buffer is
// preallocated per stream, bounded by maxSnapshotBytes per stream, a few streams per
// connection and a shared budget across all connections. Refusals and the final result are
// acked so the sender can report onSnapshotStatus; a stream that stops making progress is
// dropped so a stuck sender cannot pin its buffer.
//
// With a snapshot sink (the node's snapshot store) a stream is written to disk as it arrives
// instead: memory stays a few chunks (the connection is paused while the disk is behind),
// whatever the snapshot's size, and the message is delivered with `stored` set.
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
  /** In-memory streams: the preallocated buffer. */
  buf: Uint8Array;
  total: number;
  received: number;
  lastActivity: number;
  /** Streams to a sink: the sink being opened, then open. */
  opened?: Promise<Sink>;
  sink?: Sink;
  /** Streams to a sink: the chain of writes so far. */
  writes?: Promise<unknown>;
  /** Bytes received but not yet written to the sink. */
  unwritten: number;
  dead: boolean;
}

type Sink = Awaited<ReturnType<NonNullable<TransportContext['sink']>['receive']>>;

/** Unwritten bytes of all streams on a connection above which it stops reading its socket. */
const MAX_UNWRITTEN_BYTES = 8 << 20;
const EMPTY = new Uint8Array(0);

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
    /** Stop and resume reading the connection's socket (the disk is behind). */
    private readonly flow: { pause(): void; resume(): void } = { pause: () => undefined, resume: () => undefined },
  ) {}

  private unwritten = 0;
  private paused = false;

  /** Starts a stream, or refuses it with a not-ok ack. Returns a protocol violation, or null. */
  begin(frame: BeginFrame): string | null {
    const env = frame.envelope;
    const id = frame.streamId;
    if (this.streams.has(id) || this.rejected.includes(id)) return `snapshot stream ${id} begun twice`;
    const total = frame.totalSize;
    const sink = this.ctx.sink;
    const max = sink ? this.ctx.o.maxStoredSnapshotBytes : this.ctx.o.maxSnapshotBytes;
    let refuse: string | null = null;
    if (total > max) refuse = `snapshot of ${total} bytes exceeds the limit of ${max}`;
    else if (this.streams.size >= MAX_INBOUND_STREAMS_PER_CONN) refuse = 'too many concurrent snapshot streams';
    else if (!sink && this.budget.reserved + total > 2 * max) refuse = 'too many snapshot bytes in flight; retry later';
    if (refuse !== null) {
      this.remember(id);
      this.ctx.log.warn({ peer: this.peerId, group: env.group, bytes: total, reason: refuse }, 'raft transport: refused a snapshot stream');
      this.reply(encodeSnapshotAck(id, false, refuse));
      return null;
    }
    if (sink) {
      const s: InStream = { streamId: id, envelope: env, buf: EMPTY, total, received: 0, lastActivity: Date.now(), unwritten: 0, dead: false };
      s.opened = sink.receive(env.group, env.message.snapshot!.metadata, total);
      s.writes = s.opened.then((k) => {
        s.sink = k;
      });
      s.writes.catch((e: unknown) => this.fail(s, `cannot store the snapshot: ${(e as Error).message}`));
      this.streams.set(id, s);
      if (total === 0) this.complete(s);
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
    const s: InStream = { streamId: id, envelope: env, buf: bytes, total, received: 0, lastActivity: Date.now(), unwritten: 0, dead: false };
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
    if (frame.offset + frame.data.length > s.total) return `snapshot chunk overruns the announced ${s.total} bytes`;
    if (s.writes) this.write(s, frame.data);
    else s.buf.set(frame.data, frame.offset);
    s.received += frame.data.length;
    s.lastActivity = Date.now();
    this.ctx.counters.snapshotChunksReceived++;
    if (s.received === s.total) this.complete(s);
    return null;
  }

  /** Queues a chunk for the sink; pauses the socket while too much is waiting for the disk. */
  private write(s: InStream, data: Uint8Array): void {
    // The frame's bytes may be a view of the socket's buffer: keep a copy while it waits.
    const chunk = Buffer.from(data);
    s.unwritten += chunk.length;
    this.unwritten += chunk.length;
    s.writes = s.writes!.then(async () => {
      if (!s.dead) await s.sink!.write(chunk);
    });
    s.writes.then(
      () => this.written(s, chunk.length),
      (e: unknown) => {
        this.written(s, chunk.length);
        // Refused at the first failed write, not after the rest of the stream has arrived.
        this.fail(s, `cannot store the snapshot: ${(e as Error).message}`);
      },
    );
    if (!this.paused && this.unwritten > MAX_UNWRITTEN_BYTES) {
      this.paused = true;
      this.flow.pause();
    }
  }

  private written(s: InStream, n: number): void {
    s.unwritten -= n;
    this.unwritten -= n;
    s.lastActivity = Date.now();
    if (this.paused && this.unwritten <= MAX_UNWRITTEN_BYTES / 2) {
      this.paused = false;
      this.flow.resume();
    }
  }

  /** A stream to a sink failed (write error): refuse it, drop what was written. */
  private fail(s: InStream, why: string): void {
    if (s.dead) return;
    this.drop(s);
    this.remember(s.streamId);
    this.ctx.log.error({ peer: this.peerId, group: s.envelope.group, reason: why }, 'raft transport: an inbound snapshot stream failed');
    this.reply(encodeSnapshotAck(s.streamId, false, why.slice(0, 200)));
  }

  /** Forgets a stream and frees what it holds (its buffer's budget, or its sink's file). */
  private drop(s: InStream): void {
    s.dead = true;
    this.streams.delete(s.streamId);
    // The sink is aborted even when its chain of writes failed: abort() deletes its temp file.
    if (s.opened) s.opened.then((sink) => sink.abort()).catch(() => undefined);
    else this.budget.reserved -= s.buf.length;
  }

  /** The sender gave up on a stream. */
  abort(frame: AbortFrame): void {
    const s = this.streams.get(frame.streamId);
    if (s) {
      this.drop(s);
      this.ctx.log.warn({ peer: this.peerId, group: s.envelope.group, reason: frame.reason }, 'raft transport: sender aborted a snapshot stream');
    }
  }

  /** Drops streams that made no progress for snapshotIdleTimeoutMs, telling the sender. */
  sweep(now: number): void {
    for (const s of [...this.streams.values()]) {
      if (now - s.lastActivity > this.ctx.o.snapshotIdleTimeoutMs) {
        this.drop(s);
        this.remember(s.streamId);
        this.ctx.log.warn({ peer: this.peerId, group: s.envelope.group }, 'raft transport: dropped a stalled inbound snapshot stream');
        this.reply(encodeSnapshotAck(s.streamId, false, 'stream stalled'));
      }
    }
  }

  /** Frees every stream's buffer (the connection is going away). */
  release(): void {
    for (const s of [...this.streams.values()]) this.drop(s);
    if (this.paused) {
      this.paused = false;
      this.flow.resume();
    }
  }

  private remember(id: number): void {
    this.rejected.push(id);
    if (this.rejected.length > MAX_REJECTED_REMEMBERED) this.rejected.shift();
  }

  private complete(s: InStream): void {
    if (s.writes) {
      // Delivered once it is durable in the store; until then the stream stays (a sweep or a
      // disconnect still aborts it).
      s.writes
        .then(async () => {
          if (s.dead) return;
          await s.sink!.commit();
          if (s.dead) return;
          this.streams.delete(s.streamId);
          s.dead = true;
          s.envelope.message.snapshot!.stored = true;
          this.deliver(s);
        })
        .catch((e: unknown) => this.fail(s, `cannot store the snapshot: ${(e as Error).message}`));
      return;
    }
    this.streams.delete(s.streamId);
    this.budget.reserved -= s.buf.length;
    s.envelope.message.snapshot!.data = s.buf;
    this.deliver(s);
  }

  private deliver(s: InStream): void {
    const env = s.envelope;
    this.ctx.counters.snapshotsReceived++;
    this.ctx.counters.messagesReceived++;
    const from = this.peerId;
    this.ctx.log.info({ peer: from, group: env.group, bytes: s.total, stored: s.opened !== undefined }, 'raft snapshot received');
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
