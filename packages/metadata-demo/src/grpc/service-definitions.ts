// etcd's service definitions for grpc-js, with each request's size on the wire remembered: etcd
// refuses a write larger than --max-request-bytes with its own error, which needs the size of the
// message as received, not of its decoded form. Watch responses have an encoder of their own.
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { serviceDefinition, type ServiceName } from '../wire/proto.js';
import type { WireWatchResponse } from '../wire/wire-types.js';
import { encodeWatchResponseBytes } from '../wire/watch-response-encoder.js';

const wireSizes = new WeakMap<object, number>();

/** The size in bytes the request was received with (0 when unknown). */
export function wireSizeOf(request: unknown): number {
  return typeof request === 'object' && request !== null ? (wireSizes.get(request) ?? 0) : 0;
}

export function measuredService(name: ServiceName): ServiceDefinition {
  const original = serviceDefinition(name) as unknown as ServiceDefinition;
  const measured: Record<string, MethodDefinition<object, object>> = {};
  for (const [method, def] of Object.entries(original) as [string, MethodDefinition<object, object>][]) {
    measured[method] = {
      ...def,
      requestDeserialize: (bytes: Buffer) => {
        const request = def.requestDeserialize(bytes);
        wireSizes.set(request, bytes.length);
        return request;
      },
    };
    // Events shared by many watches are encoded once (watch-response-encoder.ts).
    if (name === 'Watch' && method === 'Watch') measured[method].responseSerialize = (r: object) => encodeWatchResponseBytes(r as WireWatchResponse);
  }
  return measured as ServiceDefinition;
}
