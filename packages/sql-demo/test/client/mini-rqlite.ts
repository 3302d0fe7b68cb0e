// A small rqlite for the client's tests: node:http on 127.0.0.1 (a free port), SQL run on an
// in-memory better-sqlite3 database, requests parsed and answers written by the package's own
// rqlite protocol layer (src/rqlite), so the bodies are rqlite's to the byte. A test can answer
// any request itself (`reply`) to send literal bodies, errors, redirects or broken connections.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { parseDbRequest, formatDbResponseBody, type DbEndpoint, type DbOutcome, type RqliteStatement, type StatementOutcome } from '../../src/rqlite/index.js';

export interface RecordedRequest {
  method: string;
  path: string;
  /** The raw query string, without '?'. */
  query: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface CannedReply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Drop the connection without answering (after reading the request). */
  destroy?: boolean;
  /** Answer only after this long. */
  delayMs?: number;
}

/** Answers a request itself, or undefined to let the mini rqlite answer. */
export type ReplyHook = (request: RecordedRequest) => CannedReply | undefined;

const WRITE_IN_QUERY = 'attempt to change database via query operation';

export class MiniRqlite {
  readonly requests: RecordedRequest[] = [];
  db: Database.Database = new Database(':memory:');
  reply: ReplyHook | undefined;
  /** The log index of the last write, as a real node would report it. */
  raftIndex = 0;
  private readonly sockets = new Set<import('node:net').Socket>();

  private constructor(private readonly server: http.Server) {}

  static async start(reply?: ReplyHook): Promise<MiniRqlite> {
    let mini: MiniRqlite | undefined;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => mini!.handle(req, res, Buffer.concat(chunks)));
    });
    mini = new MiniRqlite(server);
    if (reply) mini.reply = reply;
    server.on('connection', (s) => {
      mini.sockets.add(s);
      s.on('close', () => mini.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return mini;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The requests made to `path`. */
  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.db.close();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const request: RecordedRequest = { method: req.method ?? 'GET', path: q < 0 ? url : url.slice(0, q), query: q < 0 ? '' : url.slice(q + 1), headers: req.headers, body };
    this.requests.push(request);
    const canned = this.reply?.(request) ?? this.answer(request);
    const send = (): void => {
      if (canned.destroy) {
        req.socket.destroy();
        return;
      }
      res.writeHead(canned.status ?? 200, { 'content-type': 'application/json; charset=utf-8', ...(canned.headers ?? {}) });
      res.end(canned.body ?? '');
    };
    if (canned.delayMs) setTimeout(send, canned.delayMs);
    else send();
  }

  private answer(r: RecordedRequest): CannedReply {
    const endpoint = r.path.startsWith('/db/') ? r.path.slice(4) : '';
    if (endpoint === 'execute' || endpoint === 'query' || endpoint === 'request') return this.db_(endpoint, r);
    switch (r.path) {
      case '/db/backup':
        if (new URLSearchParams(r.query).get('fmt') === 'sql') return { headers: { 'content-type': 'application/sql' }, body: this.dump() };
        return { headers: { 'content-type': 'application/octet-stream' }, body: this.db.serialize() };
      case '/db/load':
        return this.load(r.body);
      case '/status':
        return { body: '{"build":{"version":"mini"},"store":{"node_id":"1","raft":{"applied_index":' + this.raftIndex + ',"state":"Leader"},"ready":true}}' };
      case '/nodes':
        return {
          body: `{"nodes":[{"id":"1","api_addr":"http://127.0.0.1:${this.port}","addr":"127.0.0.1:${this.port}","voter":true,"reachable":true,"leader":true,"time":0.001}]}`,
        };
      case '/readyz':
        return { headers: { 'content-type': 'text/plain' }, body: '[+]node ok\n[+]leader ok\n[+]store ok\n' };
      default:
        return { status: 404, headers: { 'content-type': 'text/plain' }, body: '404 page not found\n' };
    }
  }

  private db_(endpoint: DbEndpoint, r: RecordedRequest): CannedReply {
    let parsed;
    try {
      parsed = parseDbRequest(endpoint, { method: r.method, rawQuery: r.query, contentType: r.headers['content-type'], body: r.body.toString('utf8') });
    } catch (e) {
      return { status: 400, headers: { 'content-type': 'text/plain' }, body: `${(e as Error).message}\n` };
    }
    const results: StatementOutcome[] = [];
    let wrote = false;
    if (parsed.transaction) this.db.exec('BEGIN');
    for (const statement of parsed.statements) {
      const outcome = this.run(endpoint, statement);
      results.push(outcome.result);
      wrote ||= outcome.wrote;
      if (parsed.transaction && outcome.result.kind === 'error') break;
    }
    if (parsed.transaction) this.db.exec(results.some((o) => o.kind === 'error') ? 'ROLLBACK' : 'COMMIT');
    if (wrote) this.raftIndex++;
    const outcome: DbOutcome = { statements: results, seconds: 0.25, raftIndex: this.raftIndex };
    return { body: formatDbResponseBody(endpoint, outcome, parsed) };
  }

  private run(endpoint: DbEndpoint, s: RqliteStatement): { result: StatementOutcome; wrote: boolean } {
    try {
      const stmt = this.db.prepare(s.sql).safeIntegers(true);
      const args: unknown[] = [...s.positional];
      if (Object.keys(s.named).length > 0) args.push(s.named);
      if (endpoint === 'query' && !stmt.readonly) return { result: { kind: 'error', message: WRITE_IN_QUERY }, wrote: false };
      if (stmt.reader) {
        const columns = stmt.columns();
        const rows = stmt.raw(true).all(...args) as unknown[][];
        return {
          result: { kind: 'rows', columns: columns.map((c) => c.name), declaredTypes: columns.map((c) => c.type), rows: rows as StatementOutcome[][] as never, seconds: 0.125 },
          wrote: !stmt.readonly,
        };
      }
      const info = stmt.run(...args);
      return { result: { kind: 'exec', lastInsertId: info.lastInsertRowid, rowsAffected: info.changes, seconds: 0.125 }, wrote: true };
    } catch (e) {
      return { result: { kind: 'error', message: (e as Error).message }, wrote: false };
    }
  }

  private dump(): string {
    const rows = this.db.prepare('SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid').all() as { sql: string }[];
    return `BEGIN TRANSACTION;\n${rows.map((r) => `${r.sql};\n`).join('')}COMMIT;\n`;
  }

  private load(body: Buffer): CannedReply {
    if (body.subarray(0, 16).toString('latin1') === 'SQLite format 3\0') {
      this.db.close();
      this.db = new Database(body);
      this.raftIndex++;
      return { body: '{"results":[]}' };
    }
    try {
      this.db.exec(body.toString('utf8'));
      this.raftIndex++;
      return { body: '{"results":[{}]}' };
    } catch (e) {
      return { body: JSON.stringify({ results: [{ error: (e as Error).message }] }) };
    }
  }
}

/** A port on 127.0.0.1 nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
