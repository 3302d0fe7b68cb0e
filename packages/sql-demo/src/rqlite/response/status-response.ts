// /status in rqlite's shape, for the fields clients and tools read: store.node_id, store.leader,
// store.raft.state, store.ready, store.nodes, store.sqlite3.fk_constraints (the rqlite shell's
// backup reads it), build.version, http.bind_addr, node.uptime. rqlite's status is a tree of Go
// maps, so every object's keys are sorted; raft's Go-runtime and BoltDB internals are left out.
import { formatGoDuration } from '../go/go-duration.js';
import { type HttpReply, jsonReply } from '../http-reply.js';
import { stringifyLosslessJson, type JsonWritable } from '../json/lossless-json-stringify.js';
import type { StatusRequest } from '../request/cluster-requests.js';
import { compareLikeGo, goMap } from './go-map-order.js';

export type RaftState = 'Leader' | 'Follower' | 'Candidate' | 'Shutdown';

export interface NodeStatus {
  nodeId: string;
  raftAddr: string;
  /** This node's HTTP API address (host:port). */
  apiBindAddr: string;
  /** Absent while no leader is known: rqlite then reports empty strings. */
  leader?: { nodeId: string; raftAddr: string };
  raft: { state: RaftState; term: bigint | number; commitIndex: bigint | number; appliedIndex: bigint | number; lastLogIndex: bigint | number; voter: boolean };
  /** The store has a leader and has applied its log far enough to serve reads. */
  ready: boolean;
  members: readonly { id: string; raftAddr: string; voter: boolean }[];
  sqlite: { version: string; foreignKeys: boolean };
  build: { version: string; commit?: string; buildTime?: string };
  authEnabled: boolean;
  startTime: Date;
  now: Date;
  process: { pid: number; ppid: number; hostname?: string; executable?: string };
}

export function formatStatusResponse(status: NodeStatus, request: StatusRequest): HttpReply {
  const tree = statusJson(status);
  if (request.key) return jsonReply(stringifyLosslessJson(selectStatusKey(tree, request.key), { escapeLikeGo: true }));
  return jsonReply(stringifyLosslessJson(tree, { indent: request.pretty ? 4 : undefined, escapeLikeGo: true }));
}

export function statusJson(s: NodeStatus): Map<string, JsonWritable> {
  const raft = goMap([
    ['applied_index', s.raft.appliedIndex],
    ['commit_index', s.raft.commitIndex],
    ['last_log_index', s.raft.lastLogIndex],
    ['num_peers', Math.max(0, s.members.filter((m) => m.voter).length - 1)],
    ['state', s.raft.state],
    ['term', s.raft.term],
    ['voter', s.raft.voter],
  ]);
  const store = goMap([
    ['addr', s.raftAddr],
    ['db_applied_index', s.raft.appliedIndex],
    ['fsm_index', s.raft.appliedIndex],
    [
      'leader',
      goMap([
        ['addr', s.leader?.raftAddr ?? ''],
        ['node_id', s.leader?.nodeId ?? ''],
      ]),
    ],
    ['node_id', s.nodeId],
    // rqlite's store.Server: id, addr, suffrage, in that order, sorted by id.
    ['nodes', [...s.members].sort((a, b) => compareLikeGo(a.id, b.id)).map((m) => ({ id: m.id, addr: m.raftAddr, suffrage: m.voter ? 'voter' : 'nonvoter' }))],
    ['open', true],
    ['raft', raft],
    ['ready', s.ready],
    [
      'sqlite3',
      goMap([
        ['fk_constraints', s.sqlite.foreignKeys ? 'enabled' : 'disabled'],
        ['version', s.sqlite.version],
      ]),
    ],
  ]);
  return goMap([
    ['build', goMap(definedEntries({ build_time: s.build.buildTime, commit: s.build.commit, version: s.build.version }))],
    [
      'http',
      goMap([
        ['auth', s.authEnabled ? 'enabled' : 'disabled'],
        ['bind_addr', s.apiBindAddr],
      ]),
    ],
    [
      'node',
      goMap([
        ['current_time', goTime(s.now)],
        ['start_time', goTime(s.startTime)],
        ['uptime', formatGoDuration(BigInt(s.now.getTime() - s.startTime.getTime()) * 1_000_000n)],
      ]),
    ],
    ['os', goMap(definedEntries({ executable: s.process.executable, hostname: s.process.hostname, pid: s.process.pid, ppid: s.process.ppid }))],
    ['store', store],
  ]);
}

/**
 * rqlite's ?key=a.b: walks the dotted path; a missing key gives {}, and a value that is not an
 * object ends the walk early and is returned as it is.
 */
export function selectStatusKey(tree: JsonWritable, key: string): JsonWritable {
  let node = tree;
  for (const part of key.split('.')) {
    if (node instanceof Map) {
      const next = node.get(part) as JsonWritable | undefined;
      if (next === undefined) return {};
      node = next;
    } else if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
      const next = (node as Record<string, JsonWritable | undefined>)[part];
      if (next === undefined || !Object.hasOwn(node, part)) return {};
      node = next;
    } else {
      return node;
    }
  }
  return node;
}

/** Go's time.Time JSON (RFC 3339 with nanoseconds, trailing zeros dropped), in UTC. */
export function goTime(date: Date): string {
  return date.toISOString().replace(/\.?0+Z$/, 'Z');
}

function definedEntries(record: Record<string, JsonWritable | undefined>): [string, JsonWritable][] {
  return Object.entries(record).filter((e): e is [string, JsonWritable] => e[1] !== undefined);
}
