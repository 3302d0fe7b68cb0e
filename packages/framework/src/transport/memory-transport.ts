// An in-process PeerTransport for tests: a MemoryHub connects several MemoryTransports.
//
// Same semantics as WsTransport: send() is one round per peer, delivery is asynchronous and
// ordered per (sender, receiver) link, messages to unknown, unregistered or cut-off peers are
// dropped and reported with onUnreachable, a bounded per-link queue drops on overflow, a
// Snapshot message is reported with onSnapshotStatus once delivered (or failed), and events are
// never raised synchronously inside send(). By default every batch goes through the binary
// codec, so receivers get fresh copies and invalid messages are caught as on the wire.
import { silentLogger } from '../common/logger.js';
import { MessageType, type NodeId } from '../core/types.js';
import { EventOutbox } from './event-outbox.js';
import { decodeFrame, encodeMessages, envelopeProblem, FrameKind } from './codec.js';
import { emptyStats, type Envelope, type PeerTransport, type TransportEvents, type TransportLogger, type TransportStats } from './transport.js';
import { isNodeId } from '../core/node-id.js';

export const memoryAddress = (id: NodeId): string => `mem:${id}`;

interface Delivery {
  from: MemoryTransport;
  to: MemoryTransport;
  /** Encoded frame (serialize) or the envelopes themselves. */
  frame: Uint8Array | null;
  envelopes: Envelope[] | null;
  messages: number;
  bytes: number;
  groups: string[];
  /** Set for a snapshot delivery: report its status to the sender. */
  snapshotGroup: string | null;
}

const linkKey = (a: NodeId, b: NodeId): string => `${a}>${b}`;

/** Connects MemoryTransports by address; can cut links to simulate partitions. */
export class MemoryHub {
  private readonly byAddress = new Map<string, MemoryTransport>();
  private readonly cut = new Set<string>();
  private readonly queue: (Delivery | undefined)[] = [];
  private head = 0;
  private scheduled = false;
  /** Frames pending per link, for the per-link bound. */
  readonly pendingPerLink = new Map<string, { frames: number; bytes: number }>();

  /** @internal */
  register(address: string, t: MemoryTransport): void {
    const existing = this.byAddress.get(address);
    if (existing && existing !== t) throw new Error(`MemoryHub: address ${address} is already taken`);
    this.byAddress.set(address, t);
  }

  /** @internal */
  unregister(address: string, t: MemoryTransport): void {
    if (this.byAddress.get(address) === t) this.byAddress.delete(address);
  }

  /** @internal */
  lookup(address: string): MemoryTransport | undefined {
    return this.byAddress.get(address);
  }

  /** Cuts (up = false) or restores the link from `a` to `b`; both directions unless oneWay. */
  setLink(a: NodeId, b: NodeId, up: boolean, oneWay = false): void {
    for (const k of oneWay ? [linkKey(a, b)] : [linkKey(a, b), linkKey(b, a)]) {
      if (up) this.cut.delete(k);
      else this.cut.add(k);
    }
  }

  /** Cuts or restores every link of `id` to the given peers. */
  isolate(id: NodeId, peers: NodeId[], isolated = true): void {
    for (const p of peers) this.setLink(id, p, !isolated);
  }

  linkUp(a: NodeId, b: NodeId): boolean {
    return !this.cut.has(linkKey(a, b));
  }

