// What the gateway's handlers share.
import type { Logger } from '@raftkit/framework';
import type { EtcdAuth } from '../api/etcd-auth.js';
import type { MetaBackend } from '../api/meta-backend.js';
import type { HeaderCache } from '../wire/header-cache.js';
import { GRPC_OVERHEAD_BYTES, type MetaApiLimits } from '../wire/limits.js';

export interface GatewayContext {
  backend: MetaBackend;
  limits: MetaApiLimits;
  headers: HeaderCache;
  logger: Logger;
  auth: EtcdAuth;
  /** Open streamed answers, each with a way to end it when the server stops. */
  streams: Set<() => void>;
}

/** The largest message the gRPC server would take; the gateway holds its requests to the same. */
export function maxMessageBytes(limits: MetaApiLimits): number {
  return limits.maxRequestBytes + GRPC_OVERHEAD_BYTES;
}

/** The largest JSON text for such a message: base64 grows bytes by 4/3, plus room for the rest. */
export function maxJsonBytes(limits: MetaApiLimits): number {
  return Math.ceil((maxMessageBytes(limits) * 4) / 3) + 64 * 1024;
}
