// The gateway's streaming calls, as grpc-gateway v1 serves a bidi method: the request body is a
// stream of JSON requests (`{...}{...}` or one per line) fed to the stream as they arrive; the
// answer is 200 with one `{"result": ...}` line per response, chunked, and a failure after the
// 200 is a last `{"error": {...}}` line. The first request must parse (else 400, nothing done);
// a later malformed request ends the client's side of the stream, as etcd's gateway does.
// - /v3/watch: the watches go on after the body ends, until the client disconnects (etcd's watch
//   server keeps a half-closed stream open; `curl -d '{"create_request":...}'` streams events).
// - /v3/lease/keepalive: one answer per request; the answer ends after the body's last renewal.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MetaError } from '../api/meta-error.js';
import { toMetaError } from '../grpc/status.js';
import { KeepAliveSession } from '../wire/keepalive-session.js';
import { SNAPSHOT_UNIMPLEMENTED } from '../wire/unary-methods.js';
import { WatchSession } from '../wire/watch-session.js';
import type { WireLeaseIdRequest, WireWatchRequest } from '../wire/wire-types.js';
import { maxJsonBytes, type GatewayContext } from './gateway-context.js';
import { errorLine, invalidJson, resultLine, sendFailure } from './http-io.js';
import { JsonObjectSplitter } from './json-stream.js';
import { JsonRequestError, marshalMessage, parseMessage } from './jsonpb.js';

interface StreamHandlers<T> {
  /** The first request parsed (or the body ended without one): the 200 may go out. */
  start(): void;
  request(request: T): void;
  /** No more requests: the body ended or a later one was malformed. */
  endInput(): void;
}

function readRequests<T>(req: IncomingMessage, res: ServerResponse, ctx: GatewayContext, type: string, h: StreamHandlers<T>): void {
  const splitter = new JsonObjectSplitter(maxJsonBytes(ctx.limits));
  let started = false;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    req.off('data', onData);
    req.resume();
    if (!started) {
      started = true;
      h.start();
    }
    h.endInput();
  };
  const bad = (e: JsonRequestError) => {
    if (started) {
      ctx.logger.debug({ err: e.message }, 'gateway: a malformed request ends the stream input');
      return finish();
    }
    done = true;
    req.off('data', onData);
    req.resume();
    res.setHeader('connection', 'close');
    sendFailure(res, invalidJson(e.message));
  };
  const take = (objects: unknown[]): boolean => {
    for (const o of objects) {
      let request: T;
      try {
        request = parseMessage(type, o) as T;
      } catch (e) {
        if (!(e instanceof JsonRequestError)) throw e;
        bad(e);
        return false;
      }
      if (!started) {
        started = true;
        h.start();
      }
      h.request(request);
      if (done) return false;
    }
    return true;
  };
  const onData = (chunk: Buffer) => {
    if (done) return;
    const { objects, error } = splitter.push(chunk);
    try {
      if (take(objects) && error) bad(error);
    } catch (e) {
      // A bug, not a bad request: ends this answer, not the process.
      done = true;
      req.off('data', onData);
      const failure = toMetaError(e, ctx.logger, type);
      if (res.headersSent) res.end(errorLine(failure));
      else sendFailure(res, failure);
    }
  };
  req.on('data', onData);
  req.on('end', () => {
    if (done) return;
    const error = splitter.end();
    if (error) bad(error);
    else finish();
  });
}

function startStreamedAnswer(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.flushHeaders();
}

const STOPPED = () => new MetaError('stopped');

export function serveWatch(req: IncomingMessage, res: ServerResponse, ctx: GatewayContext): void {
  let session: WatchSession | undefined;
  const stop = () => {
    ctx.streams.delete(stop);
    session?.close();
    if (!res.writableEnded) res.end(errorLine(STOPPED()));
  };
  res.on('close', () => {
    ctx.streams.delete(stop);
    session?.close();
  });
  readRequests<WireWatchRequest>(req, res, ctx, 'etcdserverpb.WatchRequest', {
    start() {
      startStreamedAnswer(res);
      const s = new WatchSession(
        ctx.backend,
        { send: (r) => res.write(resultLine(marshalMessage('etcdserverpb.WatchResponse', r))) },
        ctx.headers,
        ctx.logger,
        ctx.limits.maxRequestBytes,
      );
      res.on('drain', () => s.drained());
      session = s;
      ctx.streams.add(stop);
    },
    request: (w) => session?.request(w),
    endInput() {},
  });
}

export function serveKeepAlive(req: IncomingMessage, res: ServerResponse, ctx: GatewayContext): void {
  let session: KeepAliveSession | undefined;
  const stop = () => {
    ctx.streams.delete(stop);
    session?.close();
    if (!res.writableEnded) res.end(errorLine(STOPPED()));
  };
  res.on('close', () => {
    ctx.streams.delete(stop);
    session?.close();
  });
  readRequests<WireLeaseIdRequest>(req, res, ctx, 'etcdserverpb.LeaseKeepAliveRequest', {
    start() {
      startStreamedAnswer(res);
      const s = new KeepAliveSession(
        ctx.backend,
        {
          send: (r) => res.write(resultLine(marshalMessage('etcdserverpb.LeaseKeepAliveResponse', r))),
          fail: (e) => res.end(errorLine(e)),
          end: () => res.end(),
          pauseInput: () => req.pause(),
          resumeInput: () => req.resume(),
        },
        ctx.headers,
        ctx.logger,
      );
      res.on('drain', () => s.drained());
      session = s;
      ctx.streams.add(stop);
    },
    request: (w) => session?.request(w),
    endInput: () => session?.endInput(),
  });
}

/** etcd streams its database file; here the call is refused before anything is sent. */
export function serveSnapshot(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  sendFailure(res, new MetaError('unimplemented', SNAPSHOT_UNIMPLEMENTED));
}
