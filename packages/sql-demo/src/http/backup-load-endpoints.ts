// /db/backup: a consistent copy of the database, from the leader unless ?noleader (the SQLite
// file, or a SQL dump with fmt=sql). /db/load: the database replaced, on every node, from a
// SQLite file or a SQL dump: the receiving node turns either into the statements of one `load`
// log entry, which every node applies in one transaction.
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { RaftkitError } from '@raftkit/framework';
import { formatDbResponse, parseBackupRequest } from '../rqlite/index.js';
import { QueryParams } from '../rqlite/request/query-params.js';
import { isSqliteFile, statementsOfDatabaseFile, statementsOfDump } from '../engine/load-source.js';
import type { LoadResult } from '../engine/sql-engine.js';
import { DUMP_LIMITS } from '../machine/sql-request.js';
import { checkStatements } from '../machine/statement-plan.js';
import type { SqlApiContext } from './api-context.js';
import { failureOf, HttpFailure } from './http-failure.js';
import { readBody, sendReply, splitUrl } from './http-io.js';

/** A load is one log entry, sent to followers in one transport frame (64 MiB): its encoded statements must stay under this. */
const MAX_LOAD_ENTRY_BYTES = 48 * 1024 * 1024;
const NO_OPTIONS = { associative: false, blobArray: false, timings: false, pretty: false, raftIndex: false };

export class BackupLoadEndpoints {
  constructor(private readonly ctx: SqlApiContext) {}

  async backup(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = parseBackupRequest(req.method ?? 'GET', splitUrl(req.url).rawQuery);
    if (request.fromLeader && !this.ctx.routing.isLeader()) {
      await this.ctx.routing.toLeader(req, res, { body: Buffer.alloc(0), redirect: request.redirect, timeoutMs: request.timeoutMs ?? this.ctx.limits.defaultTimeoutMs });
      return;
    }
    const machine = this.ctx.machine();
    if (!machine) throw new HttpFailure('unavailable', 'the database is not open yet');
    const file = await machine.backupToFile(request.format === 'sql' ? 'sql' : 'binary', { tables: request.tables, vacuum: request.vacuum });
    try {
      const headers: Record<string, string> = { 'Content-Type': request.contentType, 'X-RQLITE-SERVED-BY': this.ctx.service.status().address };
      if (request.compress) headers['Content-Encoding'] = 'gzip';
      else headers['Content-Length'] = String((await stat(file)).size);
      res.writeHead(200, headers);
      const source = createReadStream(file);
      await (request.compress ? pipeline(source, createGzip(), res) : pipeline(source, res));
    } finally {
      await rm(file, { force: true });
    }
  }

  async load(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if ((req.method ?? '').toUpperCase() !== 'POST') throw new HttpFailure('method_not_allowed', 'POST only');
    const params = QueryParams.parse(splitUrl(req.url).rawQuery);
    const timeoutMs = params.durationMs('timeout') ?? this.ctx.limits.defaultTimeoutMs;
    const body = await readBody(req, this.ctx.limits.maxLoadBytes, this.ctx.limits.bodyTimeoutMs);
    if (!this.ctx.routing.isLeader()) {
      await this.ctx.routing.toLeader(req, res, { body, redirect: params.has('redirect'), timeoutMs });
      return;
    }
    const fromFile = isSqliteFile(body);
    const statements = await readStatements(body, fromFile);
    if (JSON.stringify(statements).length > MAX_LOAD_ENTRY_BYTES) {
      throw new HttpFailure(
        'payload_too_large',
        `the load is larger than one log entry may be (${MAX_LOAD_ENTRY_BYTES} bytes as statements): load the data in parts with /db/execute`,
      );
    }
    let result: LoadResult;
    try {
      result = (await this.ctx.service.command(this.ctx.group, 'load', { statements }, { timeoutMs })).result as LoadResult;
    } catch (e) {
      if (e instanceof RaftkitError && e.code === 'not_leader') {
        await this.ctx.routing.toLeader(req, res, { body, redirect: params.has('redirect'), timeoutMs });
        return;
      }
      throw failureOf(e);
    }
    const failure = result.failed && `load failed at statement ${result.failed.statement + 1}, nothing was changed: ${result.failed.error}`;
    // rqlite answers a file load with no results (500 when it fails) and a dump as one statement's result.
    if (fromFile && failure) throw new HttpFailure('internal', failure);
    const outcome = fromFile
      ? { statements: [] }
      : { statements: [failure ? { kind: 'error' as const, message: failure } : { kind: 'exec' as const, lastInsertId: 0n, rowsAffected: 0n }] };
    sendReply(res, formatDbResponse('execute', outcome, { ...NO_OPTIONS, pretty: params.has('pretty') }));
  }
}

async function readStatements(body: Buffer, fromFile: boolean): Promise<string[]> {
  let statements: string[];
  try {
    statements = fromFile ? await statementsOfDatabaseFile(body) : statementsOfDump(body.toString('utf8'));
  } catch (e) {
    throw new HttpFailure('bad_request', `${fromFile ? 'invalid SQLite data' : 'invalid SQL dump'}: ${(e as Error).message}`);
  }
  try {
    checkStatements(statements, DUMP_LIMITS);
  } catch (e) {
    throw new HttpFailure('bad_request', (e as Error).message);
  }
  return statements;
}
