// A stand-in for a raftkit-sql node in unit tests: node:http on 127.0.0.1, one in-memory SQLite
// database, and rqlite's exact answers, written by the package's own rqlite formatters (the same
// code the real server answers with): /db/execute, /db/query, /db/request, /db/backup, /db/load,
// /status, /nodes and /readyz. A test can also script any answer (`answer`) and read every request
// it received (`requests`).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type BetterSqlite3 from 'better-sqlite3';
import {
  formatDbResponse,
  formatNodesResponse,
  formatReadyzResponse,
  formatStatusResponse,
  parseDbRequest,
  RqliteRequestError,
  type DbEndpoint,
  type DbOutcome,
  type DbRequest,
  type HttpReply,
  type RqliteStatement,
  type SqlCell,
  type StatementOutcome,
} from '../../src/rqlite/index.js';

// better-sqlite3 is installed for @raftkit/framework; load the same binary from there (see test/sql/open-sqlite.ts).
const fromFramework = createRequire(createRequire(import.meta.url).resolve('@raftkit/framework/package.json'));
const Database = fromFramework('better-sqlite3') as typeof BetterSqlite3;

export interface ReceivedRequest {
  method: string;
  path: string;
  /** The raw query string, without '?'. */
  query: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface ScriptedAnswer {
  status: number;
  body: string | Buffer;
  headers?: Record<string, string>;
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
const WRITE_IN_QUERY = 'attempt to change database via query operation';

export class FakeRqliteServer {
  db: BetterSqlite3.Database = new Database(':memory:');
  readonly requests: ReceivedRequest[] = [];
  /** Answers a request instead of the database when it returns something. */
  answer: ((req: ReceivedRequest) => ScriptedAnswer | undefined) | undefined;
  private raftIndex = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeRqliteServer> {
    let fake: FakeRqliteServer | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const [path = '', query = ''] = (req.url ?? '/').split('?', 2);
        const received: ReceivedRequest = { method: req.method ?? 'GET', path, query, headers: req.headers, body: Buffer.concat(chunks) };
        const reply = fake!.handle(received);
        res.writeHead(reply.status, reply.headers ?? {});
        res.end(reply.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeRqliteServer(server, `http://127.0.0.1:${port}`);
    return fake;
  }

  close(): Promise<void> {
    this.db.close();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The requests to one path. */
  requestsTo(path: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  private handle(req: ReceivedRequest): ScriptedAnswer {
    this.requests.push(req);
    const scripted = this.answer?.(req);
    if (scripted) return scripted;
    switch (req.path) {
      case '/db/execute':
      case '/db/query':
      case '/db/request':
        return toAnswer(this.db_(req.path.slice(4) as DbEndpoint, req));
      case '/db/backup':
        return this.backup(req);
      case '/db/load':
        return this.load(req);
      case '/status':
        return toAnswer(
          formatStatusResponse(this.status(), { pretty: false, ...(new URLSearchParams(req.query).get('key') ? { key: new URLSearchParams(req.query).get('key')! } : {}) }),
        );
      case '/nodes':
        return toAnswer(
          formatNodesResponse(
            [
              { id: '1', raftAddr: '127.0.0.1:4002', voter: true, contact: { reachable: true, apiAddr: this.url, version: 'fake', seconds: 0.001 }, leader: true },
              { id: '2', raftAddr: '127.0.0.1:4004', voter: true, contact: { reachable: false, error: 'connection refused' }, leader: false },
            ],
            { nonVoters: false, version: new URLSearchParams(req.query).get('ver') === '2' ? 2 : 1, pretty: false },
          ),
        );
      case '/readyz':
        return toAnswer(formatReadyzResponse({ noLeader: false, sync: false }, { leader: { state: 'ok' }, storeReady: true, db: { ok: true } }));
      default:
        return { status: 404, body: '404 page not found\n' };
    }
  }

  private db_(endpoint: DbEndpoint, req: ReceivedRequest): HttpReply {
    let request: DbRequest;
    try {
      request = parseDbRequest(endpoint, { method: req.method, rawQuery: req.query, contentType: req.headers['content-type'], body: req.body.toString('utf8') });
    } catch (e) {
      if (e instanceof RqliteRequestError) return e.toReply();
      throw e;
    }
    const outcome = this.run(endpoint, request);
    return formatDbResponse(endpoint, outcome, request);
  }

  /** rqlite's semantics: statement by statement, or all in one transaction that stops at the first error. */
  private run(endpoint: DbEndpoint, request: DbRequest): DbOutcome {
    const statements: StatementOutcome[] = [];
    let wrote = false;
    if (request.transaction) this.db.exec('BEGIN');
    for (const s of request.statements) {
      const outcome = this.runOne(endpoint, s);
      statements.push(outcome);
      if (outcome.kind === 'exec') wrote = true;
      if (outcome.kind === 'error' && request.transaction) {
        this.db.exec('ROLLBACK');
        return { statements, seconds: 0.001 };
      }
    }
    if (request.transaction) this.db.exec('COMMIT');
    const outcome: DbOutcome = { statements, seconds: 0.001 };
    if (wrote || endpoint === 'execute') outcome.raftIndex = ++this.raftIndex;
    return outcome;
  }

  private runOne(endpoint: DbEndpoint, s: RqliteStatement): StatementOutcome {
    try {
      const stmt = this.db.prepare(s.sql).safeIntegers(true);
      const args: unknown[] = Object.keys(s.named).length > 0 ? [...s.positional, s.named] : s.positional;
      if (endpoint === 'query' && !stmt.readonly) return { kind: 'error', message: WRITE_IN_QUERY };
      if (stmt.reader && !(endpoint === 'execute' && stmt.readonly)) {
        const columns = stmt.columns();
        const rows = (stmt.raw(true).all(...args) as unknown[][]).map((row) => row.map(toCell));
        return { kind: 'rows', columns: columns.map((c) => c.name), declaredTypes: columns.map((c) => c.type), rows, seconds: 0.0001 };
      }
      const info = stmt.run(...args);
      return { kind: 'exec', lastInsertId: BigInt(info.lastInsertRowid), rowsAffected: BigInt(info.changes), seconds: 0.0001 };
    } catch (e) {
      return { kind: 'error', message: (e as Error).message };
    }
  }

  private backup(req: ReceivedRequest): ScriptedAnswer {
    if (new URLSearchParams(req.query).get('fmt') === 'sql') return { status: 200, body: this.dump(), headers: { 'Content-Type': 'application/sql' } };
    return { status: 200, body: this.db.serialize(), headers: { 'Content-Type': 'application/octet-stream' } };
  }

  /** The database as SQL (schema, then rows), enough to load it back. */
  private dump(): string {
    const lines = ['PRAGMA foreign_keys=OFF;', 'BEGIN TRANSACTION;'];
    const tables = this.db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string; sql: string }[];
    for (const t of tables) {
      lines.push(`${t.sql};`);
      const quoted = this.db.prepare(`SELECT * FROM "${t.name}"`).raw(true).safeIntegers(true).all() as unknown[][];
      for (const row of quoted) lines.push(`INSERT INTO "${t.name}" VALUES(${row.map(sqlLiteral).join(',')});`);
    }
    lines.push('COMMIT;');
    return `${lines.join('\n')}\n`;
  }

  /** rqlite answers a file load with no results, a dump as one statement's result. */
  private load(req: ReceivedRequest): ScriptedAnswer {
    if (req.body.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER)) {
      this.db.close();
      this.db = new Database(req.body);
      this.raftIndex++;
      return { status: 200, body: '{"results":[]}', headers: { 'Content-Type': 'application/json' } };
    }
    try {
      this.db.exec(req.body.toString('utf8'));
    } catch (e) {
      return { status: 200, body: JSON.stringify({ results: [{ error: (e as Error).message }] }), headers: { 'Content-Type': 'application/json' } };
    }
    this.raftIndex++;
    return { status: 200, body: '{"results":[{}]}', headers: { 'Content-Type': 'application/json' } };
  }

  private status(): Parameters<typeof formatStatusResponse>[0] {
    return {
      nodeId: '1',
      raftAddr: '127.0.0.1:4002',
      apiBindAddr: this.url.replace('http://', ''),
      leader: { nodeId: '1', raftAddr: '127.0.0.1:4002' },
      raft: { state: 'Leader', term: 2, commitIndex: this.raftIndex, appliedIndex: this.raftIndex, lastLogIndex: this.raftIndex, voter: true },
      ready: true,
      members: [{ id: '1', raftAddr: '127.0.0.1:4002', voter: true }],
      sqlite: { version: '3.x', foreignKeys: false },
      build: { version: 'fake' },
      authEnabled: false,
      startTime: new Date(0),
      now: new Date(1000),
      process: { pid: 1, ppid: 0 },
    };
  }
}

function toAnswer(reply: HttpReply): ScriptedAnswer {
  return { status: reply.status, body: reply.body, headers: reply.headers };
}

function toCell(v: unknown): SqlCell {
  if (v === null || typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string') return v;
  return new Uint8Array(v as Buffer);
}

function sqlLiteral(v: unknown): string {
  if (v === null) return 'NULL';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isInteger(v) ? `${v}.0` : String(v);
  if (typeof v === 'string') return `'${v.replace(/'/g, "''")}'`;
  return `X'${Buffer.from(v as Uint8Array).toString('hex')}'`;
}
