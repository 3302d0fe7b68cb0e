import type { Logger } from '../common/logger.js';
import type { Message, NodeId, SnapshotMetadata } from '../core/types.js';

/**
 * Where a streamed snapshot's bytes come from when they are not in the message: a stored file
 * read in pieces, so a snapshot larger than memory can be sent. A read that fails (the file
 * failed its checksum) ends the stream as failed.
 */
export interface SnapshotSource {
  readonly length: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Where a receiver writes an arriving snapshot instead of memory (the node's snapshot store). */
export interface SnapshotSinkFactory {
  receive(group: string, metadata: SnapshotMetadata, length: number): Promise<{ write(chunk: Uint8Array): Promise<void>; commit(): Promise<void>; abort(): Promise<void> }>;
}

/** A raft message addressed within a group. Host ids are the nodes' raft ids in every group. */
export interface Envelope {
  group: string;
  message: Message;
  /**
   * Sender side, Snapshot messages only: the data to stream, read from here in pieces (the
   * message's snapshot.data is then empty). The transport closes it when the stream ends.
   */
  snapshotSource?: SnapshotSource;
}

/**
 * Callbacks from a transport to its host. They are never called synchronously from inside
 * send() (reports are deferred to a microtask), and never after close() was called. An
 * exception thrown by a callback is caught and logged; it does not break the transport.
 */
export interface TransportEvents {
  /**
   * Messages that arrived from a peer host, in the order they were sent. A Snapshot message
   * is streamed separately and delivered (alone in its batch) once it is complete, so later
   * small messages (heartbeats, other groups) may overtake it; all other messages keep order.
   */
  onMessages(from: NodeId, batch: Envelope[]): void;
  /**
   * A Snapshot message finished streaming to `to`: ok once the receiver acknowledged the last
   * chunk, not ok on rejection, disconnect, timeout or overflow. Reported exactly once per
   * Snapshot message passed to send() (unless close() was called first).
   */
  onSnapshotStatus(group: string, to: NodeId, ok: boolean): void;
  /**
   * Messages to `to` were dropped because it is unknown or unreachable, its queue is full, or
   * they were invalid. Reported at most once per (group, peer) per send() call or dropped queue.
   */
  onUnreachable(group: string, to: NodeId): void;
}

/** The transports log through the node's one Logger shape (common/logger.ts). */
export type TransportLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface PeerStats {
  id: NodeId;
  address: string;
  /** The outbound connection is open. */
  connected: boolean;
  queuedFrames: number;
  queuedBytes: number;
  /** Snapshot streams waiting or in progress to this peer. */
  pendingSnapshots: number;
}

/** Monotonic counters since construction, plus a per-peer view. */
export interface TransportStats {
  framesSent: number;
  bytesSent: number;
  framesReceived: number;
  bytesReceived: number;
  messagesSent: number;
  messagesReceived: number;
  /** Raft messages dropped (queue full, unknown/unreachable peer, invalid, lost on disconnect). */
  messagesDropped: number;
  /** Outbound connection attempts, and those of them that were retries after a failure/close. */
  dials: number;
  reconnects: number;
  connectFailures: number;
  /** Inbound connections accepted / refused at the handshake (bad or missing token, bad headers). */
  inboundAccepted: number;
  inboundRefused: number;
  /** Connections closed because a peer sent a malformed frame or broke the protocol. */
  protocolErrors: number;
  /**
   * Messages dropped on arrival because they name another sender than the connection's proven
   * peer, or another receiver than this node (the connection stays up: the peer may only be
   * relaying something bad, and must not lose its link for it).
   */
  misaddressedDropped: number;
  snapshotsSent: number;
  snapshotsFailed: number;
  snapshotsReceived: number;
  snapshotChunksSent: number;
  snapshotChunksReceived: number;
  peers: PeerStats[];
}

/**
 * Peer messaging between hosts. Every call to send() is one round: the messages for each peer
 * go out batched in as few frames as possible. Raft retransmits, so a transport may drop
 * messages under pressure (and reports it), but never reorders messages to one peer (except
 * that a streamed Snapshot message is delivered when complete; see TransportEvents).
 * Messages addressed to this host itself, or of a local type (Hup, Beat, ...) are dropped and
 * reported as unreachable.
 */
export interface PeerTransport {
  /** Starts accepting peer connections and allows send(). Call once. */
  start(events: TransportEvents): Promise<void>;
  /**
   * Queues one round. Throws if start() was not called or close() was; never blocks and never
   * throws for bad messages (they are dropped, logged and reported unreachable). Messages are
   * encoded before send() returns, so the caller may reuse them, except a Snapshot message's
   * snapshot.data, which is streamed from the caller's buffer and must stay unchanged until its
   * onSnapshotStatus.
   */
  send(batch: Envelope[]): void;
  /** Adds or updates a peer's address ("host:port"); a changed address drops the old connection. Throws on an unparsable address. */
  setPeer(id: NodeId, address: string): void;
  /** Forgets a peer: closes its connection, drops its queue, fails its snapshot streams. */
  removePeer(id: NodeId): void;
  /** Counters and per-peer queue state. */
  stats(): TransportStats;
  /** Closes every connection and timer (not the HTTP server, which the caller owns). */
  close(): Promise<void>;
  /** Whether send() streams a Snapshot message from its envelope's snapshotSource (else the data must be in the message). */
  readonly streamsSnapshotSources?: boolean;
}

export function emptyStats(): TransportStats {
  return {
    framesSent: 0,
    bytesSent: 0,
    framesReceived: 0,
    bytesReceived: 0,
    messagesSent: 0,
    messagesReceived: 0,
    messagesDropped: 0,
    dials: 0,
    reconnects: 0,
    connectFailures: 0,
    inboundAccepted: 0,
    inboundRefused: 0,
    protocolErrors: 0,
    misaddressedDropped: 0,
    snapshotsSent: 0,
    snapshotsFailed: 0,
    snapshotsReceived: 0,
    snapshotChunksSent: 0,
    snapshotChunksReceived: 0,
    peers: [],
  };
}
