// Group commit. Entries share one SQLite transaction, a burst, committed FLUSH_DELAY_MS after its
// first entry, or before anything that wants the state committed or the connection to itself
// (reads, dry runs, snapshots, backups, close). A COMMIT costs more than a single-row insert: it
// writes every page the transaction changed to the WAL, and each 1000 pages SQLite checkpoints
// them into the database file and waits for two fsyncs. The framework applies entries as their
// commit index advances, a few at a time, so a burst spans several of its applies; within one,
// a page that several entries change (a table's hot leaf, the applied index's row) is written
// once. Nothing waits for the COMMIT: results are given when the entry is applied, and what
// makes an entry durable is the raft log (OnDiskStateMachine lets effects reach the disk
// lazily; a `sync` for the host would have to commit the open burst first). The applied index
// is written in the burst's transaction, with the effects: a crash loses both together, and the
// log applies those entries again from the index the database holds. Each entry but the
// burst's first runs inside a savepoint, so one that throws is undone alone.
//
// Entries that must not share a transaction get one of their own (the burst before them is
// committed first, and they are committed right after):
// - text naming ROLLBACK: ON CONFLICT ROLLBACK and RAISE(ROLLBACK) end SQLite's whole transaction,
//   which would silently undo the burst's earlier entries, whose results are already given;
// - text naming DEFERRED: a deferred foreign key is checked at COMMIT, which must fail for the
//   entry that broke it (as it does when every entry commits), not for a whole burst;
// - every entry while the schema holds either word (a table's ON CONFLICT ROLLBACK clause, a
//   trigger's RAISE(ROLLBACK) and a deferred foreign key act on writes that do not name them);
// - a load.
// An entry's outcome is then the same whichever entries share its transaction, so results and
// states are the same on every replica although bursts differ between them (they follow each
// node's own rounds).
//
// Should a transaction still end under a burst (a disk error ending it), entries whose results
// were given are gone from this node's database: it then refuses to go on (LostEntriesError)
// until it restarts and the log applies them again from the index its database holds.
import type { Database } from 'better-sqlite3';
import { TRANSACTION_SENSITIVE } from '../machine/text-analysis.js';
import type { ControlStatements } from './control-statements.js';

/** How long a burst stays open after its first entry. */
export const FLUSH_DELAY_MS = 10;
/** Most entries in one transaction: a node catching up applies many at once. */
const MAX_BURST = 1024;
const ENTRY_SAVEPOINT = 'raftkit_entry';

export class LostEntriesError extends Error {
  readonly code = 'internal';
  constructor(cause: unknown) {
    super(`the SQL database lost applied log entries (${(cause as Error)?.message ?? String(cause)}); restart this node: it applies them again from the index its database holds`);
    this.name = 'LostEntriesError';
  }
}

/** What the transaction handling needs to know of an entry before running it. */
export interface EntryShape {
  /** It must not share a transaction (see above). */
  alone: boolean;
  /** It may change the schema: whether the schema holds the words is checked again after it. */
  changesSchema: boolean;
}

interface Burst {
  /** Entries of the burst whose results were given. */
  answered: number;
  /** The last of them: the applied index written at COMMIT. */
  index: number | undefined;
}

/** Whether any schema object names ROLLBACK or DEFERRED: every entry then gets its own transaction. */
function schemaIsSensitive(db: Database): boolean {
  const texts = db.prepare('SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL').pluck().all() as string[];
  return texts.some((sql) => TRANSACTION_SENSITIVE.test(sql));
}

export class EntryTransactions {
  private burst: Burst | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private sensitiveSchema: boolean;
  private lost: LostEntriesError | undefined;
  /** SQLite ended the transaction while the current entry ran. */
  private endedEarly = false;

  constructor(
    private readonly db: Database,
    private readonly control: ControlStatements,
    private readonly writeIndex: (index: number) => void,
  ) {
    this.sensitiveSchema = schemaIsSensitive(db);
  }

