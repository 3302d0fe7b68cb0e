// WsTransport: peer messaging over WebSocket (`ws`).
//
// Outbound: one connection per remote host, dialled lazily on the first send, carrying every
// group. Each send() call is one round: the messages for a peer become one Messages frame (split
// only past maxFrameBytes) in a bounded per-peer queue, drained into the socket while its
// bufferedAmount is below a high-water mark. A full queue drops messages (Raft retransmits)
// and reports onUnreachable. A lost connection drops what was still queued, fails snapshot
// streams, and redials with exponential backoff and jitter.
//
// Inbound: peers upgrade on `path` of the node's HTTP server, authenticate with the shared
// token (Authorization: Bearer) and announce their node id (x-raftkit-node-id). Frames are
// validated by the codec; a malformed frame or a protocol violation closes that connection
// (1008, or 1003 for text) with the reason, and nothing else.
//
// Snapshots: a Snapshot message is streamed as SnapshotBegin + SnapshotChunk frames,
// alternating with the peer's normal frames, with its own (lower) bufferedAmount mark so small
// messages keep flowing. The receiver reassembles into one preallocated buffer (bounded by
// maxSnapshotBytes per stream and in total), delivers the complete message, and acks; the sender
// then reports onSnapshotStatus(ok).
import { EventOutbox } from './event-outbox.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { MessageType, type NodeId } from '../core/types.js';
import {
  FrameError,
  FrameKind,
  decodeFrame,
  encodeMessages,
  encodeSnapshotAbort,
  encodeSnapshotAck,
  encodeSnapshotBegin,
  encodeSnapshotChunk,
  envelopeProblem,
  estimateMessageSize,
  truncateUtf8,
  type Frame,
} from './codec.js';
import { emptyStats, noopLogger, type Envelope, type PeerTransport, type TransportEvents, type TransportLogger, type TransportStats } from './transport.js';

export const HEADER_NODE_ID = 'x-raftkit-node-id';
export const HEADER_TARGET_ID = 'x-raftkit-target-id';
export const HEADER_PROTOCOL = 'x-raftkit-protocol';
export const WIRE_PROTOCOL = '1';

export interface WsTransportOptions {
  selfId: NodeId;
  /** The node's HTTP(S) server; the transport only handles its 'upgrade' events for `path`. */
  server: HttpServer | HttpsServer;
  /** Shared secret; when set, inbound peers must present it and outbound dials send it. */
  token?: string;
  /** Upgrade path (default '/raft'). */
  path?: string;
  logger?: TransportLogger;
  /** A round's messages to one peer are split into frames of about this size (default 4 MiB). */
  maxFrameBytes?: number;
  /** Largest frame sent or accepted (default 64 MiB); bigger single messages are dropped. */
  maxPayloadBytes?: number;
  /** Per-peer send queue bounds (defaults 16 MiB, 1024 frames). */
  maxQueueBytes?: number;
  maxQueueFrames?: number;
  /** No frame is written while the socket's bufferedAmount is at or above this (default 4 MiB). */
  highWaterBytes?: number;
  /** Snapshot chunk size (default 256 KiB) and the bufferedAmount below which a chunk may be written (default 1 MiB). */
  snapshotChunkBytes?: number;
  snapshotHighWaterBytes?: number;
  /** Receiver: largest accepted snapshot stream (default 1 GiB); in-progress streams may total twice that. */
  maxSnapshotBytes?: number;
  /** Sender: snapshot streams queued per peer beyond which new ones fail (default 16). */
  maxPendingSnapshots?: number;
  /** Sender: wait this long for the receiver's ack after the last chunk (default 60 s). */
  snapshotAckTimeoutMs?: number;
  /** Receiver: drop an inbound stream without progress for this long (default 60 s). */
  snapshotIdleTimeoutMs?: number;
  /** Redial backoff: initial and max delay (defaults 100 ms, 5 s), jittered into [d/2, d]. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  handshakeTimeoutMs?: number;
  /** Ping every open connection this often; one without a pong by the next ping is terminated (default 10 s; 0 disables). */
  pingIntervalMs?: number;
  /** Source of backoff jitter in [0, 1) (default Math.random). */
  random?: () => number;
}

type Resolved = Required<Omit<WsTransportOptions, 'token' | 'logger' | 'server'>>;

interface QueuedFrame {
  data: Uint8Array;
  messages: number;
  groups: string[];
}

