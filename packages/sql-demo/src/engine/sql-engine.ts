// The one owner of the SQL store's SQLite connection: the database file in the machine's folder
// (WAL, synchronous=NORMAL), the applied index kept inside it, statements applied from the log
// (entries applied close together share a transaction, committed a few milliseconds later:
// entry-transactions.ts), reads, dry runs, snapshots and backups. Nothing else holds the connection.
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { backupSqlitePin, pinSqliteFile, releaseSqlitePin, replaceSqliteFile, syncSqliteWal, type PinnedSqliteFile } from '@raftkit/framework/storage';
import { InterruptTimer, isInterrupted } from '../interrupt/interrupt-timer.js';
import type { PlannedStatement } from '../machine/statement-plan.js';
import { DeterministicSource, installDeterministicFunctions, type EntryStamp } from '../sql/index.js';
import { databaseChecksum, type DatabaseChecksum } from './checksum.js';
import { ControlStatements } from './control-statements.js';
import { EntryTransactions, type EntryShape } from './entry-transactions.js';
import { ResultBudget, ResultTooLargeError } from './result-budget.js';
import { StatementCache } from './statement-cache.js';
import { runStatement, type ExecutionMode, type ExecutionOptions } from './statement-execution.js';
import { QUERY_TIMEOUT, isErrorResult, type StatementResult } from './statement-result.js';
import { createStateTable, isUserObject, prepareIndexWriter, quoteIdentifier, readAppliedIndex, STATE_TABLE, userSchema, type SchemaObject } from './store-tables.js';
import { writeSqlDump } from './sql-dump.js';

export const DATABASE_FILE = 'sql.db';
/** Files /db/backup writes in the machine's folder and deletes once sent. */
const BACKUP_PREFIX = '.backup-';

export interface SqlEngineOptions {
  /** The most a query's answer may hold (estimated JSON bytes). Commands use a fixed bound, the same on every node. */
  maxQueryResultBytes?: number;
}

/** The bound of a command's answer: fixed, since a read that fails inside a transaction decides what the transaction does. */
export const COMMAND_RESULT_BYTES = 64 * 1024 * 1024;

export interface ApplyOptions {
  /** All statements or none: the first error rolls the request back and ends it. */
  transaction: boolean;
  /** 'query': reads through the log (level=strong); a write is refused in its place. */
  mode: ExecutionMode;
  timings: boolean;
}

export interface ReadOptions {
  /** Interrupt the request's statements once they ran this long (needs the interrupt extension). */
  dbTimeoutMs?: number;
  timings: boolean;
}

export interface ProbeOptions {
  dbTimeoutMs: number;
  transaction: boolean;
  mode: Exclude<ExecutionMode, 'query'>;
}

/** A dry run's verdict: the position of the statement stopped at the deadline, if one was. */
export interface ProbeVerdict {
  timedOut?: number;
  /** False when the interrupt extension is missing: nothing was run. */
  checked: boolean;
}

export interface LoadResult {
  /** The statement that failed (the database is then unchanged), 0-based, and SQLite's error. */
  failed?: { statement: number; error: string };
  statements: number;
}

export interface EngineInfo {
  sqliteVersion: string;
  foreignKeys: boolean;
  appliedIndex: number;
  interruptible: boolean;
}

/** A read transaction on a second, read-only connection: the state as it was when it was taken. */
export type PinnedState = PinnedSqliteFile;

export class SqlEngine {
  private db: Database.Database | undefined;
  private statements: StatementCache | undefined;
  private controls: ControlStatements | undefined;
  private transactions: EntryTransactions | undefined;
  private dir = '';
  private timer: InterruptTimer | undefined;
  private readonly source = new DeterministicSource();
  private readonly maxQueryResultBytes: number;

  constructor(o: SqlEngineOptions = {}) {
    this.maxQueryResultBytes = o.maxQueryResultBytes ?? COMMAND_RESULT_BYTES;
  }

  private get file(): string {
    return join(this.dir, DATABASE_FILE);
  }

