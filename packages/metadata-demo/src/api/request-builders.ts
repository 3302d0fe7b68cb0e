// etcd requests with etcd's defaults filled in, for code that speaks MetaBackend directly (the
// recipes, tests, embedders): only the fields that matter are spelled out at the call site.
import type { Compare, CompareResult, DeleteRangeRequest, PutRequest, RangeRequest, TxnRequest, WatchCreateRequest } from './etcd-types.js';

const EMPTY = Buffer.alloc(0);

export function bytes(key: string | Uint8Array): Buffer {
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
}

/** The range_end that covers every key starting with `prefix` (etcd's clientv3.GetPrefixRangeEnd). */
export function prefixEnd(prefix: string | Uint8Array): Buffer {
  const end = Buffer.from(bytes(prefix));
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  // All 0xff (or empty): every key from the prefix on.
  return Buffer.from([0]);
}

export function rangeRequest(key: string | Uint8Array, o: Partial<RangeRequest> = {}): RangeRequest {
  return {
    key: bytes(key),
    rangeEnd: EMPTY,
    limit: 0,
    revision: 0,
    sortOrder: 'none',
    sortTarget: 'key',
    serializable: false,
    keysOnly: false,
    countOnly: false,
    minModRevision: 0,
    maxModRevision: 0,
    minCreateRevision: 0,
    maxCreateRevision: 0,
    ...o,
  };
}

/** Every key under `prefix`. */
export function prefixRange(prefix: string | Uint8Array, o: Partial<RangeRequest> = {}): RangeRequest {
  return rangeRequest(prefix, { rangeEnd: prefixEnd(prefix), ...o });
}

export function putRequest(key: string | Uint8Array, value: string | Uint8Array, o: Partial<PutRequest> = {}): PutRequest {
  return { key: bytes(key), value: bytes(value), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false, ...o };
}

export function deleteRequest(key: string | Uint8Array, o: Partial<DeleteRangeRequest> = {}): DeleteRangeRequest {
  return { key: bytes(key), rangeEnd: EMPTY, prevKv: false, ...o };
}

type CompareOperand = { createRevision: number } | { modRevision: number } | { version: number } | { value: string | Uint8Array } | { lease: bigint };

/** A compare on one key: `compare('k', 'equal', { createRevision: 0 })` is "k does not exist". */
export function compare(key: string | Uint8Array, result: CompareResult, operand: CompareOperand): Compare {
  const c: Compare = { key: bytes(key), rangeEnd: EMPTY, result, target: 'version', version: 0, createRevision: 0, modRevision: 0, value: EMPTY, lease: 0n };
  if ('createRevision' in operand) return { ...c, target: 'create', createRevision: operand.createRevision };
  if ('modRevision' in operand) return { ...c, target: 'mod', modRevision: operand.modRevision };
  if ('version' in operand) return { ...c, target: 'version', version: operand.version };
  if ('value' in operand) return { ...c, target: 'value', value: bytes(operand.value) };
  return { ...c, target: 'lease', lease: operand.lease };
}

export function txnRequest(o: Partial<TxnRequest>): TxnRequest {
  return { compare: [], success: [], failure: [], ...o };
}

export function watchRequest(key: string | Uint8Array, o: Partial<WatchCreateRequest> = {}): WatchCreateRequest {
  return { key: bytes(key), rangeEnd: EMPTY, startRevision: 0, progressNotify: false, filters: [], prevKv: false, watchId: 0, fragment: false, ...o };
}
