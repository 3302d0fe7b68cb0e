// The durable LogStore: one SQLite database (<dataDir>/raft.db, WAL, synchronous=FULL) for every
// group of the process. All SQLite work happens in a worker thread (sqlite-worker.js); this side
// validates writes, queues them, and coalesces everything that queued while a transaction was in
// flight into the next one (group commit), so that one fsync covers many writers.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CorruptLogError, StorageError } from './errors.js';
import type { GroupWrite, LogStore, LogStoreOptions, RecoveredGroup, StorageWarning } from './log-store.js';
import { LogLoader } from './loader.js';
import { admitBatch, boundsOf, type GroupBounds } from './validate.js';
import { packWrites, type MaintenanceInfo, type OpenInfo, type WireError, type WorkerOpenOptions, type WorkerReply, type WorkerRequest } from './wire.js';

export interface SqliteLogStoreOptions extends LogStoreOptions {
  /**
   * Run SQLite's PRAGMA quick_check at open() when raft.db is at most this many bytes (it reads
   * every page: about 0.1-0.13 s per 100 MiB here). Default 64 MiB; 0 disables, Infinity always runs.
   * Entry checksums are verified at every open regardless.
   */
  quickCheckMaxBytes?: number;
  /** Quiet time after the last write before background vacuum/checkpoint steps run. Default 200 ms. */
  maintenanceIdleMs?: number;
  /** Pages (4 KiB) released per incremental_vacuum step, one short transaction each. Default 256 (1 MiB, ~2-6 ms here). */
  vacuumStepPages?: number;
  /** Vacuum only when at least this many pages (default 2048) and this share of the file (default 0.25) are free. */
  vacuumMinFreePages?: number;
  vacuumMinFreeRatio?: number;
  /**
   * PASSIVE checkpoint between writes once the WAL exceeds this many bytes (the next write waits
   * for it, so smaller means shorter stalls); the WAL file is also truncated to this size when it
   * restarts. Default 4 MiB. When writes pause (maintenanceIdleMs) the WAL is checkpointed with
   * TRUNCATE.
   */
  walCheckpointBytes?: number;
  /** SQLite page cache, KiB. Default 16384 (16 MiB). */
  cacheKiB?: number;
  /**
   * A transaction still running after this many ms is reported (onWarning 'slow_write'), and
   * again each time as long again passes: a stalled disk shows in the log instead of as silence.
   * Writes are never abandoned (their outcome would be unknown). Default 1000.
   */
  slowWriteMs?: number;
}

/** Counters for tests, metrics and benchmarks. */
export interface SqliteLogStoreStats {
  /** write() calls resolved. */
  writes: number;
  /** Transactions committed for them (each one fsync). writes / transactions = coalescing factor. */
  transactions: number;
  entries: number;
  bytes: number;
  /** The most write() calls coalesced into one transaction. */
  maxCoalesced: number;
}

interface QueuedWrite {
  batch: GroupWrite[];
  resolve: () => void;
  reject: (e: Error) => void;
}

interface Pending {
  resolve: (r: WorkerReply) => void;
  reject: (e: Error) => void;
  /** Streamed replies (meta, pages) before the final one; throwing fails the request. */
  onStream?: (r: Extract<WorkerReply, { kind: 'meta' | 'pages' }>) => void;
}

type State = 'new' | 'opening' | 'open' | 'closing' | 'closed' | 'failed';

export class SqliteLogStore implements LogStore {
  readonly file: string;
  private state: State = 'new';
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private queue: QueuedWrite[] = [];
  private inflight: QueuedWrite[] | null = null;
  private readonly bounds = new Map<string, GroupBounds>();
  private failure: StorageError | undefined;
  private drained: (() => void)[] = [];
  private expectExit = false;
  private refs = 0;
  private closing: Promise<void> | undefined;
  private readonly counters: SqliteLogStoreStats = { writes: 0, transactions: 0, entries: 0, bytes: 0, maxCoalesced: 0 };
  /** What the last open() found: timings, sizes. */
  openInfo: OpenInfo | undefined;

  constructor(
    readonly dataDir: string,
    private readonly options: SqliteLogStoreOptions = {},
  ) {
    if (typeof dataDir !== 'string' || dataDir.length === 0) throw new StorageError('storage_failed', 'SqliteLogStore needs a data dir');
    this.file = join(dataDir, 'raft.db');
  }

