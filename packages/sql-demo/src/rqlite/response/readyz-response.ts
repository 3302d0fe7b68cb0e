// /readyz as rqlite answers it: plain-text check lines, 200 when every check passed, 503 at the
// first that failed (later checks are not run, so not reported).
import { type HttpReply, TEXT_CONTENT_TYPE } from '../http-reply.js';
import type { ReadyzRequest } from '../request/cluster-requests.js';

export interface ReadyzState {
  leader: { state: 'ok' } | { state: 'none' } | { state: 'unreachable'; error: string };
  storeReady: boolean;
  /** Only with ?sync: whether this node caught up with the commit index in time. */
  sync?: { ok: true } | { ok: false; error: string };
  /** The answer to `SELECT 1` at level none: ok, or why not. */
  db: { ok: true } | { ok: false; error: string };
}

export function formatReadyzResponse(request: Pick<ReadyzRequest, 'noLeader' | 'sync'>, state: ReadyzState): HttpReply {
  const lines = ['[+]node ok'];
  if (request.noLeader) return reply(200, lines);
  const { leader } = state;
  if (leader.state === 'none') return reply(503, [...lines, '[+]leader does not exist']);
  if (leader.state === 'unreachable') return reply(503, [...lines, `[+]leader not contactable: ${leader.error}`]);
  lines.push('[+]leader ok');
  if (!state.storeReady) return reply(503, [...lines, '[+]store not ready']);
  lines.push('[+]store ok');
  if (request.sync) {
    const sync = state.sync ?? { ok: false, error: 'not checked' };
    if (!sync.ok) return reply(503, [...lines, `[+]sync ${sync.error}`]);
    lines.push('[+]sync ok');
  }
  if (!state.db.ok) return reply(503, [...lines, `[+]db not ok: ${state.db.error}`]);
  return reply(200, [...lines, '[+]db ok']);
}

function reply(status: number, lines: string[]): HttpReply {
  return { status, headers: { 'Content-Type': TEXT_CONTENT_TYPE }, body: lines.join('\n') };
}