  private connection(): Database.Database {
    if (!this.db) throw new Error('the SQL database is not open');
    return this.db;
  }

  /** Runs a transaction-control statement (BEGIN, SAVEPOINT, ...), compiled once per connection. */
  private control(sql: string): void {
    this.controls!.run(sql);
  }

  /**
   * The connection with every applied entry committed: before reads, dry runs, snapshots and
   * backups. Throws LostEntriesError once a burst's entries were lost (the node must restart).
   */
  private settled(): Database.Database {
    const db = this.connection();
    this.transactions!.settle();
    return db;
  }

  /**
   * Makes every applied entry durable, so the framework compacts the raft log with snapshots that
   * hold no copy of the database. synchronous=NORMAL leaves WAL commits unsynced until a
   * checkpoint; a commit with synchronous=FULL fsyncs the WAL and every commit before it. It must
   * write a page to commit at all (SQLite writes no frame for a row rewritten with the same
   * bytes): the applied index goes negative and back inside one transaction.
   */
  sync(): void {
    syncSqliteWal(this.settled(), `UPDATE ${STATE_TABLE} SET applied_index = -applied_index WHERE one = 1`);
  }

  private cache(): StatementCache {
    if (!this.statements) throw new Error('the SQL database is not open');
    return this.statements;
  }

