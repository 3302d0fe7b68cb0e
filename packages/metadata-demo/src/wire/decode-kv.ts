// KV requests from the wire into the etcd types, with the checks etcd's API layer makes before a
// request reaches its store (v3rpc/key.go): a key is required, ignore_value/ignore_lease exclude
// a value/lease, a txn has at most maxTxnOps compares and ops per branch (nested txns share the
// budget) and writes no key twice, and every op of a txn is set.
import type { CompactionRequest, Compare, DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from '../api/etcd-types.js';
import { MetaError } from '../api/meta-error.js';
import { COMPARE_RESULTS, COMPARE_TARGETS, SORT_ORDERS, SORT_TARGETS, enumName } from './enums.js';
import { toBigInt, toNumber } from './int64.js';
import { checkTxnIntervals } from './txn-intervals.js';
import type { WireCompactionRequest, WireCompare, WireDeleteRangeRequest, WirePutRequest, WireRangeRequest, WireRequestOp, WireTxnRequest } from './wire-types.js';

const EMPTY = Buffer.alloc(0);

function bytes(v: Buffer | null | undefined): Buffer {
  return v ?? EMPTY;
}

function requireKey(key: Buffer | null | undefined): Buffer {
  if (!key || key.length === 0) throw new MetaError('empty_key');
  return key;
}

export function decodeRange(w: WireRangeRequest): RangeRequest {
  const key = requireKey(w.key);
  const sortOrder = enumName(SORT_ORDERS, w.sort_order);
  const sortTarget = enumName(SORT_TARGETS, w.sort_target);
  if (sortOrder === undefined || sortTarget === undefined) throw new MetaError('invalid_sort_option');
  return {
    key,
    rangeEnd: bytes(w.range_end),
    // etcd reads "<= 0" as "no limit" and "the current revision".
    limit: Math.max(0, toNumber(w.limit)),
    revision: Math.max(0, toNumber(w.revision)),
    sortOrder,
    sortTarget,
    serializable: w.serializable === true,
    keysOnly: w.keys_only === true,
    countOnly: w.count_only === true,
    minModRevision: toNumber(w.min_mod_revision),
    maxModRevision: toNumber(w.max_mod_revision),
    minCreateRevision: toNumber(w.min_create_revision),
    maxCreateRevision: toNumber(w.max_create_revision),
  };
}

export function decodePut(w: WirePutRequest): PutRequest {
  const key = requireKey(w.key);
  const value = bytes(w.value);
  const lease = toBigInt(w.lease);
  if (w.ignore_value === true && value.length !== 0) throw new MetaError('value_provided');
  if (w.ignore_lease === true && lease !== 0n) throw new MetaError('lease_provided');
  return { key, value, lease, prevKv: w.prev_kv === true, ignoreValue: w.ignore_value === true, ignoreLease: w.ignore_lease === true };
}

export function decodeDeleteRange(w: WireDeleteRangeRequest): DeleteRangeRequest {
  return { key: requireKey(w.key), rangeEnd: bytes(w.range_end), prevKv: w.prev_kv === true };
}

function decodeCompare(w: WireCompare): Compare {
  const key = requireKey(w.key);
  const result = enumName(COMPARE_RESULTS, w.result);
  const target = enumName(COMPARE_TARGETS, w.target);
  if (result === undefined) throw new MetaError('invalid_argument', `etcdserver: invalid argument: unknown compare result ${String(w.result)}`);
  if (target === undefined) throw new MetaError('invalid_argument', `etcdserver: invalid argument: unknown compare target ${String(w.target)}`);
  return {
    key,
    rangeEnd: bytes(w.range_end),
    result,
    target,
    version: toNumber(w.version),
    createRevision: toNumber(w.create_revision),
    modRevision: toNumber(w.mod_revision),
    value: bytes(w.value),
    lease: toBigInt(w.lease),
  };
}

function decodeOp(w: WireRequestOp | null, budget: number): RequestOp {
  // The member the oneof names; a gateway request names none, so take the one that is set.
  if (w?.request_range) return { range: decodeRange(w.request_range) };
  if (w?.request_put) return { put: decodePut(w.request_put) };
  if (w?.request_delete_range) return { deleteRange: decodeDeleteRange(w.request_delete_range) };
  if (w?.request_txn) return { txn: decodeTxnWithin(w.request_txn, budget) };
  // etcd's answer to an empty op.
  throw new MetaError('key_not_found');
}

function decodeTxnWithin(w: WireTxnRequest, maxOps: number): TxnRequest {
  const compares = w.compare ?? [];
  const success = w.success ?? [];
  const failure = w.failure ?? [];
  const ops = Math.max(compares.length, success.length, failure.length);
  if (ops > maxOps) throw new MetaError('too_many_ops');
  const compare = compares.map(decodeCompare);
  return {
    compare,
    success: success.map((op) => decodeOp(op, maxOps - ops)),
    failure: failure.map((op) => decodeOp(op, maxOps - ops)),
  };
}

/** A txn as etcd checks it: op counts, then compares and ops in order, then duplicate writes. */
export function decodeTxn(w: WireTxnRequest, maxTxnOps: number): TxnRequest {
  const txn = decodeTxnWithin(w, maxTxnOps);
  checkTxnIntervals(txn.success, txn.failure);
  return txn;
}

export function decodeCompaction(w: WireCompactionRequest): CompactionRequest {
  return { revision: toNumber(w.revision), physical: w.physical === true };
}
