// Bounds the answer a request can build. Rows are counted as they are read (stmt.iterate), so a
// SELECT over a huge table stops at the limit instead of filling memory with a response that
// would then be too large to send anyway.
import type { SqlValue } from '../machine/sql-value.js';

/** The default bound of one answer, in (estimated) bytes of JSON. */
export const DEFAULT_MAX_RESULT_BYTES = 64 * 1024 * 1024;

export class ResultTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the result is larger than ${limit} bytes, the most one answer may hold: read it in pages (LIMIT ... OFFSET ..., or WHERE key > last ORDER BY key LIMIT ...)`);
    this.name = 'ResultTooLargeError';
  }
}

/** The bytes one cell adds to the JSON answer, roughly (strings as their length plus quotes, blobs as base64). */
function cellBytes(v: SqlValue): number {
  if (v === null) return 4;
  switch (typeof v) {
    case 'string':
      return v.length + 3;
    case 'number':
      return 24;
    case 'boolean':
      return 6;
    default:
      if ('blob' in v) return v.blob.length + 12;
      return 32;
  }
}

/** What one request may still add to its answer; shared by all its statements. */
export class ResultBudget {
  private used = 0;

  constructor(readonly limit: number = DEFAULT_MAX_RESULT_BYTES) {}

  /** Counts a row; throws ResultTooLargeError once the answer would pass the limit. */
  chargeRow(row: readonly SqlValue[]): void {
    let n = 3;
    for (const v of row) n += cellBytes(v);
    this.charge(n);
  }

  charge(bytes: number): void {
    this.used += bytes;
    if (this.used > this.limit) throw new ResultTooLargeError(this.limit);
  }

  /** Runs `f`; if its result is too large, what it had counted is given back (its rows are dropped) and the error rethrown. */
  attempt<T>(f: () => T): T {
    const before = this.used;
    try {
      return f();
    } catch (e) {
      if (e instanceof ResultTooLargeError) this.used = before;
      throw e;
    }
  }
}
