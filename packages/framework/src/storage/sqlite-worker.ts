// The storage worker: owns the one SQLite connection of the process and does every piece of
// disk work for SqliteLogStore, so that the event loop never waits on a read, a write or an fsync.
// It handles one request at a time, in order; between requests, once writes go quiet, it runs
// bounded maintenance steps (incremental vacuum, WAL checkpoint).
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { entryCrc, groupCrc, rowCrc } from './checksum.js';
import { CorruptLogError, StorageError } from './errors.js';
import type { RepairOp } from './loader.js';
import type { StorageWarning } from './log-store.js';
import {
  CRC_BYTES,
  PAGE_SQL_FAST,
  PAGE_SQL_FULL,
  confJson,
  hsText,
  membershipText,
  snapText,
  type RawGroupRow,
  type RawHardStateRow,
  type RawMembershipRow,
  type RawMeta,
  type RawSnapshotRow,
  type EntryPage,
} from './records.js';
import type { MaintenanceInfo, OpenInfo, WireError, WireOp, WorkerOpenOptions, WorkerReply, WorkerRequest } from './wire.js';

export const FORMAT_VERSION = 1;

/**
 * Compacted rows deleted per write transaction. Deleting a whole compacted prefix at once (10,000
 * rows took about 10 ms here) stalled every writer behind that transaction; a few hundred rows
 * per transaction keep up with any write rate the log sustains (a compaction frees as many rows
 * as were appended since the last one) and cost each transaction well under a millisecond.
 */
const TRIM_ROWS_PER_WRITE = 256;
/** Rows per transaction when the store is idle (maintenance steps). */
const TRIM_ROWS_PER_STEP = 4096;

const port = parentPort;
if (!port) throw new Error('sqlite-worker.js must run in a worker thread');

type Db = InstanceType<typeof Database>;
type Stmt = Database.Statement<unknown[]>;

interface GroupRow {
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
  crc INTEGER NOT NULL, batch INTEGER NOT NULL);
