// The store's own table inside the user's database: the index of the last log entry applied,
// written in the same transaction as the entry's effects, so that after a restart the database
// says which entries it already holds. Statements naming it are refused (statement-analysis.ts),
// and it is left out of checksums, schema listings, dumps and backups.
import type { Database } from 'better-sqlite3';

export const STATE_TABLE = '_raftkit_state';

/** Names the store keeps for itself (lower-case prefix). */
export const RESERVED_PREFIX = '_raftkit_';

export function createStateTable(db: Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${STATE_TABLE} (one INTEGER PRIMARY KEY CHECK (one = 1), applied_index INTEGER NOT NULL)`);
}

export function readAppliedIndex(db: Database): number {
  const row = db.prepare(`SELECT applied_index FROM ${STATE_TABLE} WHERE one = 1`).get() as { applied_index: bigint | number } | undefined;
  return row ? Number(row.applied_index) : 0;
}

/** A statement that records `index` (run inside the entry's transaction). */
export function prepareIndexWriter(db: Database): (index: number) => void {
  const stmt = db.prepare(`INSERT INTO ${STATE_TABLE} (one, applied_index) VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET applied_index = excluded.applied_index`);
  return (index) => {
    stmt.run(BigInt(index));
  };
}

/** Whether a schema object is the user's (not SQLite's internals, not the store's table). */
export function isUserObject(name: string): boolean {
  const lower = name.toLowerCase();
  return !lower.startsWith('sqlite_') && !lower.startsWith(RESERVED_PREFIX);
}

export interface SchemaObject {
  type: 'table' | 'index' | 'view' | 'trigger';
  name: string;
  tableName: string;
  sql: string | null;
}

/** The user's schema objects, in the order they were created (sqlite_schema rowid). */
export function userSchema(db: Database): SchemaObject[] {
  const rows = db
    .prepare("SELECT type, name, tbl_name AS tableName, sql FROM sqlite_schema WHERE type IN ('table','index','view','trigger') ORDER BY rowid")
    .all() as SchemaObject[];
  return rows.filter((r) => isUserObject(r.name) && isUserObject(r.tableName));
}

/** Double-quotes an identifier for SQL text. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
