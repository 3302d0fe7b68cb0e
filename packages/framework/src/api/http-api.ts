import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { silentLogger, type Logger } from '../common/logger.js';
import { RaftkitError } from '../common/errors.js';
import { LeaderForwarder } from './forwarder.js';
import { APPLIED_INDEX_HEADER, untilAppliedHere } from './applied-here.js';
import { discardRestOfBody } from './oversized-body.js';
import {
  decodeSegments,
  errorReply,
  makeTokenCheck,
  parseJsonBody,
  positiveInt,
  readBody,
  refuseUpgrade,
  requireObject,
  requireString,
  sendError,
  sendJson,
  splitTarget,
  withTimeout,
} from './http-util.js';
import { RequestKeyAllocator, formatRequestKey, type RequestKey } from '../rsm/request-table.js';
import { newOrigin } from '../rsm/origin.js';
import type { NodeService } from './node-service.js';
import { ApiStats } from './api-stats.js';
import { ADDRESS, consistencyOf, exactlyOnce, fromOf, groupCreation, isTrue, membershipChanges, notLeaderOf, forwardedRequestKey, roleOf } from './request-parsing.js';
import { METHODS, matchRoute, type Match } from './routes.js';
import { WatchHub, type WatchOptions } from './watch.js';
import { traceStage } from '../common/stage-trace.js';

export interface ApiHandlerOptions {
  /** The node behind the API. */
  service: NodeService;
  /** When set, every route but `/healthz` (the watch included) needs `Authorization: Bearer <token>`. */
  token?: string;
  /** More tokens accepted during a token rotation (`--accept-token`); forwards carry `token`. */
  acceptTokens?: readonly string[];
  /** The CA bundle of the other nodes' https API certificates, for forwarding (--tls-ca). */
  forwardCa?: () => Buffer | undefined;
  /** Largest request body accepted; larger ones are answered 413 without being read (default 1 MiB). */
  maxBodyBytes?: number;
  /**
   * Deadline of one request (default 10 s): for its body to arrive (else 408), for the node to
   * answer (passed to commands as `timeoutMs`; else 503 `timeout`), and for a forwarded request.
   */
  requestTimeoutMs?: number;
  logger?: Logger;
  /** Forward commands and leader-only reads to the leader (default true); off: answer 421. */
  forward?: boolean;
  /** Buffer limits and heartbeat of watch streams. */
  watch?: WatchOptions;
}

export interface ApiHandler {
  /** For `http.createServer(onRequest)` (or startNodeServer's `onRequest`). */
  onRequest(req: IncomingMessage, res: ServerResponse): void;
  /** For the server's 'upgrade' event: claims `GET /v1/groups/{group}/watch`, returns false for anything else. */
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Ends every watch stream, drops the forwarding connections and refuses further requests (503). */
  close(): Promise<void>;
}

