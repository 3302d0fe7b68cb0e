// raftkit-meta's gRPC server: etcd's KV, Watch, Lease, Cluster, Maintenance and Auth services on
// one port, served from a MetaBackend. etcdctl, etcd's Go client and the npm etcd3 client connect
// to it unchanged (plaintext, no etcd authentication).
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
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
    if (name === 'Watch.Watch') impl[m] = watchHandler(ctx, open);
    else if (name === 'Lease.LeaseKeepAlive') impl[m] = keepAliveHandler(ctx, open);
    else if (name === 'Maintenance.Snapshot') impl[m] = snapshotHandler();
    else if (UNARY_METHODS[name]) impl[m] = unaryHandler(name, ctx);
    else throw new Error(`raftkit-meta: no handler for the gRPC method ${name}`);
  }
  return impl;
}

export async function startGrpcServer(o: GrpcServerOptions): Promise<GrpcServerHandle> {
  const limits = resolveLimits(o.limits);
  const logger = o.logger.child({ layer: 'grpc' });
  const ctx: HandlerContext = { backend: o.backend, limits, headers: new HeaderCache(), logger };
  const open: OpenStreams = new Set();
  const server = new Server(serverOptions(limits));
  for (const service of SERVICE_NAMES) {
    const definition = measuredService(service);
    server.addService(definition, implementation(service, Object.keys(definition), ctx, open));
  }
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(o.listen, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  }).catch((e: unknown) => {
    server.forceShutdown();
    throw e;
  });
  logger.info({ listen: o.listen, port }, 'etcd gRPC API listening');

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