  /** Opens (creating) the database in `dir`; answers the index of the last entry it holds. */
  open(dir: string): number {
    this.dir = dir;
    // Backups a stopped node left half-sent.
    for (const name of readdirSync(dir)) if (name.startsWith(BACKUP_PREFIX)) rmSync(join(dir, name), { force: true });
    const db = new Database(this.file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.defaultSafeIntegers(true);
      installDeterministicFunctions(db, this.source);
      createStateTable(db);
      this.timer = InterruptTimer.load(db);
      this.controls = new ControlStatements(db);
      this.transactions = new EntryTransactions(db, this.controls, prepareIndexWriter(db));
      this.statements = new StatementCache(db);
      this.db = db;
      return readAppliedIndex(db);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  close(): void {
    try {
      // What was applied is kept; entries already lost are the log's to apply again.
      if (this.db?.open) this.transactions?.commit();
    } finally {
      this.transactions = undefined;
      this.controls = undefined;
      this.statements?.clear();
      this.statements = undefined;
      this.db?.close();
      this.db = undefined;
      this.timer = undefined;
    }
  }

  /** Whether db_timeout can really stop a statement (the interrupt extension is loaded). */
  get interruptible(): boolean {
    return this.timer !== undefined;
  }

  // ---------------------------------------------------------------- applying log entries

  /**
   * Applies one log entry's statements and records its index, in the same SQLite transaction: the
   * database never holds effects without the index that produced them, nor the index without them.
   */
  apply(stamp: EntryStamp, statements: readonly PlannedStatement[], o: ApplyOptions): StatementResult[] {
    const shape = { alone: statements.some((s) => s.transactionSensitive), changesSchema: statements.some((s) => s.changesSchema) };
    return this.inEntry(stamp, shape, () => {
      const budget = new ResultBudget(COMMAND_RESULT_BYTES);
      const run = (s: PlannedStatement) => this.runInEntry(s, { mode: o.mode, budget, timings: o.timings });
      return o.transaction ? this.allOrNothing(statements, run) : this.oneByOne(statements, run);
    });
  }

  /** Replaces the whole database by the statements of a dump, all or nothing, and records the index. */
  load(stamp: EntryStamp, statements: readonly PlannedStatement[]): LoadResult {
    return this.inEntry(stamp, { alone: true, changesSchema: true }, (db) => {
      this.control('SAVEPOINT raftkit_load');
      dropUserObjects(db);
      this.cache().clear();
      const budget = new ResultBudget(COMMAND_RESULT_BYTES);
      for (let i = 0; i < statements.length; i++) {
        const r = this.runInEntry(statements[i]!, { mode: 'execute', budget, timings: false });
        if (isErrorResult(r)) {
          this.controls!.rollbackTo('raftkit_load');
          return { failed: { statement: i, error: r.error }, statements: statements.length };
        }
      }
      this.control('RELEASE raftkit_load');
      return { statements: statements.length };
    });
  }

  private inEntry<T>(stamp: EntryStamp, shape: EntryShape, body: (db: Database.Database) => T): T {
    const db = this.connection();
    // Before anything runs: an entry whose time SQLite cannot represent fails alone.
    this.source.enterEntry(stamp);
    try {
      return this.transactions!.run(Number(stamp.index), shape, () => body(db));
    } finally {
      this.source.leaveEntry();
    }
  }

  /** A statement of a log entry: a result too large for an answer is that statement's error, the same on every node. */
  private runInEntry(s: PlannedStatement, o: ExecutionOptions): StatementResult {
    try {
      return runStatement(this.cache(), s, o);
    } catch (e) {
      if (e instanceof ResultTooLargeError) return { error: e.message };
      throw e;
    }
  }

  /** transaction=false: each statement stands alone; a failing one leaves no trace and the next runs. */
  private oneByOne(statements: readonly PlannedStatement[], run: (s: PlannedStatement) => StatementResult): StatementResult[] {
    return statements.map((s) => {
      // An ON CONFLICT ROLLBACK (or RAISE(ROLLBACK)) ends SQLite's transaction early; the rest of
      // the entry, and its index, go in a new one. Every node does the same.
      this.transactions!.reopenIfEnded();
      this.control('SAVEPOINT raftkit_statement');
      const r = run(s);
      if (isErrorResult(r)) this.controls!.rollbackTo('raftkit_statement');
      else this.control('RELEASE raftkit_statement');
      return r;
    });
  }

  /** transaction=true: the first error rolls back every statement of the request and ends it. */
  private allOrNothing(statements: readonly PlannedStatement[], run: (s: PlannedStatement) => StatementResult): StatementResult[] {
    const out: StatementResult[] = [];
    this.control('SAVEPOINT raftkit_request');
    for (const s of statements) {
      const r = run(s);
      out.push(r);
      if (isErrorResult(r)) {
        this.controls!.rollbackTo('raftkit_request');
        return out;
      }
    }
    this.control('RELEASE raftkit_request');
    return out;
  }

  // ---------------------------------------------------------------- reads

  /** Reads this node's copy; writes are refused in their place. db_timeout interrupts the request's statements. */
  read(statements: readonly PlannedStatement[], o: ReadOptions): StatementResult[] {
    // Committed first: an interrupted statement must not take a burst's open transaction with it.
    this.settled();
    const cache = this.cache();
    const budget = new ResultBudget(this.maxQueryResultBytes);
    const out: StatementResult[] = [];
    const runAll = () => {
      for (const s of statements) {
        try {
          out.push(runStatement(cache, s, { mode: 'query', budget, timings: o.timings }));
        } catch (e) {
          if (e instanceof ResultTooLargeError) out.push({ error: e.message });
          else if (isInterrupted(e)) break;
          else throw e;
        }
      }
    };
    if (o.dbTimeoutMs !== undefined && this.timer) this.timer.within(o.dbTimeoutMs, runAll);
    else runAll();
    // Past the deadline nothing more runs, as in rqlite, whose context has expired by then.
    while (out.length < statements.length) out.push({ error: QUERY_TIMEOUT });
    return out;
  }

  /**
   * Runs a write request on this node's database inside a savepoint with the deadline armed,
   * then rolls everything back: whether it would finish within db_timeout, judged before it is
   * logged. Random values and the time come from a throwaway entry stamp.
   */
  probe(statements: readonly PlannedStatement[], o: ProbeOptions): ProbeVerdict {
    const timer = this.timer;
    if (!timer) return { checked: false };
    // Committed first: the dry run is rolled back, and an interrupted write rolls back SQLite's whole transaction.
    const db = this.settled();
    const budget = new ResultBudget(COMMAND_RESULT_BYTES);
    let timedOut: number | undefined;
    this.source.enterEntry({ index: 0, term: 0, timestampMs: Date.now() });
    this.control('SAVEPOINT raftkit_probe');
    try {
      timer.within(o.dbTimeoutMs, () => {
        for (let i = 0; i < statements.length; i++) {
          try {
            const r = runStatement(this.cache(), statements[i]!, { mode: o.mode, budget, timings: false });
            if (o.transaction && isErrorResult(r)) return;
          } catch (e) {
            if (isInterrupted(e)) {
              timedOut = i;
              return;
            }
            if (!(e instanceof ResultTooLargeError)) throw e;
          }
          if (!db.inTransaction) return;
        }
      });
    } finally {
      this.controls!.rollbackTo('raftkit_probe');
      this.source.leaveEntry();
    }
    return timedOut === undefined ? { checked: true } : { checked: true, timedOut };
  }

  checksum(): DatabaseChecksum {
    return databaseChecksum(this.settled());
  }

  schema(): SchemaObject[] {
    return userSchema(this.settled());
  }

  info(): EngineInfo {
    const db = this.settled();
    return {
      sqliteVersion: String(db.prepare('SELECT sqlite_version()').pluck().get()),
      foreignKeys: Number(db.pragma('foreign_keys', { simple: true })) === 1,
      appliedIndex: readAppliedIndex(db),
      interruptible: this.interruptible,
    };
  }

  // ---------------------------------------------------------------- snapshots and backups

  /** Pins the state as of now (the last applied entry): a read transaction on a read-only connection. */
  pin(): PinnedState {
    // The reader is another connection: it sees only what is committed.
    this.settled();
    return pinSqliteFile(this.file, { safeIntegers: true });
  }

  release(pinned: PinnedState): void {
    releaseSqlitePin(pinned);
  }

  /** Writes the pinned state to `file` (SQLite's online backup) and releases the pin. */
  savePinned(pinned: PinnedState, file: string): Promise<void> {
    return backupSqlitePin(pinned, file);
  }

  /** Replaces the database by a snapshot file (which already holds its applied index). */
  async recover(file: string): Promise<void> {
    this.close();
    await replaceSqliteFile(this.file, file);
    this.open(this.dir);
  }

  /**
   * A consistent copy for /db/backup, written to a new file in the machine's folder (the caller
   * sends and deletes it): the SQLite file without the store's own table, in DELETE journal mode
   * as rqlite's, or a SQL dump.
   */
  async backup(format: 'binary' | 'sql', o: { tables?: readonly string[]; vacuum?: boolean } = {}): Promise<string> {
    const file = join(this.dir, `${BACKUP_PREFIX}${Date.now()}-${randomBytes(4).toString('hex')}`);
    const pinned = this.pin();
    try {
      if (format === 'sql') {
        await writeSqlDump(pinned.reader, file, o);
      } else {
        await pinned.reader.backup(file);
        const copy = new Database(file);
        try {
          copy.pragma('journal_mode = DELETE');
          copy.exec(`DROP TABLE IF EXISTS ${STATE_TABLE}`);
          // On the copy, not the live database: the rows of the store's table go, the file shrinks.
          if (o.vacuum) copy.exec('VACUUM');
        } finally {
          copy.close();
        }
      }
      return file;
    } catch (e) {
      await rm(file, { force: true });
      throw e;
    } finally {
      this.release(pinned);
    }
  }
}

/** Empties the database before a load: the user's views, triggers and tables (indexes go with them), and AUTOINCREMENT counters. */
function dropUserObjects(db: Database.Database): void {
  const objects = userSchema(db);
  for (const type of ['view', 'trigger', 'table'] as const) {
    for (const o of objects) {
      if (o.type === type && isUserObject(o.name)) db.exec(`DROP ${type.toUpperCase()} IF EXISTS ${quoteIdentifier(o.name)}`);
    }
  }
  if (db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'").get()) db.exec('DELETE FROM sqlite_sequence');
}
