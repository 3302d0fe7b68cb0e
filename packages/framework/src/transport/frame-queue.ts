// The bounded send queue of one outbound peer: encoded frames waiting for the socket.
//
// Raft retransmits, so under pressure it is better to drop a round than to buffer without
// bound: a round is admitted only while the queue is under maxQueueFrames / maxQueueBytes,
// and whatever is dropped (queue full, unencodable, too large, connection lost) is counted,
// reported as unreachable once per group, and logged at most every few seconds per peer so a
// dead peer does not flood the log. Frames are encoded here, once, when they are queued;
// the pump only moves finished bytes.
import type { NodeId } from '../core/types.js';
import { encodeMessages, envelopeProblem, estimateMessageSize } from './codec.js';
import type { Envelope, TransportStats } from './transport.js';
import type { ResolvedOptions, TransportContext } from './ws-options.js';

interface QueuedFrame {
  data: Uint8Array;
  messages: number;
  groups: string[];
}

const DROP_LOG_INTERVAL_MS = 5000;

/** A FIFO of encoded frames with O(1) shift, bounded on admission. */
export class FrameQueue {
  private items: (QueuedFrame | undefined)[] = [];
  private head = 0;
  bytes = 0;
  private dropsSinceLog = 0;
  private lastDropLog = 0;
  private readonly o: ResolvedOptions;
  private readonly counters: TransportStats;

  constructor(
    private readonly peerId: NodeId,
    private readonly ctx: TransportContext,
  ) {
    this.o = ctx.o;
    this.counters = ctx.counters;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  shift(): QueuedFrame | undefined {
    if (this.head >= this.items.length) return undefined;
    const f = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (f) this.bytes -= f.data.length;
    return f;
  }

  drain(): QueuedFrame[] {
    const out = this.items.slice(this.head) as QueuedFrame[];
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    return out;
  }

  /** Queues one round's messages to this peer as frames of about maxFrameBytes each. */
  add(envs: Envelope[], seen: Set<string>): void {
    let start = 0;
    let size = 0;
    for (let i = 0; i < envs.length; i++) {
      const est = estimateMessageSize(envs[i]!.message);
      if (i > start && size + est > this.o.maxFrameBytes) {
        this.enqueue(envs.slice(start, i), seen);
        start = i;
        size = 0;
      }
      size += est;
    }
    this.enqueue(start === 0 ? envs : envs.slice(start), seen);
  }

  /** Drops everything queued after the connection was lost (it is stale by the time we reconnect) and tells Raft. */
  dropStale(): void {
    const dropped = this.drain();
    if (dropped.length === 0) return;
    const seen = new Set<string>();
    let n = 0;
    for (const f of dropped) {
      n += f.messages;
      for (const g of f.groups) this.ctx.outbox.unreachable(g, this.peerId, seen);
    }
    this.counters.messagesDropped += n;
    this.noteDrop(n, 'connection lost');
  }

  private enqueue(envs: Envelope[], seen: Set<string>): void {
    let frame: Uint8Array;
    try {
      frame = encodeMessages(envs);
    } catch (err) {
      // Find and drop the culprits; send the rest.
      const good: Envelope[] = [];
      for (const e of envs) {
        const why = envelopeProblem(e);
        if (why === null) {
          good.push(e);
        } else {
          this.counters.messagesDropped++;
          this.ctx.log.error({ peer: this.peerId, group: e.group, type: e.message?.type, reason: why }, 'raft transport: dropped an unencodable message');
          if (typeof e.group === 'string') this.ctx.outbox.unreachable(e.group, this.peerId, seen);
        }
      }
      if (good.length === 0) return;
      try {
        frame = encodeMessages(good);
      } catch (err2) {
        this.counters.messagesDropped += good.length;
        this.ctx.log.error({ peer: this.peerId, err: String(err2), first: String(err) }, 'raft transport: dropped a batch that could not be encoded');
        for (const e of good) this.ctx.outbox.unreachable(e.group, this.peerId, seen);
        return;
      }
      envs = good;
    }
    if (frame.length > this.o.maxPayloadBytes) {
      this.counters.messagesDropped += envs.length;
      this.ctx.log.error({ peer: this.peerId, bytes: frame.length, max: this.o.maxPayloadBytes }, 'raft transport: dropped a message larger than maxPayloadBytes');
      for (const e of envs) this.ctx.outbox.unreachable(e.group, this.peerId, seen);
      return;
    }
    if (this.length >= this.o.maxQueueFrames || this.bytes + frame.length > this.o.maxQueueBytes) {
      this.counters.messagesDropped += envs.length;
      for (const e of envs) this.ctx.outbox.unreachable(e.group, this.peerId, seen);
      this.noteDrop(envs.length, 'send queue full');
      return;
    }
    const groups: string[] = [];
    if (envs.length === 1) {
      groups.push(envs[0]!.group);
    } else {
      const set = new Set<string>();
      for (const e of envs) set.add(e.group);
      for (const g of set) groups.push(g);
    }
    this.push({ data: frame, messages: envs.length, groups });
  }

  private push(f: QueuedFrame): void {
    this.items.push(f);
    this.bytes += f.data.length;
  }

  /** Counts dropped messages and logs them at most once per DROP_LOG_INTERVAL_MS. */
  private noteDrop(n: number, why: string): void {
    this.dropsSinceLog += n;
    const now = Date.now();
    if (now - this.lastDropLog >= DROP_LOG_INTERVAL_MS) {
      this.ctx.log.warn({ peer: this.peerId, dropped: this.dropsSinceLog, reason: why, queuedFrames: this.length, queuedBytes: this.bytes }, 'raft transport: dropped messages');
      this.dropsSinceLog = 0;
      this.lastDropLog = now;
    }
  }
}
