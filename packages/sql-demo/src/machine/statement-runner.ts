// Runs SQL statements on one better-sqlite3 database, the way rqlite does: each statement gets a
// result or an error of its own; with `transaction` the statements of a request are all applied
// or none (the first error rolls the rest back and ends the request).
import type { Database, Statement } from 'better-sqlite3';
import { fromSqlite, toSqlite, type SqlValue } from './sql-value.js';

/** One statement of a request: its text and its positional or named parameters. */
export interface SqlStatement {
  sql: string;
  params?: SqlValue[] | Record<string, SqlValue>;
}

/** What one statement did: rows it read, changes it made, or why it failed. */
export type StatementOutcome =
  { kind: 'rows'; columns: string[]; types: string[]; rows: SqlValue[][] } | { kind: 'exec'; lastInsertId: SqlValue; rowsAffected: number } | { kind: 'error'; message: string };

export interface RunOptions {
  /** All or nothing: the first error rolls back the request's earlier statements and ends it. */
  transaction: boolean;
  /** A query: a statement that would change the database fails instead. */
  readOnly: boolean;
}

/** rqlite's wording for a write sent as a query. */
export const WRITE_IN_QUERY = 'attempt to change database via query operation';

function bind(params: SqlStatement['params']): unknown[] {
  if (params === undefined) return [];
  if (Array.isArray(params)) return params.map(toSqlite);
  const named: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) named[k.replace(/^[:@$]/, '')] = toSqlite(v);
  return [named];
}

/** The declared type of each column, lower-cased, as rqlite reports it ("" for an expression). */
function columnTypes(stmt: Statement): string[] {
  return stmt.columns().map((c) => (c.type ?? '').toLowerCase());
}

export function runStatement(db: Database, s: SqlStatement, readOnly: boolean): StatementOutcome {
  let stmt: Statement;
  try {
    stmt = db.prepare(s.sql);
  } catch (e) {
    return { kind: 'error', message: (e as Error).message };
  }
  if (readOnly && !stmt.readonly) return { kind: 'error', message: WRITE_IN_QUERY };
  try {
    stmt.safeIntegers(true);
    const args = bind(s.params);
    if (stmt.reader) {
      const rows = (stmt.raw(true).all(...args) as unknown[][]).map((row) => row.map(fromSqlite));
      return { kind: 'rows', columns: stmt.columns().map((c) => c.name), types: columnTypes(stmt), rows };
    }
    const info = stmt.run(...args);
    return { kind: 'exec', lastInsertId: fromSqlite(info.lastInsertRowid), rowsAffected: info.changes };
  } catch (e) {
    return { kind: 'error', message: (e as Error).message };
  }
}

/** Runs a request's statements in order; see RunOptions. */
export function runStatements(db: Database, statements: readonly SqlStatement[], o: RunOptions): StatementOutcome[] {
  if (!o.transaction) return statements.map((s) => runStatement(db, s, o.readOnly));
  const out: StatementOutcome[] = [];
  db.exec('SAVEPOINT raftkit_request');
  for (const s of statements) {
    const r = runStatement(db, s, o.readOnly);
    out.push(r);
    if (r.kind === 'error') {
      db.exec('ROLLBACK TO raftkit_request; RELEASE raftkit_request');
      return out;
    }
  }
  db.exec('RELEASE raftkit_request');
  return out;
}