/**
 * Creates raftkit's HTTP/WebSocket API (docs/api.md section 2) over a {@link NodeService}, as
 * plain `node:http` hooks: no framework, one JSON encode per answer.
 *
 * ```ts
 * const api = createApiHandler({ service, token: flags.token, requestTimeoutMs: 5000 });
 * const node = await startNodeServer({ flags, stateMachines, onRequest: api.onRequest, onUpgrade: api.onUpgrade });
 * // on shutdown: await api.close(); await node.stop();
 * ```
 *
 * Routes: `POST /v1/groups/{group}/commands/{name}`, `POST /v1/groups/{group}/queries/{name}?consistency=`,
 * `GET /v1/groups/{group}/schema`, `GET /v1/groups/{group}/watch?from=` (WebSocket or NDJSON),
 * `GET /v1/status`, `GET /v1/groups` (the groups on this node), `POST /v1/groups`, `POST /v1/groups/{group}/members`,
 * `DELETE /v1/groups/{group}/members/{id}`, `POST .../members/{id}/promote|demote`,
 * `POST /v1/groups/{group}/membership` (several changes as one; joint consensus),
 * `POST /v1/groups/{group}/leader/transfer`, `POST /v1/groups/{group}/snapshot`, `GET /metrics`,
 * `GET /healthz`, `GET /readyz`. Path segments are URL-decoded after splitting (`%2F` stays in its
 * segment; a bad escape is 400).
 *
 * Errors are `{"error": CODE, "message": TEXT, ...details}` with the status of api/errors.ts;
 * validation errors name the `field`; every 503 carries `Retry-After`; 405 carries `Allow`. The
 * order of checks is: token (401, all but /healthz) → path (400/404) → method (405) → headers and
 * query (400) → body (413/408/400) → the service.
 *
 * Bodies: at most `maxBodyBytes`, UTF-8 JSON; an empty body is `{}` for commands and queries.
 * Exactly-once: `X-Raft-Client-Id` + `X-Raft-Sequence` are validated and passed to
 * `service.command` as `clientId`/`sequence`. At most once without them: a command this node
 * forwards gets a request key here (or keeps the `X-Raft-Request-Id: origin:seq:floor` a
 * forwarding node gave it, passed as `request`), sent along with every forward; a second copy in
 * the log is not applied. One this node proposes itself is never sent again and needs none.
 * An answer whose outcome is unknown (timeout, leadership lost, a forward broken after it was
 * sent) is a 503 with `"outcome": "unknown"`; the node never re-sends such a command.
 *
 * Leader handling: when the service throws `not_leader` for a command, a query, or a membership /
 * leader-transfer change, the request is forwarded to the leader's URL (same method, path, query,
 * body and headers, the token, plus `X-Raft-No-Forward: 1` and `X-Raft-Forwarded-By: <id>`) and
 * the answer relayed (with `X-Raft-Forwarded-To: <leader id>`). With `X-Raft-No-Forward: 1` (or
 * `X-Raft-Forwarded-By`, or `forward: false`) it answers 421
 * `{"error":"not_leader","leader":{"id","url"}}` instead. No known leader, an unreachable one, or a
 * chain of stale hints → 503 `unavailable` (a forward that times out → 503 `timeout`).
 *
 * Watch: as a WebSocket, one text message per applied entry `{"index","term","command","args","result"}`;
 * bad `from` / token / shutdown refuse the upgrade with the HTTP status, while errors of the
 * subscription (compacted, unknown group, ...) close the accepted socket with 4000 + status and
 * the JSON error as reason (4410 `{"error":"compacted",...,"firstIndex":N}`); a slow consumer is
 * closed with 4408; pings every `watch.heartbeatMs`. As a plain GET, NDJSON (410 before the
 * stream; a final `{"error":...}` line after it, e.g. `slow_consumer`).
 */
