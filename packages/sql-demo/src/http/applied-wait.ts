// Read-after-write across nodes: a write answers the index of its log entry; a read that carries
// it (?raft_index=N, or the header X-Raftkit-Applied-Index: N) waits on whichever node serves it
// until that node has applied entry N, so it sees the write.
import type { IncomingHttpHeaders } from 'node:http';
import { parseGoQueryString } from '../rqlite/go/go-query-string.js';
import { APPLIED_INDEX_HEADER } from '@raftkit/framework/api';
import type { NodeRaftService } from '@raftkit/framework/server';
import { HttpFailure } from './http-failure.js';

export { APPLIED_INDEX_HEADER };

/** How often waitForApplied asks `applied()`. */
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

function notYet(applied: number, index: number, timeoutMs: number): HttpFailure {
  return new HttpFailure('timeout', `this node has applied up to ${applied} and not yet ${index} after ${timeoutMs} ms; retry, or read from the leader`);
}

/** Resolves once `applied()` reaches `index` (polled: for indexes the state machine is not told of); HttpFailure 503 after `timeoutMs`. */
export async function waitForApplied(applied: () => number, index: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (applied() < index) {
    if (Date.now() >= deadline) throw notYet(applied(), index, timeoutMs);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Resolves once this node applied the command entry at `index` of `group` (told, not polled); HttpFailure 503 after `timeoutMs`. */
export async function waitForCommandApplied(service: NodeRaftService, group: string, index: number, timeoutMs: number): Promise<void> {
  if (!(await service.whenApplied(group, index, timeoutMs))) throw notYet(service.appliedIndex(group), index, timeoutMs);
}
