// rqlite's column types and cell values (db/db.go queryStmtWithConn and normalizeRowParameters,
// with rqlite's go-sqlite3 driver underneath):
// - types are the declared types lower-cased; a column without one (an expression) takes the
//   storage class of its value in the first row: integer, real, text, blob, or "" for NULL;
// - an INTEGER in a column declared BOOLEAN is true/false;
// - a BLOB in a column of text affinity, or without a declared type, is read as text.
import type { SqlCell } from './statement-outcome.js';

/** A cell as rqlite writes it, before the BLOB encoding (base64 or byte array) is chosen. */
export type RqliteCell = null | bigint | number | string | boolean | Uint8Array;

export interface NormalizedRows {
  types: string[];
  rows: RqliteCell[][];
}

const utf8 = new TextDecoder('utf-8');

export function normalizeRows(declaredTypes: readonly (string | null)[], rows: readonly (readonly SqlCell[])[]): NormalizedRows {
  const declared = declaredTypes.map((t) => (t ?? '').toLowerCase());
  const types = [...declared];
  const normalized = rows.map((row, r) => {
    const cells = row.map((cell, i) => normalizeCell(cell, declared[i] ?? '', types[i] ?? ''));
    if (r === 0) types.forEach((t, i) => (types[i] = t === '' ? storageTypeName(cells[i] ?? null) : t));
    return cells;
  });
  return { types, rows: normalized };
}

function normalizeCell(cell: SqlCell, declaredType: string, rqliteType: string): RqliteCell {
  if (typeof cell === 'bigint' && declaredType === 'boolean') return cell > 0n;
  if (cell instanceof Uint8Array && isTextType(rqliteType)) return utf8.decode(cell);
  return cell;
}

function storageTypeName(cell: RqliteCell): string {
  if (cell === null) return '';
  if (cell instanceof Uint8Array) return 'blob';
  switch (typeof cell) {
    case 'bigint':
      return 'integer';
    case 'number':
      return 'real';
    case 'boolean':
      return 'boolean';
    default:
      return 'text';
  }
}

/** db.isTextType: SQLite's text-affinity names, and "" (no declared type). */
function isTextType(t: string): boolean {
  return t === 'text' || t === 'json' || t === '' || ['varchar', 'varying character', 'nchar', 'native character', 'nvarchar', 'clob'].some((prefix) => t.startsWith(prefix));
}