/** A FIFO with O(1) shift. */
class FrameQueue {
  private items: (QueuedFrame | undefined)[] = [];
  private head = 0;
  bytes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(f: QueuedFrame): void {
    this.items.push(f);
    this.bytes += f.data.length;
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
}

interface OutSnapshot {
  envelope: Envelope;
  data: Uint8Array;
  streamId: number;
  /** Next byte to send; -1 before the begin frame went out. */
  offset: number;
  state: 'pending' | 'sending' | 'awaiting-ack';
  timer: NodeJS.Timeout | null;
}

type PeerState = 'idle' | 'connecting' | 'open' | 'backoff';

interface OutPeer {
  id: NodeId;
  address: string;
  url: string;
  ws: WebSocket | null;
  state: PeerState;
  queue: FrameQueue;
  snapshots: OutSnapshot[];
  nextStreamId: number;
  /** Consecutive failed or short-lived connections (drives the backoff). */
  attempts: number;
  everConnected: boolean;
  openedAt: number;
  retryTimer: NodeJS.Timeout | null;
  alive: boolean;
  pumping: boolean;
  pumpScheduled: boolean;
  /** Alternation between normal frames (0) and snapshot frames (1). */
  turn: 0 | 1;
  lastError: string;
  dropsSinceLog: number;
  lastDropLog: number;
  removed: boolean;
}

interface InStream {
  streamId: number;
  envelope: Envelope;
  buf: Uint8Array;
  received: number;
  lastActivity: number;
}

interface InConn {
  ws: WebSocket;
  peerId: NodeId;
  remote: string;
  streams: Map<number, InStream>;
  /** Streams we refused; their in-flight chunks are ignored. Bounded. */
  rejected: number[];
  alive: boolean;
  closing: boolean;
}

const MAX_INBOUND_STREAMS_PER_CONN = 4;
/** Each peer id keeps one inbound connection (a newer one replaces an older); this bounds the rest. */
const MAX_INBOUND_CONNECTIONS = 1024;
const DROP_LOG_INTERVAL_MS = 5000;
/** Bytes one pump() call may write before yielding to the event loop. */
const PUMP_BUDGET_BYTES = 512 << 10;

function positive(v: number | undefined, dflt: number, name: string, allowZero = false): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new TypeError(`WsTransport: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${v}`);
  return v;
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** "host:port", "[v6]:port" or a ws:// / wss:// URL → the peer's WebSocket URL. */
export function peerUrl(address: string, path: string): string {
  if (typeof address !== 'string' || address.length === 0) throw new TypeError('peer address must be a non-empty string');
  const isUrl = /^wss?:\/\//i.test(address);
  const bad = (why: string) => new TypeError(`invalid peer address ${JSON.stringify(address)}: ${why}`);
  if (!isUrl) {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^\s/?#@:[\]]+):(\d{1,5})$/.exec(address);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw bad('expected host:port');
  }
  let url: URL;
  try {
    url = new URL(isUrl ? address : `ws://${address}`);
  } catch {
    throw bad(isUrl ? 'not a valid URL' : 'expected host:port');
  }
  if (!url.hostname) throw bad('no host');
  if (url.pathname === '/' || url.pathname === '') url.pathname = path;
  return url.toString();
}

const zeroMask = (mask: Buffer): void => {
  // Peer links are server-to-server: masking protects browsers' intermediaries, not us, and a
  // zero mask lets ws skip XOR-ing every payload on both ends.
  mask.fill(0);
};

export class WsTransport implements PeerTransport {
  private readonly selfId: NodeId;
  private readonly server: HttpServer | HttpsServer;
  private readonly tokenHash: Buffer | null;
  private readonly token: string | undefined;
  private readonly log: TransportLogger;
  private readonly o: Resolved;
  private readonly wss: WebSocketServer;
  private readonly peers = new Map<NodeId, OutPeer>();
  private readonly inbound = new Set<InConn>();
  private readonly counters: TransportStats = emptyStats();
  private events: TransportEvents | null = null;
  private started = false;
  private closed = false;
  private readonly outbox: EventOutbox;
  private keepalive: NodeJS.Timeout | null = null;
  private inboundReserved = 0;

