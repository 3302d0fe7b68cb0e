// What the rqlite routes share: the node's service, the group they serve, the way to the
// leader, the machine instance on this node, and the limits they enforce.
import type { Logger } from '@raftkit/framework';
import type { NodeRaftService } from '@raftkit/framework/server';
import type { SqlDatabase } from '../machine/sql-database.machine.js';
import type { LeaderRouting } from './leader-routing.js';

export interface SqlApiLimits {
  /** Largest body of /db/execute, /db/query and /db/request. */
  maxRequestBytes: number;
  /** Largest body of /db/load (one log entry: it must stay well under the transport's 64 MiB frames). */
  maxLoadBytes: number;
  /** How long a body may take to arrive. */
  bodyTimeoutMs: number;
  /** How long a request may wait for the log or the leader when it gives no timeout (rqlite: 30 s). */
  defaultTimeoutMs: number;
}

export const DEFAULT_LIMITS: SqlApiLimits = {
  maxRequestBytes: 16 * 1024 * 1024,
  maxLoadBytes: 32 * 1024 * 1024,
  bodyTimeoutMs: 30_000,
  defaultTimeoutMs: 30_000,
};

export interface SqlApiContext {
  service: NodeRaftService;
  /** The raft group that holds the database ("sql"). */
  group: string;
  routing: LeaderRouting;
  logger: Logger;
  /** This node's machine instance for the group, once the node runs it. */
  machine(): SqlDatabase | undefined;
  limits: SqlApiLimits;
  /** The version /status and /nodes report. */
  version: string;
  startTime: Date;
  authEnabled: boolean;
}
