// A grpc-js handler for one of etcd's unary methods: the call's deadline and cancellation become
// the backend's CallOptions, failures become etcd's statuses.
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from '@raftkit/framework';
import type { EtcdAuth } from '../api/etcd-auth.js';
import type { MetaBackend } from '../api/meta-backend.js';
import type { HeaderCache } from '../wire/header-cache.js';
import type { MetaApiLimits } from '../wire/limits.js';
import { invokeUnary } from '../wire/unary-methods.js';
import { wireSizeOf } from './service-definitions.js';
import { grpcFailure, toMetaError } from './status.js';

export interface HandlerContext {
  backend: MetaBackend;
  limits: MetaApiLimits;
  headers: HeaderCache;
  logger: Logger;
  auth: EtcdAuth;
}

/** A deadline as grpc-js gives it (a Date, or Infinity for none) in ms since the epoch. */
export function deadlineMs(deadline: Date | number): number | undefined {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : undefined;
}

export function unaryHandler(name: string, ctx: HandlerContext) {
  return (call: ServerUnaryCall<object, object>, callback: sendUnaryData<object>): void => {
    const abort = new AbortController();
    const onCancelled = () => abort.abort();
    call.on('cancelled', onCancelled);
    const deadline = deadlineMs(call.getDeadline());
    invokeUnary(name, call.request, {
      backend: ctx.backend,
      limits: ctx.limits,
      headers: ctx.headers,
      options: deadline === undefined ? { signal: abort.signal } : { deadline, signal: abort.signal },
      wireSize: wireSizeOf(call.request),
      auth: ctx.auth,
    }).then(
      (response) => {
        call.off('cancelled', onCancelled);
        callback(null, response);
      },
      (e: unknown) => {
        call.off('cancelled', onCancelled);
        callback(grpcFailure(toMetaError(e, ctx.logger, name)));
      },
    );
  };
}
