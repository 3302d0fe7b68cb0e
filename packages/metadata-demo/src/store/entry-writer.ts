// The writes of one log entry, inside the store's transaction. Key changes happen in revisions:
// `revision(f)` gives f the next revision; if f changed any key the store's revision becomes it,
// with f's changes as its sub-revisions in order (etcd's txn: one revision, many changes). Leases,
// alarms and members change no revision, as in etcd.
import type { KeyValue, RangeRequest } from '../api/etcd-types.js';
import { MetaError } from '../api/meta-error.js';
import { keyCondition, type KeyBounds } from './key-range.js';
import type { MvccStore } from './mvcc-store.js';
import { LEASE_COST, rowCost } from './quota.js';
import { EMPTY, kvOfRow, tombstoneKv, type KvRow } from './rows.js';
import type { AlarmRecord, ChangeEvent, MemberRecord, RangeResult, RevisionChanges } from './store-types.js';

export class RevisionWriter {
  readonly events: ChangeEvent[] = [];
  private sub = 0;

  constructor(
    private readonly store: MvccStore,
    /** The revision this writer's changes get. */
    readonly rev: number,
  ) {}

  /** The revision a read inside sees: this one once something changed, else the one before. */
  get current(): number {
    return this.events.length > 0 ? this.rev : this.rev - 1;
  }

  get(key: Buffer): KeyValue | undefined {
    return this.store.get(key);
  }

  /** A range that sees this revision's own changes (etcd's ranges inside a txn do). */
  range(r: RangeRequest, maxBytes: number): RangeResult {
    return this.store.range(r, { maxBytes, current: this.current });
  }

  /** Puts `key`; answers what it replaced. */
  put(key: Buffer, value: Buffer, lease: bigint): KeyValue | undefined {
    const prev = this.store.get(key);
    const kv: KeyValue = { key, createRevision: prev ? prev.createRevision : this.rev, modRevision: this.rev, version: prev ? prev.version + 1 : 1, value, lease };
    this.store
      .stmt(
        'INSERT INTO kv (key, create_rev, mod_rev, version, value, lease) VALUES (?, ?, ?, ?, ?, ?) ' +
          'ON CONFLICT (key) DO UPDATE SET create_rev = excluded.create_rev, mod_rev = excluded.mod_rev, version = excluded.version, value = excluded.value, lease = excluded.lease',
      )
      .run(key, kv.createRevision, kv.modRevision, kv.version, value, lease);
    this.store
      .stmt('INSERT INTO history (rev, sub, key, tomb, create_rev, version, value, lease) VALUES (?, ?, ?, 0, ?, ?, ?, ?)')
      .run(this.rev, this.sub++, key, kv.createRevision, kv.version, value, lease);
    // The history row, plus the live row's growth.
    this.store.counters.sizeBytes += rowCost(key.length, value.length) + rowCost(key.length, value.length) - (prev ? rowCost(prev.key.length, prev.value.length) : 0);
    this.events.push(prev ? { type: 'put', kv, prevKv: prev } : { type: 'put', kv });
    return prev;
  }

  /** Deletes a key known to exist (`prev` is its current state). */
  deleteKey(prev: KeyValue): void {
    this.store.stmt('DELETE FROM kv WHERE key = ?').run(prev.key);
    this.store.stmt('INSERT INTO history (rev, sub, key, tomb, create_rev, version, value, lease) VALUES (?, ?, ?, 1, 0, 0, ?, 0)').run(this.rev, this.sub++, prev.key, EMPTY);
    this.store.counters.sizeBytes += rowCost(prev.key.length, 0) - rowCost(prev.key.length, prev.value.length);
    this.events.push({ type: 'delete', kv: tombstoneKv(prev.key, this.rev), prevKv: prev });
  }

