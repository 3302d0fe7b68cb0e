// /nodes as rqlite answers it (http/nodes.go). Each member is listed with what this node learnt
// by contacting it; by default only voters, sorted by id. The legacy answer (no ver=2) is an
// object keyed by node id; ver=2 wraps a list in {"nodes": [...]}.
import { formatGoDuration, secondsToNanos } from '../go/go-duration.js';
import { type HttpReply, jsonReply } from '../http-reply.js';
import { stringifyLosslessJson, type JsonWritable } from '../json/lossless-json-stringify.js';
import type { NodesRequest } from '../request/cluster-requests.js';
import { compareLikeGo, goMap } from './go-map-order.js';

export interface ClusterMember {
  id: string;
  /** The Raft (peer) address. */
  raftAddr: string;
  voter: boolean;
  /** What contacting the member gave: its HTTP API URL and version, how long it took. */
  contact: { reachable: true; apiAddr: string; version: string; seconds: number } | { reachable: false; error: string };
  leader: boolean;
}

export function formatNodesResponse(members: readonly ClusterMember[], request: Pick<NodesRequest, 'nonVoters' | 'version' | 'pretty'>): HttpReply {
  const listed = members.filter((m) => request.nonVoters || m.voter).sort((a, b) => compareLikeGo(a.id, b.id));
  const body: JsonWritable = request.version === 2 ? { nodes: listed.map(nodeJson) } : goMap(listed.map((m) => [m.id, nodeJson(m)]));
  return jsonReply(stringifyLosslessJson(body, { indent: request.pretty ? 4 : undefined, escapeLikeGo: true }));
}

function nodeJson(member: ClusterMember): JsonWritable {
  const { contact } = member;
  const reachable = contact.reachable;
  return {
    id: member.id || undefined,
    api_addr: (reachable && contact.apiAddr) || undefined,
    addr: member.raftAddr || undefined,
    // rqlite says "unknown" for a member that answers without a version, "" for one that did not answer.
    version: reachable ? contact.version || 'unknown' : '',
    voter: member.voter,
    reachable,
    leader: reachable && member.leader,
    time: reachable && contact.seconds !== 0 ? contact.seconds : undefined,
    time_s: reachable && contact.seconds !== 0 ? formatGoDuration(secondsToNanos(contact.seconds)) : undefined,
    error: reachable ? undefined : contact.error || undefined,
  };
}
