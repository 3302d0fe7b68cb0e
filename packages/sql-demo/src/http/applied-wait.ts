// Read-after-write across nodes: a write answers the index of its log entry; a read that carries
// it (?raft_index=N, or the header X-Raftkit-Applied-Index: N) waits on whichever node serves it
// until that node has applied entry N, so it sees the write.
import type { IncomingHttpHeaders } from 'node:http';
import { parseGoQueryString } from '../rqlite/go/go-query-string.js';
import { HttpFailure } from './http-failure.js';

export const APPLIED_INDEX_HEADER = 'x-raftkit-applied-index';
/** Only without a `when` (a caller that cannot be notified): how often `applied()` is asked. */
const POLL_MS = 5;

function positiveIndex(v: string | undefined, where: string): number | undefined {
  if (v === undefined || v === '' || v === 'true') return undefined;
  if (!/^\d{1,15}$/.test(v)) throw new HttpFailure('bad_request', `${where} must be a log index (a positive integer), got ${JSON.stringify(v.slice(0, 40))}`);
  const n = Number(v);
  return n > 0 ? n : undefined;
}

/** The index a read must wait for, from ?raft_index=N (rqlite's flag, given a value) or the header; undefined when none. */
export function appliedIndexToWaitFor(rawQuery: string, headers: IncomingHttpHeaders): number | undefined {
  const fromQuery = positiveIndex(parseGoQueryString(rawQuery).get('raft_index'), 'raft_index');
  const header = headers[APPLIED_INDEX_HEADER];
  const fromHeader = positiveIndex(Array.isArray(header) ? header[0] : header, 'X-Raftkit-Applied-Index');
  if (fromQuery === undefined) return fromHeader;
  return fromHeader === undefined ? fromQuery : Math.max(fromQuery, fromHeader);
}

/**
 * Resolves once `applied()` reaches `index`; HttpFailure 503 after `timeoutMs`. `when` (the
 * service's whenApplied for the group) is told of the apply instead of polling `applied()`.
 */
export async function waitForApplied(applied: () => number, index: number, timeoutMs: number, when?: (index: number, timeoutMs: number) => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  if (when && applied() < index && !(await when(index, timeoutMs))) {
    throw new HttpFailure('timeout', `this node has applied up to ${applied()} and not yet ${index} after ${timeoutMs} ms; retry, or read from the leader`);
  }
  while (applied() < index) {
    if (Date.now() >= deadline)
      throw new HttpFailure('timeout', `this node has applied up to ${applied()} and not yet ${index} after ${timeoutMs} ms; retry, or read from the leader`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
