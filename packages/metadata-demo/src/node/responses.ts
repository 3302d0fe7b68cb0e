// The store's results as etcd's responses: each with its header (this node's ids and term, and
// the revision the result carries).
import type { DeleteRangeResponse, PutResponse, RangeResponse, ResponseHeader, ResponseOp, TxnResponse } from '../api/etcd-types.js';
import type { DeleteRangeResult, OpResult, PutResult, RangeResult, TxnResult } from '../store/store-types.js';

export type HeaderOf = (revision: number) => ResponseHeader;

export function rangeResponse(h: HeaderOf, r: RangeResult): RangeResponse {
  return { header: h(r.revision), kvs: r.kvs, more: r.more, count: r.count };
}

export function putResponse(h: HeaderOf, r: PutResult): PutResponse {
  return r.prevKv ? { header: h(r.revision), prevKv: r.prevKv } : { header: h(r.revision) };
}

export function deleteRangeResponse(h: HeaderOf, r: DeleteRangeResult): DeleteRangeResponse {
  return { header: h(r.revision), deleted: r.deleted, prevKvs: r.prevKvs };
}

function responseOp(h: HeaderOf, r: OpResult): ResponseOp {
  if ('range' in r) return { range: rangeResponse(h, r.range) };
  if ('put' in r) return { put: putResponse(h, r.put) };
  if ('deleteRange' in r) return { deleteRange: deleteRangeResponse(h, r.deleteRange) };
  return { txn: txnResponse(h, r.txn) };
}

/** etcd fills only the revision in the headers of a txn's responses. */
const innerHeader: HeaderOf = (revision) => ({ clusterId: 0n, memberId: 0n, revision, raftTerm: 0 });

export function txnResponse(h: HeaderOf, r: TxnResult): TxnResponse {
  return { header: h(r.revision), succeeded: r.succeeded, responses: r.responses.map((x) => responseOp(innerHeader, x)) };
}
