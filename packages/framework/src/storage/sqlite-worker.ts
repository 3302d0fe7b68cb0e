// The storage worker: owns the one SQLite connection of the process and does every piece of
// disk work for SqliteLogStore, so that the event loop never waits on a read, a write or an fsync.
// It handles one request at a time, in order; between requests, once writes go quiet, it runs
// bounded maintenance steps (incremental vacuum, WAL checkpoint). This file is the entry point
// SqliteLogStore starts (by the path of its compiled .js next to sqlite-log-store.js): the message
// loop and the lifetime of the parts it drives; the work itself is in the sqlite-*.ts files.
import { parentPort } from 'node:worker_threads';
import { CorruptLogError, StorageError } from './errors.js';
import type { RepairOp } from './loader.js';
import { Maintenance } from './sqlite-maintenance.js';
import { loadLog, runRepairs } from './sqlite-recovery.js';
import { connect, initialize, locateDatabase, prepareStatements, sqliteError, type Db, type Statements } from './sqlite-schema.js';
import { GroupWriter } from './sqlite-write.js';
import { stageTracing, traceStage } from '../common/stage-trace.js';
import type { MaintenanceInfo, OpenInfo, WireError, WireOp, WorkerOpenOptions, WorkerReply, WorkerRequest } from './wire.js';

const port = parentPort;
if (!port) throw new Error('sqlite-worker.js must run in a worker thread');

/** The open database and the parts that work on it; each exists once open() got that far. */
class Store {
  private db: Db | undefined;
  private st!: Statements;
  private maintenance: Maintenance | undefined;
  private writer!: GroupWriter;

  open(id: number, opts: WorkerOpenOptions): void {
    const { file, created } = locateDatabase(opts.dataDir);
    this.db = connect(file);
    const db = this.db;
    const { warnings, quickCheckMs } = initialize(db, file, created, opts);
    this.st = prepareStatements(db);
    this.maintenance = new Maintenance(db, this.st, file, opts);
    this.writer = new GroupWriter(db, this.st, this.maintenance);
    const t0 = performance.now();
    let result: { entries: number; bytes: number };
    try {
      result = loadLog(db, this.st, opts.repairTornTail, this.writer.groups, this.maintenance, id, post);
    } catch (e) {
      throw sqliteError(file, e, 'cannot read the log');
    }
    const info: OpenInfo = {
      file,
      created,
      entries: result.entries,
      bytes: result.bytes,
      quickCheckMs,
      readMs: Math.round(performance.now() - t0),
    };
    post({ kind: 'loaded', id, warnings, info });
  }

  /** After open: runs the repairs the loader allowed (one transaction); then writes may come. */
  ready(repairs: RepairOp[], lastBatch: number): void {
    this.writer.resumeAfter(lastBatch);
    runRepairs(this.db!, this.st, this.writer.groups, repairs, lastBatch);
    this.maintenance!.schedule();
  }

  write(req: Extract<WorkerRequest, { kind: 'write' }>): void {
    this.writer.write(req);
  }

  afterWrite(): void {
    this.maintenance!.afterWrite();
  }

  maintainNow(): MaintenanceInfo {
    return this.maintenance!.maintainNow();
  }

  close(): void {
    this.maintenance?.stop();
    if (!this.db) return;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }

  closeQuietly(): void {
    this.maintenance?.stop();
    try {
      if (this.db?.open) this.db.close();
    } catch {
      // already failing; the caller reports the original error
    }
  }
}

function post(msg: WorkerReply, transfer?: ArrayBuffer[]): void {
  port!.postMessage(msg, transfer);
}

function wireError(e: unknown): WireError {
  if (e instanceof CorruptLogError) {
    const w: WireError = { name: 'CorruptLogError', file: e.file, detail: e.detail };
    if (e.group !== undefined) w.group = e.group;
    if (e.index !== undefined) w.index = e.index;
    return w;
  }
  if (e instanceof StorageError) return { name: 'StorageError', code: e.code, message: e.message };
  return { name: 'StorageError', code: 'storage_failed', message: `storage worker: ${(e as Error)?.message ?? String(e)}` };
}

/** The highest entry index a write carries (for the stage trace). */
function lastOpIndex(ops: WireOp[]): number {
  let last = 0;
  for (const op of ops) if (op.count > 0 && op.first + op.count - 1 > last) last = op.first + op.count - 1;
  return last;
}

const store = new Store();
let opened = false;

port.on('message', (req: WorkerRequest) => {
  try {
    switch (req.kind) {
      case 'open':
        if (opened) throw new StorageError('storage_failed', 'the store is already open');
        opened = true;
        try {
          store.open(req.id, req.options);
        } catch (e) {
          store.closeQuietly();
          throw e;
        }
        return;
      case 'ready':
        store.ready(req.repairs, req.lastBatch);
        post({ kind: 'done', id: req.id });
        return;
      case 'write':
        if (stageTracing) traceStage('worker-got', lastOpIndex(req.ops));
        store.write(req);
        if (stageTracing) traceStage('worker-committed', lastOpIndex(req.ops));
        post({ kind: 'done', id: req.id });
        try {
          store.afterWrite();
        } catch (e) {
          process.emitWarning(`raftkit storage checkpoint failed: ${(e as Error).message}`);
        }
        return;
      case 'maintain':
        post({ kind: 'done', id: req.id, maintenance: store.maintainNow() });
        return;
      case 'close':
        store.close();
        post({ kind: 'done', id: req.id });
        port.close();
        return;
    }
  } catch (e) {
    post({ kind: 'error', id: req.id, error: wireError(e) });
  }
});
