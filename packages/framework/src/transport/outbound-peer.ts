// One remote host as we send to it: the connection we dial, redial and write to.
//
// Every group's traffic to a host shares one connection, dialled lazily on the first send so
// an idle cluster holds no sockets it does not use. The pump moves queued frames and snapshot
// pieces into the socket only while its bufferedAmount is under a high-water mark: letting ws
// buffer without bound would hide a slow peer behind memory growth instead of the bounded
// queue's drops, which Raft knows how to recover from. A lost connection makes whatever was
// queued stale, so it is dropped and reported, and the redial backs off exponentially with
// jitter so a dead peer is not hammered and a restarted cluster does not redial in lockstep.
import type { ConnectionOptions } from 'node:tls';
import { WebSocket, type RawData } from 'ws';
import type { NodeId } from '../core/types.js';
import { FrameKind } from './codec.js';
import { FrameQueue } from './frame-queue.js';
import { SnapshotSender, type SnapshotLink } from './snapshot-sender.js';
import type { Envelope, PeerStats, TransportStats } from './transport.js';
import type { ResolvedOptions, TransportContext } from './ws-options.js';
import { closeForProtocolError, closeSocket, readFrame } from './ws-socket.js';

/** What an outbound peer needs from the transport. */
export interface PeerContext extends TransportContext {
  closed(): boolean;
  /** The upgrade request headers for a dial to `to` (identity, protocol, token). */
  dialHeaders(to: NodeId): Record<string, string>;
  /** With mutual TLS: the TLS options of a dial to `to` (read at each dial, so a reload applies to the next one). */
  dialTls?(to: NodeId): ConnectionOptions;
}

type PeerState = 'idle' | 'connecting' | 'open' | 'backoff';

/** Bytes one pump() call may write before yielding to the event loop. */
const PUMP_BUDGET_BYTES = 512 << 10;

const zeroMask = (mask: Buffer): void => {
  // Peer links are server-to-server: masking protects browsers' intermediaries, not us, and a
  // zero mask lets ws skip XOR-ing every payload on both ends.
  mask.fill(0);
};

export class OutboundPeer implements SnapshotLink {
  private socket: WebSocket | null = null;
  private state: PeerState = 'idle';
  private readonly queue: FrameQueue;
  private readonly snapshots: SnapshotSender;
  /** Consecutive failed or short-lived connections (drives the backoff). */
  private attempts = 0;
  private everConnected = false;
  private openedAt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Heard from since the last keepalive ping. */
  private alive = true;
  private pumping = false;
  private pumpScheduled = false;
  /** Alternation between normal frames (0) and snapshot frames (1). */
  private turn: 0 | 1 = 0;
  private lastError = '';
  private removed = false;
  private readonly o: ResolvedOptions;
  private readonly counters: TransportStats;

  constructor(
    readonly id: NodeId,
    private address: string,
    private url: string,
    private readonly ctx: PeerContext,
  ) {
    this.o = ctx.o;
    this.counters = ctx.counters;
    this.queue = new FrameQueue(id, ctx);
    this.snapshots = new SnapshotSender(this, ctx);
  }

  /** The current socket, or null between connections. */
  get ws(): WebSocket | null {
    return this.socket;
  }

  stats(): PeerStats {
    return {
      id: this.id,
      address: this.address,
      connected: this.state === 'open',
      queuedFrames: this.queue.length,
      queuedBytes: this.queue.bytes,
      pendingSnapshots: this.snapshots.streams.length,
    };
  }

  /** Queues one round's messages to this peer and starts moving them. */
  send(envs: Envelope[], seen: Set<string>): void {
    this.queue.add(envs, seen);
    this.kick();
  }

  /** Queues a (valid) Snapshot message's stream. */
  sendSnapshot(env: Envelope): void {
    if (this.snapshots.add(env)) this.kick();
  }

