// The checks etcd makes before a request reaches its store (etcd's api/v3rpc/key.go): empty
// keys, ignore_value/ignore_lease with a value or lease, too many operations in a txn, a key
// written twice in one txn. The node checks them before proposing; the machine checks the ones
// that do not depend on a flag again, so an entry proposed some other way cannot break the
// store's one-change-per-key-per-revision rule.
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from '../api/etcd-types.js';
import { MetaError } from '../api/meta-error.js';
import { boundsOf, inBounds, type KeyBounds } from './key-range.js';

/** etcd's --max-txn-ops default. */
export const DEFAULT_MAX_TXN_OPS = 128;
/** Deepest nesting of txns taken (etcd has no limit beyond the op count; the recursion here needs one). */
export const MAX_TXN_DEPTH = 64;

export function checkRange(r: Pick<RangeRequest, 'key'>): void {
  if (r.key.length === 0) throw new MetaError('empty_key');
}

export function checkPut(p: PutRequest): void {
  if (p.key.length === 0) throw new MetaError('empty_key');
  if (p.ignoreValue && p.value.length !== 0) throw new MetaError('value_provided');
  if (p.ignoreLease && p.lease !== 0n) throw new MetaError('lease_provided');
}

export function checkDeleteRange(d: DeleteRangeRequest): void {
  if (d.key.length === 0) throw new MetaError('empty_key');
}

function checkOp(op: RequestOp, maxOps: number, depth: number): void {
  if ('range' in op) checkRange(op.range);
  else if ('put' in op) checkPut(op.put);
  else if ('deleteRange' in op) checkDeleteRange(op.deleteRange);
  else checkTxnShape(op.txn, maxOps, depth + 1);
}

/** etcd's checkTxnRequest: the widest of compares/success/failure counts against the budget, which nested txns share. */
function checkTxnShape(t: TxnRequest, maxOps: number, depth: number): void {
  if (depth > MAX_TXN_DEPTH) throw new MetaError('invalid_argument', `etcdserver: txns nested deeper than ${MAX_TXN_DEPTH}`);
  const opc = Math.max(t.compare.length, t.success.length, t.failure.length);
  if (opc > maxOps) throw new MetaError('too_many_ops');
  for (const c of t.compare) if (c.key.length === 0) throw new MetaError('empty_key');
  for (const op of t.success) checkOp(op, maxOps - opc, depth);
  for (const op of t.failure) checkOp(op, maxOps - opc, depth);
}

interface Writes {
  /** Keys put, by their hex (the bytes too, to test against the deletes). */
  puts: Map<string, Buffer>;
  dels: KeyBounds[];
}

const deleted = (dels: readonly KeyBounds[], key: Buffer): boolean => dels.some((d) => inBounds(d, key));

/**
 * etcd's checkIntervals: in one list of ops, no key may be put twice, nor put and deleted; the
 * puts of a nested txn count with their parent's (a key put in both branches of one nested txn
 * is fine: only one branch runs). Deletes may overlap each other.
 */
function checkIntervals(ops: readonly RequestOp[]): Writes {
  const dels: KeyBounds[] = [];
  for (const op of ops) if ('deleteRange' in op) dels.push(boundsOf(op.deleteRange));
  const puts = new Map<string, Buffer>();
  for (const op of ops) {
    if (!('txn' in op)) continue;
    const then = checkIntervals(op.txn.success);
    const other = checkIntervals(op.txn.failure);
    for (const [k, key] of then.puts) {
      if (puts.has(k) || deleted(dels, key)) throw new MetaError('duplicate_key');
      puts.set(k, key);
    }
    for (const [k, key] of other.puts) {
      if (puts.has(k) && !then.puts.has(k)) throw new MetaError('duplicate_key');
      if (deleted(dels, key)) throw new MetaError('duplicate_key');
      puts.set(k, key);
    }
    dels.push(...then.dels, ...other.dels);
  }
  for (const op of ops) {
    if (!('put' in op)) continue;
    const k = op.put.key.toString('hex');
    if (puts.has(k) || deleted(dels, op.put.key)) throw new MetaError('duplicate_key');
    puts.set(k, op.put.key);
  }
  return { puts, dels };
}

/** Every check etcd makes on a txn before it is proposed; `maxOps` Infinity skips the op count (a flag of the receiving node). */
export function checkTxn(t: TxnRequest, maxOps: number): void {
  checkTxnShape(t, maxOps, 0);
  // After the shape, as etcd does, so a huge txn is refused before the quadratic part.
  checkIntervals(t.success);
  checkIntervals(t.failure);
}
