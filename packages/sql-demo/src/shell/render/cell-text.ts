// One result cell as text for a terminal: NULL spelled out (or as .nullvalue says), BLOBs as
// SQL hex literals, REALs with a fraction so 2.0 does not read as the INTEGER 2, and control
// characters escaped so that a newline inside a value cannot break a table's rows.
import type { SqlValue } from '../../client/index.js';

export interface CellTextOptions {
  nullValue: string;
}

/** C0 and C1 control characters, DEL included. */
const CONTROL = /\p{Cc}/gu;
const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function cellText(value: SqlValue, o: CellTextOptions): string {
  if (value === null) return o.nullValue;
  if (value instanceof Uint8Array) return blobLiteral(value);
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      return realText(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return escapeControl(value);
  }
}

/** A SQL literal a user could paste back into a statement: X'01FF'. */
export function blobLiteral(bytes: Uint8Array): string {
  return `X'${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase()}'`;
}

/** Integers arrive as bigint (the shell's client asks for that), so a number is always a REAL. */
export function realText(n: number): string {
  return Number.isInteger(n) && Math.abs(n) < 1e21 ? `${n}.0` : String(n);
}

export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => NAMED_ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Numbers line up on the right, as in psql and MySQL's client; everything else on the left. */
export function isNumeric(value: SqlValue): boolean {
  return typeof value === 'bigint' || typeof value === 'number';
}
