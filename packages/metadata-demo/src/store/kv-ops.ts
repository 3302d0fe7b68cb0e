// etcd's Put, DeleteRange and Txn applied to the store, inside one entry's transaction. A
// refused operation throws a MetaError, which rolls the whole entry back: a txn takes effect
// whole or not at all, as etcd's prechecks make it.
import type { DeleteRangeRequest, PutRequest, TxnRequest } from '../api/etcd-types.js';
import { MetaError } from '../api/meta-error.js';
import type { EntryWriter, RevisionWriter } from './entry-writer.js';
import { boundsOf } from './key-range.js';
import { kvBytes, type MvccStore } from './mvcc-store.js';
import type { DeleteRangeResult, OpResult, PutResult, TxnResult } from './store-types.js';

/** The most bytes of kvs the ranges of one txn answer together (they travel in the entry's result). */
export const TXN_RANGE_BYTES = 4 * 1024 * 1024;

function putIn(store: MvccStore, w: RevisionWriter, p: PutRequest): PutResult {
  const prev = w.get(p.key);
  if ((p.ignoreValue || p.ignoreLease) && !prev) throw new MetaError('key_not_found');
  const value = p.ignoreValue ? prev!.value : p.value;
  const lease = p.ignoreLease ? prev!.lease : p.lease;
  if (lease !== 0n && !store.lease(lease)) throw new MetaError('lease_not_found');
  w.put(p.key, value, lease);
  return p.prevKv && prev ? { revision: w.rev, prevKv: prev } : { revision: w.rev };
}

function deleteIn(w: RevisionWriter, d: DeleteRangeRequest): DeleteRangeResult {
  const gone = w.deleteRange(boundsOf(d));
  return { revision: w.current, deleted: gone.length, prevKvs: d.prevKv ? gone : [] };
}

export function applyPut(store: MvccStore, e: EntryWriter, p: PutRequest): PutResult {
  return e.revision((w) => putIn(store, w, p));
}

export function applyDeleteRange(e: EntryWriter, d: DeleteRangeRequest): DeleteRangeResult {
  return e.revision((w) => deleteIn(w, d));
}

/** Which branch each txn takes, nested ones included, decided on the state before any of its writes (as etcd's compareToPath). */
interface TxnPath {
  succeeded: boolean;
  /** For each txn among the chosen branch's ops, in order. */
  nested: TxnPath[];
}

function pathOf(store: MvccStore, t: TxnRequest): TxnPath {
  const succeeded = t.compare.every((c) => store.compareHolds(c));
  const ops = succeeded ? t.success : t.failure;
  const nested: TxnPath[] = [];
  for (const op of ops) if ('txn' in op) nested.push(pathOf(store, op.txn));
  return { succeeded, nested };
}

function execTxn(store: MvccStore, w: RevisionWriter, t: TxnRequest, path: TxnPath, budget: { bytes: number }): TxnResult {
  const ops = path.succeeded ? t.success : t.failure;
  let nested = 0;
  const responses: OpResult[] = ops.map((op): OpResult => {
    if ('range' in op) {
      const r = w.range(op.range, Math.max(budget.bytes, 0));
      for (const kv of r.kvs) budget.bytes -= kvBytes(kv);
      return { range: r };
    }
    if ('put' in op) return { put: putIn(store, w, op.put) };
    if ('deleteRange' in op) return { deleteRange: deleteIn(w, op.deleteRange) };
    return { txn: execTxn(store, w, op.txn, path.nested[nested++]!, budget) };
  });
  return { revision: w.current, succeeded: path.succeeded, responses };
}

/** A txn: one revision for all its changes (none if it changes nothing). */
export function applyTxn(store: MvccStore, e: EntryWriter, t: TxnRequest): TxnResult {
  return e.revision((w) => execTxn(store, w, t, pathOf(store, t), { bytes: TXN_RANGE_BYTES }));
}

/** A txn without puts or deletes (nested ones included): it writes nothing and takes no revision. */
export function isReadOnlyTxn(t: TxnRequest): boolean {
  return [...t.success, ...t.failure].every((op) => 'range' in op || ('txn' in op && isReadOnlyTxn(op.txn)));
}

/** Every range of a read-only txn asks for a serializable read: no linearizable barrier first (etcd's isTxnSerializable). */
export function isSerializableTxn(t: TxnRequest): boolean {
  return [...t.success, ...t.failure].every((op) => ('range' in op && op.range.serializable) || ('txn' in op && isSerializableTxn(op.txn)));
}

function readTxn(store: MvccStore, t: TxnRequest, path: TxnPath, budget: { bytes: number }): TxnResult {
  const ops = path.succeeded ? t.success : t.failure;
  let nested = 0;
  const responses: OpResult[] = ops.map((op): OpResult => {
    if ('range' in op) {
      const r = store.range(op.range, { maxBytes: Math.max(budget.bytes, 0) });
      for (const kv of r.kvs) budget.bytes -= kvBytes(kv);
      return { range: r };
    }
    if ('txn' in op) return { txn: readTxn(store, op.txn, path.nested[nested++]!, budget) };
    throw new MetaError('internal', 'etcdserver: a write in a read-only txn');
  });
  return { revision: store.counters.revision, succeeded: path.succeeded, responses };
}

/** A read-only txn answered from this node's state, as etcd serves one after its linearizable read. */
export function readOnlyTxn(store: MvccStore, t: TxnRequest, maxBytes: number): TxnResult {
  return readTxn(store, t, pathOf(store, t), { bytes: maxBytes });
}
