// Writes that reach a follower go to the leader over HTTP, to a route this package adds on every
// node's port (POST /raftkit-meta/forward/<command>, the cluster token required). The leader
// proposes the command itself, once; the follower never sends it again when its fate is unknown
// (a reset or a deadline after sending: etcd's "request timed out"), only when the target
// certainly did not take it: it answered 421 (it does not lead, nothing proposed) or the
// connection was refused. The same rule as raftkit's own forwarding (docs/api.md §2.5); this
// route exists because raftkit's API caps bodies at 1 MiB, less than etcd's 1.5 MiB requests
// once their bytes are base64 in JSON.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RaftkitError, type Logger } from '@raftkit/framework';
import type { ClusterSecret, NodeRaftService } from '@raftkit/framework/server';
import type { PeerClient, PeerReply } from '@raftkit/framework/api';
import { MetaError } from '../api/meta-error.js';
import { canceledOrTimeout } from './errors.js';

export const FORWARD_PREFIX = '/raftkit-meta/forward/';
/** The largest forwarded body: etcd's largest request (1.5 MiB) as base64 JSON, with room. */
export const MAX_FORWARD_BYTES = 8 * 1024 * 1024;
/** The commands a follower may forward (leaseExpire is the leader's own). */
const FORWARDABLE = new Set(['put', 'deleteRange', 'txn', 'compact', 'leaseGrant', 'leaseRevoke', 'leaseKeepAlive', 'alarm', 'publishMember']);
const DEADLINE_HEADER = 'x-raftkit-meta-timeout-ms';

export type ForwardOutcome = { kind: 'result'; result: unknown; index: number } | { kind: 'retry' };

/** Sends one write to `leaderUrl` (http, or https checked against the node's --tls-ca). Throws MetaError when the outcome is final (or unknown). */
export async function forwardWrite(o: {
  peers: PeerClient;
  leaderUrl: string;
  command: string;
  args: unknown;
  deadline: number;
  signal?: AbortSignal;
  from: number;
}): Promise<ForwardOutcome> {
  const left = o.deadline - Date.now();
  if (left <= 0) throw canceledOrTimeout(o.signal);
  const signals = [AbortSignal.timeout(left)];
  if (o.signal) signals.push(o.signal);
  let res: PeerReply;
  try {
    res = await o.peers.callUrl(`${o.leaderUrl}${FORWARD_PREFIX}${o.command}`, {
      method: 'POST',
      headers: { [DEADLINE_HEADER]: String(left), 'x-raftkit-meta-from': String(o.from) },
      body: o.args,
      timeoutMs: left,
      signal: AbortSignal.any(signals),
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    // Refused before a byte was sent: the leader never saw it.
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH') return { kind: 'retry' };
    throw canceledOrTimeout(o.signal);
  }
  const body = (typeof res.json === 'object' && res.json !== null ? res.json : {}) as { result?: unknown; index?: number; error?: string; message?: string; outcome?: string };
  if (res.status === 200) return { kind: 'result', result: body.result, index: body.index ?? 0 };
  if (res.status === 421) return { kind: 'retry' };
  if (res.status === 503 && body.outcome !== 'unknown' && body.error !== 'timeout') return { kind: 'retry' };
  if (res.status === 400) throw new MetaError('invalid_argument', `etcdserver: ${body.message ?? 'bad request'}`);
  if (res.status === 413) throw new MetaError('request_too_large');
  if (res.status === 503 || res.status === 504) throw new MetaError('timeout');
  throw new MetaError('internal', `etcdserver: the leader answered ${res.status}: ${body.message ?? ''}`);
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

/** The leader's side: answers true when the request was this route's. */
export function forwardRoute(o: { service: NodeRaftService; group: string; secret: ClusterSecret; logger: Logger }): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (!req.url?.startsWith(FORWARD_PREFIX)) return false;
    void (async () => {
      const command = req.url!.slice(FORWARD_PREFIX.length);
      if (req.method !== 'POST') return reply(res, 405, { error: 'method_not_allowed', message: 'POST only' });
      if (o.secret.bearer(req.headers.authorization) !== 'ok') return reply(res, 401, { error: 'unauthorized', message: 'a valid bearer token is required' });
      if (!FORWARDABLE.has(command)) return reply(res, 404, { error: 'not_found', message: `no forwardable command "${command}"` });
      const body = await readBody(req, MAX_FORWARD_BYTES);
      if (body === undefined) return reply(res, 413, { error: 'payload_too_large', message: `the body is over ${MAX_FORWARD_BYTES} bytes` });
      let args: unknown;
      try {
        args = JSON.parse(body.toString('utf8'));
      } catch {
        return reply(res, 400, { error: 'bad_request', message: 'the body is not JSON' });
      }
      const timeoutMs = Math.max(1, Math.min(60_000, Number(req.headers[DEADLINE_HEADER]) || 5_000));
      try {
        // command() refuses with not_leader before proposing when this node does not lead.
        const out = await o.service.command(o.group, command, args, { timeoutMs });
        reply(res, 200, { result: out.result, index: out.index });
      } catch (e) {
        if (!(e instanceof RaftkitError)) {
          o.logger.error({ err: (e as Error).message }, 'meta forward: internal error');
          return reply(res, 500, { error: 'internal', message: 'internal error' });
        }
        const status = e.code === 'not_leader' ? 421 : e.code === 'bad_request' ? 400 : e.code === 'timeout' || e.code === 'unavailable' ? 503 : 500;
        reply(res, status, { error: e.code, message: e.message, ...e.details });
      }
    })().catch((e: unknown) => {
      o.logger.warn({ err: (e as Error).message }, 'meta forward: the request failed');
      if (!res.headersSent) reply(res, 500, { error: 'internal', message: 'internal error' });
    });
    return true;
  };
}
