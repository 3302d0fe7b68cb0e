import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Logger } from '../common/logger.js';
import { RaftkitError } from '../common/errors.js';
import { sendError } from './http-util.js';
import { isNodeId } from '../core/node-id.js';

/** A leader to forward to: its node id and API base URL ("http://host:port"). */
export interface LeaderRef {
  id: number;
  url: string;
}

export interface ForwarderOptions {
  nodeId: number;
  /** Sent as `Authorization: Bearer` to the leader (the cluster shares one token). */
  token?: string;
  /** The CA bundle an https leader's certificate is checked against (read per request, so a reload applies). */
  ca?: () => Buffer | undefined;
  logger: Logger;
  /** How many leaders to try when a target answers 421 with a newer hint (default 3). */
  maxHops?: number;
  /**
   * Called with the leader's answer before it is relayed to the client (its body waits). An app
   * uses it to hold the answer of a forwarded write until this node has applied the write, so a
   * client reading from the node it wrote through sees its write. Never throws to the caller:
   * a failure is logged and the answer relayed.
   */
  beforeRelay?: (status: number, headers: IncomingHttpHeaders, pathAndQuery: string) => Promise<void>;
}

/** Headers that describe one connection, not the request: never copied across a hop. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
]);

type Attempt =
  | { kind: 'relayed' }
  /** The client went away; the forwarded request was dropped and nobody is left to answer. */
  | { kind: 'abandoned' }
  | { kind: 'redirect'; leader: LeaderRef | undefined }
  | { kind: 'failed'; error: RaftkitError };

/**
 * Errors that happen while connecting, before a byte of the request is written: the target
 * cannot have seen it. Any other failure (a reset, a hang-up, a timeout) may come after the
 * target read the request, so its outcome is unknown.
 */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EAI_AGAIN']);

/**
 * Forwards a request that this node cannot serve (not the leader) to the leader and relays the
 * answer. Keep-alive agents keep one warm connection pool per leader. The forwarded request carries
 * `X-Raft-No-Forward: 1` and `X-Raft-Forwarded-By: <this node>` so the receiver never forwards
 * again; a 421 from it (the leader moved on) is followed to the newer hint a bounded number of
 * times, then answered 503.
 *
 * At most once: a request is sent again only when the previous target certainly did not take it
 * (it answered 421, which a node gives only before proposing). A failure after the request may
 * have been written (a reset, even of a pooled socket; a timeout; the client going away) is never
 * retried: it answers 503 saying the outcome is unknown. Retrying a reset pooled socket would
 * re-send a command that a leader had read and appended just before it stalled.
 */
