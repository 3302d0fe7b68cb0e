// The JSON body of /db/execute, /db/query and /db/request (rqlite's ParseRequest):
//   ["CREATE TABLE ...", "INSERT ..."]                          plain statements
//   [["INSERT ... VALUES(?, ?)", "fiona", 20]]                  positional parameters
//   [["INSERT ... VALUES(:name, :age)", {"name": "fiona", "age": 20}]]   named parameters
// and any mix of these, within one request and within one statement.
import { JsonParseError, type JsonValue, parseLosslessJson } from '../json/lossless-json-parse.js';
import { RqliteRequestError } from '../request-error.js';
import { toSqlParameter } from './sql-parameter.js';
import type { RqliteStatement, SqlParameterValue } from './statement.js';

/** Throws RqliteRequestError('bad_body') with rqlite's message ("invalid JSON body", "invalid request", "no statements"...). */
export function parseStatementsBody(body: string): RqliteStatement[] {
  const document = parseBody(body);
  if (!Array.isArray(document)) throw badBody('invalid request');
  if (document.length === 0) throw badBody('no statements');
  return document.map((item) => {
    if (typeof item === 'string') return { sql: item, positional: [], named: {} };
    if (Array.isArray(item)) return parameterizedStatement(item);
    throw badBody('invalid request');
  });
}

/** A text/plain body is one statement, verbatim, as rqlite takes it on /db/execute and /db/query. */
export function parsePlainTextStatement(body: string): RqliteStatement {
  return { sql: body, positional: [], named: {} };
}

function parseBody(body: string): JsonValue {
  try {
    // Every integer as bigint: rqlite types `1` as INTEGER and `1.0` as REAL.
    return parseLosslessJson(body, { bigint: 'always' });
  } catch (err) {
    // rqlite says only "invalid JSON body"; the position costs nothing and saves a client a search.
    if (err instanceof JsonParseError) throw badBody(`invalid JSON body: ${err.message}`);
    throw err;
  }
}

function parameterizedStatement(items: JsonValue[]): RqliteStatement {
  const [sql, ...parameters] = items;
  if (typeof sql !== 'string') throw badBody('invalid request');
  const positional: SqlParameterValue[] = [];
  const named: Record<string, SqlParameterValue> = {};
  for (const parameter of parameters) {
    if (isJsonObject(parameter)) {
      for (const [name, value] of Object.entries(parameter)) {
        // defineProperty: a parameter called "__proto__" must stay a parameter.
        Object.defineProperty(named, name, { value: toSqlParameter(value), writable: true, enumerable: true, configurable: true });
      }
    } else {
      positional.push(toSqlParameter(parameter));
    }
  }
  return { sql, positional, named };
}

function isJsonObject(value: JsonValue): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function badBody(message: string): RqliteRequestError {
  return new RqliteRequestError('bad_body', message);
}
