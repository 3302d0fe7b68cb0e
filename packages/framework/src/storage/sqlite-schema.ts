// The database file of the SQLite log store (worker side): where it lives, how it is opened (the
// pragmas that make it durable and ours alone), the tables and the statements over them, and how
// SQLite's failures become storage errors. Kept apart from what reads and writes rows so that the
// on-disk format has one home: a change to it is a change to this file and to records.ts.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CorruptLogError, StorageError } from './errors.js';
import type { StorageWarning } from './log-store.js';
import { PAGE_SQL_FAST, PAGE_SQL_FULL } from './records.js';
import type { WorkerOpenOptions } from './wire.js';

export const FORMAT_VERSION = 1;

export type Db = InstanceType<typeof Database>;
export type Stmt = Database.Statement<unknown[]>;

/** A group row as mirrored in memory; `prefix` is the CRC of its name that every row checksum starts from. */
export interface GroupRow {
  gid: number;
  name: string;
  type: string;
  prefix: number;
}

/**
 * Format version 1. Groups get a small integer id (gid) so that entry keys stay short; every row
 * carries `batch`, the sequence number of the write transaction that last wrote it (the torn-tail
 * repair deletes only records of the last one). Checksums (CRC-32, see checksum.ts) cover the
 * group name and the row's fields: entries.crc is 4 bytes big-endian over group, idx, term, type
 * and data (a BLOB so that open() can read it without per-row conversion, see records.ts); the
 * metadata rows' crc covers the group name and the row's text (records.ts).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS groups (
  gid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, type TEXT NOT NULL, crc INTEGER NOT NULL, batch INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
  gid INTEGER NOT NULL, idx INTEGER NOT NULL, term INTEGER NOT NULL, type INTEGER NOT NULL, data BLOB NOT NULL,
  crc BLOB NOT NULL, batch INTEGER NOT NULL, PRIMARY KEY (gid, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hard_state (
  gid INTEGER PRIMARY KEY, term INTEGER NOT NULL, vote INTEGER NOT NULL, commit_index INTEGER NOT NULL,
  crc INTEGER NOT NULL, batch INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS membership (
  gid INTEGER PRIMARY KEY, conf_state TEXT NOT NULL, applied_index INTEGER NOT NULL, crc INTEGER NOT NULL, batch INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS snapshot_meta (
  gid INTEGER PRIMARY KEY, idx INTEGER NOT NULL, term INTEGER NOT NULL, conf_state TEXT NOT NULL,
  crc INTEGER NOT NULL, batch INTEGER NOT NULL, history TEXT);
`;

/** The statements every write, repair, trim and page read runs; prepared once per open. */
export interface Statements {
  insGroup: Stmt;
  updGroup: Stmt;
  delGroup: Stmt;
  insEntry: Stmt;
  delFrom: Stmt;
  delTo: Stmt;
  firstIdx: Stmt;
  delAll: Stmt;
  putHs: Stmt;
  delHs: Stmt;
  putMember: Stmt;
  delMember: Stmt;
  putSnap: Stmt;
  delSnap: Stmt;
  pageFast: Stmt;
  pageFull: Stmt;
}

