// etcd's key range encodings, turned into bounds a SQL query can take. SQLite compares BLOBs
// with memcmp and then by length, which is Go's bytes.Compare: the order etcd's keys have.
import type { KeyRange } from '../api/etcd-types.js';

/**
 * `single`: exactly `from`; `open`: every key >= `from`; `span`: [from, to). A `span` whose end
 * is not after its start holds nothing (etcd answers such a range with no keys).
 */
export type KeyBounds = { kind: 'single'; from: Buffer } | { kind: 'open'; from: Buffer } | { kind: 'span'; from: Buffer; to: Buffer };

/** etcd: range_end empty is the one key; range_end "\0" is every key >= key (key "\0" too: all keys). */
export function boundsOf(r: KeyRange): KeyBounds {
  if (r.rangeEnd.length === 0) return { kind: 'single', from: r.key };
  if (r.rangeEnd.length === 1 && r.rangeEnd[0] === 0) return { kind: 'open', from: r.key };
  return { kind: 'span', from: r.key, to: r.rangeEnd };
}

/** Whether `key` lies in the bounds (the same rule the SQL applies). */
export function inBounds(b: KeyBounds, key: Buffer): boolean {
  switch (b.kind) {
    case 'single':
      return Buffer.compare(key, b.from) === 0;
    case 'open':
      return Buffer.compare(key, b.from) >= 0;
    case 'span':
      return Buffer.compare(key, b.from) >= 0 && Buffer.compare(key, b.to) < 0;
  }
}

/** The SQL condition on column `col` for the bounds, and its parameters (in order). */
export function keyCondition(b: KeyBounds, col = 'key'): { sql: string; params: Buffer[] } {
  switch (b.kind) {
    case 'single':
      return { sql: `${col} = ?`, params: [b.from] };
    case 'open':
      return { sql: `${col} >= ?`, params: [b.from] };
    case 'span':
      return { sql: `${col} >= ? AND ${col} < ?`, params: [b.from, b.to] };
  }
}

/** A span whose end is not after its start: no key lies in it. */
function isEmpty(b: KeyBounds): boolean {
  return b.kind === 'span' && Buffer.compare(b.to, b.from) <= 0;
}

/** Two key ranges share a key (etcd's interval check for duplicate keys in a txn). */
export function overlaps(a: KeyBounds, b: KeyBounds): boolean {
  if (a.kind === 'single') return inBounds(b, a.from);
  if (b.kind === 'single') return inBounds(a, b.from);
  if (isEmpty(a) || isEmpty(b)) return false;
  // Two intervals [from, to) (to absent: unbounded) meet when each starts before the other ends.
  const bStartsBeforeAEnds = a.kind === 'open' || Buffer.compare(b.from, a.to) < 0;
  const aStartsBeforeBEnds = b.kind === 'open' || Buffer.compare(a.from, b.to) < 0;
  return bStartsBeforeAEnds && aStartsBeforeBEnds;
}
