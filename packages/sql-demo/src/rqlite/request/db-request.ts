// /db/execute, /db/query and /db/request, from the raw HTTP request to what the node must do.
// The checks run in rqlite's order: query string first (for every path), then the method, then
// the body, so each bad request gets the answer rqlite would give it.
import { RqliteRequestError } from '../request-error.js';
import { QueryParams } from './query-params.js';
import type { RqliteStatement } from './statement.js';
import { parsePlainTextStatement, parseStatementsBody } from './statements-body.js';

export type DbEndpoint = 'execute' | 'query' | 'request';

/** rqlite's read consistency levels; 'auto' is none on read-only nodes and weak elsewhere. */
export type ConsistencyLevel = 'none' | 'weak' | 'strong' | 'linearizable' | 'auto';

const LEVELS: readonly ConsistencyLevel[] = ['none', 'weak', 'strong', 'linearizable', 'auto'];
const ALLOWED_METHODS: Record<DbEndpoint, readonly string[]> = { execute: ['POST'], query: ['GET', 'POST'], request: ['POST'] };

/** The parts of an HTTP request this layer reads. */
export interface DbHttpRequest {
  method: string;
  /** The URL's query string, with or without its leading '?'. */
  rawQuery: string;
  contentType?: string | undefined;
  body: string;
}

export interface DbRequest {
  endpoint: DbEndpoint;
  /**
   * In request order. Statements with empty SQL are dropped, as rqlite skips them, so a GET
   * /db/query without q has none and answers `{"results":[]}`.
   */
  statements: RqliteStatement[];
  /** All statements in one transaction; the first error rolls back and ends the request. */
  transaction: boolean;
  /** Reads only (query, request); 'weak' when not given. */
  level: ConsistencyLevel;
  /** level=none: how stale the local data may be, measured from the last contact with the leader. */
  freshnessMs?: number;
  /** With freshness: measure staleness from the leader's last append, not the last contact. */
  freshnessStrict: boolean;
  /** level=linearizable: how long to wait for the leader's confirmation (rqlite: 10 s). */
  linearizableTimeoutMs?: number;
  /** Per-statement SQLite time limit. */
  dbTimeoutMs?: number;
  /** Time limit for forwarding to the leader (rqlite: 30 s). */
  timeoutMs?: number;
  /** Forwarding retries (rqlite: 0). */
  retries?: number;
  /** On a follower, answer 301 to the leader instead of forwarding. */
  redirect: boolean;
  timings: boolean;
  associative: boolean;
  blobArray: boolean;
  pretty: boolean;
  raftIndex: boolean;
  /** Column names as table.column. */
  qualifyColumns: boolean;
  /**
   * Whether RANDOM()/randomblob() and now-time functions must be made deterministic before the
   * statements are replicated (rqlite rewrites them unless noparse/norwrandom/norwtime; reads
   * only at level=strong, the one level whose reads go through the log).
   */
  rewriteRandom: boolean;
  rewriteTime: boolean;
}

/** Throws RqliteRequestError; its toReply() is the answer rqlite gives. */
export function parseDbRequest(endpoint: DbEndpoint, http: DbHttpRequest): DbRequest {
  const params = QueryParams.parse(http.rawQuery);
  const method = http.method.toUpperCase();
  if (!ALLOWED_METHODS[endpoint].includes(method)) throw new RqliteRequestError('method_not_allowed', `${method} is not allowed on /db/${endpoint}`);
  if (endpoint === 'execute') refuseQueuedWrites(params);
  const level = consistencyLevel(params);
  const rewritable = !params.has('noparse') && (endpoint !== 'query' || level === 'strong');
  const request: DbRequest = {
    endpoint,
    statements: readStatements(endpoint, method, params, http).filter((s) => s.sql !== ''),
    transaction: params.has('transaction'),
    level,
    freshnessStrict: params.has('freshness_strict'),
    redirect: params.has('redirect'),
    timings: params.has('timings'),
    associative: params.has('associative'),
    blobArray: params.has('blob_array'),
    pretty: params.has('pretty'),
    raftIndex: params.has('raft_index'),
    qualifyColumns: params.has('qualify_columns'),
    rewriteRandom: rewritable && !params.has('norwrandom'),
    rewriteTime: rewritable && !params.has('norwtime'),
  };
  assignDefined(request, 'freshnessMs', params.durationMs('freshness'));
  assignDefined(request, 'linearizableTimeoutMs', params.durationMs('linearizable_timeout'));
  assignDefined(request, 'dbTimeoutMs', params.durationMs('db_timeout'));
  assignDefined(request, 'timeoutMs', params.durationMs('timeout'));
  assignDefined(request, 'retries', params.integer('retries'));
  return request;
}

function readStatements(endpoint: DbEndpoint, method: string, params: QueryParams, http: DbHttpRequest): RqliteStatement[] {
  if (endpoint === 'query' && method === 'GET') return [parsePlainTextStatement(params.get('q') ?? '')];
  // rqlite takes a text/plain body as one SQL statement on execute and query, not on request. A
  // JSON array is never SQL, and fetch() labels a string body text/plain unless told otherwise:
  // such a body is read as the JSON it is.
  if (endpoint !== 'request' && (http.contentType ?? '').startsWith('text/plain') && !looksLikeJsonArray(http.body)) return [parsePlainTextStatement(http.body)];
  return parseStatementsBody(http.body);
}

function looksLikeJsonArray(body: string): boolean {
  return body.trimStart().startsWith('[');
}

/** rqlite queues writes and answers at once with a sequence number; this server has no queue. */
function refuseQueuedWrites(params: QueryParams): void {
  for (const flag of ['queue', 'wait']) {
    if (params.has(flag)) throw new RqliteRequestError('unsupported', `queued writes are not supported (${flag}): send the request without it`);
  }
}

/** Case-insensitive, as rqlite. rqlite reads an unknown level as weak; a typo is refused here. */
function consistencyLevel(params: QueryParams): ConsistencyLevel {
  const given = params.get('level');
  if (given === undefined) return 'weak';
  const level = LEVELS.find((l) => l === given.toLowerCase());
  if (!level) throw new RqliteRequestError('bad_query_parameter', `level must be one of ${LEVELS.join(', ')}`);
  return level;
}

function assignDefined<K extends keyof DbRequest>(request: DbRequest, key: K, value: DbRequest[K] | undefined): void {
  if (value !== undefined) request[key] = value;
}
