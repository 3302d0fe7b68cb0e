// Group commit for the metadata store. Consecutive log entries share one SQLite transaction, a
// batch, committed FLUSH_DELAY_MS after its first entry, after MAX_ENTRIES, or before anything
// that needs the state committed (a snapshot's pin, sync, close). Why: a COMMIT writes every page
// the transaction changed to the WAL, and the puts of consecutive entries change the same few
// pages (the last leaves of kv and history, the state rows). One transaction per entry took most
// of an entry's apply time (46 % of the leader's main thread under bench:meta puts).
//
// Nothing waits for the COMMIT. Reads run on the same connection, which sees its own
// transaction: what they see is the applied state, and the raft log already holds those entries
// durably. The applied index is written in the batch's transaction, with the effects: a crash
// loses both together, and the log applies those entries again from the index the file holds.
// Each entry runs inside a savepoint, so one that throws is undone alone. Every replica ends with
// the same state although batches differ between them (they follow each node's own applies).
//
// Should the transaction end under a batch (a disk error rolling it back, a failing COMMIT),
// entries whose results were given are gone from this node's file: the store then refuses every
// entry and read (LostEntriesError) until the node restarts and the log applies them again.
import type Database from 'better-sqlite3';

/** How long a batch stays open after its first entry. */
export const FLUSH_DELAY_MS = 10;
/** Most entries in one transaction (a node catching up applies thousands at once). */
const MAX_ENTRIES = 1024;

/** Not a MetaError on purpose: it must never become an entry's recorded result. */
export class LostEntriesError extends Error {
  readonly code = 'internal';
  constructor(cause: unknown) {
    super(`the metadata store lost applied log entries (${(cause as Error)?.message ?? String(cause)}); restart this node: it applies them again from the index its file holds`);
    this.name = 'LostEntriesError';
  }
}

export class EntryBatch {
  private open = false;
  private entries = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Set once entries were lost; every later use throws it. */
  lost: LostEntriesError | undefined;

  constructor(
    private readonly stmt: (sql: string) => Database.Statement,
    private readonly inTransaction: () => boolean,
    /** Writes what must be committed with the batch (the counters and applied index). */
    private readonly beforeCommit: () => void,
  ) {}

  /** Runs one entry's writes inside the open batch (opening one); a throw undoes this entry alone. */
  run<T>(body: () => T): T {
    this.throwIfLost();
    if (!this.open) {
      this.stmt('BEGIN').run();
      this.open = true;
      // Unref'd: an open batch does not keep the process alive (its entries are in the log).
      this.flushTimer = setTimeout(this.flush, FLUSH_DELAY_MS).unref();
    } else if (!this.inTransaction()) {
      this.lose('the transaction of a batch ended between its entries');
    }
    this.stmt('SAVEPOINT meta_entry').run();
    let out: T;
    try {
      out = body();
    } catch (e) {
      this.undoEntry();
      throw e;
    }
    this.stmt('RELEASE meta_entry').run();
    this.entries++;
    if (this.entries >= MAX_ENTRIES) this.commit();
    return out;
  }

  /** Commits the open batch, if any; throws LostEntriesError when that fails. */
  commit(): void {
    this.throwIfLost();
    this.cancelFlush();
    if (!this.open) return;
    try {
      this.beforeCommit();
      this.stmt('COMMIT').run();
      this.open = false;
      this.entries = 0;
    } catch (e) {
      this.lose(e);
    }
  }

  /** Forgets the batch without committing (the connection is being closed after a loss, or reopened). */
  reset(): void {
    this.cancelFlush();
    this.open = false;
    this.entries = 0;
    this.lost = undefined;
  }

  throwIfLost(): void {
    if (this.lost) throw this.lost;
  }

  private undoEntry(): void {
    if (!this.inTransaction()) {
      // SQLite rolled the whole transaction back: earlier entries of the batch went with it.
      if (this.entries > 0) this.lose('SQLite ended the transaction of a batch');
      this.cancelFlush();
      this.open = false;
      return;
    }
    this.stmt('ROLLBACK TO meta_entry').run();
    this.stmt('RELEASE meta_entry').run();
  }

  private readonly flush = (): void => {
    this.flushTimer = undefined;
    try {
      this.commit();
    } catch {
      // Kept in this.lost: the next entry or read reports it.
    }
  };

  private cancelFlush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  private lose(cause: unknown): never {
    this.cancelFlush();
    this.open = false;
    this.entries = 0;
    try {
      if (this.inTransaction()) this.stmt('ROLLBACK').run();
    } catch {
      // The connection is already failing; refusing to go on is what matters.
    }
    this.lost = new LostEntriesError(cause);
    throw this.lost;
  }
}
