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
//
// This file only joins the parts: it owns the peer table, the inbound connections, the
// keepalive timer and the lifecycle, and routes each round to its peers. Each part gets what
// it needs through its constructor (the shared TransportContext plus a few callbacks), never
// the transport itself, so it can be read, and changed, without the others:
//   handshake.ts           the upgrade, both sides: token, headers, protocol version
//   outbound-peer.ts       a host we send to: dial, backoff, pump
//   frame-queue.ts         its bounded queue of encoded frames
//   snapshot-sender.ts     its snapshot streams
//   inbound-connection.ts  a connection a peer made to us
//   snapshot-receiver.ts   the snapshot streams arriving on it
//   ws-socket.ts           what both ends do with a raw socket; ws-options.ts the options
import { silentLogger } from '../common/logger.js';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { WebSocket } from 'ws';
import { MessageType, type NodeId } from '../core/types.js';
import { EventOutbox } from './event-outbox.js';
import { Handshake, peerUrl } from './handshake.js';
import { InboundConnection, type InboundContext } from './inbound-connection.js';
import { OutboundPeer, type PeerContext } from './outbound-peer.js';
import type { ReceiveBudget } from './snapshot-receiver.js';
import { snapshotProblem } from './snapshot-sender.js';
import { emptyStats, type Envelope, type PeerTransport, type TransportEvents, type TransportLogger, type TransportStats } from './transport.js';
import { resolveOptions, type ResolvedOptions, type WsTransportOptions } from './ws-options.js';
import { isNodeId } from '../core/node-id.js';

export { HEADER_NODE_ID, HEADER_PROTOCOL, HEADER_TARGET_ID, WIRE_PROTOCOL, peerUrl } from './handshake.js';
export type { WsTransportOptions } from './ws-options.js';

export class WsTransport implements PeerTransport {
  private readonly selfId: NodeId;
  private readonly server: HttpServer | HttpsServer;
  private readonly log: TransportLogger;
  private readonly o: ResolvedOptions;
  private readonly handshake: Handshake;
  private readonly peers = new Map<NodeId, OutboundPeer>();
  private readonly inbound = new Set<InboundConnection>();
  private readonly counters: TransportStats = emptyStats();
  private events: TransportEvents | null = null;
  private started = false;
  private closed = false;
  private readonly outbox: EventOutbox;
  private keepalive: NodeJS.Timeout | null = null;
  private readonly snapshotBudget: ReceiveBudget = { reserved: 0 };
  /** Snapshots are read from their source one chunk ahead of the socket. */
  readonly streamsSnapshotSources = true;
  private readonly peerContext: PeerContext;
  private readonly inboundContext: InboundContext;
  /** Peer links use TLS (wss://). */
  private readonly secure: boolean;

  constructor(options: WsTransportOptions) {
    this.o = resolveOptions(options);
    this.selfId = options.selfId;
    this.server = options.server;
    this.log = options.logger ?? silentLogger;
    this.outbox = new EventOutbox(() => (this.closed ? null : this.events), this.log, 'raft transport');
    const shared = { o: this.o, counters: this.counters, log: this.log, outbox: this.outbox, ...(options.snapshotSink ? { sink: options.snapshotSink } : {}) };
    const closed = (): boolean => this.closed;
    this.handshake = new Handshake(
      this.selfId,
      options.token,
      shared,
      {
        accepting: () => this.accepting,
        connections: () => this.inbound.size,
        accept: (ws, peerId, remote) => this.onInbound(ws, peerId, remote),
      },
      options.acceptTokens,
      options.tls ? (req, claimed) => options.tls!.certificateProblem(req, claimed) : undefined,
    );
    this.peerContext = {
      ...shared,
      closed,
      dialHeaders: (to) => this.handshake.dialHeaders(to),
      ...(options.tls ? { dialTls: (to: NodeId) => options.tls!.dialOptions(to) } : {}),
    };
    this.secure = options.tls !== undefined;
    this.inboundContext = {
      ...shared,
      selfId: this.selfId,
      snapshotBudget: this.snapshotBudget,
      closed,
      forget: (conn) => this.inbound.delete(conn),
    };
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
    this.server.on('upgrade', this.handshake.onUpgrade);
    if (this.o.pingIntervalMs > 0) {
      this.keepalive = setInterval(this.onKeepalive, this.o.pingIntervalMs);
      this.keepalive.unref();
    }
    if (!this.handshake.authenticated) this.log.warn({ selfId: this.selfId }, 'raft transport: no token configured; peer connections are not authenticated');
    this.log.info({ selfId: this.selfId, path: this.o.path }, 'raft transport started');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.events = null;
    this.outbox.clear();
    this.server.off('upgrade', this.handshake.onUpgrade);
    if (this.keepalive) clearInterval(this.keepalive);
    const waits: Promise<void>[] = [];
    for (const peer of this.peers.values()) {
      const closing = peer.shutdown();
      if (closing) waits.push(closing);
    }
    for (const conn of this.inbound) waits.push(conn.shutdown());
    this.inbound.clear();
    this.snapshotBudget.reserved = 0;
    await Promise.all(waits);
    await this.handshake.close();
    this.log.info({ selfId: this.selfId }, 'raft transport closed');
  }

