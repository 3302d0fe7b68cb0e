// The one owner of a metadata store's SQLite connection: the file in the machine's folder (WAL,
// synchronous=NORMAL: the raft log covers a crash), the counters kept inside it, entries applied
// in shared transactions (entry-batch.ts), reads, and the pinned copies snapshots are made from.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { backupSqlitePin, pinSqliteFile, releaseSqlitePin, replaceSqliteFile, syncSqliteWal, type PinnedSqliteFile } from '@raftkit/framework/storage';
import type { Compare, KeyValue, RangeRequest } from '../api/etcd-types.js';
import { MetaError } from '../api/meta-error.js';
import { compareKv } from './compare.js';
import { EntryBatch } from './entry-batch.js';
import { EntryWriter } from './entry-writer.js';
import { boundsOf, keyCondition, type KeyBounds } from './key-range.js';
import { rangeSql } from './range-query.js';
import { EMPTY, kvOfHistory, kvOfRow, tombstoneKv, type HistoryRow, type KvRow } from './rows.js';
import { createSchema, DATABASE_FILE, STATE_KEYS } from './schema.js';
import type { AlarmRecord, LeaseRecord, MemberRecord, RangeResult, RevisionChanges, StoreCounters, StoredEvent } from './store-types.js';

/** A read transaction on a second, read-only connection: the state as it was when it was taken. */
export type PinnedState = PinnedSqliteFile;

/** How much of the history one page of a watch's catch-up reads (the last revision is always read whole). */
export interface PageLimits {
  maxEvents: number;
  maxBytes: number;
}

/** Bytes a kv counts for in an answer's size cap (its key, value and fixed fields). */
export const kvBytes = (kv: { key: Buffer; value: Buffer }): number => kv.key.length + kv.value.length + 48;

interface LeaseRow {
  id: bigint;
  ttl: bigint;
  renewed_at: bigint;
  expires_at: bigint;
}

export class MvccStore {
  private db: Database.Database | undefined;
  private dir = '';
  private readonly statements = new Map<string, Database.Statement>();
  /** The applied state's counters; written to `state` when the batch holding them commits. */
  counters: StoreCounters = { appliedIndex: 0, revision: 1, compactRevision: 0, sizeBytes: 0, clusterId: 0n };
  /** The alarms table, read once: every put checks the NOSPACE alarm. */
  private alarmCache: AlarmRecord[] | undefined;
  private readonly batch = new EntryBatch(
    (sql) => this.stmt(sql),
    () => this.db?.inTransaction === true,
    () => this.saveCounters(),
  );

  get file(): string {
    return join(this.dir, DATABASE_FILE);
  }

  get isOpen(): boolean {
    return this.db !== undefined;
  }

  /** Opens (creating) the store in `dir`; answers the index of the last entry it holds. */
  open(dir: string): number {
    this.dir = dir;
    const db = new Database(this.file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.defaultSafeIntegers(true);
      createSchema(db);
      this.db = db;
      this.batch.reset();
      this.alarmCache = undefined;
      this.loadCounters();
      return this.counters.appliedIndex;
    } catch (e) {
      this.db = undefined;
      db.close();
      throw e;
    }
  }

  /** Commits the open batch (unless entries were lost: the log applies them again) and closes. */
  close(): void {
    try {
      if (this.db && !this.batch.lost) this.batch.commit();
    } finally {
      this.batch.reset();
      this.statements.clear();
      this.db?.close();
      this.db = undefined;
    }
  }

  private conn(): Database.Database {
    // A read between the close and the reopen of a snapshot install: the caller retries.
    if (!this.db) throw new MetaError('timeout', 'etcdserver: the store is not open (a snapshot is being installed); retry');
    return this.db;
  }

