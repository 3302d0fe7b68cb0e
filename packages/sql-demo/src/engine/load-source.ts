// What /db/load accepts, turned into the statements of one `load` command: a SQL dump (the
// sqlite3 shell's .dump, rqlite's fmt=sql) or a SQLite database file, which is dumped here on
// the node that received it. Either way every node then rebuilds the same database from the
// same statements, through the log.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { isSignificant, splitStatements, type SplitStatement } from '../sql/index.js';
import { dumpStatements } from './sql-dump.js';

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

export function isSqliteFile(body: Buffer): boolean {
  return body.length >= 100 && body.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER);
}

/** The dump's framing, which the load command supplies itself (one transaction, foreign keys off). */
function isFraming(s: SplitStatement): boolean {
  const words = s.tokens.filter(isSignificant);
  const first = words[0];
  if (!first || first.kind !== 'word') return false;
  if (first.value === 'BEGIN' || first.value === 'COMMIT' || first.value === 'END') return true;
  return first.value === 'PRAGMA' && words[1]?.kind === 'word' && words[1].value === 'FOREIGN_KEYS';
}

/** The statements of a SQL dump; throws SqlSyntaxError for text SQLite cannot tokenize. */
export function statementsOfDump(text: string): string[] {
  return splitStatements(text)
    .filter((s) => !isFraming(s))
    .map((s) => s.sql);
}

/** The statements that rebuild the database in `bytes` (a SQLite file); throws if it is not a readable database. */
export async function statementsOfDatabaseFile(bytes: Buffer): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'raftkit-sql-load-'));
  const file = join(dir, 'load.db');
  try {
    // A file in WAL mode (header bytes 18-19 = 2) cannot be opened read-only without its -wal
    // and -shm; the copy is marked as a rollback-journal database, which it is once alone.
    const copy = Buffer.from(bytes);
    if (copy[18] === 2 && copy[19] === 2) copy[18] = copy[19] = 1;
    await writeFile(file, copy);
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`the database file is damaged: ${String(check)}`);
      const out: string[] = [];
      for await (const s of dumpStatements(db)) out.push(s);
      return out;
    } finally {
      db.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
