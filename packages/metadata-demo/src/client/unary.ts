// One unary call with failover: sent to the current endpoint; when it fails in a way that allows
// sending it again (errors.ts: reads and renewals on any unavailability, writes only when nothing
// was applied) the next endpoint is tried, until the call's deadline. A write goes out only on an
// endpoint that has a connection, so a dead one is skipped before anything is sent.
import { Metadata, type MethodDefinition, type ServiceError } from '@grpc/grpc-js';
import type { CallOptions } from '../api/meta-backend.js';
import { GrpcStatus, MetaError } from '../api/meta-error.js';
import { serviceDefinition, type ServiceName } from '../wire/proto.js';
import type { Endpoints } from './endpoints.js';
import { isStatusLike, mayRetry, metaErrorOfStatus, type CallKind, type StatusLike } from './errors.js';

export interface CallSettings {
  /** Deadline of a call that gives none. */
  callTimeoutMs: number;
  /** Longest wait for one attempt of a call that may be sent again (reads, renewals), before trying the next endpoint. */
  attemptTimeoutMs: number;
  /** Longest wait for an endpoint to connect before trying the next one. */
  connectTimeoutMs: number;
}

type Method = MethodDefinition<object, unknown>;

const methods = new Map<string, Method>();

/** etcd's method `Service.Method` (its path and codec). */
export function methodOf(service: ServiceName, name: string): Method {
  const key = `${service}.${name}`;
  let m = methods.get(key);
  if (!m) {
    m = (serviceDefinition(service) as unknown as Record<string, Method>)[name];
    if (!m) throw new Error(`raftkit-meta client: no method ${key} in the proto files`);
    methods.set(key, m);
  }
  return m;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

export function closedError(): MetaError {
  return new MetaError('canceled', 'etcdserver: request cancelled (the client is closed)');
}

/** The pause after every endpoint failed once in a row. */
export const CYCLE_PAUSE_MS = 100;

function attempt(endpoints: Endpoints, i: number, method: Method, request: object, deadline: number, signal: AbortSignal | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const call = endpoints
      .client(i)
      .makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, new Metadata(), { deadline }, (err: ServiceError | null, response?: unknown) => {
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(response);
      });
    const onAbort = () => call.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface UnaryContext {
  endpoints: Endpoints;
  settings: CallSettings;
  isClosed(): boolean;
}

/** Runs `method` with failover; resolves the raw response, rejects a MetaError. */
export async function unaryCall(ctx: UnaryContext, method: Method, request: object, kind: CallKind, o: CallOptions | undefined): Promise<unknown> {
  const { endpoints, settings } = ctx;
  const deadline = o?.deadline ?? Date.now() + settings.callTimeoutMs;
  const signal = o?.signal;
  let failuresInRow = 0;
  let last: StatusLike | undefined;
  for (;;) {
    if (ctx.isClosed()) throw closedError();
    if (signal?.aborted) throw new MetaError('canceled');
    const now = Date.now();
    if (now >= deadline) throw last ? metaErrorOfStatus(last) : new MetaError('timeout');
    if (failuresInRow > 0 && failuresInRow % endpoints.size === 0) await sleep(Math.min(CYCLE_PAUSE_MS, deadline - now));
    const i = endpoints.current;
    const ready = await endpoints.ready(i, Math.min(settings.connectTimeoutMs, deadline - Date.now()));
    if (ctx.isClosed()) throw closedError();
    if (!ready) {
      last = { code: GrpcStatus.UNAVAILABLE, details: `No connection established to ${endpoints.addresses[i]}` };
      endpoints.failover(i);
      failuresInRow++;
      continue;
    }
    const attemptDeadline = kind === 'write' ? deadline : Math.min(deadline, Date.now() + settings.attemptTimeoutMs);
    try {
      return await attempt(endpoints, i, method, request, attemptDeadline, signal);
    } catch (e) {
      if (ctx.isClosed()) throw closedError();
      if (!isStatusLike(e)) throw new MetaError('internal', `etcdserver: ${(e as Error)?.message ?? String(e)}`);
      if (signal?.aborted) throw new MetaError('canceled');
      const attemptTimedOut = e.code === GrpcStatus.DEADLINE_EXCEEDED && attemptDeadline < deadline;
      if (!attemptTimedOut && !mayRetry(e, kind)) throw metaErrorOfStatus(e);
      last = e;
      endpoints.failover(i);
      failuresInRow++;
    }
  }
}
