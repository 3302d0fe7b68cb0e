// What the executor hands back for each statement: plain values, independent of any SQLite
// binding but shaped so better-sqlite3 produces them directly (safeIntegers on; declared types
// from stmt.columns()[i].type; lastInsertRowid and changes from run()).

/**
 * A result cell by storage class: bigint INTEGER, number REAL, string TEXT, Uint8Array BLOB.
 * Integers must come as bigint (better-sqlite3's safeIntegers): a number is taken for a REAL.
 */
export type SqlCell = null | bigint | number | string | Uint8Array;

export interface RowsOutcome {
  kind: 'rows';
  columns: readonly string[];
  /** Each column's declared type as written in the schema, null for expressions. */
  declaredTypes: readonly (string | null)[];
  rows: readonly (readonly SqlCell[])[];
  /** Time the statement took, in seconds; shown with ?timings. */
  seconds?: number;
}

export interface ExecOutcome {
  kind: 'exec';
  lastInsertId: bigint | number;
  rowsAffected: bigint | number;
  seconds?: number;
}

/** A statement SQLite refused; rqlite reports it in the statement's place and goes on. */
export interface ErrorOutcome {
  kind: 'error';
  message: string;
}

export type StatementOutcome = RowsOutcome | ExecOutcome | ErrorOutcome;

/** The whole answer to one /db/* request. */
export interface DbOutcome {
  /** One per statement that ran (a transaction stops at its first error). */
  statements: readonly StatementOutcome[];
  /** A failure of the request as a whole (a commit that failed...): results are then empty. */
  error?: string;
  /** Time the request took, in seconds; shown with ?timings. */
  seconds?: number;
  /** The Raft log index the request was applied at (writes) or read at; shown with ?raft_index. */
  raftIndex?: bigint | number;
}
