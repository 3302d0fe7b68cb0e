// Between rqlite's typed values and the SQL machine's JSON ones. rqlite's parser gives bigint for
// INTEGER parameters and number for REAL ones, Uint8Array for BLOBs; the machine's log entries
// are JSON, where integers beyond 2^53 and BLOBs travel tagged. Results come back the other way:
// integers as bigint, so that rqlite's formatter writes them exactly and types them as INTEGER.
import type { ExecOutcome, RowsOutcome, RqliteStatement, SqlCell, SqlParameterValue, StatementOutcome } from '../rqlite/index.js';
import type { StatementElement } from '../machine/sql-statement.js';
import type { SqlValue } from '../machine/sql-value.js';
import type { StatementResult } from '../engine/statement-result.js';

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function toSqlValue(v: SqlParameterValue): SqlValue {
  if (v === null || typeof v === 'string') return v;
  if (typeof v === 'bigint') return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : { int: v.toString() };
  if (typeof v === 'number') return Number.isInteger(v) ? { real: v } : v;
  return { blob: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
}

/** An rqlite statement as an element of the machine's `statements`. */
export function toStatementElement(s: RqliteStatement): StatementElement {
  const positional = s.positional.map(toSqlValue);
  const namedEntries = Object.entries(s.named);
  // rqlite's array form: shorter in the log, and cheaper to convert on every replica than an object.
  if (namedEntries.length === 0) return positional.length === 0 ? s.sql : [s.sql, ...positional];
  const named: Record<string, SqlValue> = {};
  for (const [k, v] of namedEntries) Object.defineProperty(named, k, { value: toSqlValue(v), enumerable: true, writable: true, configurable: true });
  if (positional.length === 0) return { sql: s.sql, params: named };
  // Both kinds: rqlite's array form, where an object is a map of names. The names get their ':'
  // so that a map like {"int": "x"} is never taken for a tagged value.
  const prefixed: Record<string, SqlValue> = {};
  for (const [k, v] of Object.entries(named)) Object.defineProperty(prefixed, /^[:@$]/.test(k) ? k : `:${k}`, { value: v, enumerable: true, writable: true, configurable: true });
  return [s.sql, ...positional, prefixed];
}

function cell(v: SqlValue, exactReal: boolean): SqlCell {
  if (v === null || typeof v === 'string') return v;
  if (typeof v === 'number') return !exactReal && Number.isSafeInteger(v) ? BigInt(v) : v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if ('int' in v) return BigInt(v.int);
  if ('blob' in v) return Buffer.from(v.blob, 'base64');
  return v.real;
}

function rowsOutcome(r: Extract<StatementResult, { rows: unknown }>): RowsOutcome {
  // The first row types a column without a declared type: a REAL there must stay a number.
  const rows = r.rows.map((row, ri) => row.map((v, ci) => cell(v, ri === 0 && r.declaredTypes[ci] === null && r.types[ci] === 'real')));
  const out: RowsOutcome = { kind: 'rows', columns: r.columns, declaredTypes: r.declaredTypes, rows };
  if (r.time !== undefined) out.seconds = r.time;
  return out;
}

export function toStatementOutcome(r: StatementResult): StatementOutcome {
  if ('error' in r) return { kind: 'error', message: r.error };
  if ('rows' in r) return rowsOutcome(r);
  const lastInsertId = cell(r.lastInsertId, false);
  const out: ExecOutcome = { kind: 'exec', lastInsertId: typeof lastInsertId === 'bigint' ? lastInsertId : 0n, rowsAffected: BigInt(r.rowsAffected) };
  if (r.time !== undefined) out.seconds = r.time;
  return out;
}
