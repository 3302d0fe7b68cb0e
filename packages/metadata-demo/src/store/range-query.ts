// The SQL of a range: the keyspace at the current revision (the `kv` table) or at a past one
// (each key's latest history row at or below it, when that row is not a delete), etcd's
// min/max revision filters, and its sort rules. The rows are iterated, never loaded whole: the
// caller stops at the limit or the byte cap.
import type { RangeRequest, SortOrder, SortTarget } from '../api/etcd-types.js';
import { keyCondition, type KeyBounds } from './key-range.js';

export interface RangeSql {
  /** count(*) of the keys in the range at the revision, before the revision filters (etcd's count). */
  count: { sql: string; params: unknown[] };
  /** The rows in the answer's order: key, create_rev, mod_rev, version, value, lease. */
  rows: { sql: string; params: unknown[] };
}

const SORT_COLUMNS: Record<SortTarget, string> = { key: 'key', version: 'version', create: 'create_rev', mod: 'mod_rev', value: 'value' };

/**
 * etcd's order: by key ascending when nothing is asked; sort_order NONE with a target other
 * than KEY sorts ascending by that target (etcd's apply.go does exactly this). Ties are broken by
 * key ascending here (etcd's sort is not stable: its tie order is unspecified).
 */
export function orderBy(order: SortOrder, target: SortTarget): string {
  if (target === 'key') return order === 'descend' ? 'key DESC' : 'key ASC';
  const col = SORT_COLUMNS[target];
  return order === 'descend' ? `${col} DESC, key ASC` : `${col} ASC, key ASC`;
}

/** The source of rows at revision `rev`: the live table, or the history as it stood then. */
function source(bounds: KeyBounds, rev: number | undefined): { sql: string; params: unknown[] } {
  const k = keyCondition(bounds);
  if (rev === undefined) return { sql: `SELECT key, create_rev, mod_rev, version, value, lease FROM kv WHERE ${k.sql}`, params: k.params };
  // SQLite takes the bare columns of a max() aggregate from the row that has the max: each
  // key's latest change at or below `rev`. A delete there means the key did not exist then.
  return {
    sql:
      'SELECT key, create_rev, mod_rev, version, value, lease FROM (' +
      `SELECT key, max(rev) AS mod_rev, tomb, create_rev, version, value, lease FROM history WHERE ${k.sql} AND rev <= ? GROUP BY key` +
      ') WHERE tomb = 0',
    params: [...k.params, rev],
  };
}

/** `atRevision` undefined: the current keyspace. */
export function rangeSql(r: RangeRequest, bounds: KeyBounds, atRevision: number | undefined): RangeSql {
  const src = source(bounds, atRevision);
  const filters: string[] = [];
  const params: unknown[] = [...src.params];
  // etcd prunes with these after counting: the count stays the whole range's.
  const filter = (cond: string, bound: number) => {
    if (bound <= 0) return;
    filters.push(cond);
    params.push(bound);
  };
  filter('mod_rev >= ?', r.minModRevision);
  filter('mod_rev <= ?', r.maxModRevision);
  filter('create_rev >= ?', r.minCreateRevision);
  filter('create_rev <= ?', r.maxCreateRevision);
  // An alias other than "value": ORDER BY value must sort by the stored value even for keys_only.
  const value = r.keysOnly ? "x'' AS v" : 'value AS v';
  let sql = `SELECT key, create_rev, mod_rev, version, ${value}, lease FROM (${src.sql})`;
  if (filters.length > 0) sql += ` WHERE ${filters.join(' AND ')}`;
  sql += ` ORDER BY ${orderBy(r.sortOrder, r.sortTarget)}`;
  // One more than asked: whether there are more is part of the answer.
  if (r.limit > 0) {
    sql += ' LIMIT ?';
    params.push(r.limit + 1);
  }
  return { count: { sql: `SELECT count(*) AS n FROM (${src.sql})`, params: src.params }, rows: { sql, params } };
}