  /** The peer moved: drop the old connection (and the stream on it); queued frames and snapshots go to the new one. */
  moveTo(address: string, url: string): void {
    if (this.url === url) return;
    this.ctx.log.info({ peer: this.id, from: this.address, to: address }, 'raft peer address changed');
    this.address = address;
    this.url = url;
    this.attempts = 0;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const ws = this.socket;
    this.socket = null;
    this.state = 'idle';
    if (ws) {
      void closeSocket(ws, 1000, 'peer address changed');
      this.snapshots.failActive('peer address changed');
    }
    this.kick();
  }

  /** The peer left the configuration: close, drop the queue, fail its snapshot streams. */
  remove(): void {
    this.removed = true;
    this.clearTimers();
    if (this.socket) void closeSocket(this.socket, 1000, 'peer removed');
    this.socket = null;
    this.state = 'idle';
    for (const f of this.queue.drain()) this.counters.messagesDropped += f.messages;
    this.snapshots.failAll('peer removed');
    this.ctx.log.info({ peer: this.id }, 'raft peer removed');
  }

  /** The transport is closing: stop everything without reporting; resolves when the socket closed. */
  shutdown(): Promise<void> | null {
    this.clearTimers();
    const closing = this.socket ? closeSocket(this.socket, 1001, 'shutting down') : null;
    this.socket = null;
    this.queue.drain();
    this.snapshots.clear();
    return closing;
  }

  /** Pings an open connection; terminates it (and so redials) if the previous ping went unanswered. */
  keepalive(): void {
    const ws = this.socket;
    if (!ws || this.state !== 'open') return;
    if (!this.alive) {
      this.lastError = 'no pong from the peer';
      ws.terminate();
      return;
    }
    this.alive = false;
    ws.ping();
  }

  /** Makes progress: dial if idle, write if open. */
  kick(): void {
    if (this.ctx.closed() || this.removed) return;
    if (this.state === 'open') this.pump();
    else if (this.state === 'idle' && (this.queue.length > 0 || this.snapshots.streams.length > 0)) this.dial();
  }

  write(ws: WebSocket, data: Uint8Array, onWritten?: () => void): void {
    this.counters.framesSent++;
    this.counters.bytesSent += data.length;
    ws.send(data, { binary: true }, (err) => {
      if (err) return; // the close handler deals with it
      if (onWritten) onWritten();
      // Room in the socket: write more (from the event loop, not this callback chain).
      if (this.socket === ws) this.schedulePump();
    });
  }

