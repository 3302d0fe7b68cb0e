// WsTransport's options, their defaults and validation, and the context its parts share.
//
// Options are checked once, up front, so a misconfigured node fails at construction rather
// than on its first send or upgrade; the parts then read the resolved values without
// re-checking. The parts (outbound peers, inbound connections, the handshake, the snapshot
// sender and receiver) each get the TransportContext instead of the transport itself, so
// none of them can reach into another's state.
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { NodeId } from '../core/types.js';
import type { IncomingMessage } from 'node:http';
import type { ConnectionOptions } from 'node:tls';
import type { EventOutbox } from './event-outbox.js';
import type { SnapshotSinkFactory, TransportLogger, TransportStats } from './transport.js';
import { isNodeId } from '../core/node-id.js';

export interface WsTransportOptions {
  selfId: NodeId;
  /** The node's HTTP(S) server; the transport only handles its 'upgrade' events for `path`. */
  server: HttpServer | HttpsServer;
  /**
   * Cluster secret; when set, a dialling peer must prove the node id it claims with a key derived
   * from it (transport/peer-credentials.ts), and outbound dials carry such a proof.
   */
  token?: string;
  /** More secrets whose proofs are accepted during a token rotation (dials are signed with `token`). */
  acceptTokens?: readonly string[];
  /**
   * Mutual TLS on peer links (the server must then be an HTTPS server): dials go to wss:// with
   * `dialOptions(to)` (this member's certificate, the peer CA, the check of who answered), and
   * an inbound peer is refused when `certificateProblem` names one (its certificate does not
   * name the id it claims, or another cluster, or is not signed by the peer CA).
   */
  tls?: {
    dialOptions(to: NodeId): ConnectionOptions;
    certificateProblem(req: IncomingMessage, claimed: NodeId): string | undefined;
  };
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
  /** Receiver: largest snapshot stream accepted into memory (default 1 GiB); in-progress streams may total twice that. */
  maxSnapshotBytes?: number;
  /**
   * Receiver: write arriving snapshots here as they come instead of into memory (the node's
   * snapshot store); they are then delivered with empty data and `stored` set. Memory stays a
   * few chunks per stream whatever the snapshot's size.
   */
  snapshotSink?: SnapshotSinkFactory;
  /** Receiver: largest snapshot stream accepted into the snapshotSink (default 1 TiB). */
  maxStoredSnapshotBytes?: number;
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

export type ResolvedOptions = Required<Omit<WsTransportOptions, 'token' | 'acceptTokens' | 'tls' | 'logger' | 'server' | 'snapshotSink'>>;

/** What the transport's parts share: read-only options, the counters they bump, where they log and report. */
export interface TransportContext {
  readonly o: ResolvedOptions;
  readonly counters: TransportStats;
  readonly log: TransportLogger;
  readonly outbox: EventOutbox;
  /** Where arriving snapshots are written, if not into memory. */
  readonly sink?: SnapshotSinkFactory;
}

function positive(v: number | undefined, dflt: number, name: string, allowZero = false): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new TypeError(`WsTransport: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${v}`);
  return v;
}

/** Validates every option (throwing a TypeError naming the first bad one) and fills in the defaults. */
export function resolveOptions(options: WsTransportOptions): ResolvedOptions {
  if (!isNodeId(options.selfId)) throw new TypeError('WsTransport: selfId must be a positive integer');
  if (!options.server || typeof options.server.on !== 'function') throw new TypeError('WsTransport: server must be an http.Server');
  if (options.token !== undefined && !/^[\x21-\x7e]{1,4096}$/.test(options.token)) {
    throw new TypeError('WsTransport: token must be 1..4096 printable ASCII characters');
  }
  const path = options.path ?? '/raft';
  if (!path.startsWith('/')) throw new TypeError('WsTransport: path must start with /');
  const o: ResolvedOptions = {
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
    maxStoredSnapshotBytes: positive(options.maxStoredSnapshotBytes, 2 ** 40, 'maxStoredSnapshotBytes'),
    maxPendingSnapshots: positive(options.maxPendingSnapshots, 16, 'maxPendingSnapshots'),
    snapshotAckTimeoutMs: positive(options.snapshotAckTimeoutMs, 60_000, 'snapshotAckTimeoutMs'),
    snapshotIdleTimeoutMs: positive(options.snapshotIdleTimeoutMs, 60_000, 'snapshotIdleTimeoutMs'),
    backoffInitialMs: positive(options.backoffInitialMs, 100, 'backoffInitialMs'),
    backoffMaxMs: positive(options.backoffMaxMs, 5000, 'backoffMaxMs'),
    handshakeTimeoutMs: positive(options.handshakeTimeoutMs, 5000, 'handshakeTimeoutMs'),
    pingIntervalMs: positive(options.pingIntervalMs, 10_000, 'pingIntervalMs', true),
    random: options.random ?? Math.random,
  };
  if (o.snapshotChunkBytes + 64 > o.maxPayloadBytes) throw new TypeError('WsTransport: snapshotChunkBytes must fit in maxPayloadBytes');
  return o;
}
