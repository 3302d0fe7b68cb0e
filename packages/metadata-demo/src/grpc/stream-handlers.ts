// grpc-js handlers for etcd's streaming methods: Watch and LeaseKeepAlive (bidi, served by the
// transport-free sessions in ../wire) and Snapshot (refused). Every open stream is registered so
// the server can end them when it closes; a client that cancels or goes away ends its stream and
// cancels its watches. A client that only half-closes a watch stream keeps receiving events, as
// with etcd (the JSON gateway relies on this: its request body ends long before the watch).
import type { ServerDuplexStream, ServerWritableStream } from '@grpc/grpc-js';
import { MetaError } from '../api/meta-error.js';
import { KeepAliveSession } from '../wire/keepalive-session.js';
import { SNAPSHOT_UNIMPLEMENTED } from '../wire/unary-methods.js';
import { WatchSession } from '../wire/watch-session.js';
import type { WireLeaseIdRequest, WireLeaseKeepAliveResponse, WireWatchRequest, WireWatchResponse } from '../wire/wire-types.js';
import { grpcFailure, toMetaError } from './status.js';
import type { HandlerContext } from './unary-handler.js';

/** The server's open streams, each with a way to end it when the server closes. */
export type OpenStreams = Set<() => void>;

/** Runs a stream event's handler; a throw (a bug) ends that stream with INTERNAL, not the process. */
function guarded<T>(ctx: HandlerContext, call: { emit(event: 'error', e: Error): boolean }, what: string, f: (v: T) => void): (v: T) => void {
  return (v) => {
    try {
      f(v);
    } catch (e) {
      call.emit('error', grpcFailure(toMetaError(e, ctx.logger, what)));
    }
  };
}

const STOPPED = () => new MetaError('stopped');

export function watchHandler(ctx: HandlerContext, open: OpenStreams) {
  return (call: ServerDuplexStream<WireWatchRequest, WireWatchResponse>): void => {
    const session = new WatchSession(ctx.backend, { send: (r) => call.write(r) }, ctx.headers, ctx.logger, ctx.limits.maxRequestBytes);
    const stop = () => {
      finish();
      call.emit('error', grpcFailure(STOPPED()));
    };
    const finish = () => {
      open.delete(stop);
      session.close();
    };
    open.add(stop);
    call.on(
      'data',
      guarded(ctx, call, 'Watch.Watch', (w: WireWatchRequest) => session.request(w)),
    );
    call.on('drain', () => session.drained());
    call.on('cancelled', finish);
    call.on('close', finish);
    call.on('error', finish);
  };
}

export function keepAliveHandler(ctx: HandlerContext, open: OpenStreams) {
  return (call: ServerDuplexStream<WireLeaseIdRequest, WireLeaseKeepAliveResponse>): void => {
    const session = new KeepAliveSession(
      ctx.backend,
      {
        send: (r) => call.write(r),
        fail: (e) => call.emit('error', grpcFailure(e)),
        end: () => call.end(),
        pauseInput: () => call.pause(),
        resumeInput: () => call.resume(),
      },
      ctx.headers,
      ctx.logger,
    );
    const stop = () => {
      finish();
      call.emit('error', grpcFailure(STOPPED()));
    };
    const finish = () => {
      open.delete(stop);
      session.close();
    };
    open.add(stop);
    call.on(
      'data',
      guarded(ctx, call, 'Lease.LeaseKeepAlive', (w: WireLeaseIdRequest) => session.request(w)),
    );
    call.on('end', () => session.endInput());
    call.on('drain', () => session.drained());
    call.on('cancelled', finish);
    call.on('close', finish);
    call.on('error', finish);
  };
}

export function snapshotHandler() {
  return (call: ServerWritableStream<object, object>): void => {
    call.emit('error', grpcFailure(new MetaError('unimplemented', SNAPSHOT_UNIMPLEMENTED)));
  };
}
