// raftkit-meta's gRPC server: etcd's KV, Watch, Lease, Cluster, Maintenance and Auth services on
// one port, served from a MetaBackend. etcdctl, etcd's Go client and the npm etcd3 client connect
// to it unchanged (TLS with the node's API certificate when it has one). With a cluster token every call but Auth.Authenticate needs
// credentials (api/etcd-auth.ts).
import { Server, ServerCredentials, type Metadata, type sendUnaryData, type UntypedHandleCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { clusterSecret } from '@raftkit/framework/server';
import { EtcdAuth } from '../api/etcd-auth.js';
import type { MetaError } from '../api/meta-error.js';
import { grpcFailure } from './status.js';
import type { Logger } from '@raftkit/framework';
import type { MetaBackend } from '../api/meta-backend.js';
import { HeaderCache } from '../wire/header-cache.js';
import { GRPC_OVERHEAD_BYTES, resolveLimits, type MetaApiLimits } from '../wire/limits.js';
import { SERVICE_NAMES } from '../wire/proto.js';
import { UNARY_METHODS } from '../wire/unary-methods.js';
import { measuredService } from './service-definitions.js';
import { keepAliveHandler, snapshotHandler, watchHandler, type OpenStreams } from './stream-handlers.js';
import { unaryHandler, type HandlerContext } from './unary-handler.js';

export interface GrpcServerOptions {
  backend: MetaBackend;
  /** "host:port"; port 0 picks a free one. */
  listen: string;
  logger: Logger;
  limits?: Partial<MetaApiLimits>;
  /** Credentials every call but Auth.Authenticate must carry (default: none, auth not enabled). */
  auth?: EtcdAuth;
  /** Serve TLS with this certificate (the node's --tls-cert/--tls-key, read once at start); plaintext without. */
  tls?: { cert: Buffer; key: Buffer };
}

export interface GrpcServerHandle {
  port: number;
  /** Ends every open stream (UNAVAILABLE "etcdserver: server stopped"), then stops the server. */
  close(): Promise<void>;
}

/** How long close() lets unary calls in flight finish before cutting them off. */
const SHUTDOWN_GRACE_MS = 2_000;

function serverOptions(limits: MetaApiLimits): Record<string, number> {
  return {
    // etcd's receive limit: its request limit plus room for the gRPC framing.
    'grpc.max_receive_message_length': limits.maxRequestBytes + GRPC_OVERHEAD_BYTES,
    'grpc.max_send_message_length': -1,
    // etcd's server keepalive (ping an idle client every 2 h, drop it after 20 s without an
    // answer). etcdctl and etcd3 ping the server too; grpc-js servers do not police client pings
    // (no ENHANCE_YOUR_CALM GOAWAY), and pings with no call open are allowed explicitly.
    'grpc.keepalive_time_ms': 2 * 60 * 60 * 1000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 1,
    // Nothing here reads channelz; it records every call (a few per cent of a get, not measurable above noise here).
    'grpc.enable_channelz': 0,
  };
}

function implementation(service: string, methods: string[], ctx: HandlerContext, open: OpenStreams): UntypedServiceImplementation {
  const impl: UntypedServiceImplementation = {};
  for (const m of methods) {
    const name = `${service}.${m}`;
    let handler: UntypedHandleCall;
    if (name === 'Watch.Watch') handler = watchHandler(ctx, open);
    else if (name === 'Lease.LeaseKeepAlive') handler = keepAliveHandler(ctx, open);
    else if (name === 'Maintenance.Snapshot') handler = snapshotHandler();
    else if (UNARY_METHODS[name]) handler = unaryHandler(name, ctx);
    else throw new Error(`raftkit-meta: no handler for the gRPC method ${name}`);
    // Logging in is the one call that needs no credentials.
    impl[m] = name === 'Auth.Authenticate' || !ctx.auth.enabled ? handler : authenticated(handler, ctx.auth);
  }
  return impl;
}

/** Refuses a call without valid credentials (etcd's errors) before its handler sees it. */
function authenticated(handler: UntypedHandleCall, auth: EtcdAuth): UntypedHandleCall {
  const guarded = (call: { metadata: Metadata; emit(event: 'error', e: Error): boolean }, callback?: sendUnaryData<object>) => {
    const first = (key: string) => {
      const v = call.metadata.get(key)[0];
      return typeof v === 'string' ? v : undefined;
    };
    try {
      auth.check(first('token'), first('authorization'));
    } catch (e) {
      const failure = grpcFailure(e as MetaError);
      if (callback) callback(failure);
      else call.emit('error', failure);
      return;
    }
    (handler as (call: unknown, callback?: unknown) => void)(call, callback);
  };
  return guarded as UntypedHandleCall;
}

export async function startGrpcServer(o: GrpcServerOptions): Promise<GrpcServerHandle> {
  const limits = resolveLimits(o.limits);
  const logger = o.logger.child({ layer: 'grpc' });
  const ctx: HandlerContext = { backend: o.backend, limits, headers: new HeaderCache(), logger, auth: o.auth ?? new EtcdAuth(clusterSecret(undefined)) };
  const open: OpenStreams = new Set();
  const server = new Server(serverOptions(limits));
  for (const service of SERVICE_NAMES) {
    const definition = measuredService(service);
    server.addService(definition, implementation(service, Object.keys(definition), ctx, open));
  }
  const port = await new Promise<number>((resolve, reject) => {
    const credentials = o.tls ? ServerCredentials.createSsl(null, [{ cert_chain: o.tls.cert, private_key: o.tls.key }], false) : ServerCredentials.createInsecure();
    server.bindAsync(o.listen, credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
  }).catch((e: unknown) => {
    server.forceShutdown();
    throw e;
  });
  logger.info({ listen: o.listen, port, tls: o.tls !== undefined }, 'etcd gRPC API listening');

  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const stop of [...open]) stop();
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return closing;
    },
  };
}
