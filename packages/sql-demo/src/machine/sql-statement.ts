// The statements of a request as the SQL machine takes them. Each element of `statements` may be
// written in raftkit's form or in any of rqlite's:
//   {"sql": "INSERT INTO t VALUES(?, ?)", "params": [1, "x"]}     positional parameters
//   {"sql": "INSERT INTO t VALUES(:a)", "params": {"a": 1}}       named parameters
//   ["INSERT INTO t VALUES(?, ?)", 1, "x"]                        rqlite's positional form
//   ["INSERT INTO t VALUES(:name)", {"name": "x"}]                rqlite's named form
//   "CREATE TABLE t (a, b)"                                       no parameters
// In the array form an object is a map of named parameters, except the tagged values
// {"int": "digits"}, {"blob": "base64"} and {"real": n}, which are values.
import { isTaggedValue, sqlValueProblem, type SqlValue } from './sql-value.js';

/** raftkit's object form of one statement. */
export interface SqlStatement {
  sql: string;
  params?: SqlValue[] | Record<string, SqlValue>;
}

/** One element of a request's `statements`, in any accepted form. */
export type StatementElement = string | SqlStatement | [string, ...unknown[]];

/** A statement with its parameters sorted out; names are bare (":a" and "a" are the same). */
export interface NormalizedStatement {
  sql: string;
  positional: SqlValue[];
  named: Record<string, SqlValue>;
}

/** Most statements in one request: one log entry must stay a reasonable size. */
export const MAX_STATEMENTS = 10_000;
/** Most statements in one load (a dump): its size is bounded by the body limit instead. */
export const MAX_LOAD_STATEMENTS = 10_000_000;

/** A statement that cannot be taken as it is written; the message names it by position. */
export class StatementFormError extends Error {
  readonly code = 'bad_request';
  constructor(message: string) {
    super(message);
    this.name = 'StatementFormError';
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkedValue(v: unknown, where: string): SqlValue {
  const problem = sqlValueProblem(v);
  if (problem) throw new StatementFormError(`${where}: ${problem}`);
  return v as SqlValue;
}

function addNamed(named: Record<string, SqlValue>, map: Record<string, unknown>, where: string): void {
  for (const [key, value] of Object.entries(map)) {
    const name = key.replace(/^[:@$]/, '');
    if (name === '') throw new StatementFormError(`${where}: a parameter name must not be empty`);
    // defineProperty: a parameter called "__proto__" must stay a parameter.
    Object.defineProperty(named, name, { value: checkedValue(value, `${where}[${JSON.stringify(key)}]`), enumerable: true, writable: true, configurable: true });
  }
}

function requireSql(sql: unknown, where: string): string {
  if (typeof sql !== 'string' || sql.trim() === '') throw new StatementFormError(`${where} must be a non-empty SQL string`);
  return sql;
}

/** One element of `statements` in its normalized form; throws StatementFormError naming it. */
export function normalizeStatement(element: unknown, i: number): NormalizedStatement {
  const at = `statements[${i}]`;
  const out: NormalizedStatement = { sql: '', positional: [], named: {} };
  if (typeof element === 'string') {
    out.sql = requireSql(element, at);
    return out;
  }
  if (Array.isArray(element)) {
    const [sql, ...values] = element as unknown[];
    out.sql = requireSql(sql, `${at}[0]`);
    values.forEach((v, j) => {
      if (isPlainObject(v) && !isTaggedValue(v)) addNamed(out.named, v, `${at}[${j + 1}]`);
      else out.positional.push(checkedValue(v, `${at}[${j + 1}]`));
    });
    return out;
  }
  if (!isPlainObject(element)) throw new StatementFormError(`${at} must be a SQL string, an array ["sql", ...params] or an object {"sql", "params"?}`);
  const { sql, params, ...rest } = element;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new StatementFormError(`${at} has an unknown property "${extra[0]}" (expected "sql" and "params")`);
  out.sql = requireSql(sql, `${at}.sql`);
  if (params === undefined) return out;
  if (Array.isArray(params)) params.forEach((v, j) => out.positional.push(checkedValue(v, `${at}.params[${j}]`)));
  else if (isPlainObject(params)) addNamed(out.named, params, `${at}.params`);
  else throw new StatementFormError(`${at}.params must be an array (positional) or an object (named)`);
  return out;
}

/** Every element of `statements`; throws StatementFormError for the first one that is not acceptable. */
export function normalizeStatements(elements: unknown, maxStatements = MAX_STATEMENTS, allowEmpty = false): NormalizedStatement[] {
  if (!Array.isArray(elements) || (elements.length === 0 && !allowEmpty)) throw new StatementFormError(`statements must be a${allowEmpty ? 'n' : ' non-empty'} array`);
  if (elements.length > maxStatements) throw new StatementFormError(`a request holds at most ${maxStatements} statements, got ${elements.length}`);
  return elements.map((e, i) => normalizeStatement(e, i));
}

export function hasParameters(s: NormalizedStatement): boolean {
  return s.positional.length > 0 || Object.keys(s.named).length > 0;
}