`;

class Store {
  private db!: Db;
  private file = '';
  private opts!: WorkerOpenOptions;
  private groups = new Map<string, GroupRow>();
  private batchSeq = 0;
  private st!: Record<string, Stmt>;
  private lastWriteAt = 0;
  private maintenanceTimer: NodeJS.Timeout | undefined;
  private vacuumWanted = true;
  /** A vacuum run is under way: go on until no page is free. */
  private vacuuming = false;
  private walDirty = true;
  private closed = false;
  /**
   * Compacted prefixes whose rows are still to be deleted: gid -> delete entries with idx <= it.
   * The rows are dead as soon as the compaction commits (a log is read from its snapshot index
   * on), so deleting them a slice at a time loses nothing if the process stops half way.
   */
  private readonly trims = new Map<number, number>();

  // ---------------------------------------------------------------- open

  open(id: number, opts: WorkerOpenOptions): void {
    this.opts = opts;
    mkdirSync(opts.dataDir, { recursive: true });
    this.file = join(opts.dataDir, 'raft.db');
    const created = !existsSync(this.file) || statSync(this.file).size === 0;
    const warnings: StorageWarning[] = [];
    try {
      this.db = new Database(this.file);
    } catch (e) {
      throw this.sqliteError(e, 'cannot open the database');
    }
    const db = this.db;
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('busy_timeout = 0');
      if (created) {
        db.pragma('page_size = 4096');
        db.pragma('auto_vacuum = INCREMENTAL');
      }
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (String(mode).toLowerCase() !== 'wal') throw new StorageError('storage_failed', `${this.file}: cannot switch to WAL mode (got ${String(mode)})`);
      db.pragma('synchronous = FULL');
      db.pragma('wal_autocheckpoint = 0');
      db.pragma(`journal_size_limit = ${Math.max(0, Math.floor(opts.walCheckpointBytes))}`);
      db.pragma(`cache_size = -${Math.max(1024, Math.floor(opts.cacheKiB))}`);
      db.pragma('temp_store = MEMORY');
      // Take (and, in exclusive mode, keep) the write lock now: a second process fails here.
      db.exec('BEGIN IMMEDIATE; COMMIT');
    } catch (e) {
      if (isSqlite(e, 'SQLITE_BUSY')) {
        throw new StorageError('storage_failed', `${this.file} is in use by another process (or another store in this one); one process owns a data dir`);
      }
      throw this.sqliteError(e, 'cannot open the database');
    }
    try {
      db.exec(SCHEMA);
      const ver = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get('format_version') as string | undefined;
      if (ver === undefined) {
        const nonEmpty = db.prepare('SELECT 1 FROM groups LIMIT 1').get();
        if (nonEmpty && !created) throw new CorruptLogError(this.file, undefined, undefined, 'the format version record is missing');
        db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('format_version', String(FORMAT_VERSION));
      } else if (Number(ver) !== FORMAT_VERSION) {
        throw new StorageError('storage_failed', `${this.file} has log format version ${ver}; this build reads version ${FORMAT_VERSION}`);
      }
    } catch (e) {
      throw this.sqliteError(e, 'cannot read the schema');
    }
    if (Number(db.pragma('auto_vacuum', { simple: true })) !== 2) {
      warnings.push({
        code: 'not_incremental_vacuum',
        message: `${this.file} was created without auto_vacuum=INCREMENTAL; compaction frees pages for reuse but the file will not shrink`,
      });
    }

    let quickCheckMs: number | null = null;
    const size = fileSize(this.file);
    if (size <= opts.quickCheckMaxBytes) {
      const t = performance.now();
      let rows: { quick_check: string }[];
      try {
        rows = db.pragma('quick_check(20)') as { quick_check: string }[];
      } catch (e) {
        throw this.sqliteError(e, 'quick_check failed');
      }
      quickCheckMs = Math.round(performance.now() - t);
      const problems = rows.map((r) => r.quick_check).filter((m) => m !== 'ok');
      if (problems.length > 0) throw new CorruptLogError(this.file, undefined, undefined, `sqlite quick_check: ${problems.join('; ')}`);
    } else {
      warnings.push({
        code: 'integrity_check_skipped',
        message: `PRAGMA quick_check skipped: ${this.file} is ${Math.round(size / 1048576)} MiB (limit ${Math.round(opts.quickCheckMaxBytes / 1048576)} MiB); every log entry is still checksummed`,
      });
    }

    this.prepare();
    const t0 = performance.now();
    let result: ReturnType<Store['load']>;
    try {
      result = this.load(id);
    } catch (e) {
      throw this.sqliteError(e, 'cannot read the log');
    }
    const info: OpenInfo = {
      file: this.file,
      created,
      entries: result.entries,
      bytes: result.bytes,
      quickCheckMs,
      readMs: Math.round(performance.now() - t0),
    };
    post({ kind: 'loaded', id, warnings, info });
  }

  private prepare(): void {
    const db = this.db;
    this.st = {
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
      putSnap: db.prepare('INSERT OR REPLACE INTO snapshot_meta (gid, idx, term, conf_state, crc, batch) VALUES (?, ?, ?, ?, ?, ?)'),
      delSnap: db.prepare('DELETE FROM snapshot_meta WHERE gid = ?'),
      pageFast: db.prepare(PAGE_SQL_FAST).raw(true),
      pageFull: db.prepare(PAGE_SQL_FULL).raw(true),
    };
  }

  /**
   * Streams the metadata rows, then every group's entries after its snapshot in pages (one SQL
   * aggregate per page, see records.ts). The caller's thread verifies them (LogLoader) and builds
   * the entries while the next page is read, then sends 'ready' with any repairs to run.
   */
  private load(id: number): { entries: number; bytes: number } {
    const db = this.db;
    const meta: RawMeta = {
      groups: db.prepare('SELECT gid, name, type, crc, batch FROM groups ORDER BY gid').all() as RawGroupRow[],
      hardStates: db.prepare('SELECT gid, term, vote, commit_index, crc, batch FROM hard_state').all() as RawHardStateRow[],
      memberships: db.prepare('SELECT gid, conf_state, applied_index, crc, batch FROM membership').all() as RawMembershipRow[],
      snapshots: db.prepare('SELECT gid, idx, term, conf_state, crc, batch FROM snapshot_meta').all() as RawSnapshotRow[],
      orphanEntryGids: [],
    };
    const known = new Set(meta.groups.map((g) => g.gid));
    // A loose index scan (one seek per distinct gid) for entries that belong to no group.
    const nextGid = db.prepare('SELECT gid FROM entries WHERE gid > ? ORDER BY gid LIMIT 1').pluck();
    for (let gid = nextGid.get(-1) as number | undefined; gid !== undefined; gid = nextGid.get(gid) as number | undefined) {
      if (!known.has(gid)) meta.orphanEntryGids.push(gid);
    }
    for (const g of meta.groups) this.groups.set(g.name, { gid: g.gid, name: g.name, type: g.type, prefix: groupCrc(g.name) });
    post({ kind: 'meta', id, meta });
    if (meta.orphanEntryGids.length > 0) return { entries: 0, bytes: 0 };

    const snapIndex = new Map(meta.snapshots.map((r) => [r.gid, r.idx]));
    // Rows a compaction left behind when the process stopped before deleting all of them.
    for (const [gid, index] of snapIndex) {
      const first = this.st.firstIdx!.get(gid) as number | undefined;
      if (first !== undefined && first <= index) this.trims.set(gid, index);
    }
    const TARGET = 4 << 20;
    let n = 1024;
    let entries = 0;
    let bytes = 0;
    const full = this.opts.repairTornTail; // repair needs every row's batch
    // Small pages (many small groups) travel several to a message.
    let outbox: { gid: number; page: EntryPage }[] = [];
    let outboxTransfer: ArrayBuffer[] = [];
    let outboxBytes = 0;
    const flush = () => {
      if (outbox.length === 0) return;
      post({ kind: 'pages', id, pages: outbox }, outboxTransfer);
      outbox = [];
      outboxTransfer = [];
      outboxBytes = 0;
    };
    for (const g of meta.groups) {
      let after = snapIndex.get(g.gid) ?? 0;
      for (;;) {
        let page: EntryPage | undefined;
        let maxIdx = after;
        try {
          if (!full) {
            const r = this.st.pageFast!.get(g.gid, after, n) as [number, number, number, number, number, number, number, number, string | null, Buffer | null];
            const [count, minI, maxI, minTerm, maxTerm, minType, maxType, maxBatch, lens, blob] = r;
            if (!count) break;
            maxIdx = maxI;
            const lengths = count > 0 && lens !== null ? parseLengths(lens, count) : undefined;
            if (
              lengths &&
              blob &&
              minI === after + 1 &&
              maxI === after + count &&
              minTerm === maxTerm &&
              minType === maxType &&
              lengths.total + CRC_BYTES * count === blob.byteLength
            ) {
              page = { format: 'fast', count, maxBatch, first: minI, term: minTerm, type: minType, lengths: lengths.list, data: ownBuffer(blob) };
            }
          }
          if (!page) {
            const [count, maxI, maxBatch, blob] = this.st.pageFull!.get(g.gid, after, n) as [number, number | null, number | null, Buffer | null];
            if (!count) break;
            maxIdx = maxI!;
            page = { format: 'full', count, maxBatch: maxBatch ?? 0, data: blob ? ownBuffer(blob) : new ArrayBuffer(0) };
          }
        } catch (e) {
          if (isSqlite(e, 'SQLITE_TOOBIG') && n > 1) {
            n = Math.max(1, n >> 1);
            continue;
          }
          throw e;
        }
        const count = page.count;
        entries += count;
        bytes += page.data.byteLength;
        outbox.push({ gid: g.gid, page });
        outboxTransfer.push(page.data);
        if (page.format === 'fast') outboxTransfer.push(page.lengths.buffer as ArrayBuffer);
        outboxBytes += page.data.byteLength;
        if (outboxBytes >= 1 << 20) flush();
        const requested = n;
        n = Math.max(16, Math.min(65536, Math.floor(TARGET / Math.max(1, bytes / entries))));
        if (count < requested) break;
        after = maxIdx;
      }
    }
    flush();
    return { entries, bytes };
  }

  /** After open: runs the repairs the loader allowed (one transaction); then writes may come. */
  ready(repairs: RepairOp[], lastBatch: number): void {
    this.batchSeq = lastBatch;
    if (repairs.length > 0) {
      const byGid = new Map([...this.groups.values()].map((g) => [g.gid, g]));
      this.db.transaction(() => {
        for (const r of repairs) {
          const g = byGid.get(r.gid);
          if (!g) throw new StorageError('storage_failed', `a repair names an unknown group (gid ${r.gid})`);
          if (r.deleteFrom !== undefined) this.st.delFrom!.run(r.gid, r.deleteFrom);
          if (r.hardState) {
            const hs = r.hardState;
            this.st.putHs!.run(r.gid, hs.term, hs.vote, hs.commit, rowCrc(g.prefix, hsText(hs)), lastBatch);
          }
        }
      })();
    }
    this.scheduleMaintenance();
  }

  // ---------------------------------------------------------------- write

  write(req: Extract<WorkerRequest, { kind: 'write' }>): void {
    const batch = ++this.batchSeq;
    const data = Buffer.from(req.data);
    const { terms, types, ends } = req;
    const crcs = Buffer.allocUnsafe(terms.length * CRC_BYTES);
    const st = this.st;
    let compacted = false;
    const removedNames: string[] = [];
    const added: GroupRow[] = [];
    const retyped: [GroupRow, string][] = [];
    const lookup = (name: string): GroupRow | undefined => {
      for (let i = added.length - 1; i >= 0; i--) if (added[i]!.name === name) return added[i];
      if (removedNames.includes(name)) return undefined;
      return this.groups.get(name);
    };
    const tx = this.db.transaction((ops: WireOp[]) => {
      for (const op of ops) {
        let g = lookup(op.group);
        if (!g && op.remove) continue; // nothing stored, and whatever else this op holds goes too
        if (!g) {
          const prefix = groupCrc(op.group);
          const type = op.type ?? '';
          const info = st.insGroup!.run(op.group, type, rowCrc(prefix, type), batch);
          g = { gid: Number(info.lastInsertRowid), name: op.group, type, prefix };
          added.push(g);
        } else if (op.type !== undefined && op.type !== g.type) {
          st.updGroup!.run(op.type, rowCrc(g.prefix, op.type), batch, g.gid);
          retyped.push([g, op.type]);
        }
        const gid = g.gid;
        if (op.snapshot) {
          this.trims.delete(gid);
          st.delAll!.run(gid);
          const cs = confJson(op.snapshot.confState);
          st.putSnap!.run(gid, op.snapshot.index, op.snapshot.term, cs, rowCrc(g.prefix, snapText(op.snapshot.index, op.snapshot.term, cs)), batch);
        }
        if (op.count > 0) {
          st.delFrom!.run(gid, op.first);
          let start = op.at === 0 ? 0 : ends[op.at - 1]!;
          for (let i = 0; i < op.count; i++) {
            const k = op.at + i;
            const end = ends[k]!;
            const d = data.subarray(start, end);
            const idx = op.first + i;
            const term = terms[k]!;
            const type = types[k]!;
            const crc = crcs.subarray(k * CRC_BYTES, k * CRC_BYTES + CRC_BYTES);
            crc.writeUInt32BE(entryCrc(g.prefix, idx, term, type, d), 0);
            st.insEntry!.run(gid, idx, term, type, d, crc, batch);
            start = end;
          }
        }
        if (op.hardState) {
          const hs = op.hardState;
          st.putHs!.run(gid, hs.term, hs.vote, hs.commit, rowCrc(g.prefix, hsText(hs)), batch);
        }
        if (op.membership) {
          const cs = confJson(op.membership.confState);
          st.putMember!.run(gid, cs, op.membership.appliedIndex, rowCrc(g.prefix, membershipText(cs, op.membership.appliedIndex)), batch);
        }
        if (op.compact) {
          const s = op.compact.snapshot;
          this.trims.set(gid, Math.max(this.trims.get(gid) ?? 0, op.compact.compactTo));
          const cs = confJson(s.confState);
          st.putSnap!.run(gid, s.index, s.term, cs, rowCrc(g.prefix, snapText(s.index, s.term, cs)), batch);
          compacted = true;
        }
        if (op.remove) {
          this.trims.delete(gid);
          st.delAll!.run(gid);
          st.delHs!.run(gid);
          st.delMember!.run(gid);
          st.delSnap!.run(gid);
          st.delGroup!.run(gid);
          const i = added.indexOf(g);
          if (i >= 0) added.splice(i, 1);
          else removedNames.push(op.group);
          compacted = true;
        }
      }
      if (this.trims.size > 0) this.trimStep(TRIM_ROWS_PER_WRITE);
    });
    tx(req.ops);
    // Committed: mirror the group rows.
    for (const name of removedNames) this.groups.delete(name);
    for (const g of added) this.groups.set(g.name, g);
    for (const [g, type] of retyped) g.type = type;
    if (compacted) this.vacuumWanted = true;
    this.walDirty = true;
    this.lastWriteAt = performance.now();
  }

  /** Deletes up to `budget` compacted rows (inside the caller's transaction); returns how many. */
  private trimStep(budget: number): number {
    let deleted = 0;
    for (const [gid, upTo] of this.trims) {
      if (deleted >= budget) break;
      const first = this.st.firstIdx!.get(gid) as number | undefined;
      if (first === undefined || first > upTo) {
        this.trims.delete(gid);
        continue;
      }
      const through = Math.min(upTo, first + (budget - deleted) - 1);
      deleted += this.st.delTo!.run(gid, through).changes;
      if (through >= upTo) this.trims.delete(gid);
    }
    if (deleted > 0) this.vacuumWanted = true;
    return deleted;
  }

  /** After a write was answered: a PASSIVE checkpoint if the WAL grew large, then idle maintenance. */
  afterWrite(): void {
    if (fileSize(this.file + '-wal') > this.opts.walCheckpointBytes) {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    }
    this.scheduleMaintenance();
  }

  // ---------------------------------------------------------------- maintenance

  private scheduleMaintenance(): void {
    if (this.closed || this.maintenanceTimer) return;
    if (!this.vacuumWanted && !this.walDirty && this.trims.size === 0) return;
    this.maintenanceTimer = setTimeout(() => {
      this.maintenanceTimer = undefined;
      this.maintenanceStep();
    }, this.opts.maintenanceIdleMs);
  }

  /** One bounded step; yields to incoming requests in between, and backs off while writes flow. */
  private maintenanceStep(): void {
    if (this.closed) return;
    const quiet = performance.now() - this.lastWriteAt;
    if (quiet < this.opts.maintenanceIdleMs) {
      this.maintenanceTimer = setTimeout(() => {
        this.maintenanceTimer = undefined;
        this.maintenanceStep();
      }, this.opts.maintenanceIdleMs - quiet + 1);
      return;
    }
    try {
      if (this.trims.size > 0) {
        this.db.transaction(() => this.trimStep(TRIM_ROWS_PER_STEP))();
        this.walDirty = true;
        this.maintenanceTimer = setTimeout(() => {
          this.maintenanceTimer = undefined;
          this.maintenanceStep();
        }, 0);
        return;
      }
      if (this.vacuumWanted) {
        // Decide once whether enough is free to be worth it, then release every free page.
        const freed = this.vacuumStep(this.vacuuming);
        this.vacuuming = freed > 0;
        if (freed > 0) {
          this.maintenanceTimer = setTimeout(() => {
            this.maintenanceTimer = undefined;
            this.maintenanceStep();
          }, 0);
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

  close(): void {
    this.closed = true;
    if (this.maintenanceTimer) clearTimeout(this.maintenanceTimer);
    this.maintenanceTimer = undefined;
    if (!this.db) return;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }

  closeQuietly(): void {
    this.closed = true;
    if (this.maintenanceTimer) clearTimeout(this.maintenanceTimer);
    try {
      if (this.db?.open) this.db.close();
    } catch {
      // already failing; the caller reports the original error
    }
  }

  private sqliteError(e: unknown, what: string): Error {
    if (e instanceof CorruptLogError || e instanceof StorageError) return e;
    if (isSqlite(e, 'SQLITE_CORRUPT') || isSqlite(e, 'SQLITE_NOTADB')) {
      return new CorruptLogError(this.file, undefined, undefined, `${what}: ${(e as Error).message}`);
    }
    return new StorageError('storage_failed', `${this.file}: ${what}: ${(e as Error).message ?? String(e)}`);
  }
}

/** A Buffer's bytes as a transferable ArrayBuffer of their own (no copy when it already is one). */
function ownBuffer(b: Buffer): ArrayBuffer {
  if (b.byteOffset === 0 && b.buffer.byteLength === b.byteLength) return b.buffer as ArrayBuffer;
  const out = new ArrayBuffer(b.byteLength);
  new Uint8Array(out).set(b);
  return out;
}

/** Parses SQLite's comma-separated list of `count` non-negative integers; undefined if malformed. */
function parseLengths(text: string, count: number): { list: Uint32Array; total: number } | undefined {
  const list = new Uint32Array(count);
  let total = 0;
  let k = 0;
  let v = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const ch = i < text.length ? text.charCodeAt(i) : 44;
    if (ch === 44) {
      if (digits === 0 || k >= count) return undefined;
      list[k++] = v;
      total += v;
      v = 0;
      digits = 0;
    } else if (ch >= 48 && ch <= 57 && digits < 10) {
      v = v * 10 + (ch - 48);
      digits++;
    } else return undefined;
  }
  return k === count ? { list, total } : undefined;
}

function isSqlite(e: unknown, code: string): boolean {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' && c.startsWith(code);
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
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
        store.write(req);
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
