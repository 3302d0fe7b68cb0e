// The debug tap (--debug-tap): a bounded record of the raft messages this node sends and
// receives, for the live view of the emulator page (/ui) through GET /v1/debug/messages. It
// wraps the peer transport and only watches; off, nothing is recorded and the routes answer 404.

import { MessageType, type Message } from '../core/types.js';
import type { Envelope, PeerTransport, TransportEvents, TransportStats } from '../transport/transport.js';
import type { NodeId } from '../core/types.js';

/** One message as the tap saw it: what the sequence diagram draws, not the payload. */
export interface TappedMessage {
  /** Position in this node's tap, from 1; the next page starts after the last one seen. */
  seq: number;
  /** Wall-clock milliseconds (Date.now()) when this node sent or received it. */
  at: number;
  dir: 'out' | 'in';
  group: string;
  from: NodeId;
  to: NodeId;
  type: string;
  term: number;
  /** Append: prev index and term; responses: the index they answer; votes: the last log index and term. */
  index: number;
  logTerm: number;
  commit: number;
  entries: number;
  reject: boolean;
}

export interface TapPage {
  /** Pass as `after` to get the next page. */
  next: number;
  /** True when records after `after` were already overwritten (the reader fell behind). */
  missed: boolean;
  messages: TappedMessage[];
}

export const DEFAULT_TAP_CAPACITY = 4096;

export class DebugTap {
  private readonly ring: (TappedMessage | undefined)[];
  private seq = 0;

  constructor(readonly capacity = DEFAULT_TAP_CAPACITY) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`a tap holds at least one message, got ${capacity}`);
    this.ring = new Array<TappedMessage | undefined>(capacity);
  }

  record(dir: 'out' | 'in', group: string, m: Message): void {
    const seq = ++this.seq;
    this.ring[seq % this.capacity] = {
      seq,
      at: Date.now(),
      dir,
      group,
      from: m.from,
      to: m.to,
      type: MessageType[m.type] ?? String(m.type),
      term: m.term,
      index: m.index,
      logTerm: m.logTerm,
      commit: m.commit,
      entries: m.entries.length,
      reject: m.reject,
    };
  }

  /** Messages after `after` (at most `limit`), of one group or all. */
  page(after: number, limit: number, group?: string): TapPage {
    const oldest = Math.max(1, this.seq - this.capacity + 1);
    const from = Math.max(after + 1, oldest);
    const messages: TappedMessage[] = [];
    let next = Math.max(after, oldest - 1);
    for (let s = from; s <= this.seq && messages.length < limit; s++) {
      const m = this.ring[s % this.capacity]!;
      next = s;
      if (group === undefined || m.group === group) messages.push(m);
    }
    return { next, missed: after + 1 < oldest && this.seq > 0, messages };
  }
}

/** A PeerTransport that shows every message it sends and delivers to a tap, and does nothing else. */
export class TappedTransport implements PeerTransport {
  constructor(
    private readonly inner: PeerTransport,
    private readonly tap: DebugTap,
  ) {}

  get streamsSnapshotSources(): boolean | undefined {
    return this.inner.streamsSnapshotSources;
  }

  start(events: TransportEvents): Promise<void> {
    return this.inner.start({
      onSnapshotStatus: (group, to, ok) => events.onSnapshotStatus(group, to, ok),
      onUnreachable: (group, to) => events.onUnreachable(group, to),
      onMessages: (from: NodeId, batch: Envelope[]) => {
        for (const e of batch) this.tap.record('in', e.group, e.message);
        events.onMessages(from, batch);
      },
    });
  }

  send(batch: Envelope[]): void {
    for (const e of batch) this.tap.record('out', e.group, e.message);
    this.inner.send(batch);
  }

  setPeer(id: NodeId, address: string): void {
    this.inner.setPeer(id, address);
  }

  removePeer(id: NodeId): void {
    this.inner.removePeer(id);
  }

  stats(): TransportStats {
    return this.inner.stats();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
