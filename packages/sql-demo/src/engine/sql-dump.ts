// A SQL dump in the form of the sqlite3 shell's .dump (rqlite's /db/backup?fmt=sql): the tables
// with their rows as INSERTs inside one transaction, then AUTOINCREMENT counters, indexes,
// triggers and views. Values are written by SQLite's own quote(), so they read back exactly.
// Written in pieces from a pinned read connection, yielding to the event loop between them.
import { open } from 'node:fs/promises';
import type { Database } from 'better-sqlite3';
import { orderedTables } from './table-order.js';
import { quoteIdentifier, userSchema } from './store-tables.js';

/** Rows written between two yields to the event loop. */
const ROWS_PER_SLICE = 2_000;

export interface DumpOptions {
  /** Only these tables (and their indexes and triggers); empty: everything. */
  tables?: readonly string[];
}

/**
 * The dump's statements (without their ';' and without the PRAGMA/BEGIN/COMMIT framing), one at a
 * time; pauses for the event loop every few thousand rows.
 */
export async function* dumpStatements(db: Database, o: DumpOptions = {}): AsyncGenerator<string> {
  const only = o.tables && o.tables.length > 0 ? new Set(o.tables) : undefined;
  const schema = userSchema(db).filter((s) => !only || only.has(s.tableName));
  const tables = schema.filter((s) => s.type === 'table');
  const ordered = new Map(
    orderedTables(
      db,
      tables.map((t) => t.name),
    ).map((t) => [t.name, t]),
  );
  for (const table of tables) {
    if (table.sql) yield table.sql;
    const t = ordered.get(table.name);
    if (!t || t.columns.length === 0) continue;
    const values = t.columns.map((c) => `quote(${quoteIdentifier(c)})`).join(` || ',' || `);
    const prefix = `INSERT INTO ${quoteIdentifier(t.name)} VALUES(`;
    let n = 0;
    for (const row of db.prepare(`SELECT ${values} FROM (${t.select})`).pluck(true).iterate() as IterableIterator<string>) {
      yield `${prefix}${row})`;
      if (++n % ROWS_PER_SLICE === 0) await new Promise((r) => setImmediate(r));
    }
  }
  if (db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'").get()) {
    const counters = (db.prepare('SELECT name, seq FROM sqlite_sequence ORDER BY name').all() as { name: string; seq: bigint | number }[]).filter((c) => !only || only.has(c.name));
    if (counters.length > 0) yield 'DELETE FROM sqlite_sequence';
    for (const c of counters) yield `INSERT INTO sqlite_sequence VALUES(${sqlText(c.name)},${c.seq})`;
  }
  for (const type of ['index', 'trigger', 'view'] as const) {
    for (const s of schema) if (s.type === type && s.sql) yield s.sql;
  }
}

/** Writes the dump to a new file, framed as the sqlite3 shell frames it. */
export async function writeSqlDump(db: Database, file: string, o: DumpOptions = {}): Promise<void> {
  const handle = await open(file, 'wx');
  try {
    let buffered: string[] = ['PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n'];
    for await (const statement of dumpStatements(db, o)) {
      buffered.push(`${statement};\n`);
      if (buffered.length >= ROWS_PER_SLICE) {
        await handle.write(buffered.join(''));
        buffered = [];
      }
    }
    buffered.push('COMMIT;\n');
    await handle.write(buffered.join(''));
  } finally {
    await handle.close();
  }
}

function sqlText(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
