// gRPC failures back into MetaErrors, and which of them a client may send again. etcd's clients
// recognise its errors by their message text (rpctypes), so does this: a status whose details
// are (or start with) one of etcd's messages, with that message's status, is that error; any
// other status is the transport's (grpc-js) and is read by its code.
import { GrpcStatus, MetaError, type MetaErrorCode } from '../api/meta-error.js';

/** Every MetaError code (the compiler checks the list is complete). */
const ALL_CODES: Record<MetaErrorCode, true> = {
  empty_key: true,
  key_not_found: true,
  value_provided: true,
  lease_provided: true,
  too_many_ops: true,
  duplicate_key: true,
  invalid_sort_option: true,
  request_too_large: true,
  compacted: true,
  future_rev: true,
  no_space: true,
  lease_not_found: true,
  lease_exists: true,
  lease_ttl_too_large: true,
  member_not_found: true,
  no_leader: true,
  not_leader: true,
  timeout: true,
  stopped: true,
  canceled: true,
  auth_not_enabled: true,
  user_empty: true,
  auth_failed: true,
  invalid_auth_token: true,
  unimplemented: true,
  invalid_argument: true,
  internal: true,
};

/** etcd's messages, longest first, so a prefix match takes the most specific one. */
const KNOWN = (Object.keys(ALL_CODES) as MetaErrorCode[]).map((code) => new MetaError(code)).sort((a, b) => b.message.length - a.message.length);

/** A failed call as grpc-js reports it. */
export interface StatusLike {
  code: number;
  details: string;
}

export function isStatusLike(e: unknown): e is StatusLike {
  return typeof e === 'object' && e !== null && typeof (e as StatusLike).code === 'number' && typeof (e as StatusLike).details === 'string';
}

/** The MetaError etcd sent, when `s` is one of etcd's errors (undefined for the transport's). */
export function etcdErrorOf(s: StatusLike): MetaError | undefined {
  for (const known of KNOWN) {
    if (known.grpcStatus === s.code && (s.details === known.message || s.details.startsWith(known.message))) return new MetaError(known.code, s.details);
  }
  return undefined;
}

/** Any failed status as a MetaError: etcd's own, else the closest code for the status, with the details as the message. */
export function metaErrorOfStatus(s: StatusLike): MetaError {
  const known = etcdErrorOf(s);
  if (known) return known;
  const message = s.details || `gRPC status ${s.code}`;
  switch (s.code) {
    case GrpcStatus.CANCELLED:
      return new MetaError('canceled', message);
    case GrpcStatus.DEADLINE_EXCEEDED:
      return new MetaError('timeout', `etcdserver: request timed out (${message})`);
    case GrpcStatus.UNAVAILABLE:
      // The transport failed: whether a write got through is unknown, etcd's "request timed out".
      return new MetaError('timeout', `etcdserver: request timed out (${message})`);
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.OUT_OF_RANGE:
      return new MetaError('invalid_argument', message);
    case GrpcStatus.RESOURCE_EXHAUSTED:
      // grpc's own message size limit: "Received message larger than max".
      return new MetaError('request_too_large', message);
    case GrpcStatus.UNIMPLEMENTED:
      return new MetaError('unimplemented', message);
    default:
      return new MetaError('internal', message);
  }
}

/**
 * The transport's failures that say the request never left this client: no connection to pick
 * (grpc-js fails a call at once when the channel is in TRANSIENT_FAILURE: connection refused,
 * unreachable) or the server refused the HTTP/2 stream before reading it.
 */
export function neverSent(s: StatusLike): boolean {
  if (s.code !== GrpcStatus.UNAVAILABLE || etcdErrorOf(s)) return false;
  return s.details.startsWith('No connection established') || s.details === 'Stream refused by server';
}

/**
 * How a call may be sent again to the next endpoint:
 * - 'read': has no effect (ranges, status, time-to-live, alarm list);
 * - 'renew': has an effect that repeating does not change (a lease keep-alive);
 * - 'write': must not be applied twice, so it is sent again only when the failure says nothing
 *   was applied: never sent (see neverSent), or etcd's "no leader" (raftkit-meta answers it only
 *   when nothing was proposed, src/node/errors.ts).
 */
export type CallKind = 'read' | 'renew' | 'write';

export function mayRetry(s: StatusLike, kind: CallKind): boolean {
  const etcd = etcdErrorOf(s);
  if (etcd) {
    if (etcd.code === 'no_leader') return true;
    // "request timed out", "server stopped": a read or a renewal is simply tried elsewhere.
    return kind !== 'write' && s.code === GrpcStatus.UNAVAILABLE;
  }
  if (kind === 'write') return neverSent(s);
  return s.code === GrpcStatus.UNAVAILABLE;
}
