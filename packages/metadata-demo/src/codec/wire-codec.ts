// Between etcd's messages (Buffers, bigints) and their JSON form (wire-types.ts). Decoding
// assumes input that passed wire-schema.ts's checks (the machine's argument classes run them).
import type { Compare, DeleteRangeRequest, KeyValue, PutRequest, RangeRequest, RequestOp, TxnRequest } from '../api/etcd-types.js';
import { EMPTY } from '../store/rows.js';
import type { ChangeEvent, DeleteRangeResult, OpResult, PutResult, RangeResult, TxnResult } from '../store/store-types.js';
import type {
  B64,
  Int64,
  WireCompare,
  WireDeleteRange,
  WireDeleteRangeResult,
  WireEvent,
  WireKeyValue,
  WireOp,
  WireOpResult,
  WirePut,
  WirePutResult,
  WireRange,
  WireRangeResult,
  WireTxn,
  WireTxnResult,
} from './wire-types.js';

export const b64 = (b: Buffer): B64 => b.toString('base64');
export const unb64 = (s: B64 | undefined): Buffer => (s === undefined || s.length === 0 ? EMPTY : Buffer.from(s, 'base64'));
export const int64 = (n: bigint): Int64 => n.toString();
export const unint64 = (s: Int64 | undefined): bigint => (s === undefined ? 0n : BigInt(s));

/** Leaves a default value out of the JSON. */
function set<T extends object, K extends keyof T>(o: T, k: K, v: T[K], isDefault: boolean): void {
  if (!isDefault) o[k] = v;
}

// ---------------------------------------------------------------- kvs and events

export function encodeKv(kv: KeyValue): WireKeyValue {
  return { key: b64(kv.key), createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version, value: b64(kv.value), lease: int64(kv.lease) };
}

export function decodeKv(w: WireKeyValue): KeyValue {
  return { key: unb64(w.key), createRevision: w.createRevision, modRevision: w.modRevision, version: w.version, value: unb64(w.value), lease: unint64(w.lease) };
}

export function encodeEvent(e: ChangeEvent): WireEvent {
  return e.prevKv ? { type: e.type, kv: encodeKv(e.kv), prevKv: encodeKv(e.prevKv) } : { type: e.type, kv: encodeKv(e.kv) };
}

// ---------------------------------------------------------------- requests

export function encodeRange(r: RangeRequest): WireRange {
  const w: WireRange = { key: b64(r.key) };
  set(w, 'rangeEnd', b64(r.rangeEnd), r.rangeEnd.length === 0);
  set(w, 'limit', r.limit, r.limit === 0);
  set(w, 'revision', r.revision, r.revision === 0);
  set(w, 'sortOrder', r.sortOrder, r.sortOrder === 'none');
  set(w, 'sortTarget', r.sortTarget, r.sortTarget === 'key');
  set(w, 'keysOnly', true, !r.keysOnly);
  set(w, 'countOnly', true, !r.countOnly);
  set(w, 'minModRevision', r.minModRevision, r.minModRevision === 0);
  set(w, 'maxModRevision', r.maxModRevision, r.maxModRevision === 0);
  set(w, 'minCreateRevision', r.minCreateRevision, r.minCreateRevision === 0);
  set(w, 'maxCreateRevision', r.maxCreateRevision, r.maxCreateRevision === 0);
  return w;
}

export function decodeRange(w: WireRange): RangeRequest {
  return {
    key: unb64(w.key),
    rangeEnd: unb64(w.rangeEnd),
    limit: w.limit ?? 0,
    revision: w.revision ?? 0,
    sortOrder: w.sortOrder ?? 'none',
    sortTarget: w.sortTarget ?? 'key',
    serializable: false,
    keysOnly: w.keysOnly === true,
    countOnly: w.countOnly === true,
    minModRevision: w.minModRevision ?? 0,
    maxModRevision: w.maxModRevision ?? 0,
    minCreateRevision: w.minCreateRevision ?? 0,
    maxCreateRevision: w.maxCreateRevision ?? 0,
  };
}

export function encodePut(p: PutRequest): WirePut {
  const w: WirePut = { key: b64(p.key) };
  set(w, 'value', b64(p.value), p.value.length === 0);
  set(w, 'lease', int64(p.lease), p.lease === 0n);
  set(w, 'prevKv', true, !p.prevKv);
  set(w, 'ignoreValue', true, !p.ignoreValue);
  set(w, 'ignoreLease', true, !p.ignoreLease);
  return w;
}

export function decodePut(w: WirePut): PutRequest {
  return {
    key: unb64(w.key),
    value: unb64(w.value),
    lease: unint64(w.lease),
    prevKv: w.prevKv === true,
    ignoreValue: w.ignoreValue === true,
    ignoreLease: w.ignoreLease === true,
  };
}

export function encodeDeleteRange(d: DeleteRangeRequest): WireDeleteRange {
  const w: WireDeleteRange = { key: b64(d.key) };
  set(w, 'rangeEnd', b64(d.rangeEnd), d.rangeEnd.length === 0);
  set(w, 'prevKv', true, !d.prevKv);
  return w;
}

