// The store's size as the replicas count it: a sum over the rows the store holds, kept in the
// state table and changed by each entry, so every replica computes the same number (the file's
// size differs from node to node: pages, free lists, WAL). The quota and the NOSPACE alarm are
// decided on it, never on the file.
import type { PutRequest, RequestOp, TxnRequest } from '../api/etcd-types.js';

/** Bytes counted per row beyond its key and value (the revisions, version, lease, the b-tree's share). */
export const ROW_OVERHEAD = 64;
/** Bytes counted per lease. */
export const LEASE_COST = 64;
/** etcd's default quota (--quota-backend-bytes): 2 GiB. */
export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;

export function rowCost(keyBytes: number, valueBytes: number): number {
  return keyBytes + valueBytes + ROW_OVERHEAD;
}

/** A put adds a history row and (re)writes the live row. */
export function putCost(p: Pick<PutRequest, 'key' | 'value'>): number {
  return 2 * rowCost(p.key.length, p.value.length);
}

function opsCost(ops: readonly RequestOp[]): number {
  let n = 0;
  for (const op of ops) {
    if ('put' in op) n += putCost(op.put);
    else if ('txn' in op) n += txnCost(op.txn);
  }
  return n;
}

/** As etcd's quota: the dearer of the two branches (0 for a txn without puts, which NOSPACE lets through). */
export function txnCost(t: TxnRequest): number {
  return Math.max(opsCost(t.success), opsCost(t.failure));
}