export class LeaderForwarder {
  // `timeout` closes idle pooled sockets before Node's default 5 s server keep-alive does.
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: 4_000 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 256, timeout: 4_000 });
  private readonly maxHops: number;

  constructor(private readonly opts: ForwarderOptions) {
    this.maxHops = opts.maxHops ?? 3;
  }

  /** Forwards and always answers `res` (relayed answer, or 503 unavailable/timeout). */
  async forward(
    req: IncomingMessage,
    res: ServerResponse,
    pathAndQuery: string,
    body: Buffer,
    leader: LeaderRef,
    timeoutMs: number,
    extraHeaders: OutgoingHttpHeaders = {},
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const tried = new Set<string>();
    let target: LeaderRef | undefined = leader;
    for (let hop = 0; hop < this.maxHops && target; hop++) {
      tried.add(target.url);
      const r = await this.attempt(req, res, pathAndQuery, body, target, deadline, extraHeaders);
      if (r.kind === 'relayed' || r.kind === 'abandoned') return;
      if (r.kind === 'failed') {
        this.opts.logger.warn({ leader: target.id, url: target.url, err: r.error.message }, 'api: forwarding to the leader failed');
        sendError(res, r.error);
        return;
      }
      const next: LeaderRef | undefined = r.leader;
      target = next && !tried.has(next.url) && next.id !== this.opts.nodeId ? next : undefined;
    }
    // Every target answered 421: none of them took the request.
    sendError(res, new RaftkitError('unavailable', 'the leader changed while the request was being forwarded; it was not applied: retry'));
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private headersFor(req: IncomingMessage, length: number, extra: OutgoingHttpHeaders): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = {};
    const connectionScoped = new Set(
      String(req.headers.connection ?? '')
        .split(',')
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean),
    );
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || HOP_BY_HOP.has(k) || connectionScoped.has(k)) continue;
      out[k] = v;
    }
    if (this.opts.token) out['authorization'] = `Bearer ${this.opts.token}`;
    out['content-length'] = String(length);
    out['x-raft-no-forward'] = '1';
    out['x-raft-forwarded-by'] = String(this.opts.nodeId);
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) out[k] = v;
    return out;
  }

  private attempt(
    req: IncomingMessage,
    res: ServerResponse,
    pathAndQuery: string,
    body: Buffer,
    leader: LeaderRef,
    deadline: number,
    extraHeaders: OutgoingHttpHeaders,
  ): Promise<Attempt> {
    let url: URL;
    try {
      url = new URL(leader.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    } catch {
      return Promise.resolve({ kind: 'failed', error: new RaftkitError('unavailable', `the leader (node ${leader.id}) has no usable URL: ${JSON.stringify(leader.url)}`) });
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      return Promise.resolve({ kind: 'failed', error: new RaftkitError('timeout', `no time was left to forward the request to the leader (node ${leader.id}); it was not sent`) });
    }
    const secure = url.protocol === 'https:';
    return new Promise<Attempt>((resolve) => {
      let settled = false;
      const settle = (a: Attempt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        res.off('close', onClientGone);
        resolve(a);
      };
      const out = (secure ? https : http).request(
        {
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port || (secure ? 443 : 80),
          method: req.method,
          path: pathAndQuery,
          headers: this.headersFor(req, body.length, extraHeaders),
          agent: secure ? this.httpsAgent : this.httpAgent,
          ...(secure && this.opts.ca?.() ? { ca: this.opts.ca()! } : {}),
        },
        (up) => {
          if (up.statusCode === 421) {
            void readSmall(up, 64 * 1024).then((text) => settle({ kind: 'redirect', leader: leaderHint(text) }));
            return;
          }
          clearTimeout(timer);
          // A hold before relaying leaves the answer unread a while: an error meanwhile must not
          // go unheard (an 'error' with no listener ends the process).
          let upFailed = false;
          up.on('error', () => (upFailed = true));
          up.on('aborted', () => (upFailed = true));
          const relay = () => {
            if (upFailed) {
              res.destroy();
              settle({ kind: 'relayed' });
              return;
            }
            if (res.headersSent || res.destroyed) {
              up.resume();
              settle({ kind: 'relayed' });
              return;
            }
            res.writeHead(up.statusCode ?? 502, relayHeaders(up.headers, leader.id));
            up.pipe(res);
            up.on('end', () => settle({ kind: 'relayed' }));
            up.on('error', () => {
              res.destroy();
              settle({ kind: 'relayed' });
            });
            up.on('aborted', () => {
              res.destroy();
              settle({ kind: 'relayed' });
            });
          };
          const hold = this.opts.beforeRelay;
          if (!hold) return relay();
          hold(up.statusCode ?? 502, up.headers, pathAndQuery).then(relay, (e: unknown) => {
            this.opts.logger.warn({ err: (e as Error).message }, 'forwarding: the hold before relaying failed; relayed anyway');
            relay();
          });
        },
      );
      const onClientGone = () => {
        if (res.writableFinished) return;
        out.destroy();
        settle({ kind: 'abandoned' });
      };
      res.on('close', onClientGone);
      const timer = setTimeout(() => {
        out.destroy();
        settle({ kind: 'failed', error: timedOut(leader) });
      }, remaining);
      out.on('error', (e: NodeJS.ErrnoException) => {
        if (settled) return;
        const where = `the leader (node ${leader.id} at ${leader.url})`;
        if (e.code !== undefined && NOT_SENT.has(e.code)) {
          settle({
            kind: 'failed',
            error: new RaftkitError('unavailable', `${where} is unreachable (${e.code}); the request was not sent`, { leader: { id: leader.id, url: leader.url } }),
          });
          return;
        }
        settle({
          kind: 'failed',
          error: new RaftkitError(
            'unavailable',
            `the connection to ${where} failed after the request was sent (${e.code ?? e.message}): the outcome is unknown, the command may or may not be applied`,
            { leader: { id: leader.id, url: leader.url }, outcome: 'unknown' },
          ),
        });
      });
      out.end(body);
    });
  }
}

function timedOut(leader: LeaderRef): RaftkitError {
  return new RaftkitError(
    'timeout',
    `the request forwarded to the leader (node ${leader.id}) timed out: the outcome is unknown, a command may still commit (retry with the same client id and sequence to apply it once)`,
    { outcome: 'unknown' },
  );
}

function relayHeaders(h: IncomingHttpHeaders, leaderId: number): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || (HOP_BY_HOP.has(k) && k !== 'content-length')) continue;
    out[k] = v;
  }
  out['x-raft-forwarded-to'] = String(leaderId);
  return out;
}

function readSmall(stream: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let n = 0;
    stream.on('data', (c: Buffer) => {
      n += c.length;
      if (n <= limit) chunks.push(c);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', () => resolve(''));
    stream.on('aborted', () => resolve(''));
  });
}

/** The `leader` of a 421 answer, if it names a usable one. */
export function leaderHint(text: string): LeaderRef | undefined {
  try {
    const v = JSON.parse(text) as { leader?: { id?: unknown; url?: unknown } };
    const id = v.leader?.id;
    const url = v.leader?.url;
    if (isNodeId(id) && typeof url === 'string' && url !== '') return { id, url };
  } catch {
    /* not JSON: no hint */
  }
  return undefined;
}
