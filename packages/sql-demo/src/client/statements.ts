// What callers hand to execute/query/request, and how it becomes rqlite's JSON body:
// `["SQL", p1, p2]` for positional parameters, `["SQL", {name: v}]` for named ones, a bare string
// for neither. Values are written so that rqlite binds them with the intended SQLite type.
import { stringifyLosslessJson, type JsonWritable } from '../rqlite/json/lossless-json-stringify.js';
import { SqlClientError } from './client-error.js';

/**
 * A bound value. bigint and integral numbers bind as INTEGER (rqlite reads the JSON token `2` as
 * an integer), other numbers as REAL, strings as TEXT, Uint8Array as BLOB, booleans as 1/0.
 */
export type SqlParam = null | boolean | number | bigint | string | Uint8Array;

export type NamedParams = { readonly [name: string]: SqlParam };

/** One statement: SQL alone, SQL with positional parameters, or SQL with one object of named parameters. */
export type Statement = string | readonly [sql: string, ...params: SqlParam[]] | readonly [sql: string, named: NamedParams];

/** The JSON body of /db/execute, /db/query and /db/request for `statements`. */
export function encodeStatements(statements: readonly Statement[]): string {
  if (!Array.isArray(statements)) throw new SqlClientError('invalid_argument', 'statements must be an array');
  return stringifyLosslessJson(statements.map(encodeStatement));
}

function encodeStatement(statement: Statement, index: number): JsonWritable {
  if (typeof statement === 'string') return statement;
  const [sql, ...params] = statement;
  if (typeof sql !== 'string') throw new SqlClientError('invalid_argument', `statement ${index + 1}: the first element must be the SQL text`);
  const first = params[0];
  if (params.length === 1 && isNamedParams(first)) {
    const named = new Map<string, JsonWritable>();
    for (const [name, value] of Object.entries(first)) named.set(name, encodeParam(value, index, name));
    return [sql, named];
  }
  return [sql, ...params.map((p, i) => encodeParam(p as SqlParam, index, String(i + 1)))];
}

function isNamedParams(value: unknown): value is NamedParams {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && !Array.isArray(value);
}

function encodeParam(value: SqlParam, index: number, which: string): JsonWritable {
  if (value instanceof Uint8Array) return [...value];
  switch (typeof value) {
    case 'number':
      // JSON has no NaN or Infinity; rqlite could not bind them anyway.
      if (!Number.isFinite(value)) throw new SqlClientError('invalid_argument', `statement ${index + 1}, parameter ${which}: ${value} cannot be sent`);
      return value;
    case 'bigint':
    case 'string':
    case 'boolean':
      return value;
    default:
      if (value === null) return null;
      throw new SqlClientError('invalid_argument', `statement ${index + 1}, parameter ${which}: a ${typeof value} cannot be bound`);
  }
}