  setPeer(id: NodeId, address: string): void {
    if (!isNodeId(id)) throw new TypeError(`setPeer: id must be a positive integer, got ${id}`);
    if (id === this.selfId) throw new TypeError("setPeer: a peer cannot have this node's own id");
    const url = peerUrl(address, this.o.path, this.secure);
    const peer = this.peers.get(id);
    if (!peer) this.peers.set(id, new OutboundPeer(id, address, url, this.peerContext));
    else peer.moveTo(address, url);
  }

  removePeer(id: NodeId): void {
    const peer = this.peers.get(id);
    if (!peer) return;
    this.peers.delete(id);
    peer.remove();
  }

  stats(): TransportStats {
    const s: TransportStats = { ...this.counters, peers: [] };
    for (const p of this.peers.values()) s.peers.push(p.stats());
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
        this.logUnknownPeer(to, envs.length);
        continue;
      }
      peer.send(envs, seen);
    }
  }

  private queueSnapshot(env: Envelope): void {
    const to = env.message.to;
    const group = env.group;
    const peer = this.peers.get(to);
    const problem = snapshotProblem(env);
    if (!peer || problem !== null) {
      this.counters.messagesDropped++;
      this.counters.snapshotsFailed++;
      if (problem !== null) this.log.error({ peer: to, group, reason: problem }, 'raft transport: dropped an invalid snapshot message');
      else this.logUnknownPeer(to, 1);
      if (typeof group === 'string') {
        this.outbox.emit((ev) => ev.onUnreachable(group, to));
        this.outbox.emit((ev) => ev.onSnapshotStatus(group, to, false));
      }
      // The source is a file the snapshotter opened for this message alone.
      void env.snapshotSource?.close().catch(() => undefined);
      return;
    }
    peer.sendSnapshot(env);
  }

  private logUnknownPeer(to: NodeId, n: number): void {
    this.log.warn({ peer: to, dropped: n, reason: 'unknown peer' }, 'raft transport: dropped messages');
  }

  // -------------------------------------------------------------------------------------
  // Inbound connections and housekeeping

  private onInbound(ws: WebSocket, peerId: NodeId, remote: string): void {
    if (this.closed) {
      ws.terminate();
      return;
    }
    this.counters.inboundAccepted++;
    const conn = new InboundConnection(ws, peerId, remote, this.inboundContext);
    // A peer keeps one connection to us; a newer one replaces an older (half-open) one.
    for (const other of this.inbound) {
      if (other.peerId === peerId) other.replace();
    }
    this.inbound.add(conn);
    this.log.info({ peer: peerId, remote }, 'raft peer accepted');
  }

  private readonly onKeepalive = (): void => {
    if (this.closed) return;
    const now = Date.now();
    for (const peer of this.peers.values()) peer.keepalive();
    for (const conn of this.inbound) conn.keepalive(now);
  };
}