  /**
   * Writes queued frames and snapshot pieces, alternating, while the socket's bufferedAmount
   * allows. On a fast link the kernel absorbs writes at once (bufferedAmount stays 0), so each
   * call also stops after PUMP_BUDGET_BYTES and continues from setImmediate: a large snapshot
   * never monopolises the event loop.
   */
  private pump(): void {
    const ws = this.socket;
    if (!ws || this.state !== 'open' || ws.readyState !== WebSocket.OPEN || this.pumping) return;
    this.pumping = true;
    const streams = this.snapshots.streams;
    let budget = PUMP_BUDGET_BYTES;
    try {
      for (;;) {
        if (this.socket !== ws || ws.readyState !== WebSocket.OPEN) return;
        const buffered = ws.bufferedAmount;
        const canFrame = this.queue.length > 0 && buffered < this.o.highWaterBytes;
        const snap = streams[0];
        const canChunk = snap !== undefined && buffered < this.o.snapshotHighWaterBytes && this.snapshots.ready(snap);
        if (!canFrame && !canChunk) return; // done, or wait for write callbacks to drain the socket
        if (budget <= 0) {
          this.schedulePump();
          return;
        }
        if (canFrame && (this.turn === 0 || !canChunk)) {
          const f = this.queue.shift()!;
          budget -= f.data.length;
          this.write(ws, f.data);
          this.counters.messagesSent += f.messages;
          this.turn = 1;
        } else {
          budget -= this.snapshots.writePiece(ws, snap!);
          this.turn = 0;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      if (!this.ctx.closed() && !this.removed) this.pump();
    });
  }

  private dial(): void {
    if (this.ctx.closed() || this.removed) return;
    this.counters.dials++;
    if (this.everConnected || this.attempts > 0) this.counters.reconnects++;
    this.state = 'connecting';
    this.alive = true;
    const headers = this.ctx.dialHeaders(this.id);
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url, {
        headers,
        perMessageDeflate: false,
        maxPayload: this.o.maxPayloadBytes,
        handshakeTimeout: this.o.handshakeTimeoutMs,
        followRedirects: false,
        generateMask: zeroMask,
        ...this.ctx.dialTls?.(this.id),
      });
    } catch (err) {
      this.lastError = String(err);
      this.onClosed(null, 1006, '');
      return;
    }
    this.socket = ws;
    this.lastError = '';
    ws.on('open', () => {
      if (this.socket !== ws) return;
      this.state = 'open';
      this.everConnected = true;
      this.openedAt = Date.now();
      this.ctx.log.info({ peer: this.id, address: this.address }, 'raft peer connected');
      this.pump();
    });
    ws.on('message', (data, isBinary) => this.onMessage(ws, data, isBinary));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('error', (err) => {
      this.lastError = err.message;
    });
    ws.on('close', (code, reason) => this.onClosed(ws, code, reason.toString('utf8')));
  }

  private onClosed(ws: WebSocket | null, code: number, reason: string): void {
    if (ws !== null && this.socket !== ws) return; // a connection we already replaced
    this.socket = null;
    const wasOpen = this.state === 'open';
    if (!wasOpen) this.counters.connectFailures++;
    if (this.ctx.closed() || this.removed) {
      this.state = 'idle';
      return;
    }
    const log = this.ctx.log;
    const ctx = { peer: this.id, address: this.address, code, reason, error: this.lastError || undefined };
    if (/\b401\b/.test(this.lastError)) log.error(ctx, 'raft peer refused our token (401)');
    else if (code === 1008 || code === 1003) log.error(ctx, 'raft peer closed the connection: protocol error');
    else if (wasOpen) log.warn(ctx, 'raft peer connection lost');
    else if (this.attempts === 0) log.warn(ctx, 'raft peer connection failed');
    // Backoff grows with consecutive failures; a connection that stayed up a while resets it.
    if (wasOpen && Date.now() - this.openedAt >= this.o.backoffMaxMs) this.attempts = 0;
    this.attempts++;
    this.queue.dropStale();
    this.snapshots.failAll(wasOpen ? 'connection lost' : 'peer unreachable');
    const base = Math.min(this.o.backoffMaxMs, this.o.backoffInitialMs * 2 ** Math.min(this.attempts - 1, 30));
    const delay = Math.round(base / 2 + (this.o.random() * base) / 2);
    this.state = 'backoff';
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.ctx.closed() || this.removed || this.state !== 'backoff') return;
      this.state = 'idle';
      this.kick();
    }, delay);
    this.retryTimer.unref();
  }

  private onMessage(ws: WebSocket, data: RawData, isBinary: boolean): void {
    if (this.socket !== ws || ws.readyState !== WebSocket.OPEN) return;
    this.alive = true;
    const frame = readFrame(this.counters, data, isBinary);
    if (!('kind' in frame)) return this.protocolError(ws, frame.code, frame.reason);
    if (frame.kind !== FrameKind.SnapshotAck) {
      return this.protocolError(ws, 1008, `unexpected frame kind ${FrameKind[frame.kind]} on an outbound connection`);
    }
    const settled = this.snapshots.ack(frame);
    if (typeof settled === 'string') return this.protocolError(ws, 1008, settled);
    if (settled) this.pump();
  }

  private protocolError(ws: WebSocket, code: number, reason: string): void {
    closeForProtocolError(this.ctx, ws, { peer: this.id }, code, reason);
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.snapshots.clearTimers();
  }
}