export function decodeDeleteRange(w: WireDeleteRange): DeleteRangeRequest {
  return { key: unb64(w.key), rangeEnd: unb64(w.rangeEnd), prevKv: w.prevKv === true };
}

/** Only the operand of the compare's target travels (etcd's target_union). */
export function encodeCompare(c: Compare): WireCompare {
  const w: WireCompare = { key: b64(c.key), result: c.result, target: c.target };
  set(w, 'rangeEnd', b64(c.rangeEnd), c.rangeEnd.length === 0);
  switch (c.target) {
    case 'version':
      set(w, 'version', c.version, c.version === 0);
      break;
    case 'create':
      set(w, 'createRevision', c.createRevision, c.createRevision === 0);
      break;
    case 'mod':
      set(w, 'modRevision', c.modRevision, c.modRevision === 0);
      break;
    case 'value':
      set(w, 'value', b64(c.value), c.value.length === 0);
      break;
    case 'lease':
      set(w, 'lease', int64(c.lease), c.lease === 0n);
      break;
  }
  return w;
}

export function decodeCompare(w: WireCompare): Compare {
  return {
    key: unb64(w.key),
    rangeEnd: unb64(w.rangeEnd),
    result: w.result,
    target: w.target,
    version: w.version ?? 0,
    createRevision: w.createRevision ?? 0,
    modRevision: w.modRevision ?? 0,
    value: unb64(w.value),
    lease: unint64(w.lease),
  };
}

export function encodeOp(op: RequestOp): WireOp {
  if ('range' in op) return { range: encodeRange(op.range) };
  if ('put' in op) return { put: encodePut(op.put) };
  if ('deleteRange' in op) return { deleteRange: encodeDeleteRange(op.deleteRange) };
  return { txn: encodeTxn(op.txn) };
}

export function decodeOp(w: WireOp): RequestOp {
  if ('range' in w) return { range: decodeRange(w.range) };
  if ('put' in w) return { put: decodePut(w.put) };
  if ('deleteRange' in w) return { deleteRange: decodeDeleteRange(w.deleteRange) };
  return { txn: decodeTxn(w.txn) };
}

export function encodeTxn(t: TxnRequest): WireTxn {
  const w: WireTxn = {};
  set(w, 'compare', t.compare.map(encodeCompare), t.compare.length === 0);
  set(w, 'success', t.success.map(encodeOp), t.success.length === 0);
  set(w, 'failure', t.failure.map(encodeOp), t.failure.length === 0);
  return w;
}

export function decodeTxn(w: WireTxn): TxnRequest {
  return { compare: (w.compare ?? []).map(decodeCompare), success: (w.success ?? []).map(decodeOp), failure: (w.failure ?? []).map(decodeOp) };
}

// ---------------------------------------------------------------- results

export function encodeRangeResult(r: RangeResult): WireRangeResult {
  return { revision: r.revision, kvs: r.kvs.map(encodeKv), more: r.more, count: r.count };
}

export function decodeRangeResult(w: WireRangeResult): RangeResult {
  return { revision: w.revision, kvs: w.kvs.map(decodeKv), more: w.more, count: w.count };
}

export function encodePutResult(r: PutResult): WirePutResult {
  return r.prevKv ? { revision: r.revision, prevKv: encodeKv(r.prevKv) } : { revision: r.revision };
}

export function decodePutResult(w: WirePutResult): PutResult {
  return w.prevKv ? { revision: w.revision, prevKv: decodeKv(w.prevKv) } : { revision: w.revision };
}

export function encodeDeleteRangeResult(r: DeleteRangeResult): WireDeleteRangeResult {
  return { revision: r.revision, deleted: r.deleted, prevKvs: r.prevKvs.map(encodeKv) };
}

export function decodeDeleteRangeResult(w: WireDeleteRangeResult): DeleteRangeResult {
  return { revision: w.revision, deleted: w.deleted, prevKvs: w.prevKvs.map(decodeKv) };
}

function encodeOpResult(r: OpResult): WireOpResult {
  if ('range' in r) return { range: encodeRangeResult(r.range) };
  if ('put' in r) return { put: encodePutResult(r.put) };
  if ('deleteRange' in r) return { deleteRange: encodeDeleteRangeResult(r.deleteRange) };
  return { txn: encodeTxnResult(r.txn) };
}

function decodeOpResult(w: WireOpResult): OpResult {
  if ('range' in w) return { range: decodeRangeResult(w.range) };
  if ('put' in w) return { put: decodePutResult(w.put) };
  if ('deleteRange' in w) return { deleteRange: decodeDeleteRangeResult(w.deleteRange) };
  return { txn: decodeTxnResult(w.txn) };
}

export function encodeTxnResult(r: TxnResult): WireTxnResult {
  return { revision: r.revision, succeeded: r.succeeded, responses: r.responses.map(encodeOpResult) };
}

export function decodeTxnResult(w: WireTxnResult): TxnResult {
  return { revision: w.revision, succeeded: w.succeeded, responses: w.responses.map(decodeOpResult) };
}
