// /db/execute, /db/query and /db/request: rqlite's request parsing (query flags, bodies), the
// store's statement policy on the receiving node (a refused statement is a 400 naming it and
// nothing is logged), then the write or read path, and rqlite's answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatDbResponse, parseDbRequest, RqliteRequestError, type DbEndpoint, type DbOutcome, type DbRequest } from '../rqlite/index.js';
import type { StatementElement } from '../machine/sql-statement.js';
import { checkStatements, type CheckedStatement } from '../machine/statement-plan.js';
import type { SqlApiContext } from './api-context.js';
import { APPLIED_INDEX_HEADER, appliedIndexToWaitFor } from './applied-wait.js';
import { runRead, runWrite, type Exchange, type PathOutcome } from './db-paths.js';
import { FreshnessGate } from './freshness.js';
import { HttpFailure } from './http-failure.js';
import { readBody, sendReply, splitUrl } from './http-io.js';
import { toStatementElement, toStatementOutcome } from './rqlite-values.js';

export class DbEndpoints {
  private readonly gate: FreshnessGate;
  private warnedNoInterrupt = false;

  constructor(private readonly ctx: SqlApiContext) {
    this.gate = new FreshnessGate(ctx.service, ctx.group);
  }

  async handle(endpoint: DbEndpoint, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const { rawQuery } = splitUrl(req.url);
    const method = (req.method ?? 'GET').toUpperCase();
    const body = method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : await readBody(req, this.ctx.limits.maxRequestBytes, this.ctx.limits.bodyTimeoutMs);
    let request: DbRequest;
    try {
      request = parseDbRequest(endpoint, { method, rawQuery, contentType: req.headers['content-type'], body: body.toString('utf8') });
    } catch (e) {
      if (e instanceof RqliteRequestError) return sendReply(res, e.toReply());
      throw e;
    }
    const statements = request.statements.map(toStatementElement);
    const checked = statements.length === 0 ? [] : checkPolicy(statements);
    if (request.dbTimeoutMs !== undefined) this.warnIfNotInterruptible();
    const x: Exchange = { req, res, body, redirect: request.redirect, timeoutMs: request.timeoutMs ?? this.ctx.limits.defaultTimeoutMs };
    const outcome = statements.length === 0 ? ({ kind: 'results', results: [] } as PathOutcome) : await this.serve(endpoint, request, statements, checked, x);
    if (outcome.kind === 'answered') return;
    const db: DbOutcome =
      outcome.kind === 'error'
        ? { statements: [], error: outcome.message }
        : { statements: outcome.results.map(toStatementOutcome), ...(outcome.index !== undefined ? { raftIndex: outcome.index } : {}) };
    db.seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const headers: Record<string, string> = {};
    if (outcome.kind === 'results' && outcome.index !== undefined) headers[APPLIED_INDEX_HEADER] = String(outcome.index);
    sendReply(res, formatDbResponse(endpoint, db, request), headers);
  }

  private serve(endpoint: DbEndpoint, request: DbRequest, statements: StatementElement[], checked: CheckedStatement[], x: Exchange): Promise<PathOutcome> {
    const writes = checked.some((s) => s.analysis.kind === 'write');
    const common = { statements, transaction: request.transaction, timings: request.timings };
    const timeout = request.dbTimeoutMs === undefined ? {} : { dbTimeoutMs: request.dbTimeoutMs };
    if (endpoint === 'execute' || (endpoint === 'request' && (writes || request.level === 'strong'))) {
      return runWrite(this.ctx, x, { command: endpoint === 'execute' ? 'execute' : 'request', ...common, ...timeout });
    }
    const waitIndex = appliedIndexToWaitFor(splitUrl(x.req.url).rawQuery, x.req.headers);
    return runRead(this.ctx, this.gate, x, {
      ...common,
      ...timeout,
      level: request.level,
      ...(request.freshnessMs !== undefined ? { freshnessMs: request.freshnessMs } : {}),
      ...(waitIndex !== undefined ? { waitIndex } : {}),
    });
  }

  private warnIfNotInterruptible(): void {
    if (this.warnedNoInterrupt || this.ctx.machine()?.interruptible !== false) return;
    this.warnedNoInterrupt = true;
    this.ctx.logger.warn(
      {},
      'db_timeout cannot interrupt statements on this node: the interrupt extension (packages/sql-demo/build/interrupt_timer) was not built (no C compiler?); db_timeout only bounds how long a request waits',
    );
  }
}

/** The store's statement policy, on the node that received the request: a refusal is a 400 that names the statement. */
function checkPolicy(statements: StatementElement[]): CheckedStatement[] {
  try {
    return checkStatements(statements);
  } catch (e) {
    throw new HttpFailure('bad_request', (e as Error).message);
  }
}