  async open(): Promise<RecoveredGroup[]> {
    if (this.state !== 'new') throw new StorageError('storage_closed', `the log store at ${this.file} was already opened; create a new SqliteLogStore to reopen it`);
    this.state = 'opening';
    const o = this.options;
    const options: WorkerOpenOptions = {
      dataDir: this.dataDir,
      repairTornTail: o.repairTornTail ?? false,
      quickCheckMaxBytes: o.quickCheckMaxBytes ?? 64 * 1048576,
      maintenanceIdleMs: o.maintenanceIdleMs ?? 200,
      vacuumStepPages: o.vacuumStepPages ?? 256,
      vacuumMinFreePages: o.vacuumMinFreePages ?? 2048,
      vacuumMinFreeRatio: o.vacuumMinFreeRatio ?? 0.25,
      walCheckpointBytes: o.walCheckpointBytes ?? 4 * 1048576,
      cacheKiB: o.cacheKiB ?? 16384,
    };
    const worker = new Worker(new URL('./sqlite-worker.js', import.meta.url));
    this.worker = worker;
    worker.unref();
    worker.on('message', (r: WorkerReply) => this.onReply(r));
    worker.on('error', (e) => this.fail(new StorageError('storage_failed', `the storage worker crashed: ${e.message}`)));
    worker.on('messageerror', (e) => this.fail(new StorageError('storage_failed', `the storage worker sent a bad message: ${e.message}`)));
    worker.on('exit', (code) => {
      if (!this.expectExit) this.fail(new StorageError('storage_failed', `the storage worker exited unexpectedly (code ${code})`));
      else for (const id of [...this.pending.keys()]) this.settle(id)!.reject(new StorageError('storage_closed', `the storage worker exited (code ${code})`));
    });

    const loader = new LogLoader(this.file, options.repairTornTail);
    let groups: RecoveredGroup[];
    const warnings: StorageWarning[] = [];
    try {
      const reply = await this.request({ kind: 'open', id: 0, options }, (r) => {
        if (r.kind === 'meta') loader.meta(r.meta);
        else for (const p of r.pages) loader.page(p.gid, p.page);
      });
      if (reply.kind !== 'loaded') throw new StorageError('storage_failed', 'the storage worker answered open() with the wrong message');
      warnings.push(...reply.warnings);
      const done = loader.finish();
      warnings.push(...done.warnings);
      await this.request({ kind: 'ready', id: 0, repairs: done.repairs, lastBatch: done.lastBatch });
      this.openInfo = { ...reply.info, entries: loader.entries, bytes: loader.bytes };
      groups = done.groups;
    } catch (e) {
      this.state = 'failed';
      await this.stopWorker();
      throw e;
    }
    for (const g of groups) this.bounds.set(g.group, boundsOf(g));
    for (const w of warnings) this.warn(w);
    if (this.state === 'opening') this.state = 'open';
    else throw this.failure ?? new StorageError('storage_closed', 'the log store was closed while opening');
    return groups;
  }