export function prepareStatements(db: Db): Statements {
  return {
    insGroup: db.prepare('INSERT INTO groups (name, type, crc, batch) VALUES (?, ?, ?, ?)'),
    updGroup: db.prepare('UPDATE groups SET type = ?, crc = ?, batch = ? WHERE gid = ?'),
    delGroup: db.prepare('DELETE FROM groups WHERE gid = ?'),
    insEntry: db.prepare('INSERT INTO entries (gid, idx, term, type, data, crc, batch) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    delFrom: db.prepare('DELETE FROM entries WHERE gid = ? AND idx >= ?'),
    delTo: db.prepare('DELETE FROM entries WHERE gid = ? AND idx <= ?'),
    firstIdx: db.prepare('SELECT idx FROM entries WHERE gid = ? ORDER BY idx LIMIT 1').pluck(),
    delAll: db.prepare('DELETE FROM entries WHERE gid = ?'),
    putHs: db.prepare('INSERT OR REPLACE INTO hard_state (gid, term, vote, commit_index, crc, batch) VALUES (?, ?, ?, ?, ?, ?)'),
    delHs: db.prepare('DELETE FROM hard_state WHERE gid = ?'),
    putMember: db.prepare('INSERT OR REPLACE INTO membership (gid, conf_state, applied_index, crc, batch) VALUES (?, ?, ?, ?, ?)'),
    delMember: db.prepare('DELETE FROM membership WHERE gid = ?'),
    putSnap: db.prepare('INSERT OR REPLACE INTO snapshot_meta (gid, idx, term, conf_state, crc, batch, history) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    delSnap: db.prepare('DELETE FROM snapshot_meta WHERE gid = ?'),
    pageFast: db.prepare(PAGE_SQL_FAST).raw(true),
    pageFull: db.prepare(PAGE_SQL_FULL).raw(true),
  };
}

/** Creates the data dir; returns the database file and whether it is new (missing or empty). */
export function locateDatabase(dataDir: string): { file: string; created: boolean } {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'raft.db');
  return { file, created: !existsSync(file) || statSync(file).size === 0 };
}

/** Opens the connection alone: the caller holds it from here on, so that a failure below can close it. */
export function connect(file: string): Db {
  try {
    return new Database(file);
  } catch (e) {
    throw sqliteError(file, e, 'cannot open the database');
  }
}

/**
 * Makes the connection durable (WAL, synchronous=FULL) and exclusive, creates or checks the
 * schema and its format version, and runs quick_check when the file is small enough for it.
 */
export function initialize(db: Db, file: string, created: boolean, opts: WorkerOpenOptions): { warnings: StorageWarning[]; quickCheckMs: number | null } {
  const warnings: StorageWarning[] = [];
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('busy_timeout = 0');
    if (created) {
      db.pragma('page_size = 4096');
      db.pragma('auto_vacuum = INCREMENTAL');
    }
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (String(mode).toLowerCase() !== 'wal') throw new StorageError('storage_failed', `${file}: cannot switch to WAL mode (got ${String(mode)})`);
    db.pragma('synchronous = FULL');
    db.pragma('wal_autocheckpoint = 0');
    db.pragma(`journal_size_limit = ${Math.max(0, Math.floor(opts.walCheckpointBytes))}`);
    db.pragma(`cache_size = -${Math.max(1024, Math.floor(opts.cacheKiB))}`);
    db.pragma('temp_store = MEMORY');
    // Take (and, in exclusive mode, keep) the write lock now: a second process fails here.
    db.exec('BEGIN IMMEDIATE; COMMIT');
  } catch (e) {
    if (isSqlite(e, 'SQLITE_BUSY')) {
      throw new StorageError('storage_failed', `${file} is in use by another process (or another store in this one); one process owns a data dir`);
    }
    throw sqliteError(file, e, 'cannot open the database');
  }
  try {
    db.exec(SCHEMA);
    addHistoryColumn(db);
    const ver = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get('format_version') as string | undefined;
    if (ver === undefined) {
      const nonEmpty = db.prepare('SELECT 1 FROM groups LIMIT 1').get();
      if (nonEmpty && !created) throw new CorruptLogError(file, undefined, undefined, 'the format version record is missing');
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('format_version', String(FORMAT_VERSION));
    } else if (Number(ver) !== FORMAT_VERSION) {
      throw new StorageError('storage_failed', `${file} has log format version ${ver}; this build reads version ${FORMAT_VERSION}`);
    }
  } catch (e) {
    throw sqliteError(file, e, 'cannot read the schema');
  }
  if (Number(db.pragma('auto_vacuum', { simple: true })) !== 2) {
    warnings.push({
      code: 'not_incremental_vacuum',
      message: `${file} was created without auto_vacuum=INCREMENTAL; compaction frees pages for reuse but the file will not shrink`,
    });
  }

  let quickCheckMs: number | null = null;
  const size = fileSize(file);
  if (size <= opts.quickCheckMaxBytes) {
    const t = performance.now();
    let rows: { quick_check: string }[];
    try {
      rows = db.pragma('quick_check(20)') as { quick_check: string }[];
    } catch (e) {
      throw sqliteError(file, e, 'quick_check failed');
    }
    quickCheckMs = Math.round(performance.now() - t);
    const problems = rows.map((r) => r.quick_check).filter((m) => m !== 'ok');
    if (problems.length > 0) throw new CorruptLogError(file, undefined, undefined, `sqlite quick_check: ${problems.join('; ')}`);
  } else {
    warnings.push({
      code: 'integrity_check_skipped',
      message: `PRAGMA quick_check skipped: ${file} is ${Math.round(size / 1048576)} MiB (limit ${Math.round(opts.quickCheckMaxBytes / 1048576)} MiB); every log entry is still checksummed`,
    });
  }
  return { warnings, quickCheckMs };
}

/**
 * snapshot_meta.history came after format version 1's first files: a database without the column
 * gains it (NULL in existing rows, whose checksums do not cover it). Builds before it read such a
 * database unchanged: they select the columns they know.
 */
function addHistoryColumn(db: Db): void {
  const columns = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('snapshot_meta') as string[];
  if (!columns.includes('history')) db.exec('ALTER TABLE snapshot_meta ADD COLUMN history TEXT');
}

/** SQLite's failure as the store reports it: damage is a CorruptLogError, anything else storage_failed. */
export function sqliteError(file: string, e: unknown, what: string): Error {
  if (e instanceof CorruptLogError || e instanceof StorageError) return e;
  if (isSqlite(e, 'SQLITE_CORRUPT') || isSqlite(e, 'SQLITE_NOTADB')) {
    return new CorruptLogError(file, undefined, undefined, `${what}: ${(e as Error).message}`);
  }
  return new StorageError('storage_failed', `${file}: ${what}: ${(e as Error).message ?? String(e)}`);
}

export function isSqlite(e: unknown, code: string): boolean {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' && c.startsWith(code);
}

/** 0 for a missing file (the WAL before the first write). */
export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