export function createApiHandler(opts: ApiHandlerOptions): ApiHandler {
  const { service } = opts;
  const logger = opts.logger ?? silentLogger;
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const forwardEnabled = opts.forward ?? true;
  const authorized = makeTokenCheck(opts.token, opts.acceptTokens);
  const forwarder = new LeaderForwarder({
    nodeId: service.nodeId,
    token: opts.token,
    logger,
    ...(opts.forwardCa ? { ca: opts.forwardCa } : {}),
    beforeRelay: (status, headers, pathAndQuery) => untilAppliedHere(service, status, headers, pathAndQuery),
  });
  const requestKeys = new RequestKeyAllocator(newOrigin(service.nodeId));
  const hub = new WatchHub(service, logger, opts.watch);
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4096, clientTracking: false });
  const stats = new ApiStats(() => hub.size);
  let closed = false;

  const body = async (req: IncomingMessage) => {
    traceStage('http');
    return readBody(req, maxBody, timeoutMs);
  };
  const args = async (req: IncomingMessage) => {
    const raw = await body(req);
    return { raw, value: parseJsonBody(raw, {}) };
  };
  const jsonObject = async (req: IncomingMessage) => {
    const raw = await body(req);
    return { raw, value: requireObject(parseJsonBody(raw, undefined)) };
  };

  /** Runs a leader-only operation; on not_leader forwards it (or answers 421 / 503). */
  async function onLeader<T>(
    req: IncomingMessage,
    res: ServerResponse,
    group: string,
    pathAndQuery: string,
    raw: Buffer,
    run: () => Promise<T>,
    reply: (v: T) => void,
    forwardHeaders?: () => Record<string, string>,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let value: T;
    try {
      value = await withTimeout(run(), timeoutMs);
    } catch (e) {
      const hint = notLeaderOf(e);
      if (!hint) throw e;
      await notLeader(req, res, group, pathAndQuery, raw, hint, (e as Error).message, deadline, forwardHeaders);
      return;
    }
    reply(value);
  }

  async function notLeader(
    req: IncomingMessage,
    res: ServerResponse,
    group: string,
    pathAndQuery: string,
    raw: Buffer,
    hint: { id?: number; url?: string },
    message: string,
    deadline: number,
    forwardHeaders?: () => Record<string, string>,
  ): Promise<void> {
    let { id, url } = hint;
    if (id !== undefined && url === undefined) {
      try {
        const l = service.leaderOf(group);
        if (l && l.id === id) url = l.url;
      } catch {
        /* no better hint */
      }
    }
    if (id === undefined || !Number.isSafeInteger(id) || id < 1 || id === service.nodeId) {
      throw new RaftkitError('unavailable', `no leader of group ${JSON.stringify(group)} is known right now; retry shortly`);
    }
    const noForward = !forwardEnabled || isTrue(req.headers['x-raft-no-forward']) || req.headers['x-raft-forwarded-by'] !== undefined;
    if (noForward) {
      sendJson(res, 421, { error: 'not_leader', message, leader: url === undefined ? { id } : { id, url } });
      return;
    }
    if (url === undefined) throw new RaftkitError('unavailable', `the leader of group ${JSON.stringify(group)} (node ${id}) has no known URL; retry shortly`);
    stats.forwarded();
    await forwarder.forward(req, res, pathAndQuery, raw, { id, url }, Math.max(1, deadline - Date.now()), forwardHeaders?.());
  }

  async function handle(req: IncomingMessage, res: ServerResponse, ctx: { route: string }): Promise<void> {
    if (closed) throw new RaftkitError('unavailable', 'the node is shutting down');
    const { rawPath, query, pathAndQuery } = splitTarget(req.url);
    if (rawPath !== '/healthz' && !authorized(req)) throw new RaftkitError('unauthorized', 'a valid Authorization: Bearer token is required');
    const m = matchRoute(decodeSegments(rawPath));
    if (!m) throw new RaftkitError('not_found', `no route ${rawPath}`);
    ctx.route = m.route;
    const allowed = METHODS[m.route];
    if (!allowed.includes(req.method ?? '')) {
      sendError(res, new RaftkitError('method_not_allowed', `${req.method} is not allowed on ${rawPath}; use ${allowed.join(' or ')}`), logger, { allow: allowed.join(', ') });
      return;
    }
    const { group, name } = m;
    const answer = (out: { result: unknown; index: number }) => sendJson(res, 200, { result: out.result ?? null, index: out.index }, { [APPLIED_INDEX_HEADER]: String(out.index) });
    switch (m.route) {
      case 'healthz':
        return sendJson(res, 200, { status: 'ok' });
      case 'readyz':
        if (service.ready()) return sendJson(res, 200, { ready: true });
        throw new RaftkitError('unavailable', 'not ready: not a member of any group with a known leader', { ready: false });
      case 'metrics': {
        const text = (await withTimeout(service.metrics(), timeoutMs)) + (await stats.render());
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store' });
        res.end(text);
        return;
      }
      case 'status':
        return sendJson(res, 200, service.status());
      case 'schema':
        return sendJson(res, 200, service.schema(group));
      case 'watch':
        return hub.streamNdjson(res, group, fromOf(query));
      case 'command': {
        const once = exactlyOnce(req);
        const a = await args(req);
        if (once.clientId !== undefined) {
          return onLeader(req, res, group, pathAndQuery, a.raw, () => service.command(group, name, a.value, { ...once, timeoutMs }), answer);
        }
        // Without a session: a command this node proposes itself needs no key (no node ever sends
        // it again); one it forwards gets a key here, its first node, that travels with every
        // forward, so a second copy anywhere in the log is not applied.
        const forwarded = forwardedRequestKey(req);
        let own: { key: RequestKey; release: () => void } | undefined;
        try {
          return await onLeader(
            req,
            res,
            group,
            pathAndQuery,
            a.raw,
            () => service.command(group, name, a.value, forwarded ? { request: forwarded, timeoutMs } : { timeoutMs }),
            answer,
            () => {
              const key = forwarded ?? (own = requestKeys.allocate()).key;
              return { 'x-raft-request-id': formatRequestKey(key) };
            },
          );
        } finally {
          own?.release();
        }
      }
      case 'query': {
        const consistency = consistencyOf(query);
        const a = await args(req);
        // A follower serves linearizable reads itself (ReadIndex through the leader); a client
        // that asked not to be forwarded wants the leader named instead, as for commands.
        // (No known leader, or an unknown group: the query itself answers, 503 or 404.)
        if (consistency === 'linearizable' && isTrue(req.headers['x-raft-no-forward'])) {
          const leader = service.leaderOf(group);
          if (leader !== undefined && leader.id !== service.nodeId) {
            const hint = { id: leader.id, ...(leader.url ? { url: leader.url } : {}) };
            await notLeader(req, res, group, pathAndQuery, a.raw, hint, `node ${service.nodeId} does not lead group ${JSON.stringify(group)}`, Date.now() + timeoutMs);
            return;
          }
        }
        return onLeader(req, res, group, pathAndQuery, a.raw, () => service.query(group, name, a.value, consistency), answer);
      }
      case 'groups': {
        // The listing is status()'s groups as they are: one shape for a group wherever it is shown.
        if (req.method !== 'POST') return sendJson(res, 200, { groups: service.status().groups });
        const { value: b } = await jsonObject(req);
        const { group: g, type, members } = groupCreation(b);
        await withTimeout(service.createGroup(g, type, members, { localOnly: req.headers['x-raft-local'] === '1' }), timeoutMs);
        return sendJson(res, 201, { group: g, type, members });
      }
      case 'members': {
        const { raw, value: b } = await jsonObject(req);
        const id = positiveInt(b['id'], 'id');
        const address = requireString(b['address'], 'address', 256, ADDRESS);
        const role = roleOf(b['role'], 'role', 'learner');
        return onLeader(
          req,
          res,
          group,
          pathAndQuery,
          raw,
          () => service.addMember(group, id, address, role),
          () => sendJson(res, 200, { group, id, address, role }),
        );
      }
      case 'membership': {
        const { raw, value: b } = await jsonObject(req);
        const { changes, transition } = membershipChanges(b);
        return onLeader(
          req,
          res,
          group,
          pathAndQuery,
          raw,
          () => service.changeMembership(group, changes, transition),
          (info) => sendJson(res, 200, { group, members: info.members, ...(info.jointOutgoing ? { jointOutgoing: info.jointOutgoing } : {}) }),
        );
      }
      case 'member': {
        const id = positiveInt(name, 'id');
        return onLeader(
          req,
          res,
          group,
          pathAndQuery,
          Buffer.alloc(0),
          () => service.removeMember(group, id),
          () => sendJson(res, 200, { group, id, removed: true }),
        );
      }
      case 'promote':
      case 'demote': {
        const id = positiveInt(name, 'id');
        const promote = m.route === 'promote';
        return onLeader(
          req,
          res,
          group,
          pathAndQuery,
          Buffer.alloc(0),
          () => (promote ? service.promote(group, id) : service.demote(group, id)),
          () => sendJson(res, 200, { group, id, role: promote ? 'voter' : 'learner' }),
        );
      }
      case 'transfer': {
        const { raw, value: b } = await jsonObject(req);
        const to = positiveInt(b['to'], 'to');
        return onLeader(
          req,
          res,
          group,
          pathAndQuery,
          raw,
          () => service.transferLeader(group, to),
          () => sendJson(res, 200, { group, to }),
        );
      }
      case 'snapshot': {
        const out = await withTimeout(service.snapshot(group), timeoutMs);
        return sendJson(res, 200, { group, index: out.index });
      }
    }
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const ctx = { route: 'unknown' };
    res.once('finish', () => stats.count(ctx.route, res.statusCode));
    let p: Promise<void>;
    try {
      p = handle(req, res, ctx);
    } catch (e) {
      p = Promise.reject(e);
    }
    p.catch((e: unknown) => {
      if (res.headersSent || res.destroyed) {
        if (!res.writableEnded) res.destroy();
        return;
      }
      const code = e instanceof RaftkitError ? e.code : undefined;
      if (code === 'payload_too_large') {
        // Answered now, and the connection closed only once the rest of the body has been
        // read (bounded): a client that writes its whole body first still gets the 413. (With
        // Connection: close in the answer, Node would close the socket as soon as it is sent.)
        sendError(res, e, logger);
        discardRestOfBody(req, Math.max(16 * 1024 * 1024, 4 * maxBody), timeoutMs);
        return;
      }
      // A body that did not arrive in time: close the connection instead of waiting for the rest.
      sendError(res, e, logger, code === 'request_timeout' ? { connection: 'close' } : {});
    });
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const { rawPath, query } = splitTarget(req.url);
    let m: Match | undefined;
    try {
      m = matchRoute(decodeSegments(rawPath));
    } catch (e) {
      if (!/^\/v1\/groups\/[^/]+\/watch$/.test(rawPath)) return false;
      refuseUpgrade(socket, errorReply(e));
      return true;
    }
    if (!m || m.route !== 'watch') return false;
    try {
      if (closed) throw new RaftkitError('unavailable', 'the node is shutting down');
      if (!authorized(req)) throw new RaftkitError('unauthorized', 'a valid Authorization: Bearer token is required');
      if (req.method !== 'GET') throw new RaftkitError('method_not_allowed', 'a watch is a GET');
      const from = fromOf(query);
      const group = m.group;
      wss.handleUpgrade(req, socket, head, (ws) => hub.attachWebSocket(ws, group, from));
    } catch (e) {
      refuseUpgrade(socket, errorReply(e, logger));
    }
    return true;
  }

  return {
    onRequest,
    onUpgrade,
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      hub.close();
      forwarder.close();
      return new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
