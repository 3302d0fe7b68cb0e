// Runs one planned statement on a connection and shapes its result the way rqlite does. Only
// SqlEngine calls this, with the statements of the connection it owns; transactions and
// savepoints are its business.
import type { Statement } from 'better-sqlite3';
import { fromSqlite, type SqlValue } from '../machine/sql-value.js';
import type { PlannedStatement } from '../machine/statement-plan.js';
import type { ResultBudget } from './result-budget.js';
import type { StatementCache } from './statement-cache.js';
import { WRITE_IN_QUERY, type ExecResult, type RowsResult, type StatementResult } from './statement-result.js';

/**
 * query: reads only (a write is refused and not run); execute: writes, where only a RETURNING
 * gives rows (rqlite runs a plain SELECT sent to /db/execute as an exec); request: each statement
 * as what it is.
 */
export type ExecutionMode = 'query' | 'execute' | 'request';

export interface ExecutionOptions {
  mode: ExecutionMode;
  budget: ResultBudget;
  timings: boolean;
}

/** The storage class of a value as rqlite names it for a column without a declared type. */
function storageClass(raw: unknown): string {
  if (raw === null || raw === undefined) return '';
  if (typeof raw === 'bigint') return 'integer';
  if (typeof raw === 'number') return 'real';
  if (typeof raw === 'string') return 'text';
  return 'blob';
}

function bindArgs(s: PlannedStatement): unknown[] {
  return Object.keys(s.named).length > 0 ? [...s.positional, s.named] : s.positional;
}

function readRows(stmt: Statement, args: unknown[], o: ExecutionOptions, names: () => string[]): RowsResult {
  const columns = stmt.columns();
  const declaredTypes = columns.map((c) => c.type);
  const types = declaredTypes.map((t) => (t ?? '').toLowerCase());
  const rows: SqlValue[][] = [];
  o.budget.charge(columns.reduce((n, c) => n + c.name.length + 16, 16));
  let first = true;
  for (const raw of stmt.raw(true).iterate(...args) as IterableIterator<unknown[]>) {
    if (first) {
      raw.forEach((v, i) => {
        if (declaredTypes[i] === null) types[i] = storageClass(v);
      });
      first = false;
    }
    const row = raw.map(fromSqlite);
    o.budget.chargeRow(row);
    rows.push(row);
  }
  return { columns: names(), types, declaredTypes, rows };
}

function runPiece(statements: StatementCache, sql: string, sent: string | undefined, args: unknown[], o: ExecutionOptions): StatementResult {
  const stmt = statements.prepare(sql);
  if (o.mode === 'query' && !stmt.readonly) return { error: WRITE_IN_QUERY };
  if (stmt.reader && !(o.mode === 'execute' && stmt.readonly)) {
    // A rewritten clock read is named as the client wrote it: preparing the sent text (never
    // run) gives SQLite's own names for it.
    const names = () => (sent === undefined ? stmt : statements.prepare(sent)).columns().map((c) => c.name);
    return readRows(stmt, args, o, names);
  }
  if (stmt.reader) {
    // A SELECT sent to /db/execute: run, rows dropped, as rqlite's ExecContext does.
    for (const _row of stmt.iterate(...args)) void _row;
    return { lastInsertId: 0, rowsAffected: 0 };
  }
  const info = stmt.run(...args);
  const result: ExecResult = { lastInsertId: fromSqlite(info.lastInsertRowid), rowsAffected: info.changes };
  return result;
}

/**
 * Runs the statement (all its pieces, in order; the result is the last one's). SQLite's errors
 * become an error result; ResultTooLargeError and interruptions are thrown for the caller to place.
 */
export function runStatement(statements: StatementCache, s: PlannedStatement, o: ExecutionOptions): StatementResult {
  const started = o.timings ? process.hrtime.bigint() : 0n;
  let result: StatementResult = { lastInsertId: 0, rowsAffected: 0 };
  const args = bindArgs(s);
  for (const [i, piece] of s.pieces.entries()) {
    try {
      result = o.budget.attempt(() => runPiece(statements, piece, s.sentPieces?.[i], args, o));
    } catch (e) {
      if (!isSqliteError(e)) throw e;
      return { error: (e as Error).message };
    } finally {
      if (s.changesSchema) statements.clear();
    }
    if ('error' in result) return result;
  }
  if (o.timings) result.time = Number(process.hrtime.bigint() - started) / 1e9;
  return result;
}

/** SQLite's own failures (and better-sqlite3's binding errors): the statement's error, in its place. */
function isSqliteError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (code === 'SQLITE_INTERRUPT') return false;
  return e.name === 'SqliteError' || e instanceof RangeError || e instanceof TypeError;
}
