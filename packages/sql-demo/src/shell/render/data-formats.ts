// The machine-readable modes: CSV (RFC 4180 quoting, NULL as an empty field) and JSON (an array
// of row objects, one per line as sqlite3 writes it; 64-bit integers exact, BLOBs as hex literals).
import type { SqlValue } from '../../client/index.js';
import { stringifyLosslessJson, type JsonWritable } from '../../rqlite/json/lossless-json-stringify.js';
import { blobLiteral, realText } from './cell-text.js';
import type { RenderOptions } from './output-mode.js';

export function renderCsv(columns: readonly string[], values: readonly (readonly SqlValue[])[], o: RenderOptions): string {
  const lines = values.map((row) => columns.map((_, i) => csvField(csvText(row[i] ?? null))).join(','));
  if (o.headers) lines.unshift(columns.map(csvField).join(','));
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function csvText(value: SqlValue): string {
  if (value === null) return '';
  if (value instanceof Uint8Array) return blobLiteral(value);
  if (typeof value === 'number') return realText(value);
  return String(value);
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function renderJson(columns: readonly string[], values: readonly (readonly SqlValue[])[]): string {
  if (values.length === 0) return '[]\n';
  const rows = values.map((row) => stringifyLosslessJson(new Map(columns.map((name, i) => [name, jsonValue(row[i] ?? null)]))));
  return `[${rows.join(',\n')}]\n`;
}

function jsonValue(value: SqlValue): JsonWritable {
  return value instanceof Uint8Array ? blobLiteral(value) : value;
}