  /** Runs the body of the entry at `index` in the current burst (or a transaction of its own); an error undoes the entry alone. */
  run<T>(index: number, shape: EntryShape, body: () => T): T {
    this.throwIfLost();
    const alone = shape.alone || this.sensitiveSchema;
    if (alone) this.commit();
    const first = this.begin();
    this.endedEarly = false;
    let out: T;
    try {
      out = body();
    } catch (e) {
      this.undoEntry(first);
      throw e;
    }
    if (!first && (this.endedEarly || !this.db.inTransaction)) this.loseBurst('SQLite ended the transaction of a burst');
    // The burst's first entry: the rest of it, and its index, go in a new transaction (every
    // node does the same), as when each entry had its own.
    if (!this.db.inTransaction) {
      this.endedEarly = true;
      this.control.run('BEGIN');
    }
    if (!first) this.control.run(`RELEASE ${ENTRY_SAVEPOINT}`);
    const burst = this.burst!;
    burst.index = index;
    if (shape.changesSchema) this.sensitiveSchema = schemaIsSensitive(this.db);
    if (alone || this.endedEarly) {
      // Nothing else in this transaction: a failing COMMIT is this entry's error.
      this.commit();
      return out;
    }
    burst.answered++;
    if (burst.answered >= MAX_BURST) this.commit();
    return out;
  }

  /** Called where an entry's statement may have ended SQLite's transaction: opens the next one. */
  reopenIfEnded(): void {
    if (this.db.inTransaction) return;
    this.endedEarly = true;
    if (this.burst && this.burst.answered > 0) this.loseBurst('SQLite ended the transaction of a burst');
    this.control.run('BEGIN');
  }

  /** Commits the open burst, if any. Throws LostEntriesError when its COMMIT fails. */
  commit(): void {
    this.cancelFlush();
    const burst = this.burst;
    if (!burst) return;
    try {
      if (burst.index !== undefined) this.writeIndex(burst.index);
      this.control.run('COMMIT');
      this.burst = undefined;
    } catch (e) {
      if (burst.answered > 0) this.loseBurst(e);
      this.burst = undefined;
      if (this.db.inTransaction) this.control.run('ROLLBACK');
      throw e;
    }
  }

  /** Commits, and throws if entries were lost: before anything that reads or copies the state. */
  settle(): void {
    this.commit();
    this.throwIfLost();
  }

  private throwIfLost(): void {
    if (this.lost) throw this.lost;
  }

  /** Opens the burst (BEGIN) or, inside one, the entry's savepoint; true for the burst's first entry. */
  private begin(): boolean {
    if (this.burst) {
      if (!this.db.inTransaction) this.loseBurst('the transaction of a burst ended between its entries');
      this.control.run(`SAVEPOINT ${ENTRY_SAVEPOINT}`);
      return false;
    }
    this.control.run('BEGIN');
    this.burst = { answered: 0, index: undefined };
    // Unref'd: an open burst does not keep a process alive (its entries are in the log).
    this.flushTimer = setTimeout(this.flush, FLUSH_DELAY_MS).unref();
    return true;
  }

  private cancelFlush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  private readonly flush = (): void => {
    this.flushTimer = undefined;
    try {
      this.commit();
    } catch {
      // Kept in this.lost: the next entry, read or snapshot reports it.
    }
  };

  private undoEntry(first: boolean): void {
    // Already rolled back when the entry found its burst lost.
    if (this.lost) return;
    if (first) {
      // Alone in the transaction: undone with it, as when each entry had its own.
      this.burst = undefined;
      this.cancelFlush();
      if (this.db.inTransaction) this.control.run('ROLLBACK');
      return;
    }
    if (this.endedEarly || !this.db.inTransaction) this.loseBurst('SQLite ended the transaction of a burst');
    this.control.rollbackTo(ENTRY_SAVEPOINT);
  }

  /** The burst's answered entries are gone: roll back what is left and refuse to go on. */
  private loseBurst(cause: unknown): never {
    this.burst = undefined;
    this.cancelFlush();
    try {
      if (this.db.inTransaction) this.control.run('ROLLBACK');
    } catch {
      // The connection is already failing; what matters is refusing to go on.
    }
    this.lost = new LostEntriesError(cause);
    throw this.lost;
  }
}