  /** A statement compiled once per connection. Refused once entries were lost (the state is behind what was answered). */
  stmt(sql: string): Database.Statement {
    this.batch.throwIfLost();
    let s = this.statements.get(sql);
    if (!s) {
      s = this.conn().prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private loadCounters(): void {
    const rows = this.stmt('SELECT name, value FROM state').all() as { name: string; value: bigint }[];
    const v = new Map(rows.map((r) => [r.name, r.value]));
    this.counters = {
      appliedIndex: Number(v.get('applied_index') ?? 0n),
      revision: Number(v.get('revision') ?? 1n),
      compactRevision: Number(v.get('compact_revision') ?? 0n),
      sizeBytes: Number(v.get('size_bytes') ?? 0n),
      clusterId: v.get('cluster_id') ?? 0n,
    };
  }

  private saveCounters(): void {
    const c = this.counters;
    const values: Record<(typeof STATE_KEYS)[number], number | bigint> = {
      applied_index: c.appliedIndex,
      revision: c.revision,
      compact_revision: c.compactRevision,
      size_bytes: c.sizeBytes,
      cluster_id: c.clusterId,
    };
    const update = this.stmt('UPDATE state SET value = ? WHERE name = ?');
    for (const k of STATE_KEYS) update.run(values[k], k);
  }

  // ---------------------------------------------------------------- entries

  /**
   * Applies one log entry inside the open batch; the batch's COMMIT writes the applied index with
   * the effects, so the file never holds effects without the index that produced them, nor the
   * index without them. A throw undoes this entry alone (the counters too) and propagates.
   */
  entry<T>(index: number, body: (e: EntryWriter) => T): { result: T; changes: RevisionChanges[] } {
    this.conn();
    const before = { ...this.counters };
    try {
      return this.batch.run(() => {
        const writer = new EntryWriter(this);
        const result = body(writer);
        this.counters.appliedIndex = index;
        return { result, changes: writer.changes };
      });
    } catch (e) {
      this.counters = before;
      this.alarmCache = undefined;
      throw e;
    }
  }

  /** Commits the entries applied so far: before anything that reads the file, not the connection. */
  settle(): void {
    this.batch.commit();
  }

  /**
   * Makes every committed entry durable, for the framework to compact the raft log without a copy
   * of the database. synchronous=NORMAL leaves WAL commits unsynced until a checkpoint; a commit
   * with synchronous=FULL fsyncs the WAL, and every commit before it with it. The commit must
   * write a page to happen at all (SQLite writes no frame for a row rewritten with the same
   * bytes): the applied index goes negative and back inside one transaction.
   */
  sync(): void {
    this.settle();
    syncSqliteWal(this.conn(), "UPDATE state SET value = -value WHERE name = 'applied_index'");
  }

  // ---------------------------------------------------------------- reads

  get(key: Buffer): KeyValue | undefined {
    const row = this.stmt('SELECT key, create_rev, mod_rev, version, value, lease FROM kv WHERE key = ?').get(key) as KvRow | undefined;
    return row ? kvOfRow(row) : undefined;
  }

  /**
   * etcd's Range, answered by iterating SQLite: at most `limit` kvs and, past the first, at most
   * `maxBytes` of them (then `more`). `current` is the revision the reader sees (inside a txn,
   * the one being written once it changed something).
   */
  range(r: RangeRequest, o: { maxBytes: number; current?: number }): RangeResult {
    const current = o.current ?? this.counters.revision;
    const rev = r.revision > 0 ? r.revision : current;
    if (rev > current) throw new MetaError('future_rev');
    if (rev < this.counters.compactRevision) throw new MetaError('compacted');
    const bounds = boundsOf(r);
    if (bounds.kind === 'span' && Buffer.compare(bounds.to, bounds.from) <= 0) return { revision: current, kvs: [], more: false, count: 0 };
    const q = rangeSql(r, bounds, rev === current ? undefined : rev);
    const count = Number((this.stmt(q.count.sql).get(...q.count.params) as { n: bigint }).n);
    if (r.countOnly) return { revision: current, kvs: [], more: false, count };
    const kvs: KeyValue[] = [];
    let bytes = 0;
    let more = false;
    for (const row of this.stmt(q.rows.sql).iterate(...q.rows.params) as IterableIterator<Omit<KvRow, 'value'> & { v: Buffer }>) {
      if (r.limit > 0 && kvs.length === r.limit) {
        more = true;
        break;
      }
      const kv = kvOfRow({ ...row, value: row.v });
      const size = kvBytes(kv);
      // The size cap (a difference from etcd, which has none): what fits, and `more`; never nothing.
      if (kvs.length > 0 && bytes + size > o.maxBytes) {
        more = true;
        break;
      }
      bytes += size;
      kvs.push(kv);
    }
    return { revision: current, kvs, more, count };
  }

  /** etcd's applyCompare on the current keyspace: every key in the range satisfies it; no key compares as a zero kv (a value compare then fails). */
  compareHolds(c: Compare): boolean {
    const bounds = boundsOf(c);
    const k = keyCondition(bounds);
    let any = false;
    for (const row of this.stmt(`SELECT key, create_rev, mod_rev, version, value, lease FROM kv WHERE ${k.sql} ORDER BY key`).iterate(...k.params) as IterableIterator<KvRow>) {
      any = true;
      if (!compareKv(c, kvOfRow(row))) return false;
    }
    if (any) return true;
    if (c.target === 'value') return false;
    return compareKv(c, { key: c.key, createRevision: 0, modRevision: 0, version: 0, value: EMPTY, lease: 0n });
  }

  /**
   * Changes with revisions in [from, to] to keys in `bounds`, in (revision, sub) order, as one
   * page of a watch's catch-up: it stops after `limits` but always ends with a whole revision.
   * `through` is the last revision the page covers (the watch goes on from through + 1).
   */
  eventsPage(bounds: KeyBounds, from: number, to: number, limits: PageLimits): { events: StoredEvent[]; through: number } {
    const k = keyCondition(bounds);
    const events: StoredEvent[] = [];
    let bytes = 0;
    let stopAt: number | undefined;
    let through = to;
    const sql = `SELECT rev, sub, key, tomb, create_rev, version, value, lease FROM history WHERE rev >= ? AND rev <= ? AND ${k.sql} ORDER BY rev, sub`;
    for (const row of this.stmt(sql).iterate(from, to, ...k.params) as IterableIterator<HistoryRow>) {
      const rev = Number(row.rev);
      if (stopAt !== undefined && rev > stopAt) {
        through = stopAt;
        break;
      }
      const kv = kvOfHistory(row);
      events.push(kv ? { revision: rev, type: 'put', kv } : { revision: rev, type: 'delete', kv: tombstoneKv(row.key, rev) });
      bytes += row.key.length + row.value.length + 48;
      if (stopAt === undefined && (events.length >= limits.maxEvents || bytes >= limits.maxBytes)) stopAt = rev;
    }
    return { events, through };
  }

  /** The key's state just before revision `rev` (undefined: absent, or compacted away). */
  previousKv(key: Buffer, rev: number): KeyValue | undefined {
    const row = this.stmt('SELECT rev, sub, key, tomb, create_rev, version, value, lease FROM history WHERE key = ? AND rev < ? ORDER BY rev DESC LIMIT 1').get(key, rev) as
      HistoryRow | undefined;
    return row ? kvOfHistory(row) : undefined;
  }

  // ---------------------------------------------------------------- leases, alarms, members

  lease(id: bigint): LeaseRecord | undefined {
    const row = this.stmt('SELECT id, ttl, renewed_at, expires_at FROM leases WHERE id = ?').get(id) as LeaseRow | undefined;
    return row ? { id: row.id, ttl: Number(row.ttl), renewedAt: Number(row.renewed_at), expiresAt: Number(row.expires_at) } : undefined;
  }

  leaseIds(): bigint[] {
    return (this.stmt('SELECT id FROM leases ORDER BY id').all() as { id: bigint }[]).map((r) => r.id);
  }

  /** The keys attached to a lease, in key order. */
  leaseKeys(id: bigint): Buffer[] {
    return (this.stmt('SELECT key FROM kv WHERE lease = ? ORDER BY key').all(id) as { key: Buffer }[]).map((r) => r.key);
  }

  /** Leases whose expiry is at or before `now` (entry time), soonest first. */
  expiredLeases(now: number, limit: number): bigint[] {
    return (this.stmt('SELECT id FROM leases WHERE expires_at <= ? ORDER BY expires_at, id LIMIT ?').all(now, limit) as { id: bigint }[]).map((r) => r.id);
  }

  alarms(): AlarmRecord[] {
    this.alarmCache ??= (this.stmt('SELECT member_id, alarm FROM alarms ORDER BY member_id, alarm').all() as { member_id: string; alarm: AlarmRecord['alarm'] }[]).map((r) => ({
      memberId: BigInt(r.member_id),
      alarm: r.alarm,
    }));
    return [...this.alarmCache];
  }

  hasAlarm(alarm: AlarmRecord['alarm']): boolean {
    return this.alarms().some((a) => a.alarm === alarm);
  }

  /** The alarms table changed: read it again when next asked. */
  alarmsChanged(): void {
    this.alarmCache = undefined;
  }

  members(): MemberRecord[] {
    const rows = this.stmt('SELECT id, name, peer_urls, client_urls, http_urls FROM members ORDER BY id').all() as {
      id: bigint;
      name: string;
      peer_urls: string;
      client_urls: string;
      http_urls: string;
    }[];
    return rows.map((r) => ({
      id: Number(r.id),
      name: r.name,
      peerUrls: JSON.parse(r.peer_urls) as string[],
      clientUrls: JSON.parse(r.client_urls) as string[],
      httpUrls: JSON.parse(r.http_urls) as string[],
    }));
  }

  /** This node's file: its size on disk (with the WAL) and the bytes of its pages in use. */
  fileBytes(): { size: number; inUse: number } {
    const size = (f: string) => (existsSync(f) ? statSync(f).size : 0);
    const db = this.conn();
    const pages = Number(db.pragma('page_count', { simple: true }) as bigint);
    const free = Number(db.pragma('freelist_count', { simple: true }) as bigint);
    const pageSize = Number(db.pragma('page_size', { simple: true }) as bigint);
    return { size: size(this.file) + size(`${this.file}-wal`), inUse: (pages - free) * pageSize };
  }

  // ---------------------------------------------------------------- snapshots

  /** Pins the state as of now (the last applied entry): a read transaction on a read-only connection. */
  pin(): PinnedState {
    this.settle();
    return pinSqliteFile(this.file);
  }

  release(pinned: PinnedState): void {
    releaseSqlitePin(pinned);
  }

  /** Writes the pinned state to `file` (SQLite's online backup) and releases the pin. */
  savePinned(pinned: PinnedState, file: string): Promise<void> {
    return backupSqlitePin(pinned, file);
  }

  /** Replaces the store by a snapshot file (which holds its own applied index and counters). */
  async recover(file: string): Promise<void> {
    this.close();
    await replaceSqliteFile(this.file, file);
    this.open(this.dir);
  }
}
