// Rows as better-sqlite3 answers them (the connection reads every integer as a bigint, so lease
// ids keep their 64 bits) and the etcd KeyValue they stand for.
import type { KeyValue } from '../api/etcd-types.js';

export const EMPTY = Buffer.alloc(0);

export interface KvRow {
  key: Buffer;
  create_rev: bigint;
  mod_rev: bigint;
  version: bigint;
  value: Buffer;
  lease: bigint;
}

export interface HistoryRow {
  rev: bigint;
  sub: bigint;
  key: Buffer;
  tomb: bigint;
  create_rev: bigint;
  version: bigint;
  value: Buffer;
  lease: bigint;
}

export function kvOfRow(r: KvRow): KeyValue {
  return { key: r.key, createRevision: Number(r.create_rev), modRevision: Number(r.mod_rev), version: Number(r.version), value: r.value, lease: r.lease };
}

/** A history row as the key's state after it: undefined for a delete. */
export function kvOfHistory(r: HistoryRow): KeyValue | undefined {
  if (r.tomb !== 0n) return undefined;
  return { key: r.key, createRevision: Number(r.create_rev), modRevision: Number(r.rev), version: Number(r.version), value: r.value, lease: r.lease };
}

/** What a delete event's kv holds in etcd: the key and the deleting revision, nothing else. */
export function tombstoneKv(key: Buffer, rev: number): KeyValue {
  return { key, createRevision: 0, modRevision: rev, version: 0, value: EMPTY, lease: 0n };
}