  /** Deletes every key in the range, in key order; answers what was deleted. */
  deleteRange(bounds: KeyBounds): KeyValue[] {
    if (bounds.kind === 'span' && Buffer.compare(bounds.to, bounds.from) <= 0) return [];
    const k = keyCondition(bounds);
    // Read whole before deleting: the connection runs no statement while another iterates.
    const rows = this.store.stmt(`SELECT key, create_rev, mod_rev, version, value, lease FROM kv WHERE ${k.sql} ORDER BY key`).all(...k.params) as KvRow[];
    const gone = rows.map(kvOfRow);
    for (const kv of gone) this.deleteKey(kv);
    return gone;
  }
}

export class EntryWriter {
  readonly changes: RevisionChanges[] = [];

  constructor(private readonly store: MvccStore) {}

  /** Runs `f` as one revision (see the file's comment). */
  revision<T>(f: (w: RevisionWriter) => T): T {
    const w = new RevisionWriter(this.store, this.store.counters.revision + 1);
    const out = f(w);
    if (w.events.length > 0) {
      this.store.counters.revision = w.rev;
      this.changes.push({ revision: w.rev, events: w.events });
    }
    return out;
  }

  /**
   * etcd's compaction: each key keeps its latest change at or below `rev` when that change is a
   * put, and everything after `rev`; the rest of the history goes. Reads and watches at `rev`
   * and later still work; below it they answer `compacted`.
   */
  compact(rev: number): void {
    const c = this.store.counters;
    if (rev <= c.compactRevision) throw new MetaError('compacted');
    if (rev > c.revision) throw new MetaError('future_rev');
    const doomed = 'rev < ? AND (tomb = 1 OR rev < (SELECT max(h2.rev) FROM history AS h2 WHERE h2.key = history.key AND h2.rev <= ?))';
    const freed = this.store.stmt(`SELECT coalesce(sum(length(key) + length(value)), 0) AS bytes, count(*) AS n FROM history WHERE ${doomed}`).get(rev, rev) as {
      bytes: bigint;
      n: bigint;
    };
    this.store.stmt(`DELETE FROM history WHERE ${doomed}`).run(rev, rev);
    c.sizeBytes -= Number(freed.bytes) + Number(freed.n) * rowCost(0, 0);
    c.compactRevision = rev;
  }

  leaseInsert(id: bigint, ttl: number, now: number): void {
    this.store.stmt('INSERT INTO leases (id, ttl, renewed_at, expires_at) VALUES (?, ?, ?, ?)').run(id, ttl, now, now + ttl * 1000);
    this.store.counters.sizeBytes += LEASE_COST;
  }

  /** Sets the lease's renewal to `now` (its expiry follows). */
  leaseRenew(id: bigint, ttl: number, now: number): void {
    this.store.stmt('UPDATE leases SET renewed_at = ?, expires_at = ? WHERE id = ?').run(now, now + ttl * 1000, id);
  }

  leaseDelete(id: bigint): void {
    this.store.stmt('DELETE FROM leases WHERE id = ?').run(id);
    this.store.counters.sizeBytes -= LEASE_COST;
  }

  /** Answers whether the alarm was not active before. */
  alarmActivate(memberId: bigint, alarm: AlarmRecord['alarm']): boolean {
    this.store.alarmsChanged();
    return this.store.stmt('INSERT OR IGNORE INTO alarms (member_id, alarm) VALUES (?, ?)').run(memberId.toString(), alarm).changes > 0;
  }

  /** Answers whether the alarm was active. */
  alarmDeactivate(memberId: bigint, alarm: AlarmRecord['alarm']): boolean {
    this.store.alarmsChanged();
    return this.store.stmt('DELETE FROM alarms WHERE member_id = ? AND alarm = ?').run(memberId.toString(), alarm).changes > 0;
  }

  memberUpsert(m: MemberRecord): void {
    this.store
      .stmt(
        'INSERT INTO members (id, name, peer_urls, client_urls, http_urls) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (id) DO UPDATE SET name = excluded.name, peer_urls = excluded.peer_urls, client_urls = excluded.client_urls, http_urls = excluded.http_urls',
      )
      .run(m.id, m.name, JSON.stringify(m.peerUrls), JSON.stringify(m.clientUrls), JSON.stringify(m.httpUrls));
  }
}
