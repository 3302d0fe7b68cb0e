// How the rows of a table are walked in a fixed order, the same on every node: by rowid, or for
// a WITHOUT ROWID table by its primary key. Used by the checksum and the dump.
import type { Database } from 'better-sqlite3';
import { quoteIdentifier } from './store-tables.js';

interface TableListRow {
  name: string;
  type: string;
  wr: bigint | number;
}

interface ColumnInfo {
  name: string;
  pk: bigint | number;
}

export interface OrderedTable {
  name: string;
  /** SELECT * with an ORDER BY that fixes the order. */
  select: string;
  columns: string[];
}

/** The ordinary tables among `names` (virtual tables are read through their shadow tables). */
export function orderedTables(db: Database, names: readonly string[]): OrderedTable[] {
  const list = db.prepare("SELECT name, type, wr FROM pragma_table_list WHERE schema = 'main'").all() as TableListRow[];
  const byName = new Map(list.map((t) => [t.name, t]));
  const out: OrderedTable[] = [];
  for (const name of names) {
    const t = byName.get(name);
    if (!t || t.type !== 'table') continue;
    const columns = db.prepare('SELECT name, pk FROM pragma_table_info(?)').all(name) as ColumnInfo[];
    const keys = Number(t.wr) === 1 ? columns.filter((c) => Number(c.pk) > 0).sort((a, b) => Number(a.pk) - Number(b.pk)) : [];
    const order = keys.length > 0 ? keys.map((k) => quoteIdentifier(k.name)).join(', ') : 'rowid';
    out.push({ name, select: `SELECT * FROM ${quoteIdentifier(name)} ORDER BY ${order}`, columns: columns.map((c) => c.name) });
  }
  return out;
}
