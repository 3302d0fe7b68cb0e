// Background upkeep of the log database (worker side): deleting compacted rows a slice at a time,
// releasing free pages (incremental vacuum) and checkpointing the WAL. None of it is needed for
// durability, so it runs in bounded steps once writes go quiet and yields to requests in between:
// a writer never waits behind a long delete, vacuum or checkpoint.
import { fileSize, type Db, type Statements } from './sqlite-schema.js';
import type { MaintenanceInfo, WorkerOpenOptions } from './wire.js';

/**
 * Compacted rows deleted per write transaction. Deleting a whole compacted prefix at once (10,000
 * rows took about 10 ms here) stalled every writer behind that transaction; a few hundred rows
 * per transaction keep up with any write rate the log sustains (a compaction frees as many rows
 * as were appended since the last one) and cost each transaction well under a millisecond.
 */
const TRIM_ROWS_PER_WRITE = 256;
/** Rows per transaction when the store is idle (maintenance steps). */
const TRIM_ROWS_PER_STEP = 4096;

export class Maintenance {
  private lastWriteAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private vacuumWanted = true;
  /** A vacuum run is under way: go on until no page is free. */
  private vacuuming = false;
  private walDirty = true;
  private stopped = false;
  /**
   * Compacted prefixes whose rows are still to be deleted: gid -> delete entries with idx <= it.
   * The rows are dead as soon as the compaction commits (a log is read from its snapshot index
   * on), so deleting them a slice at a time loses nothing if the process stops half way.
   */
  private readonly trims = new Map<number, number>();

  constructor(
    private readonly db: Db,
    private readonly st: Pick<Statements, 'firstIdx' | 'delTo'>,
    private readonly file: string,
    private readonly opts: WorkerOpenOptions,
  ) {}

  // ---------------------------------------------------------------- compacted rows

  /** At open: rows a compaction left behind when the process stopped before deleting all of them. */
  resumeTrims(snapIndex: ReadonlyMap<number, number>): void {
    for (const [gid, index] of snapIndex) {
      const first = this.st.firstIdx.get(gid) as number | undefined;
      if (first !== undefined && first <= index) this.trims.set(gid, index);
    }
  }

  /** A compaction committed (with the write now running): entries up to `compactTo` are dead. */
  trimThrough(gid: number, compactTo: number): void {
    this.trims.set(gid, Math.max(this.trims.get(gid) ?? 0, compactTo));
  }

  /**
   * The trim list as it is before a write transaction; `rollBack` puts it back when the
   * transaction fails, so a compaction that never committed never deletes live entries.
   */
  trimsBeforeWrite(): Map<number, number> {
    return new Map(this.trims);
  }

  rollBack(saved: ReadonlyMap<number, number>): void {
    this.trims.clear();
    for (const [gid, upTo] of saved) this.trims.set(gid, upTo);
  }

  /** The group's entries are all being deleted (snapshot installed, group removed): nothing is left to trim. */
  forgetTrim(gid: number): void {
    this.trims.delete(gid);
  }

  /** Inside a write transaction: deletes the write's share of compacted rows. */
  trimWithWrite(): void {
    if (this.trims.size > 0) this.trimStep(TRIM_ROWS_PER_WRITE);
  }

  /** Deletes up to `budget` compacted rows (inside the caller's transaction); returns how many. */
  private trimStep(budget: number): number {
    let deleted = 0;
    for (const [gid, upTo] of this.trims) {
      if (deleted >= budget) break;
      const first = this.st.firstIdx.get(gid) as number | undefined;
      if (first === undefined || first > upTo) {
        this.trims.delete(gid);
        continue;
      }
      const through = Math.min(upTo, first + (budget - deleted) - 1);
      deleted += this.st.delTo.run(gid, through).changes;
      if (through >= upTo) this.trims.delete(gid);
    }
    if (deleted > 0) this.vacuumWanted = true;
    return deleted;
  }

  // ---------------------------------------------------------------- scheduling

  /** A write committed: the WAL has grown, and compaction or removal may have freed pages. */
  wrote(freedRows: boolean): void {
    if (freedRows) this.vacuumWanted = true;
    this.walDirty = true;
    this.lastWriteAt = performance.now();
  }

  /** After a write was answered: a PASSIVE checkpoint if the WAL grew large, then idle maintenance. */
  afterWrite(): void {
    if (fileSize(this.file + '-wal') > this.opts.walCheckpointBytes) {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    }
    this.schedule();
  }

  schedule(): void {
    if (this.stopped || this.timer) return;
    if (!this.vacuumWanted && !this.walDirty && this.trims.size === 0) return;
    this.stepIn(this.opts.maintenanceIdleMs);
  }

  /** Cancels pending steps for good: the database is closing. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private stepIn(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.step();
    }, ms);
  }

  /** One bounded step; yields to incoming requests in between, and backs off while writes flow. */
  private step(): void {
    if (this.stopped) return;
    const quiet = performance.now() - this.lastWriteAt;
    if (quiet < this.opts.maintenanceIdleMs) {
      this.stepIn(this.opts.maintenanceIdleMs - quiet + 1);
      return;
    }
    try {
      if (this.trims.size > 0) {
        this.db.transaction(() => this.trimStep(TRIM_ROWS_PER_STEP))();
        this.walDirty = true;
        this.stepIn(0);
        return;
      }
      if (this.vacuumWanted) {
        // Decide once whether enough is free to be worth it, then release every free page.
        const freed = this.vacuumStep(this.vacuuming);
        this.vacuuming = freed > 0;
        if (freed > 0) {
          this.stepIn(0);
          return;
        }
        this.vacuumWanted = false;
      }
      if (this.walDirty) {
        this.db.pragma('wal_checkpoint(TRUNCATE)');
        this.walDirty = false;
      }
    } catch (e) {
      // Maintenance is best effort; the next write reports a real disk problem.
      process.emitWarning(`raftkit storage maintenance failed: ${(e as Error).message}`);
    }
  }

  /** Releases up to vacuumStepPages free pages (if worth it); returns how many were released. */
  private vacuumStep(force: boolean): number {
    const free = Number(this.db.pragma('freelist_count', { simple: true }));
    const total = Number(this.db.pragma('page_count', { simple: true }));
    if (free === 0) return 0;
    if (!force && (free < this.opts.vacuumMinFreePages || free < total * this.opts.vacuumMinFreeRatio)) return 0;
    this.db.pragma(`incremental_vacuum(${Math.max(1, Math.floor(this.opts.vacuumStepPages))})`);
    const after = Number(this.db.pragma('freelist_count', { simple: true }));
    this.walDirty = true;
    return free - after;
  }

  /** Runs all pending maintenance now (vacuum every free page, TRUNCATE checkpoint). */
  maintainNow(): MaintenanceInfo {
    while (this.trims.size > 0) this.db.transaction(() => this.trimStep(TRIM_ROWS_PER_STEP))();
    let vacuumedPages = 0;
    for (;;) {
      const n = this.vacuumStep(true);
      if (n <= 0) break;
      vacuumedPages += n;
    }
    this.vacuumWanted = false;
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.walDirty = false;
    return { vacuumedPages, checkpointed: true };
  }
}
