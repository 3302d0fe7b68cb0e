// What the SQL machine answers for each statement of a request, as plain JSON (it travels back
// from the log and through raftkit's API): rows for a read or a RETURNING, changes for a write,
// or SQLite's error, in the statement's place as rqlite reports it.
import type { SqlValue } from '../machine/sql-value.js';

export interface RowsResult {
  columns: string[];
  /**
   * rqlite's column types: the declared type lower-cased, or for a column without one (an
   * expression) the storage class of its value in the first row ("integer", "real", "text",
   * "blob", "" for NULL or no rows).
   */
  types: string[];
  /** Each column's declared type as written in the schema; null for an expression. */
  declaredTypes: (string | null)[];
  rows: SqlValue[][];
  /** Seconds the statement took, when timings were asked for. */
  time?: number;
}

export interface ExecResult {
  lastInsertId: SqlValue;
  rowsAffected: number;
  time?: number;
}

export interface ErrorResult {
  error: string;
}

export type StatementResult = RowsResult | ExecResult | ErrorResult;

export function isErrorResult(r: StatementResult): r is ErrorResult {
  return 'error' in r;
}

export function isRowsResult(r: StatementResult): r is RowsResult {
  return 'rows' in r;
}

/** rqlite's message for a write sent as a query (db.go). */
export const WRITE_IN_QUERY = 'attempt to change database via query operation';
/** rqlite's messages for a statement stopped at its db_timeout (db.go ErrQueryTimeout, ErrExecuteTimeout). */
export const QUERY_TIMEOUT = 'query timeout';
export const EXECUTE_TIMEOUT = 'execute timeout';