  /** @internal */
  enqueue(d: Delivery): void {
    const k = linkKey(d.from.selfId, d.to.selfId);
    let p = this.pendingPerLink.get(k);
    if (!p) this.pendingPerLink.set(k, (p = { frames: 0, bytes: 0 }));
    p.frames++;
    p.bytes += d.bytes;
    this.queue.push(d);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** @internal */
  pending(from: NodeId, to: NodeId): { frames: number; bytes: number } {
    return this.pendingPerLink.get(linkKey(from, to)) ?? { frames: 0, bytes: 0 };
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    // Deliver what is queued now; deliveries queued by handlers wait for the next turn.
    const end = this.queue.length;
    while (this.head < end) {
      const d = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      const p = this.pendingPerLink.get(linkKey(d.from.selfId, d.to.selfId));
      if (p) {
        p.frames--;
        p.bytes -= d.bytes;
      }
      const ok = this.linkUp(d.from.selfId, d.to.selfId) && d.to.isReceiving() && this.lookupById(d.to);
      if (!ok) d.from.deliveryFailed(d);
      else d.from.deliveryDone(d, d.to.receive(d));
    }
    this.queue.splice(0, this.head);
    this.head = 0;
    if (this.queue.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  };

  private lookupById(t: MemoryTransport): boolean {
    return this.byAddress.get(t.address) === t;
  }
}

export interface MemoryTransportOptions {
  selfId: NodeId;
  /** This transport's address on the hub (default memoryAddress(selfId)). */
  address?: string;
  logger?: TransportLogger;
  /** Per-link queue bounds (defaults 1024 frames, 16 MiB). */
  maxQueueFrames?: number;
  maxQueueBytes?: number;
  /** Pass batches through the binary codec (default true). */
  serialize?: boolean;
}

export class MemoryTransport implements PeerTransport {
  readonly selfId: NodeId;
  readonly address: string;
  private readonly hub: MemoryHub;
  private readonly log: TransportLogger;
  private readonly maxQueueFrames: number;
  private readonly maxQueueBytes: number;
  private readonly serialize: boolean;
  private readonly peers = new Map<NodeId, string>();
  private readonly counters: TransportStats = emptyStats();
  private events: TransportEvents | null = null;
  private started = false;
  private closed = false;
  private readonly outbox: EventOutbox;

  constructor(hub: MemoryHub, options: MemoryTransportOptions) {
    if (!isNodeId(options.selfId)) throw new TypeError('MemoryTransport: selfId must be a positive integer');
    this.hub = hub;
    this.selfId = options.selfId;
    this.address = options.address ?? memoryAddress(options.selfId);
    this.log = options.logger ?? silentLogger;
    this.outbox = new EventOutbox(() => (this.closed ? null : this.events), this.log, 'memory transport');
    this.maxQueueFrames = options.maxQueueFrames ?? 1024;
    this.maxQueueBytes = options.maxQueueBytes ?? 16 << 20;
    this.serialize = options.serialize ?? true;
  }

  async start(events: TransportEvents): Promise<void> {
    if (this.started) throw new Error('MemoryTransport: start() called twice');
    if (this.closed) throw new Error('MemoryTransport: closed');
    this.hub.register(this.address, this);
    this.started = true;
    this.events = events;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.events = null;
    this.outbox.clear();
    this.hub.unregister(this.address, this);
  }

  setPeer(id: NodeId, address: string): void {
    if (!isNodeId(id)) throw new TypeError(`setPeer: id must be a positive integer, got ${id}`);
    if (id === this.selfId) throw new TypeError("setPeer: a peer cannot have this node's own id");
    if (typeof address !== 'string' || address.length === 0) throw new TypeError('setPeer: address must be a non-empty string');
    this.peers.set(id, address);
  }

  removePeer(id: NodeId): void {
    this.peers.delete(id);
  }

  stats(): TransportStats {
    const s: TransportStats = { ...this.counters, peers: [] };
    for (const [id, address] of this.peers) {
      const target = this.hub.lookup(address);
      const p = this.hub.pending(this.selfId, id);
      s.peers.push({
        id,
        address,
        connected: target !== undefined && target.isReceiving() && this.hub.linkUp(this.selfId, id),
        queuedFrames: p.frames,
        queuedBytes: p.bytes,
        pendingSnapshots: 0,
      });
    }
    return s;
  }

  send(batch: Envelope[]): void {
    if (!this.started) throw new Error('MemoryTransport: send() before start()');
    if (this.closed) throw new Error('MemoryTransport: send() after close()');
    const seen = new Set<string>();
    const byPeer = new Map<NodeId, Envelope[]>();
    for (const env of batch) {
      const to = env?.message?.to;
      const problem = typeof to !== 'number' || to === this.selfId ? 'invalid recipient' : envelopeProblem(env);
      if (problem !== null) {
        this.counters.messagesDropped++;
        this.log.error({ group: env?.group, to, reason: problem }, 'memory transport: dropped an invalid message');
        if (typeof env?.group === 'string' && typeof to === 'number') {
          this.outbox.unreachable(env.group, to, seen);
          if (env.message.type === MessageType.Snapshot) this.outbox.emit((ev) => ev.onSnapshotStatus(env.group, to, false));
        }
        continue;
      }
      let list = byPeer.get(to as number);
      if (!list) byPeer.set(to as number, (list = []));
      list.push(env);
    }
    for (const [to, envs] of byPeer) {
      const address = this.peers.get(to);
      const target = address === undefined ? undefined : this.hub.lookup(address);
      if (target === undefined || !target.isReceiving() || target.selfId !== to || !this.hub.linkUp(this.selfId, to)) {
        for (const e of envs) this.drop(e, to, seen);
        continue;
      }
      // Normal messages of the round in one delivery; each snapshot in its own, in order.
      let run: Envelope[] = [];
      const flushRun = () => {
        if (run.length > 0) this.deliver(target, run, null, seen);
        run = [];
      };
      for (const e of envs) {
        if (e.message.type === MessageType.Snapshot) {
          flushRun();
          this.deliver(target, [e], e.group, seen);
        } else {
          run.push(e);
        }
      }
      flushRun();
    }
  }

  private deliver(target: MemoryTransport, envs: Envelope[], snapshotGroup: string | null, seen: Set<string>): void {
    const frame = this.serialize ? encodeMessages(envs) : null;
    const bytes = frame ? frame.length : envs.length * 64;
    const p = this.hub.pending(this.selfId, target.selfId);
    if (p.frames >= this.maxQueueFrames || p.bytes + bytes > this.maxQueueBytes) {
      for (const e of envs) this.drop(e, target.selfId, seen);
      return;
    }
    const groups = [...new Set(envs.map((e) => e.group))];
    this.counters.framesSent++;
    this.counters.bytesSent += bytes;
    this.hub.enqueue({ from: this, to: target, frame, envelopes: frame ? null : envs, messages: envs.length, bytes, groups, snapshotGroup });
  }

  private drop(e: Envelope, to: NodeId, seen: Set<string>): void {
    this.counters.messagesDropped++;
    this.outbox.unreachable(e.group, to, seen);
    if (e.message.type === MessageType.Snapshot) {
      this.counters.snapshotsFailed++;
      this.outbox.emit((ev) => ev.onSnapshotStatus(e.group, to, false));
    }
  }

  /** @internal */
  isReceiving(): boolean {
    return this.started && !this.closed;
  }

  /** @internal Called by the hub; returns false if the receiver threw. */
  receive(d: Delivery): boolean {
    const events = this.events;
    if (!events) return false;
    let envs: Envelope[];
    if (d.frame) {
      const f = decodeFrame(d.frame);
      if (f.kind !== FrameKind.Messages) return false;
      envs = f.envelopes;
    } else {
      envs = d.envelopes!;
    }
    this.counters.framesReceived++;
    this.counters.bytesReceived += d.bytes;
    this.counters.messagesReceived += envs.length;
    if (d.snapshotGroup !== null) this.counters.snapshotsReceived++;
    try {
      events.onMessages(d.from.selfId, envs);
      return true;
    } catch (err) {
      this.log.error({ from: d.from.selfId, err: String(err) }, 'memory transport: onMessages threw');
      return false;
    }
  }

  /** @internal */
  deliveryDone(d: Delivery, ok: boolean): void {
    this.counters.messagesSent += d.messages;
    if (d.snapshotGroup === null) return;
    const group = d.snapshotGroup;
    const to = d.to.selfId;
    if (ok) this.counters.snapshotsSent++;
    else this.counters.snapshotsFailed++;
    this.outbox.emit((ev) => ev.onSnapshotStatus(group, to, ok));
  }

  /** @internal */
  deliveryFailed(d: Delivery): void {
    this.counters.messagesDropped += d.messages;
    const to = d.to.selfId;
    for (const g of d.groups) this.outbox.emit((ev) => ev.onUnreachable(g, to));
    if (d.snapshotGroup !== null) {
      const group = d.snapshotGroup;
      this.counters.snapshotsFailed++;
      this.outbox.emit((ev) => ev.onSnapshotStatus(group, to, false));
    }
  }
}