  constructor(options: WsTransportOptions) {
    if (!Number.isSafeInteger(options.selfId) || options.selfId <= 0) throw new TypeError('WsTransport: selfId must be a positive integer');
    if (!options.server || typeof options.server.on !== 'function') throw new TypeError('WsTransport: server must be an http.Server');
    if (options.token !== undefined && !/^[\x21-\x7e]{1,4096}$/.test(options.token)) {
      throw new TypeError('WsTransport: token must be 1..4096 printable ASCII characters');
    }
    this.selfId = options.selfId;
    this.server = options.server;
    this.token = options.token;
    this.tokenHash = options.token === undefined ? null : sha256(options.token);
    this.log = options.logger ?? noopLogger;
    this.outbox = new EventOutbox(() => (this.closed ? null : this.events), this.log, 'raft transport');
    const path = options.path ?? '/raft';
    if (!path.startsWith('/')) throw new TypeError('WsTransport: path must start with /');
    this.o = {
      selfId: options.selfId,
      path,
      maxFrameBytes: positive(options.maxFrameBytes, 4 << 20, 'maxFrameBytes'),
      maxPayloadBytes: positive(options.maxPayloadBytes, 64 << 20, 'maxPayloadBytes'),
      maxQueueBytes: positive(options.maxQueueBytes, 16 << 20, 'maxQueueBytes'),
      maxQueueFrames: positive(options.maxQueueFrames, 1024, 'maxQueueFrames'),
      highWaterBytes: positive(options.highWaterBytes, 4 << 20, 'highWaterBytes'),
      snapshotChunkBytes: positive(options.snapshotChunkBytes, 256 << 10, 'snapshotChunkBytes'),
      snapshotHighWaterBytes: positive(options.snapshotHighWaterBytes, 1 << 20, 'snapshotHighWaterBytes'),
      maxSnapshotBytes: positive(options.maxSnapshotBytes, 1 << 30, 'maxSnapshotBytes'),
      maxPendingSnapshots: positive(options.maxPendingSnapshots, 16, 'maxPendingSnapshots'),
      snapshotAckTimeoutMs: positive(options.snapshotAckTimeoutMs, 60_000, 'snapshotAckTimeoutMs'),
      snapshotIdleTimeoutMs: positive(options.snapshotIdleTimeoutMs, 60_000, 'snapshotIdleTimeoutMs'),
      backoffInitialMs: positive(options.backoffInitialMs, 100, 'backoffInitialMs'),
      backoffMaxMs: positive(options.backoffMaxMs, 5000, 'backoffMaxMs'),
      handshakeTimeoutMs: positive(options.handshakeTimeoutMs, 5000, 'handshakeTimeoutMs'),
      pingIntervalMs: positive(options.pingIntervalMs, 10_000, 'pingIntervalMs', true),
      random: options.random ?? Math.random,
    };
    if (this.o.snapshotChunkBytes + 64 > this.o.maxPayloadBytes) throw new TypeError('WsTransport: snapshotChunkBytes must fit in maxPayloadBytes');
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.o.maxPayloadBytes, perMessageDeflate: false, clientTracking: false });
  }

  // -------------------------------------------------------------------------------------
  // Lifecycle

  /** True between start() and close(): inbound peers are handled. */
  get accepting(): boolean {
    return this.started && !this.closed;
  }

  async start(events: TransportEvents): Promise<void> {
    if (this.started) throw new Error('WsTransport: start() called twice');
    if (this.closed) throw new Error('WsTransport: closed');
    this.started = true;
    this.events = events;
    this.server.on('upgrade', this.onUpgrade);
    if (this.o.pingIntervalMs > 0) {
      this.keepalive = setInterval(this.onKeepalive, this.o.pingIntervalMs);
      this.keepalive.unref();
    }
    if (this.tokenHash === null) this.log.warn({ selfId: this.selfId }, 'raft transport: no token configured; peer connections are not authenticated');
    this.log.info({ selfId: this.selfId, path: this.o.path }, 'raft transport started');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.events = null;
    this.outbox.clear();
    this.server.off('upgrade', this.onUpgrade);
    if (this.keepalive) clearInterval(this.keepalive);
    const waits: Promise<void>[] = [];
    for (const peer of this.peers.values()) {
      this.clearPeerTimers(peer);
      if (peer.ws) waits.push(closeSocket(peer.ws, 1001, 'shutting down'));
      peer.ws = null;
      peer.queue.drain();
      peer.snapshots = [];
    }
    for (const conn of this.inbound) {
      conn.closing = true;
      conn.streams.clear();
      waits.push(closeSocket(conn.ws, 1001, 'shutting down'));
    }
    this.inbound.clear();
    this.inboundReserved = 0;
    await Promise.all(waits);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.log.info({ selfId: this.selfId }, 'raft transport closed');
  }

  setPeer(id: NodeId, address: string): void {
    if (!Number.isSafeInteger(id) || id <= 0) throw new TypeError(`setPeer: id must be a positive integer, got ${id}`);
    if (id === this.selfId) throw new TypeError('setPeer: a peer cannot have this node\'s own id');
    const url = peerUrl(address, this.o.path);
    const peer = this.peers.get(id);
    if (!peer) {
      this.peers.set(id, {
        id,
        address,
        url,
        ws: null,
        state: 'idle',
        queue: new FrameQueue(),
        snapshots: [],
        nextStreamId: 1,
        attempts: 0,
        everConnected: false,
        openedAt: 0,
        retryTimer: null,
        alive: true,
        pumping: false,
        pumpScheduled: false,
        turn: 0,
        lastError: '',
        dropsSinceLog: 0,
        lastDropLog: 0,
        removed: false,
      });
      return;
    }
    if (peer.url === url) return;
    this.log.info({ peer: id, from: peer.address, to: address }, 'raft peer address changed');
    peer.address = address;
    peer.url = url;
    peer.attempts = 0;
    if (peer.retryTimer) clearTimeout(peer.retryTimer);
    peer.retryTimer = null;
    const ws = peer.ws;
    if (ws) {
      peer.ws = null;
      peer.state = 'idle';
      void closeSocket(ws, 1000, 'peer address changed');
      // The stream in progress dies with the connection; queued frames and snapshots move on.
      const active = peer.snapshots[0];
      if (active && active.state !== 'pending') this.finishSnapshot(peer, active, false, 'peer address changed');
    } else {
      peer.state = 'idle';
    }
    this.kick(peer);
  }

  removePeer(id: NodeId): void {
    const peer = this.peers.get(id);
    if (!peer) return;
    this.peers.delete(id);
    peer.removed = true;
    this.clearPeerTimers(peer);
    if (peer.ws) void closeSocket(peer.ws, 1000, 'peer removed');
    peer.ws = null;
    peer.state = 'idle';
    const dropped = peer.queue.drain();
    for (const f of dropped) this.counters.messagesDropped += f.messages;
    for (const s of [...peer.snapshots]) this.finishSnapshot(peer, s, false, 'peer removed');
    this.log.info({ peer: id }, 'raft peer removed');
  }

  stats(): TransportStats {
    const s: TransportStats = { ...this.counters, peers: [] };
    for (const p of this.peers.values()) {
      s.peers.push({ id: p.id, address: p.address, connected: p.state === 'open', queuedFrames: p.queue.length, queuedBytes: p.queue.bytes, pendingSnapshots: p.snapshots.length });
    }
    return s;
  }

  // -------------------------------------------------------------------------------------
  // Sending

  send(batch: Envelope[]): void {
    if (!this.started) throw new Error('WsTransport: send() before start()');
    if (this.closed) throw new Error('WsTransport: send() after close()');
    const seen = new Set<string>();
    const byPeer = new Map<NodeId, Envelope[]>();
    for (const env of batch) {
      const m = env?.message;
      const to = m?.to;
      if (typeof to !== 'number' || !Number.isSafeInteger(to) || to <= 0 || to === this.selfId) {
        this.counters.messagesDropped++;
        this.log.error({ group: env?.group, to }, 'raft transport: dropped a message with an invalid recipient');
        if (typeof env?.group === 'string' && typeof to === 'number') this.outbox.unreachable(env.group, to, seen);
        continue;
      }
      if (m.type === MessageType.Snapshot) {
        this.queueSnapshot(env);
        continue;
      }
      let list = byPeer.get(to);
      if (!list) byPeer.set(to, (list = []));
      list.push(env);
    }
    for (const [to, envs] of byPeer) {
      const peer = this.peers.get(to);
      if (!peer) {
        this.counters.messagesDropped += envs.length;
        for (const e of envs) this.outbox.unreachable(e.group, to, seen);
        this.noteDrop(null, to, envs.length, 'unknown peer');
        continue;
      }
      let start = 0;
      let size = 0;
      for (let i = 0; i < envs.length; i++) {
        const est = estimateMessageSize(envs[i]!.message);
        if (i > start && size + est > this.o.maxFrameBytes) {
          this.enqueue(peer, envs.slice(start, i), seen);
          start = i;
          size = 0;
        }
        size += est;
      }
      this.enqueue(peer, start === 0 ? envs : envs.slice(start), seen);
      this.kick(peer);
    }
  }

  private enqueue(peer: OutPeer, envs: Envelope[], seen: Set<string>): void {
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
          this.log.error({ peer: peer.id, group: e.group, type: e.message?.type, reason: why }, 'raft transport: dropped an unencodable message');
          if (typeof e.group === 'string') this.outbox.unreachable(e.group, peer.id, seen);
        }
      }
      if (good.length === 0) return;
      try {
        frame = encodeMessages(good);
      } catch (err2) {
        this.counters.messagesDropped += good.length;
        this.log.error({ peer: peer.id, err: String(err2), first: String(err) }, 'raft transport: dropped a batch that could not be encoded');
        for (const e of good) this.outbox.unreachable(e.group, peer.id, seen);
        return;
      }
      envs = good;
    }
    if (frame.length > this.o.maxPayloadBytes) {
      this.counters.messagesDropped += envs.length;
      this.log.error({ peer: peer.id, bytes: frame.length, max: this.o.maxPayloadBytes }, 'raft transport: dropped a message larger than maxPayloadBytes');
      for (const e of envs) this.outbox.unreachable(e.group, peer.id, seen);
      return;
    }
    const q = peer.queue;
    if (q.length >= this.o.maxQueueFrames || q.bytes + frame.length > this.o.maxQueueBytes) {
      this.counters.messagesDropped += envs.length;
      for (const e of envs) this.outbox.unreachable(e.group, peer.id, seen);
      this.noteDrop(peer, peer.id, envs.length, 'send queue full');
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
    q.push({ data: frame, messages: envs.length, groups });
  }

  private queueSnapshot(env: Envelope): void {
    const to = env.message.to;
    const group = env.group;
    const peer = this.peers.get(to);
    const snap = env.message.snapshot;
    const problem = snap && snap.data instanceof Uint8Array ? envelopeProblem(env) : 'a Snapshot message must carry snapshot data';
    if (!peer || problem !== null) {
      this.counters.messagesDropped++;
      this.counters.snapshotsFailed++;
      if (problem !== null) this.log.error({ peer: to, group, reason: problem }, 'raft transport: dropped an invalid snapshot message');
      else this.noteDrop(null, to, 1, 'unknown peer');
      if (typeof group === 'string') {
        this.outbox.emit((ev) => ev.onUnreachable(group, to));
        this.outbox.emit((ev) => ev.onSnapshotStatus(group, to, false));
      }
      return;
    }
    // A newer snapshot for the same group supersedes one that has not started yet.
    for (let i = 0; i < peer.snapshots.length; i++) {
      const old = peer.snapshots[i]!;
      if (old.envelope.group === group && old.state === 'pending') {
        this.finishSnapshot(peer, old, false, 'superseded by a newer snapshot');
        break;
      }
    }
    if (peer.snapshots.length >= this.o.maxPendingSnapshots) {
      this.counters.messagesDropped++;
      this.counters.snapshotsFailed++;
      this.log.warn({ peer: to, group, pending: peer.snapshots.length }, 'raft transport: too many snapshot streams queued; dropped one');
      this.outbox.emit((ev) => ev.onSnapshotStatus(group, to, false));
      return;
    }
    peer.snapshots.push({ envelope: env, data: snap!.data, streamId: 0, offset: -1, state: 'pending', timer: null });
    this.kick(peer);
  }

  /** Makes progress on a peer: dial if idle, write if open. */
  private kick(peer: OutPeer): void {
    if (this.closed || peer.removed) return;
    if (peer.state === 'open') this.pump(peer);
    else if (peer.state === 'idle' && (peer.queue.length > 0 || peer.snapshots.length > 0)) this.dial(peer);
  }

  /**
   * Writes queued frames and snapshot pieces, alternating, while the socket's bufferedAmount
   * allows. On a fast link the kernel absorbs writes at once (bufferedAmount stays 0), so each
   * call also stops after PUMP_BUDGET_BYTES and continues from setImmediate: a large snapshot
   * never monopolises the event loop.
   */
  private pump(peer: OutPeer): void {
    const ws = peer.ws;
    if (!ws || peer.state !== 'open' || ws.readyState !== WebSocket.OPEN || peer.pumping) return;
    peer.pumping = true;
    let budget = PUMP_BUDGET_BYTES;
    try {
      for (;;) {
        if (peer.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
        const buffered = ws.bufferedAmount;
        const canFrame = peer.queue.length > 0 && buffered < this.o.highWaterBytes;
        const snap = peer.snapshots[0];
        const canChunk = snap !== undefined && snap.state !== 'awaiting-ack' && buffered < this.o.snapshotHighWaterBytes;
        if (!canFrame && !canChunk) return; // done, or wait for write callbacks to drain the socket
        if (budget <= 0) {
          this.schedulePump(peer);
          return;
        }
        if (canFrame && (peer.turn === 0 || !canChunk)) {
          const f = peer.queue.shift()!;
          budget -= f.data.length;
          this.write(peer, ws, f.data);
          this.counters.messagesSent += f.messages;
          peer.turn = 1;
        } else {
          budget -= this.writeSnapshotPiece(peer, ws, snap!);
          peer.turn = 0;
        }
      }
    } finally {
      peer.pumping = false;
    }
  }

  private schedulePump(peer: OutPeer): void {
    if (peer.pumpScheduled) return;
    peer.pumpScheduled = true;
    setImmediate(() => {
      peer.pumpScheduled = false;
      if (!this.closed && !peer.removed) this.pump(peer);
    });
  }

  private write(peer: OutPeer, ws: WebSocket, data: Uint8Array, onWritten?: () => void): void {
    this.counters.framesSent++;
    this.counters.bytesSent += data.length;
    ws.send(data, { binary: true }, (err) => {
      if (err) return; // the close handler deals with it
      if (onWritten) onWritten();
      // Room in the socket: write more (from the event loop, not this callback chain).
      if (peer.ws === ws) this.schedulePump(peer);
    });
  }

  /** Writes the next frame of a snapshot stream; returns its size. */
  private writeSnapshotPiece(peer: OutPeer, ws: WebSocket, s: OutSnapshot): number {
    const total = s.data.length;
    if (s.state === 'pending') {
      s.streamId = peer.nextStreamId++;
      s.state = 'sending';
      s.offset = 0;
      let begin: Uint8Array;
      try {
        begin = encodeSnapshotBegin(s.streamId, total, s.envelope);
      } catch (err) {
        this.finishSnapshot(peer, s, false, `unencodable snapshot: ${String(err)}`);
        return 0;
      }
      this.log.info({ peer: peer.id, group: s.envelope.group, bytes: total, stream: s.streamId }, 'raft snapshot stream started');
      if (total === 0) {
        s.state = 'awaiting-ack';
        this.write(peer, ws, begin, () => this.startAckTimer(peer, s));
      } else {
        this.write(peer, ws, begin);
      }
      return begin.length;
    }
    const end = Math.min(s.offset + this.o.snapshotChunkBytes, total);
    const chunk = encodeSnapshotChunk(s.streamId, s.offset, s.data.subarray(s.offset, end));
    s.offset = end;
    this.counters.snapshotChunksSent++;
    if (end === total) {
      s.state = 'awaiting-ack';
      this.write(peer, ws, chunk, () => this.startAckTimer(peer, s));
    } else {
      this.write(peer, ws, chunk);
    }
    return chunk.length;
  }

  private startAckTimer(peer: OutPeer, s: OutSnapshot): void {
    if (peer.snapshots[0] !== s || s.timer) return;
    s.timer = setTimeout(() => {
      s.timer = null;
      if (peer.snapshots[0] !== s) return;
      const ws = peer.ws;
      if (ws && ws.readyState === WebSocket.OPEN) {
        try {
          this.write(peer, ws, encodeSnapshotAbort(s.streamId, 'ack timeout'));
        } catch {
          /* closing */
        }
      }
      this.finishSnapshot(peer, s, false, 'no ack from the receiver in time');
      this.kick(peer);
    }, this.o.snapshotAckTimeoutMs);
    s.timer.unref();
  }

  /** Removes a snapshot stream from the peer's list and reports its status. */
  private finishSnapshot(peer: OutPeer, s: OutSnapshot, ok: boolean, why: string): void {
    const i = peer.snapshots.indexOf(s);
    if (i < 0) return;
    peer.snapshots.splice(i, 1);
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    const group = s.envelope.group;
    const to = peer.id;
    if (ok) {
      this.counters.snapshotsSent++;
      this.counters.messagesSent++;
      this.log.info({ peer: to, group, bytes: s.data.length, stream: s.streamId }, 'raft snapshot stream acknowledged');
    } else {
      this.counters.snapshotsFailed++;
      this.counters.messagesDropped++;
      this.log.warn({ peer: to, group, bytes: s.data.length, stream: s.streamId, reason: why }, 'raft snapshot stream failed');
    }
    this.outbox.emit((ev) => ev.onSnapshotStatus(group, to, ok));
  }

  // -------------------------------------------------------------------------------------
  // Outbound connections

  private dial(peer: OutPeer): void {
    if (this.closed || peer.removed) return;
    this.counters.dials++;
    if (peer.everConnected || peer.attempts > 0) this.counters.reconnects++;
    peer.state = 'connecting';
    peer.alive = true;
    const headers: Record<string, string> = {
      [HEADER_NODE_ID]: String(this.selfId),
      [HEADER_TARGET_ID]: String(peer.id),
      [HEADER_PROTOCOL]: WIRE_PROTOCOL,
    };
    if (this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    let ws: WebSocket;
    try {
      ws = new WebSocket(peer.url, {
        headers,
        perMessageDeflate: false,
        maxPayload: this.o.maxPayloadBytes,
        handshakeTimeout: this.o.handshakeTimeoutMs,
        followRedirects: false,
        generateMask: zeroMask,
      });
    } catch (err) {
      peer.lastError = String(err);
      this.onOutboundClosed(peer, null, 1006, '');
      return;
    }
    peer.ws = ws;
    peer.lastError = '';
    ws.on('open', () => {
      if (peer.ws !== ws) return;
      peer.state = 'open';
      peer.everConnected = true;
      peer.openedAt = Date.now();
      this.log.info({ peer: peer.id, address: peer.address }, 'raft peer connected');
      this.pump(peer);
    });
    ws.on('message', (data, isBinary) => this.onOutboundMessage(peer, ws, data, isBinary));
    ws.on('pong', () => {
      peer.alive = true;
    });
    ws.on('error', (err) => {
      peer.lastError = err.message;
    });
    ws.on('close', (code, reason) => this.onOutboundClosed(peer, ws, code, reason.toString('utf8')));
  }

  private onOutboundClosed(peer: OutPeer, ws: WebSocket | null, code: number, reason: string): void {
    if (ws !== null && peer.ws !== ws) return; // a connection we already replaced
    peer.ws = null;
    const wasOpen = peer.state === 'open';
    if (!wasOpen) this.counters.connectFailures++;
    if (this.closed || peer.removed) {
      peer.state = 'idle';
      return;
    }
    const ctx = { peer: peer.id, address: peer.address, code, reason, error: peer.lastError || undefined };
    if (/\b401\b/.test(peer.lastError)) this.log.error(ctx, 'raft peer refused our token (401)');
    else if (code === 1008 || code === 1003) this.log.error(ctx, 'raft peer closed the connection: protocol error');
    else if (wasOpen) this.log.warn(ctx, 'raft peer connection lost');
    else if (peer.attempts === 0) this.log.warn(ctx, 'raft peer connection failed');
    // Backoff grows with consecutive failures; a connection that stayed up a while resets it.
    if (wasOpen && Date.now() - peer.openedAt >= this.o.backoffMaxMs) peer.attempts = 0;
    peer.attempts++;
    // What was queued is stale by the time we reconnect: drop it and tell Raft.
    const dropped = peer.queue.drain();
    if (dropped.length > 0) {
      const seen = new Set<string>();
      let n = 0;
      for (const f of dropped) {
        n += f.messages;
        for (const g of f.groups) this.outbox.unreachable(g, peer.id, seen);
      }
      this.counters.messagesDropped += n;
      this.noteDrop(peer, peer.id, n, 'connection lost');
    }
    for (const s of [...peer.snapshots]) this.finishSnapshot(peer, s, false, wasOpen ? 'connection lost' : 'peer unreachable');
    const base = Math.min(this.o.backoffMaxMs, this.o.backoffInitialMs * 2 ** Math.min(peer.attempts - 1, 30));
    const delay = Math.round(base / 2 + (this.o.random() * base) / 2);
    peer.state = 'backoff';
    peer.retryTimer = setTimeout(() => {
      peer.retryTimer = null;
      if (this.closed || peer.removed || peer.state !== 'backoff') return;
      peer.state = 'idle';
      this.kick(peer);
    }, delay);
    peer.retryTimer.unref();
  }

  private onOutboundMessage(peer: OutPeer, ws: WebSocket, data: RawData, isBinary: boolean): void {
    if (peer.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
    peer.alive = true;
    const frame = this.readFrame(data, isBinary);
    if (!('kind' in frame)) return this.outboundProtocolError(peer, ws, frame.code, frame.reason);
    if (frame.kind !== FrameKind.SnapshotAck) {
      return this.outboundProtocolError(peer, ws, 1008, `unexpected frame kind ${FrameKind[frame.kind]} on an outbound connection`);
    }
    const s = peer.snapshots[0];
    if (!s || s.streamId !== frame.streamId || s.state === 'pending') return; // stale (timed out or aborted)
    if (frame.ok) {
      if (s.state !== 'awaiting-ack') return this.outboundProtocolError(peer, ws, 1008, `snapshot stream ${s.streamId} acknowledged before it was complete`);
      this.finishSnapshot(peer, s, true, '');
    } else {
      this.finishSnapshot(peer, s, false, `rejected by the receiver: ${frame.reason}`);
    }
    this.pump(peer);
  }

  private outboundProtocolError(peer: OutPeer, ws: WebSocket, code: number, reason: string): void {
    this.counters.protocolErrors++;
    this.log.warn({ peer: peer.id, code, reason }, 'raft transport: closing connection after a protocol error');
    ws.close(code, Buffer.from(truncateUtf8(reason, 123)));
  }

  // -------------------------------------------------------------------------------------
  // Inbound connections

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      return;
    }
    if (pathname !== this.o.path) return; // someone else's upgrade
    socket.on('error', () => {});
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const refuse = (status: number, reason: string, level: 'warn' | 'error' = 'warn'): void => {
      this.counters.inboundRefused++;
      this.log[level]({ remote, status, reason, peer: req.headers[HEADER_NODE_ID] }, 'raft transport: refused a peer connection');
      const body = `${reason}\n`;
      socket.once('finish', () => socket.destroy());
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    };
    if (this.closed || !this.started) return refuse(503, 'transport is not running');
    if (this.inbound.size >= MAX_INBOUND_CONNECTIONS) return refuse(503, 'too many peer connections', 'error');
    if (this.tokenHash !== null) {
      const auth = req.headers['authorization'];
      const m = typeof auth === 'string' ? /^Bearer (.+)$/.exec(auth) : null;
      if (!m) return refuse(401, 'missing token');
      if (!timingSafeEqual(sha256(m[1]!), this.tokenHash)) return refuse(401, 'wrong token');
    }
    if (req.headers[HEADER_PROTOCOL] !== WIRE_PROTOCOL) return refuse(400, `unsupported or missing ${HEADER_PROTOCOL} (want ${WIRE_PROTOCOL})`);
    const peerId = parseId(req.headers[HEADER_NODE_ID]);
    if (peerId === null) return refuse(400, `missing or invalid ${HEADER_NODE_ID}`);
    if (peerId === this.selfId) return refuse(400, 'a node cannot connect to itself');
    const target = req.headers[HEADER_TARGET_ID];
    if (target !== undefined && parseId(target) !== this.selfId) return refuse(421, `this is node ${this.selfId}, not ${String(target)}`, 'error');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onInbound(ws, peerId, remote));
  };

  private onInbound(ws: WebSocket, peerId: NodeId, remote: string): void {
    if (this.closed) {
      ws.terminate();
      return;
    }
    this.counters.inboundAccepted++;
    const conn: InConn = { ws, peerId, remote, streams: new Map(), rejected: [], alive: true, closing: false };
    // A peer keeps one connection to us; a newer one replaces an older (half-open) one.
    for (const other of this.inbound) {
      if (other.peerId === peerId) {
        other.closing = true;
        this.releaseStreams(other);
        other.ws.close(4000, 'replaced by a newer connection');
      }
    }
    this.inbound.add(conn);
    this.log.info({ peer: peerId, remote }, 'raft peer accepted');
    ws.on('message', (data, isBinary) => this.onInboundMessage(conn, data, isBinary));
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('error', (err) => {
      this.log.warn({ peer: peerId, remote, err: err.message }, 'raft transport: inbound connection error');
    });
    ws.on('close', (code, reason) => {
      this.inbound.delete(conn);
      this.releaseStreams(conn);
      if (!this.closed && !conn.closing) this.log.info({ peer: peerId, remote, code, reason: reason.toString('utf8') }, 'raft peer disconnected');
    });
  }

  private releaseStreams(conn: InConn): void {
    for (const s of conn.streams.values()) this.inboundReserved -= s.buf.length;
    conn.streams.clear();
  }

  private inboundProtocolError(conn: InConn, code: number, reason: string): void {
    if (conn.closing) return;
    conn.closing = true;
    this.counters.protocolErrors++;
    this.releaseStreams(conn);
    this.log.warn({ peer: conn.peerId, remote: conn.remote, code, reason }, 'raft transport: closing connection after a protocol error');
    conn.ws.close(code, Buffer.from(truncateUtf8(reason, 123)));
  }

  /** Counts and decodes one received frame, or says why the connection must close. */
  private readFrame(data: RawData, isBinary: boolean): Frame | { code: number; reason: string } {
    if (!isBinary) return { code: 1003, reason: 'text frames are not accepted' };
    const buf = toBytes(data);
    this.counters.framesReceived++;
    this.counters.bytesReceived += buf.length;
    try {
      return decodeFrame(buf);
    } catch (err) {
      return { code: 1008, reason: describeDecodeError(err) };
    }
  }

  private onInboundMessage(conn: InConn, data: RawData, isBinary: boolean): void {
    if (conn.closing || this.closed) return;
    conn.alive = true;
    const frame = this.readFrame(data, isBinary);
    if (!('kind' in frame)) return this.inboundProtocolError(conn, frame.code, frame.reason);
    const from = conn.peerId;
    switch (frame.kind) {
      case FrameKind.Messages: {
        const envs = frame.envelopes;
        for (const e of envs) {
          const m = e.message;
          if (m.from !== from || m.to !== this.selfId) {
            return this.inboundProtocolError(conn, 1008, `message from ${m.from} to ${m.to} on the connection from ${from} to ${this.selfId}`);
          }
        }
        if (envs.length === 0) return;
        this.counters.messagesReceived += envs.length;
        this.outbox.emit((ev) => ev.onMessages(from, envs));
        return;
      }
      case FrameKind.SnapshotBegin: {
        const env = frame.envelope;
        const id = frame.streamId;
        if (env.message.from !== from || env.message.to !== this.selfId) {
          return this.inboundProtocolError(conn, 1008, `snapshot from ${env.message.from} to ${env.message.to} on the connection from ${from} to ${this.selfId}`);
        }
        if (conn.streams.has(id) || conn.rejected.includes(id)) return this.inboundProtocolError(conn, 1008, `snapshot stream ${id} begun twice`);
        const total = frame.totalSize;
        let refuse: string | null = null;
        if (total > this.o.maxSnapshotBytes) refuse = `snapshot of ${total} bytes exceeds the limit of ${this.o.maxSnapshotBytes}`;
        else if (conn.streams.size >= MAX_INBOUND_STREAMS_PER_CONN) refuse = 'too many concurrent snapshot streams';
        else if (this.inboundReserved + total > 2 * this.o.maxSnapshotBytes) refuse = 'too many snapshot bytes in flight; retry later';
        if (refuse !== null) {
          conn.rejected.push(id);
          if (conn.rejected.length > 64) conn.rejected.shift();
          this.log.warn({ peer: from, group: env.group, bytes: total, reason: refuse }, 'raft transport: refused a snapshot stream');
          this.sendInbound(conn, encodeSnapshotAck(id, false, refuse));
          return;
        }
        let bytes: Uint8Array;
        try {
          bytes = new Uint8Array(total);
        } catch {
          conn.rejected.push(id);
          this.sendInbound(conn, encodeSnapshotAck(id, false, 'out of memory'));
          return;
        }
        this.inboundReserved += total;
        const s: InStream = { streamId: id, envelope: env, buf: bytes, received: 0, lastActivity: Date.now() };
        conn.streams.set(id, s);
        if (total === 0) this.completeInbound(conn, s);
        return;
      }
      case FrameKind.SnapshotChunk: {
        const s = conn.streams.get(frame.streamId);
        if (!s) {
          if (conn.rejected.includes(frame.streamId)) return;
          return this.inboundProtocolError(conn, 1008, `chunk for unknown snapshot stream ${frame.streamId}`);
        }
        if (frame.offset !== s.received) return this.inboundProtocolError(conn, 1008, `snapshot chunk at offset ${frame.offset}, expected ${s.received}`);
        if (frame.offset + frame.data.length > s.buf.length) return this.inboundProtocolError(conn, 1008, `snapshot chunk overruns the announced ${s.buf.length} bytes`);
        s.buf.set(frame.data, frame.offset);
        s.received += frame.data.length;
        s.lastActivity = Date.now();
        this.counters.snapshotChunksReceived++;
        if (s.received === s.buf.length) this.completeInbound(conn, s);
        return;
      }
      case FrameKind.SnapshotAbort: {
        const s = conn.streams.get(frame.streamId);
        if (s) {
          conn.streams.delete(s.streamId);
          this.inboundReserved -= s.buf.length;
          this.log.warn({ peer: from, group: s.envelope.group, reason: frame.reason }, 'raft transport: sender aborted a snapshot stream');
        }
        return;
      }
      case FrameKind.SnapshotAck:
        return this.inboundProtocolError(conn, 1008, 'unexpected snapshot ack on an inbound connection');
    }
  }

  private completeInbound(conn: InConn, s: InStream): void {
    conn.streams.delete(s.streamId);
    this.inboundReserved -= s.buf.length;
    const env = s.envelope;
    env.message.snapshot!.data = s.buf;
    this.counters.snapshotsReceived++;
    this.counters.messagesReceived++;
    const from = conn.peerId;
    this.log.info({ peer: from, group: env.group, bytes: s.buf.length }, 'raft snapshot received');
    this.outbox.emit((ev) => {
      let ok = true;
      try {
        ev.onMessages(from, [env]);
      } catch (err) {
        ok = false;
        this.log.error({ peer: from, group: env.group, err: String(err) }, 'raft transport: onMessages threw on a snapshot');
      }
      this.sendInbound(conn, encodeSnapshotAck(s.streamId, ok, ok ? '' : 'receiver failed to accept the snapshot'));
    });
  }

  private sendInbound(conn: InConn, frame: Uint8Array): void {
    if (conn.closing || conn.ws.readyState !== WebSocket.OPEN) return;
    this.counters.framesSent++;
    this.counters.bytesSent += frame.length;
    conn.ws.send(frame, { binary: true });
  }

  // -------------------------------------------------------------------------------------
  // Housekeeping

  private readonly onKeepalive = (): void => {
    if (this.closed) return;
    const now = Date.now();
    for (const peer of this.peers.values()) {
      const ws = peer.ws;
      if (!ws || peer.state !== 'open') continue;
      if (!peer.alive) {
        peer.lastError = 'no pong from the peer';
        ws.terminate();
        continue;
      }
      peer.alive = false;
      ws.ping();
    }
    for (const conn of this.inbound) {
      if (conn.closing) continue;
      if (!conn.alive) {
        this.log.warn({ peer: conn.peerId, remote: conn.remote }, 'raft transport: inbound peer stopped answering pings');
        conn.closing = true;
        this.releaseStreams(conn);
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      if (conn.ws.readyState === WebSocket.OPEN) conn.ws.ping();
      for (const s of [...conn.streams.values()]) {
        if (now - s.lastActivity > this.o.snapshotIdleTimeoutMs) {
          conn.streams.delete(s.streamId);
          this.inboundReserved -= s.buf.length;
          conn.rejected.push(s.streamId);
          if (conn.rejected.length > 64) conn.rejected.shift();
          this.log.warn({ peer: conn.peerId, group: s.envelope.group }, 'raft transport: dropped a stalled inbound snapshot stream');
          this.sendInbound(conn, encodeSnapshotAck(s.streamId, false, 'stream stalled'));
        }
      }
    }
  };

  private clearPeerTimers(peer: OutPeer): void {
    if (peer.retryTimer) clearTimeout(peer.retryTimer);
    peer.retryTimer = null;
    for (const s of peer.snapshots) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = null;
    }
  }

  private noteDrop(peer: OutPeer | null, to: NodeId, n: number, why: string): void {
    if (!peer) {
      this.log.warn({ peer: to, dropped: n, reason: why }, 'raft transport: dropped messages');
      return;
    }
    peer.dropsSinceLog += n;
    const now = Date.now();
    if (now - peer.lastDropLog >= DROP_LOG_INTERVAL_MS) {
      this.log.warn({ peer: to, dropped: peer.dropsSinceLog, reason: why, queuedFrames: peer.queue.length, queuedBytes: peer.queue.bytes }, 'raft transport: dropped messages');
      peer.dropsSinceLog = 0;
      peer.lastDropLog = now;
    }
  }
}

function parseId(v: string | string[] | undefined): NodeId | null {
  if (typeof v !== 'string' || !/^[1-9][0-9]{0,15}$/.test(v)) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
}

function toBytes(data: RawData): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return new Uint8Array(data);
}

function describeDecodeError(err: unknown): string {
  if (err instanceof FrameError) return `malformed frame: ${err.code}: ${err.reason}`;
  return `malformed frame: ${String(err)}`;
}

function closeSocket(ws: WebSocket, code: number, reason: string): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    const timer = setTimeout(() => ws.terminate(), 1000);
    timer.unref();
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close(code, reason);
  });
}
