// The statements of an rqlite request, as the executor receives them. Values are typed the way
// SQLite binds them, so better-sqlite3 can bind them unchanged: `stmt.run(...positional, named)`.

/**
 * A bound value. bigint binds as INTEGER, number as REAL, string as TEXT, Uint8Array as BLOB.
 * rqlite's JSON `1` is an INTEGER and `1.0` or `1e0` a REAL, so the two never share a JS type here;
 * JSON booleans arrive as 1n/0n, which is how rqlite's driver binds them.
 */
export type SqlParameterValue = null | bigint | number | string | Uint8Array;

export interface RqliteStatement {
  sql: string;
  /** Values for `?` and `?NNN`, in order. */
  positional: SqlParameterValue[];
  /** Values for `:name`, `@name` and `$name`, keyed by the bare name as the client sent it. */
  named: Record<string, SqlParameterValue>;
}
