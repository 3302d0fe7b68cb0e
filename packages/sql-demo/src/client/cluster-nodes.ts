// /nodes, in either of rqlite's shapes: the legacy object keyed by node id, or (ver=2) a list
// under "nodes". Both become one list of NodeInfo, sorted by id as rqlite sorts them.
import type { JsonValue } from '../rqlite/json/lossless-json-parse.js';
import { SqlClientError } from './client-error.js';

export interface NodeInfo {
  id: string;
  /** The node's HTTP API URL, when it answered. */
  apiAddr?: string;
  /** Its Raft (peer) address. */
  addr?: string;
  voter: boolean;
  reachable: boolean;
  leader: boolean;
  version?: string;
  /** Seconds the contact took. */
  time?: number;
  /** Why it could not be reached. */
  error?: string;
}

export function decodeNodes(body: JsonValue): NodeInfo[] {
  if (!isObject(body)) throw new SqlClientError('bad_response', '/nodes did not answer an object');
  const list: JsonValue[] = Array.isArray(body['nodes']) ? body['nodes'] : Object.entries(body).map(([id, node]) => (isObject(node) ? { id, ...node } : { id }));
  return list
    .filter(isObject)
    .map(nodeInfo)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function nodeInfo(node: { [key: string]: JsonValue }): NodeInfo {
  const info: NodeInfo = { id: String(node['id'] ?? ''), voter: node['voter'] !== false, reachable: node['reachable'] === true, leader: node['leader'] === true };
  const text = (key: string): string | undefined => (typeof node[key] === 'string' && node[key] !== '' ? node[key] : undefined);
  const apiAddr = text('api_addr');
  if (apiAddr) info.apiAddr = apiAddr;
  const addr = text('addr');
  if (addr) info.addr = addr;
  const version = text('version');
  if (version) info.version = version;
  const error = text('error');
  if (error) info.error = error;
  const time = node['time'];
  if (typeof time === 'number' || typeof time === 'bigint') info.time = Number(time);
  return info;
}

function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
