// A digest of the user's database that is equal on two nodes exactly when they hold the same
// schema and the same rows: every schema object's SQL, then every table's rows in rowid (or
// primary key) order, each value with its storage class. Tests compare it across nodes.
import { createHash, type Hash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { orderedTables } from './table-order.js';
import { userSchema } from './store-tables.js';

export interface DatabaseChecksum {
  /** sha256, hex. */
  checksum: string;
  tables: number;
  rows: number;
}

const real = Buffer.alloc(8);

function hashValue(h: Hash, v: unknown): void {
  if (v === null || v === undefined) h.update('n;');
  else if (typeof v === 'bigint') h.update(`i${v};`);
  else if (typeof v === 'number') {
    real.writeDoubleBE(v);
    h.update('r');
    h.update(real);
  } else if (typeof v === 'string') {
    h.update(`t${Buffer.byteLength(v)}:`);
    h.update(v);
  } else {
    const bytes = v as Buffer;
    h.update(`b${bytes.length}:`);
    h.update(bytes);
  }
}

/** Reads with integers as bigint (the caller's connection has safeIntegers on). */
export function databaseChecksum(db: Database): DatabaseChecksum {
  const h = createHash('sha256');
  // By type and name, not creation order: a database rebuilt from a dump is the same database.
  const schema = userSchema(db).sort((a, b) => (a.type === b.type ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.type < b.type ? -1 : 1));
  for (const o of schema) h.update(`${o.type}\0${o.name}\0${o.tableName}\0${o.sql ?? ''}\0`);
  let rows = 0;
  const tables = orderedTables(
    db,
    schema.filter((o) => o.type === 'table').map((o) => o.name),
  );
  for (const t of tables) {
    h.update(`\u0001${t.name}\0`);
    const stmt = db.prepare(t.select).raw(true).safeIntegers(true);
    for (const row of stmt.iterate() as IterableIterator<unknown[]>) {
      for (const v of row) hashValue(h, v);
      h.update('\n');
      rows++;
    }
  }
  return { checksum: h.digest('hex'), tables: tables.length, rows };
}
