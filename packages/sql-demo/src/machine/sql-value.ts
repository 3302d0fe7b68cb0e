// SQL values as they travel through the replicated log and back. Commands and results are JSON
// inside raftkit, and JSON numbers are doubles: an integer beyond 2^53 would silently change.
// Such integers, and BLOBs, travel tagged; everything else is plain JSON. A JSON number that is
// an integer binds as an INTEGER (better-sqlite3 binds every JS number as a REAL), any other as a
// REAL; `{"real": 1}` asks for a REAL whose value happens to be integral.

/** An integer outside the safe range, exactly, as decimal digits. */
export interface TaggedInteger {
  int: string;
}

/** A BLOB, base64. */
export interface TaggedBlob {
  blob: string;
}

/** A REAL even when its value is integral (rqlite's `1.0`). */
export interface TaggedReal {
  real: number;
}

/** A value as a command's parameter or a query's result cell carries it. */
export type SqlValue = null | boolean | number | string | TaggedInteger | TaggedBlob | TaggedReal;

/** What better-sqlite3 binds and returns (with safeIntegers on, integers come back as bigint). */
export type SqliteValue = null | number | bigint | string | Buffer;

const INTEGER = /^-?\d{1,20}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export class SqlValueError extends Error {
  readonly code = 'bad_request';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether `v` is one of the tagged forms ({"int"}, {"blob"} or {"real"}), well formed or not. */
export function isTaggedValue(v: unknown): v is TaggedInteger | TaggedBlob | TaggedReal {
  if (!isObject(v)) return false;
  const keys = Object.keys(v);
  if (keys.length !== 1) return false;
  const key = keys[0]!;
  return ((key === 'int' || key === 'blob') && typeof v[key] === 'string') || (key === 'real' && typeof v[key] === 'number');
}

/** Why a parameter value cannot be bound, or undefined when it can. */
export function sqlValueProblem(v: unknown): string | undefined {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : `${v} is not a finite number`;
  if (isTaggedValue(v)) {
    if ('int' in v) {
      if (!INTEGER.test(v.int)) return `{"int": ${JSON.stringify(v.int)}} is not an integer`;
      const n = BigInt(v.int);
      return n < MIN_INT64 || n > MAX_INT64 ? `{"int": "${v.int}"} is outside the 64-bit range` : undefined;
    }
    if ('blob' in v) return BASE64.test(v.blob) && v.blob.length % 4 === 0 ? undefined : 'a {"blob"} must be base64';
    return Number.isFinite(v.real) ? undefined : `{"real": ${v.real}} is not a finite number`;
  }
  return `${JSON.stringify(v)} is not a SQL value (null, boolean, number, string, {"int": "digits"}, {"blob": "base64"} or {"real": number})`;
}

/** A checked value as better-sqlite3 binds it: booleans as 0/1 and integral numbers as INTEGER, as SQLite stores them. */
export function toSqlite(v: SqlValue): SqliteValue {
  if (v === null || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if ('int' in v) return BigInt(v.int);
  if ('blob' in v) return Buffer.from(v.blob, 'base64');
  return v.real;
}

/** A cell as it travels back: integers as numbers while exact, otherwise tagged. */
export function fromSqlite(v: unknown): SqlValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : { int: v.toString() };
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { blob: Buffer.from(v).toString('base64') };
  throw new SqlValueError(`SQLite returned an unexpected ${typeof v}`);
}

/** A result cell back as a SQLite storage value: tagged integers as bigint, blobs as bytes. */
export function cellToSqlite(v: SqlValue): SqliteValue {
  if (v === null || typeof v === 'string' || typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if ('int' in v) return BigInt(v.int);
  if ('blob' in v) return Buffer.from(v.blob, 'base64');
  return v.real;
}
