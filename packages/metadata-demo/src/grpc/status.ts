// Failures as gRPC statuses: a MetaError keeps etcd's status and exact message (etcd's clients
// match on the text); anything else is a bug or an outage below us, logged here and answered
// INTERNAL with a generic message so no internals leak to clients.
import type { Logger } from '@raftkit/framework';
import { MetaError } from '../api/meta-error.js';

export interface GrpcFailure {
  code: number;
  details: string;
}

export function toMetaError(e: unknown, logger: Logger, what: string): MetaError {
  if (e instanceof MetaError) return e;
  logger.error({ err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e), method: what }, 'etcd api: internal error');
  return new MetaError('internal');
}

export function grpcFailure(e: MetaError): GrpcFailure & Error {
  return Object.assign(new Error(e.message), { code: e.grpcStatus, details: e.message });
}
