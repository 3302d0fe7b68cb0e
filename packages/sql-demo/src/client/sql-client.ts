// A TypeScript client for raftkit-sql (and rqlite): typed results, exact 64-bit integers, BLOBs
// as Uint8Array, failover between nodes, and read-after-write through the writes' log index.
// Global fetch only, no dependencies.
import { parseLosslessJson, type JsonValue } from '../rqlite/json/lossless-json-parse.js';
import { SqlClientError } from './client-error.js';
import { decodeNodes, type NodeInfo } from './cluster-nodes.js';
import { FailoverTransport, type HttpAnswer, type TransportOptions } from './failover-transport.js';
import { executeFlags, queryFlags, type ExecuteOptions, type QueryOptions, type RequestOptions } from './request-options.js';
import { decodeResponse, type IntegerMode, type SqlResponse } from './results.js';
import { encodeStatements, type Statement } from './statements.js';

export interface SqlClientOptions extends TransportOptions {
  /** 'bigint' (default): every INTEGER cell is a bigint. 'safe-number': a number when it fits exactly, else bigint. */
  integers?: IntegerMode;
}

export type BackupFormat = 'binary' | 'sql';

const SQLITE_HEADER = 'SQLite format 3\0';
const utf8 = new TextDecoder();

export class SqlClient {
  private readonly transport: FailoverTransport;
  private readonly integers: IntegerMode;
  private highestRaftIndex: number | undefined;

  constructor(options: SqlClientOptions) {
    this.transport = new FailoverTransport(options);
    this.integers = options.integers ?? 'bigint';
  }

  /** The node that answered last (requests go there first). */
  get currentUrl(): string {
    return this.transport.currentUrl;
  }

  /** The highest log index this client's writes were applied at: `query(..., { readAfter: client.raftIndex })` sees them all. */
  get raftIndex(): number | undefined {
    return this.highestRaftIndex;
  }

  /** Writes (and reads with RETURNING) through the log: one result per statement, in order. */
  async execute(statements: readonly Statement[], options: ExecuteOptions = {}): Promise<SqlResponse> {
    const answer = await this.transport.send({
      method: 'POST',
      path: '/db/execute',
      query: executeFlags(options),
      body: encodeStatements(statements),
      idempotency: 'write',
      ...timeout(options),
    });
    return this.noteRaftIndex(decodeResponse(utf8.decode(answer.bytes), this.integers));
  }

  /** Reads at the chosen consistency level; a write sent here is refused in its result. */
  async query(statements: readonly Statement[], options: QueryOptions = {}): Promise<SqlResponse> {
    const answer = await this.transport.send({
      method: 'POST',
      path: '/db/query',
      query: queryFlags(options),
      body: encodeStatements(statements),
      idempotency: 'read',
      ...timeout(options),
    });
    return decodeResponse(utf8.decode(answer.bytes), this.integers);
  }

  /** Reads and writes mixed: the server tells them apart by the statement. */
  async request(statements: readonly Statement[], options: RequestOptions = {}): Promise<SqlResponse> {
    const query = { ...queryFlags(options), ...executeFlags(options) };
    // raft_index=N (read after) wins over the bare flag: both make the answer carry the index.
    if (options.readAfter !== undefined) query.raft_index = String(options.readAfter);
    const answer = await this.transport.send({ method: 'POST', path: '/db/request', query, body: encodeStatements(statements), idempotency: 'write', ...timeout(options) });
    return this.noteRaftIndex(decodeResponse(utf8.decode(answer.bytes), this.integers));
  }

  /** A consistent copy of the database: the SQLite file, or a SQL dump ('sql'). */
  async backup(options: { format?: BackupFormat; timeoutMs?: number } = {}): Promise<Uint8Array> {
    const answer = await this.transport.send({
      method: 'GET',
      path: '/db/backup',
      query: { fmt: options.format === 'sql' ? 'sql' : undefined },
      idempotency: 'read',
      ...timeout(options),
    });
    return answer.bytes;
  }

  /** Replaces the database on every node with a SQLite file or a SQL dump. */
  async load(data: Uint8Array | string, options: { timeoutMs?: number } = {}): Promise<void> {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const isFile = utf8.decode(bytes.subarray(0, SQLITE_HEADER.length)) === SQLITE_HEADER;
    const answer = await this.transport.send({
      method: 'POST',
      path: '/db/load',
      body: bytes,
      contentType: isFile ? 'application/octet-stream' : 'text/plain',
      idempotency: 'write',
      ...timeout(options),
    });
    if (answer.bytes.length === 0) return;
    const response = decodeResponse(utf8.decode(answer.bytes), this.integers);
    const failed = response.results.find((r) => r.kind === 'error');
    if (failed) throw new SqlClientError('request_failed', failed.error, answer.status, utf8.decode(answer.bytes));
  }

  /** /status of the current node (or the part under a dotted `key`, e.g. "store.raft"). */
  async status(key?: string): Promise<JsonValue> {
    return this.json(await this.transport.send({ method: 'GET', path: '/status', query: { key }, idempotency: 'read' }));
  }

  /** The cluster's members, non-voters included, as the current node sees them. */
  async nodes(): Promise<NodeInfo[]> {
    return decodeNodes(this.json(await this.transport.send({ method: 'GET', path: '/nodes', query: { nonvoters: true, ver: 2 }, idempotency: 'read' })));
  }

  /** Whether the current node is ready to serve (has a leader and has caught up). */
  async ready(): Promise<boolean> {
    const answer = await this.transport.send({ method: 'GET', path: '/readyz', idempotency: 'read', acceptStatuses: [503] });
    return answer.status === 200;
  }

  private json(answer: HttpAnswer): JsonValue {
    const text = utf8.decode(answer.bytes);
    try {
      return parseLosslessJson(text);
    } catch (e) {
      throw new SqlClientError('bad_response', `the answer is not JSON: ${(e as Error).message}`, answer.status, text);
    }
  }

  private noteRaftIndex(response: SqlResponse): SqlResponse {
    if (response.raftIndex !== undefined) this.highestRaftIndex = Math.max(this.highestRaftIndex ?? 0, response.raftIndex);
    return response;
  }
}

function timeout(o: { timeoutMs?: number }): { timeoutMs?: number } {
  return o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs };
}
