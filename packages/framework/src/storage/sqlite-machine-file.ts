// What an on-disk state machine that keeps its state in one SQLite file (WAL mode) needs from the
// framework's snapshot contract: a pin of the committed state (a read transaction on a second,
// read-only connection, which later writes do not disturb), a copy of it through SQLite's online
// backup, the swap of a received snapshot file into place, and a sync() that makes every commit
// durable. The SQL store and the metadata center both keep their state this way.
import { rename, rm } from 'node:fs/promises';
import Database from 'better-sqlite3';

/** The committed state of a SQLite file as of pinSqliteFile(), held until released. */
export interface PinnedSqliteFile {
  reader: Database.Database;
}

/** Pins what `file` holds committed now (the writer's connection must have nothing uncommitted). */
export function pinSqliteFile(file: string, o: { safeIntegers?: boolean } = {}): PinnedSqliteFile {
  const reader = new Database(file, { readonly: true });
  try {
    if (o.safeIntegers) reader.defaultSafeIntegers(true);
    reader.exec('BEGIN');
    // BEGIN takes no lock: the first read fixes the snapshot the transaction sees.
    reader.prepare('SELECT count(*) FROM sqlite_schema').get();
    return { reader };
  } catch (e) {
    reader.close();
    throw e;
  }
}

export function releaseSqlitePin(pinned: PinnedSqliteFile): void {
  const { reader } = pinned;
  if (!reader.open) return;
  if (reader.inTransaction) reader.exec('COMMIT');
  reader.close();
}

/** Writes the pinned state to `file` (SQLite's online backup) and releases the pin, also on failure. */
export async function backupSqlitePin(pinned: PinnedSqliteFile, file: string): Promise<void> {
  try {
    await pinned.reader.backup(file);
  } finally {
    releaseSqlitePin(pinned);
  }
}

/** Puts a snapshot's SQLite file in the place of `target` (closed by the caller), dropping its WAL. */
export async function replaceSqliteFile(target: string, snapshotFile: string): Promise<void> {
  await rm(`${target}-wal`, { force: true });
  await rm(`${target}-shm`, { force: true });
  await rename(snapshotFile, target);
}

/**
 * Makes every commit so far durable. synchronous=NORMAL leaves WAL commits unsynced until a
 * checkpoint; a commit with synchronous=FULL fsyncs the WAL, and every commit before it with it.
 * The commit must write a page to happen at all (SQLite writes no frame for a row rewritten with
 * the same bytes), so `flipSql` changes a row in a way that, run twice, restores it (e.g. negates
 * the applied index). The connection must have no transaction open.
 */
export function syncSqliteWal(db: Database.Database, flipSql: string): void {
  const flip = db.prepare(flipSql);
  db.pragma('synchronous = FULL');
  try {
    db.transaction(() => {
      flip.run();
      flip.run();
    })();
  } finally {
    db.pragma('synchronous = NORMAL');
  }
}
