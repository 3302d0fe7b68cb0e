// rqlite's answers, decoded into typed results. The body is parsed losslessly (every integer token
// as bigint first), then each cell is typed by its column: an integer token in a REAL column is a
// REAL that Go wrote without a fraction (2.0 as `2`), a byte array is a BLOB (the client asks for
// blob_array, so a BLOB never looks like text).
import { parseLosslessJson, type JsonValue } from '../rqlite/json/lossless-json-parse.js';
import { SqlClientError } from './client-error.js';

/** A cell: bigint INTEGER, number REAL, string TEXT, Uint8Array BLOB; boolean for BOOLEAN columns. */
export type SqlValue = null | bigint | number | string | boolean | Uint8Array;

export interface RowsResult {
  kind: 'rows';
  columns: string[];
  /** rqlite's column types: declared types lower-cased, or the first row's storage class for expressions. */
  types: string[];
  values: SqlValue[][];
  /** Only with `associative`: each row as an object keyed by column name. */
  rows?: Record<string, SqlValue>[];
  /** Seconds the statement took on the server (with `timings`). */
  time?: number;
}

export interface ExecResult {
  kind: 'exec';
  /** 0n when the statement inserted nothing. */
  lastInsertId: bigint;
  rowsAffected: number;
  time?: number;
}

/** A statement the server refused or SQLite failed: reported in its place, the others still answer. */
export interface ErrorResult {
  kind: 'error';
  error: string;
}

export type StatementResult = RowsResult | ExecResult | ErrorResult;

export interface SqlResponse<R extends StatementResult = StatementResult> {
  results: R[];
  /** Seconds the request took on the server (with `timings`). */
  time?: number;
  /** The log index the request was applied at (writes) or read at; pass it as `readAfter` to read your writes on any node. */
  raftIndex?: number;
}

/** How integer cells are returned: always bigint, or number when it fits a double exactly. */
export type IntegerMode = 'bigint' | 'safe-number';

const REAL_AFFINITY = /REAL|FLOA|DOUB/i;

/** Decodes a /db/* answer; throws SqlClientError for a body that is not one, or a request-level error. */
export function decodeResponse(text: string, integers: IntegerMode): SqlResponse {
  let body: JsonValue;
  try {
    body = parseLosslessJson(text, { bigint: 'always' });
  } catch (e) {
    throw new SqlClientError('bad_response', `the answer is not JSON: ${(e as Error).message}`, undefined, text);
  }
  if (!isObject(body) || !Array.isArray(body['results'])) throw new SqlClientError('bad_response', 'the answer has no "results"', undefined, text);
  const error = body['error'];
  if (typeof error === 'string' && error !== '') throw new SqlClientError('request_failed', error, undefined, text);
  const response: SqlResponse = { results: body['results'].map((r, i) => decodeResult(r, i, integers, text)) };
  const time = toNumber(body['time']);
  if (time !== undefined) response.time = time;
  const raftIndex = toNumber(body['raft_index']);
  if (raftIndex !== undefined) response.raftIndex = raftIndex;
  return response;
}

function decodeResult(result: JsonValue, index: number, integers: IntegerMode, text: string): StatementResult {
  if (!isObject(result)) throw new SqlClientError('bad_response', `result ${index + 1} is not an object`, undefined, text);
  const time = toNumber(result['time']);
  const timed = <T extends StatementResult>(r: T): T => (time === undefined || r.kind === 'error' ? r : { ...r, time });
  if (typeof result['error'] === 'string') return { kind: 'error', error: result['error'] };
  if (Array.isArray(result['rows'])) return timed(associativeRows(result, integers));
  if ('columns' in result || 'types' in result || 'values' in result) return timed(plainRows(result, integers));
  // rqlite leaves out a zero last_insert_id and rows_affected: CREATE TABLE answers {}.
  return timed({ kind: 'exec', lastInsertId: toBigInt(result['last_insert_id']) ?? 0n, rowsAffected: toNumber(result['rows_affected']) ?? 0 });
}

function plainRows(result: { [key: string]: JsonValue }, integers: IntegerMode): RowsResult {
  const columns = strings(result['columns']);
  const types = strings(result['types']);
  const values = Array.isArray(result['values']) ? result['values'] : [];
  return { kind: 'rows', columns, types, values: values.map((row) => decodeRow(Array.isArray(row) ? row : [], types, integers)) };
}

/** `associative`: types is a map of column to type, rows are objects (their keys in Go's sorted order). */
function associativeRows(result: { [key: string]: JsonValue }, integers: IntegerMode): RowsResult {
  const typeMap = isObject(result['types']) ? result['types'] : {};
  const rowObjects = (result['rows'] as JsonValue[]).filter(isObject);
  const columns = Object.keys(typeMap).length > 0 ? Object.keys(typeMap) : Object.keys(rowObjects[0] ?? {});
  const types = columns.map((c) => (typeof typeMap[c] === 'string' ? typeMap[c] : ''));
  const values = rowObjects.map((row) =>
    decodeRow(
      columns.map((c) => row[c] ?? null),
      types,
      integers,
    ),
  );
  const rows = values.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i] ?? null])));
  return { kind: 'rows', columns, types, values, rows };
}

function decodeRow(row: JsonValue[], types: readonly string[], integers: IntegerMode): SqlValue[] {
  return row.map((cell, i) => decodeCell(cell, types[i] ?? '', integers));
}

export function decodeCell(cell: JsonValue, type: string, integers: IntegerMode): SqlValue {
  if (typeof cell === 'bigint') {
    if (REAL_AFFINITY.test(type)) return Number(cell);
    return integers === 'safe-number' && Number.isSafeInteger(Number(cell)) ? Number(cell) : cell;
  }
  if (Array.isArray(cell)) return Uint8Array.from(cell, (b) => Number(b));
  if (isObject(cell)) return JSON.stringify(cell);
  return cell;
}

function strings(value: JsonValue | undefined): string[] {
  return Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? v : String(v))) : [];
}

function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toNumber(value: JsonValue | undefined): number | undefined {
  return typeof value === 'number' || typeof value === 'bigint' ? Number(value) : undefined;
}

function toBigInt(value: JsonValue | undefined): bigint | undefined {
  if (typeof value === 'bigint') return value;
  return typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : undefined;
}
