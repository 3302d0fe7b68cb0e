// One accepted connection from a peer: the receiving half of a peer link.
//
// The handshake fixed who is on the other end, so every message on this connection must come
// from that peer and be addressed to us; a message that names anyone else is dropped and counted
// (the connection stays: its peer may be an honest member that relayed it), and a malformed
// frame closes this one connection with the reason (the peer redials) and touches nothing else. Normal frames
// are delivered as they come, snapshot frames go to this connection's SnapshotReceiver, and
// the only thing we ever send back is a snapshot ack.
import { WebSocket, type RawData } from 'ws';
import type { NodeId } from '../core/types.js';
import { FrameKind } from './codec.js';
import { SnapshotReceiver, type ReceiveBudget } from './snapshot-receiver.js';
import type { TransportContext } from './ws-options.js';
import { closeForProtocolError, closeSocket, readFrame } from './ws-socket.js';

/** What an inbound connection needs from the transport. */
export interface InboundContext extends TransportContext {
  readonly selfId: NodeId;
  readonly snapshotBudget: ReceiveBudget;
  closed(): boolean;
  /** The connection's socket closed (either side); the transport forgets it. */
  forget(conn: InboundConnection): void;
}

export class InboundConnection {
  /** Heard from since the last keepalive ping. */
  private alive = true;
  /** We are closing it (protocol error, replaced, shutdown): ignore what still arrives. */
  private closing = false;
  private readonly snapshots: SnapshotReceiver;
  private loggedMisaddressed = false;

  constructor(
    private readonly ws: WebSocket,
    readonly peerId: NodeId,
    private readonly remote: string,
    private readonly ctx: InboundContext,
  ) {
    this.snapshots = new SnapshotReceiver(peerId, ctx, ctx.snapshotBudget, (frame) => this.send(frame), { pause: () => ws.pause(), resume: () => ws.resume() });
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('error', (err) => {
      ctx.log.warn({ peer: peerId, remote, err: err.message }, 'raft transport: inbound connection error');
    });
    ws.on('close', (code, reason) => {
      ctx.forget(this);
      this.snapshots.release();
      if (!ctx.closed() && !this.closing) ctx.log.info({ peer: peerId, remote, code, reason: reason.toString('utf8') }, 'raft peer disconnected');
    });
  }

  /** The same peer connected again: this one is presumed half-open. */
  replace(): void {
    this.stop();
    this.ws.close(4000, 'replaced by a newer connection');
  }

  shutdown(): Promise<void> {
    this.stop();
    return closeSocket(this.ws, 1001, 'shutting down');
  }

  /** Pings the peer, drops it if the previous ping went unanswered, and expires stalled snapshot streams. */
  keepalive(now: number): void {
    if (this.closing) return;
    if (!this.alive) {
      this.ctx.log.warn({ peer: this.peerId, remote: this.remote }, 'raft transport: inbound peer stopped answering pings');
      this.stop();
      this.ws.terminate();
      return;
    }
    this.alive = false;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
    this.snapshots.sweep(now);
  }

  private stop(): void {
    this.closing = true;
    this.snapshots.release();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closing || this.ctx.closed()) return;
    this.alive = true;
    const frame = readFrame(this.ctx.counters, data, isBinary);
    if (!('kind' in frame)) return this.protocolError(frame.code, frame.reason);
    const from = this.peerId;
    const self = this.ctx.selfId;
    switch (frame.kind) {
      case FrameKind.Messages: {
        const envs = frame.envelopes.filter((e) => e.message.from === from && e.message.to === self);
        if (envs.length < frame.envelopes.length)
          this.dropMisaddressed(frame.envelopes.length - envs.length, frame.envelopes.find((e) => e.message.from !== from || e.message.to !== self)!.message);
        if (envs.length === 0) return;
        this.ctx.counters.messagesReceived += envs.length;
        this.ctx.outbox.emit((ev) => ev.onMessages(from, envs));
        return;
      }
      case FrameKind.SnapshotBegin: {
        const m = frame.envelope.message;
        if (m.from !== from || m.to !== self) {
          return this.protocolError(1008, `snapshot from ${m.from} to ${m.to} on the connection from ${from} to ${self}`);
        }
        const violation = this.snapshots.begin(frame);
        if (violation !== null) this.protocolError(1008, violation);
        return;
      }
      case FrameKind.SnapshotChunk: {
        const violation = this.snapshots.chunk(frame);
        if (violation !== null) this.protocolError(1008, violation);
        return;
      }
      case FrameKind.SnapshotAbort:
        this.snapshots.abort(frame);
        return;
      case FrameKind.SnapshotAck:
        return this.protocolError(1008, 'unexpected snapshot ack on an inbound connection');
    }
  }

  /**
   * Messages that name another sender or receiver are dropped, counted, and logged once per
   * connection: never delivered under the connection's identity, and never a reason to close it
   * (an honest member may have relayed them).
   */
  private dropMisaddressed(n: number, example: { from: NodeId; to: NodeId }): void {
    this.ctx.counters.misaddressedDropped += n;
    if (this.loggedMisaddressed) return;
    this.loggedMisaddressed = true;
    this.ctx.log.warn(
      { peer: this.peerId, remote: this.remote, from: example.from, to: example.to },
      'raft transport: dropped messages naming another sender or receiver than this connection (logged once per connection; counted in raftkit_peer_messages_misaddressed_total)',
    );
  }

  private protocolError(code: number, reason: string): void {
    if (this.closing) return;
    this.stop();
    closeForProtocolError(this.ctx, this.ws, { peer: this.peerId, remote: this.remote }, code, reason);
  }

  private send(frame: Uint8Array): void {
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) return;
    this.ctx.counters.framesSent++;
    this.ctx.counters.bytesSent += frame.length;
    this.ws.send(frame, { binary: true });
  }
}
