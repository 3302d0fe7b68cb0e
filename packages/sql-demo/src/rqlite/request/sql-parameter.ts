// One JSON parameter to one SQL value, following rqlite's makeParameter (http/request_parser.go):
// integer tokens that fit int64 are INTEGER, other numbers REAL; a string spelled as a SQLite
// blob literal (x'0102') is a BLOB, and so is an array of byte values; anything else is refused
// with rqlite's "unsupported type" message, which names the Go type it decoded.
import type { JsonValue } from '../json/lossless-json-parse.js';
import { RqliteRequestError } from '../request-error.js';
import type { SqlParameterValue } from './statement.js';

const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;
const BLOB_LITERAL = /^[xX]'((?:[0-9a-fA-F]{2})*)'$/;

/** `value` must come from parseLosslessJson with `bigint: 'always'`, so integer tokens are bigint. */
export function toSqlParameter(value: JsonValue): SqlParameterValue {
  if (value === null) return null;
  switch (typeof value) {
    case 'boolean':
      return value ? 1n : 0n;
    case 'bigint':
      // Go's json.Number.Int64 fails past int64, and rqlite falls back to float64.
      return value < MIN_INT64 || value > MAX_INT64 ? Number(value) : value;
    case 'number':
      return value;
    case 'string':
      return blobLiteral(value) ?? value;
  }
  if (Array.isArray(value)) return byteArray(value);
  throw unsupported(value);
}

/** db.ParseHex: surrounding whitespace allowed, the hex digits must pair up, else it is text. */
function blobLiteral(s: string): Uint8Array | undefined {
  const hex = BLOB_LITERAL.exec(s.trim())?.[1];
  return hex === undefined ? undefined : Buffer.from(hex, 'hex');
}

function byteArray(items: JsonValue[]): Uint8Array {
  const bytes = Buffer.alloc(items.length);
  items.forEach((item, i) => {
    if (typeof item !== 'bigint' || item < 0n || item > 255n) throw unsupported(item);
    bytes[i] = Number(item);
  });
  return bytes;
}

function unsupported(value: JsonValue): RqliteRequestError {
  return new RqliteRequestError('bad_body', `unsupported type ${goTypeName(value)}`);
}

/** What Go's %T (or, for numbers, the number itself) prints in rqlite's message. */
function goTypeName(value: JsonValue): string {
  if (value === null) return '<nil>';
  if (Array.isArray(value)) return '[]interface {}';
  switch (typeof value) {
    case 'object':
      return 'map[string]interface {}';
    case 'bigint':
    case 'number':
      return String(value);
    case 'boolean':
      return 'bool';
    default:
      return 'string';
  }
}
