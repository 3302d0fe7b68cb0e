// The JSON answer to /db/execute, /db/query and /db/request, byte for byte as rqlite writes it
// (http/service.go Response, command/encoding/json.go). Go's omitempty decides most of the shape:
// a zero last_insert_id or rows_affected is left out (CREATE TABLE answers `{}`), a query
// without rows has no "values", and "time" appears only with ?timings.
import { stringifyLosslessJson, type JsonWritable } from '../json/lossless-json-stringify.js';
import { type HttpReply, jsonReply } from '../http-reply.js';
import type { DbEndpoint } from '../request/db-request.js';
import { goMap } from './go-map-order.js';
import { normalizeRows, type RqliteCell } from './result-columns.js';
import type { DbOutcome, ErrorOutcome, ExecOutcome, RowsOutcome, StatementOutcome } from './statement-outcome.js';

/** The request flags that shape the answer (a DbRequest has them all). */
export interface DbResponseOptions {
  associative: boolean;
  blobArray: boolean;
  timings: boolean;
  pretty: boolean;
  raftIndex: boolean;
}

/** Throws JsonStringifyError if a REAL is infinite (rqlite answers 500 "json: unsupported value"). */
export function formatDbResponse(endpoint: DbEndpoint, outcome: DbOutcome, options: DbResponseOptions): HttpReply {
  return jsonReply(formatDbResponseBody(endpoint, outcome, options));
}

export function formatDbResponseBody(endpoint: DbEndpoint, outcome: DbOutcome, options: DbResponseOptions): string {
  const results = outcome.error === undefined ? outcome.statements.map((s) => formatStatement(endpoint, s, options)) : [];
  const body = {
    results,
    error: outcome.error || undefined,
    time: options.timings ? nonZero(outcome.seconds) : undefined,
    raft_index: options.raftIndex ? nonZero(outcome.raftIndex) : undefined,
  };
  // Go's json.MarshalIndent(v, "", "    ") for ?pretty; Go escapes <, > and & in every string.
  return stringifyLosslessJson(body, { indent: options.pretty ? 4 : undefined, escapeLikeGo: true });
}

function formatStatement(endpoint: DbEndpoint, outcome: StatementOutcome, options: DbResponseOptions): JsonWritable {
  switch (outcome.kind) {
    case 'rows':
      return options.associative ? associativeRows(outcome, options) : rows(outcome, options);
    case 'exec':
      return exec(outcome, options);
    case 'error':
      return error(endpoint, outcome, options);
  }
}

function rows(outcome: RowsOutcome, options: DbResponseOptions): JsonWritable {
  const { types, rows } = normalizeRows(outcome.declaredTypes, outcome.rows);
  return {
    columns: outcome.columns.length > 0 ? [...outcome.columns] : undefined,
    types: types.length > 0 ? types : undefined,
    values: rows.length > 0 ? rows.map((row) => row.map((cell) => jsonCell(cell, options))) : undefined,
    time: options.timings ? nonZero(outcome.seconds) : undefined,
  };
}

/** Columns become keys (sorted, as Go writes maps; a repeated name keeps its last value). */
function associativeRows(outcome: RowsOutcome, options: DbResponseOptions): JsonWritable {
  const { types, rows } = normalizeRows(outcome.declaredTypes, outcome.rows);
  const typeMap = goMap(outcome.columns.map((column, i) => [column, types[i] ?? '']));
  return {
    types: typeMap.size > 0 ? typeMap : undefined,
    rows: rows.map((row) => goMap(outcome.columns.map((column, i) => [column, jsonCell(row[i] ?? null, options)]))),
    time: options.timings ? nonZero(outcome.seconds) : undefined,
  };
}

/** In associative form an exec result carries "rows": null, so clients can tell it from a query. */
function exec(outcome: ExecOutcome, options: DbResponseOptions): JsonWritable {
  return {
    last_insert_id: nonZero(outcome.lastInsertId),
    rows_affected: nonZero(outcome.rowsAffected),
    time: options.timings ? nonZero(outcome.seconds) : undefined,
    rows: options.associative ? null : undefined,
  };
}

/** /db/query reports errors inside its rows object, which in associative form still has "rows": []. */
function error(endpoint: DbEndpoint, outcome: ErrorOutcome, options: DbResponseOptions): JsonWritable {
  if (endpoint === 'query' && options.associative) return { rows: [], error: outcome.message };
  return { error: outcome.message };
}

/** A BLOB is base64 (Go's []byte), or with ?blob_array an array of byte values. */
function jsonCell(cell: RqliteCell, options: DbResponseOptions): JsonWritable {
  if (!(cell instanceof Uint8Array)) return cell;
  return options.blobArray ? [...cell] : Buffer.from(cell.buffer, cell.byteOffset, cell.byteLength).toString('base64');
}

function nonZero<T extends number | bigint>(value: T | undefined): T | undefined {
  return value === undefined || value === 0 || value === 0n ? undefined : value;
}
