// The two ways a /db/* request is served. Writes (and reads at level=strong) go through the log
// on the leader, after an optional dry run against db_timeout; reads are served at their
// consistency level, on this node or on the leader.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RaftkitError } from '@raftkit/framework';
import type { ConsistencyLevel } from '../rqlite/index.js';
import type { StatementElement } from '../machine/sql-statement.js';
import type { ProbeVerdict } from '../engine/sql-engine.js';
import { EXECUTE_TIMEOUT, type StatementResult } from '../engine/statement-result.js';
import type { SqlApiContext } from './api-context.js';
import { waitForCommandApplied } from './applied-wait.js';
import type { FreshnessGate } from './freshness.js';
import { failureOf, HttpFailure, LEADER_NOT_FOUND } from './http-failure.js';

/** What serving a request came to: results (and the log index of a write), a request-level error in rqlite's "error", or an answer already sent (forwarded, redirected). */
export type PathOutcome = { kind: 'results'; results: StatementResult[]; index?: number } | { kind: 'error'; message: string } | { kind: 'answered' };

/** The HTTP exchange, for forwarding it as it came. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  body: Buffer;
  redirect: boolean;
  timeoutMs: number;
}

export interface WriteSpec {
  command: 'execute' | 'request';
  statements: StatementElement[];
  transaction: boolean;
  timings: boolean;
  /** request only: reads through the log, a write refused in its place. */
  readOnly?: boolean;
  dbTimeoutMs?: number;
}

function isNotLeader(e: unknown): boolean {
  return e instanceof RaftkitError && e.code === 'not_leader';
}

/** Every statement's answer when the dry run stopped statement `at` at the deadline: nothing was logged. */
function refusedByDeadline(count: number, at: number): StatementResult[] {
  const why = `${EXECUTE_TIMEOUT}: not applied; statement ${at + 1} of the request ran past db_timeout on the leader, so the request was refused before it was logged`;
  return Array.from({ length: count }, (_v, i) => ({ error: i === at ? EXECUTE_TIMEOUT : why }));
}

export async function runWrite(ctx: SqlApiContext, x: Exchange, w: WriteSpec): Promise<PathOutcome> {
  if (!ctx.routing.isLeader()) {
    await ctx.routing.toLeader(x.req, x.res, x);
    return { kind: 'answered' };
  }
  const base = { statements: w.statements, transaction: w.transaction || undefined, timings: w.timings || undefined };
  const args = w.command === 'request' && w.readOnly ? { ...base, readOnly: true } : base;
  try {
    if (w.dbTimeoutMs !== undefined && ctx.machine()?.interruptible) {
      const probe = await ctx.service.query(ctx.group, 'probe', { ...base, dbTimeoutMs: Math.max(1, w.dbTimeoutMs), mode: w.command }, 'local');
      const verdict = probe.result as ProbeVerdict;
      if (verdict.timedOut !== undefined) return { kind: 'results', results: refusedByDeadline(w.statements.length, verdict.timedOut) };
    }
    const out = await ctx.service.command(ctx.group, w.command, args, { timeoutMs: x.timeoutMs });
    return { kind: 'results', results: out.result as StatementResult[], index: out.index };
  } catch (e) {
    if (!isNotLeader(e)) throw failureOf(e);
    // Leadership moved between the check and the proposal: nothing was logged here.
    await ctx.routing.toLeader(x.req, x.res, x);
    return { kind: 'answered' };
  }
}

export interface ReadSpec {
  statements: StatementElement[];
  level: ConsistencyLevel;
  freshnessMs?: number;
  dbTimeoutMs?: number;
  timings: boolean;
  transaction: boolean;
  /** Wait until this node applied this index before reading. */
  waitIndex?: number;
}

export async function runRead(ctx: SqlApiContext, gate: FreshnessGate, x: Exchange, r: ReadSpec): Promise<PathOutcome> {
  if (r.level === 'strong') {
    const spec: WriteSpec = { command: 'request', statements: r.statements, transaction: r.transaction, timings: r.timings, readOnly: true };
    return runWrite(ctx, x, r.dbTimeoutMs === undefined ? spec : { ...spec, dbTimeoutMs: r.dbTimeoutMs });
  }
  const leader = ctx.routing.isLeader();
  if ((r.level === 'weak' || r.level === 'auto') && !leader) {
    await ctx.routing.toLeader(x.req, x.res, x);
    return { kind: 'answered' };
  }
  if (r.level === 'none' && r.freshnessMs !== undefined && !(await gate.fresh(r.freshnessMs, leader))) return { kind: 'error', message: 'stale read' };
  if (r.waitIndex !== undefined) await waitForCommandApplied(ctx.service, ctx.group, r.waitIndex, x.timeoutMs);
  const args = { statements: r.statements, timings: r.timings || undefined, dbTimeoutMs: r.dbTimeoutMs === undefined ? undefined : Math.max(1, r.dbTimeoutMs) };
  try {
    const out = await ctx.service.query(ctx.group, 'query', args, r.level === 'linearizable' ? 'linearizable' : 'local');
    return { kind: 'results', results: out.result as StatementResult[] };
  } catch (e) {
    if (e instanceof RaftkitError && (e.code === 'not_leader' || e.code === 'unavailable') && ctx.service.leaderOf(ctx.group) === undefined) {
      throw new HttpFailure('leader_not_found', LEADER_NOT_FOUND);
    }
    throw failureOf(e);
  }
}
