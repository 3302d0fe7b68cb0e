// The query strings of rqlite's non-SQL endpoints: /db/backup, /nodes, /readyz and /status.
// Methods are checked as rqlite does (GET only); everything else about them is flags.
import { RqliteRequestError } from '../request-error.js';
import { QueryParams } from './query-params.js';

export type BackupFormat = 'binary' | 'sql' | 'delete';

export interface BackupRequest {
  /** binary: the SQLite file; sql: a dump (fmt=sql); delete: the file in DELETE journal mode. */
  format: BackupFormat;
  /** Content-Type of the answer: rqlite sends a dump as application/sql, files as octet-stream. */
  contentType: 'application/sql' | 'application/octet-stream';
  /** Back up from the leader (forwarding) unless noleader: then from this node's copy. */
  fromLeader: boolean;
  vacuum: boolean;
  /** gzip the answer. */
  compress: boolean;
  /** Limit a dump to these tables (tables=a,b); empty means all. */
  tables: string[];
  redirect: boolean;
  timeoutMs?: number;
}

export interface NodesRequest {
  /** Non-voting members too (nonvoters); rqlite lists voters only by default. */
  nonVoters: boolean;
  /** ver=2 answers {"nodes":[...]}; the default (legacy) answer is an object keyed by node id. */
  version: 1 | 2;
  pretty: boolean;
  timeoutMs?: number;
  retries?: number;
}

export interface ReadyzRequest {
  /** Ready once this node answers HTTP, without asking for a leader. */
  noLeader: boolean;
  /** Also wait until this node has applied everything committed when the request arrived. */
  sync: boolean;
  timeoutMs?: number;
}

export interface StatusRequest {
  pretty: boolean;
  /** A dotted path into the status object (key=store.raft): only that part is returned. */
  key?: string;
}

const BACKUP_FORMATS: readonly BackupFormat[] = ['binary', 'sql', 'delete'];

export function parseBackupRequest(method: string, rawQuery: string): BackupRequest {
  const params = QueryParams.parse(rawQuery);
  requireGet(method, '/db/backup');
  const format = backupFormat(params.get('fmt'));
  const request: BackupRequest = {
    format,
    contentType: format === 'sql' ? 'application/sql' : 'application/octet-stream',
    fromLeader: !params.has('noleader'),
    vacuum: params.has('vacuum'),
    compress: params.has('compress'),
    tables: (params.get('tables') ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== ''),
    redirect: params.has('redirect'),
  };
  const timeoutMs = params.durationMs('timeout');
  if (timeoutMs !== undefined) request.timeoutMs = timeoutMs;
  return request;
}

export function parseNodesRequest(method: string, rawQuery: string): NodesRequest {
  const params = QueryParams.parse(rawQuery);
  requireGet(method, '/nodes');
  const request: NodesRequest = { nonVoters: params.has('nonvoters'), version: params.get('ver') === '2' ? 2 : 1, pretty: params.has('pretty') };
  const timeoutMs = params.durationMs('timeout');
  if (timeoutMs !== undefined) request.timeoutMs = timeoutMs;
  const retries = params.integer('retries');
  if (retries !== undefined) request.retries = retries;
  return request;
}

export function parseReadyzRequest(method: string, rawQuery: string): ReadyzRequest {
  const params = QueryParams.parse(rawQuery);
  requireGet(method, '/readyz');
  const request: ReadyzRequest = { noLeader: params.has('noleader'), sync: params.has('sync') };
  const timeoutMs = params.durationMs('timeout');
  if (timeoutMs !== undefined) request.timeoutMs = timeoutMs;
  return request;
}

export function parseStatusRequest(method: string, rawQuery: string): StatusRequest {
  const params = QueryParams.parse(rawQuery);
  requireGet(method, '/status');
  const request: StatusRequest = { pretty: params.has('pretty') };
  const key = params.get('key');
  if (key) request.key = key;
  return request;
}

/** Case-insensitive as rqlite; rqlite falls back to binary for anything else, which hides typos. */
function backupFormat(given: string | undefined): BackupFormat {
  if (given === undefined) return 'binary';
  const format = BACKUP_FORMATS.find((f) => f === given.toLowerCase());
  if (!format) throw new RqliteRequestError('bad_query_parameter', `fmt must be one of ${BACKUP_FORMATS.join(', ')}`);
  return format;
}

function requireGet(method: string, path: string): void {
  if (method.toUpperCase() !== 'GET') throw new RqliteRequestError('method_not_allowed', `${method} is not allowed on ${path}`);
}