  write(batch: GroupWrite[]): Promise<void> {
    if (this.state !== 'open') return Promise.reject(this.unavailable());
    // The bounds move ahead of the disk: later writes are validated against queued ones (a
    // failed transaction fails the store, so they never diverge from what is durable).
    try {
      admitBatch(batch, this.bounds);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      this.pump();
    });
  }

  /** Sends everything queued as one transaction, unless one is in flight. */
  private pump(): void {
    if (this.inflight || this.queue.length === 0 || this.failure) return;
    const items = this.queue;
    this.queue = [];
    this.inflight = items;
    let packed: ReturnType<typeof packWrites>;
    try {
      packed = packWrites(items.map((q) => q.batch));
    } catch (e) {
      this.fail(new StorageError('storage_failed', `cannot pack a write: ${(e as Error).message}`));
      return;
    }
    const { ops, packed: p } = packed;
    const req: WorkerRequest = { kind: 'write', id: 0, ops, terms: p.terms, types: p.types, ends: p.ends, data: p.data };
    const started = performance.now();
    const slowMs = this.options.slowWriteMs ?? 1000;
    const watchdog = setInterval(() => {
      const ms = Math.round(performance.now() - started);
      this.warn({ code: 'slow_write', message: `a log write of ${packed.entries} entries has been running for ${ms} ms (${this.file}); the disk may be stalled` });
    }, slowMs);
    watchdog.unref();
    this.request(req, undefined, [p.terms.buffer as ArrayBuffer, p.types.buffer as ArrayBuffer, p.ends.buffer as ArrayBuffer, p.data])
      .finally(() => clearInterval(watchdog))
      .then(
        () => {
          this.inflight = null;
          const c = this.counters;
          c.transactions++;
          c.writes += items.length;
          c.entries += packed.entries;
          c.bytes += packed.bytes;
          if (items.length > c.maxCoalesced) c.maxCoalesced = items.length;
          for (const q of items) q.resolve();
          if (this.queue.length > 0) this.pump();
          else this.notifyDrained();
        },
        (e: Error) => {
          // A failed transaction leaves the store's state unknown to the writers queued behind it.
          this.fail(e instanceof StorageError && e.code === 'storage_failed' ? e : new StorageError('storage_failed', `log write failed: ${e.message}`));
        },
      );
  }

  /** Runs pending maintenance now: vacuums every free page and truncates the WAL. */
  async maintain(): Promise<MaintenanceInfo> {
    if (this.state !== 'open') throw this.unavailable();
    const r = await this.request({ kind: 'maintain', id: 0 });
    return (r.kind === 'done' && r.maintenance) || { vacuumedPages: 0, checkpointed: false };
  }

  async sizeOnDisk(): Promise<number> {
    let total = 0;
    for (const f of [this.file, `${this.file}-wal`, `${this.file}-shm`]) {
      try {
        total += (await stat(f)).size;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    return total;
  }

  stats(): SqliteLogStoreStats {
    return { ...this.counters };
  }

  /** Waits for queued writes, checkpoints, closes the database and stops the worker. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state === 'new') {
      this.state = 'closed';
      return;
    }
    if (this.state === 'opening') this.state = 'closing';
    if (this.state === 'open') {
      this.state = 'closing';
      if (this.inflight || this.queue.length > 0) await new Promise<void>((r) => this.drained.push(r));
    }
    if (this.state === 'closing' && !this.failure) {
      this.expectExit = true; // the worker ends by itself once it closed the database
      try {
        await this.request({ kind: 'close', id: 0 });
      } catch {
        // the worker failed while closing: everything pending was rejected; the store is closed
      }
    }
    this.state = 'closed';
    await this.stopWorker();
  }

  /** For tests: kills the worker thread as a crash would. */
  async crashWorkerForTesting(): Promise<void> {
    await this.worker?.terminate();
  }

  // ---------------------------------------------------------------- plumbing

  private request(req: WorkerRequest, onStream?: Pending['onStream'], transfer?: ArrayBuffer[]): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    const worker = this.worker;
    if (!worker) return Promise.reject(new StorageError('storage_closed', `the log store at ${this.file} is not open`));
    const id = this.nextId++;
    req.id = id;
    return new Promise<WorkerReply>((resolve, reject) => {
      const p: Pending = { resolve, reject };
      if (onStream) p.onStream = onStream;
      this.pending.set(id, p);
      if (this.refs++ === 0) worker.ref();
      worker.postMessage(req, transfer);
    });
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    if (--this.refs === 0) this.worker?.unref();
    return p;
  }

  private onReply(r: WorkerReply): void {
    if (r.kind === 'meta' || r.kind === 'pages') {
      try {
        this.pending.get(r.id)?.onStream?.(r);
      } catch (e) {
        this.settle(r.id)?.reject(e as Error);
      }
      return;
    }
    const p = this.settle(r.id);
    if (!p) return;
    if (r.kind === 'error') p.reject(fromWire(r.error));
    else p.resolve(r);
  }

  private fail(e: StorageError): void {
    if (this.failure || this.state === 'closed') return;
    this.failure = e;
    if (this.state === 'open' || this.state === 'opening') this.state = 'failed';
    const writes = [...(this.inflight ?? []), ...this.queue];
    this.inflight = null;
    this.queue = [];
    for (const q of writes) q.reject(e);
    for (const id of [...this.pending.keys()]) this.settle(id)!.reject(e);
    this.notifyDrained();
  }

  private warn(w: StorageWarning): void {
    if (this.options.onWarning) this.options.onWarning(w);
    else console.warn(`raftkit storage: ${w.message}`);
  }

  private notifyDrained(): void {
    const d = this.drained;
    this.drained = [];
    for (const r of d) r();
  }

  private unavailable(): StorageError {
    if (this.failure) return this.failure;
    if (this.state === 'new' || this.state === 'opening') return new StorageError('storage_closed', `the log store at ${this.file} is not open yet`);
    if (this.state === 'failed') return new StorageError('storage_closed', `the log store at ${this.file} failed to open`);
    return new StorageError('storage_closed', `the log store at ${this.file} is closed`);
  }

  private async stopWorker(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.expectExit = true;
    this.worker = undefined;
    await w.terminate();
  }
}

function fromWire(e: WireError): Error {
  if (e.name === 'CorruptLogError') return new CorruptLogError(e.file, e.group, e.index, e.detail);
  return new StorageError(e.code, e.message);
}
