// Errors as etcd answers them: each code has etcd's message (rpctypes in etcd's api/v3rpc) and
// its gRPC status, so etcdctl and etcd's client libraries recognise them (they match on the
// message text). The gRPC server sends `grpcStatus` and `message`; the JSON gateway answers
// `{"error": message, "code": grpcStatus, "message": message}` with grpc-gateway's HTTP status.

/** gRPC status codes (google.rpc.Code). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

const CODES = {
  empty_key: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: key is not provided'],
  key_not_found: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: key not found'],
  value_provided: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: value is provided'],
  lease_provided: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: lease is provided'],
  too_many_ops: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'],
  duplicate_key: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'],
  invalid_sort_option: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: invalid sort option'],
  request_too_large: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: request is too large'],
  compacted: [GrpcStatus.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'],
  future_rev: [GrpcStatus.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'],
  no_space: [GrpcStatus.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'],
  lease_not_found: [GrpcStatus.NOT_FOUND, 'etcdserver: requested lease not found'],
  lease_exists: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: lease already exists'],
  lease_ttl_too_large: [GrpcStatus.OUT_OF_RANGE, 'etcdserver: too large lease TTL'],
  member_not_found: [GrpcStatus.NOT_FOUND, 'etcdserver: member not found'],
  no_leader: [GrpcStatus.UNAVAILABLE, 'etcdserver: no leader'],
  not_leader: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: not leader'],
  timeout: [GrpcStatus.UNAVAILABLE, 'etcdserver: request timed out'],
  stopped: [GrpcStatus.UNAVAILABLE, 'etcdserver: server stopped'],
  canceled: [GrpcStatus.CANCELLED, 'etcdserver: request cancelled'],
  auth_not_enabled: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: authentication is not enabled'],
  /** A request without a token to a node that has one (etcd's answer to a call without credentials). */
  user_empty: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: user name is empty'],
  auth_failed: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: authentication failed, invalid user ID or password'],
  invalid_auth_token: [GrpcStatus.UNAUTHENTICATED, 'etcdserver: invalid auth token'],
  /** A request etcd would accept that this store does not implement (the message says what). */
  unimplemented: [GrpcStatus.UNIMPLEMENTED, 'etcdserver: not implemented'],
  /** A malformed request (a field of the wrong type, an unknown enum value); the message says which. */
  invalid_argument: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: invalid argument'],
  internal: [GrpcStatus.INTERNAL, 'etcdserver: internal error'],
} as const satisfies Record<string, readonly [GrpcStatusCode, string]>;

export type MetaErrorCode = keyof typeof CODES;

export function isMetaErrorCode(code: unknown): code is MetaErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(CODES, code);
}

/**
 * A failure to answer with etcd's status and message. `message` is etcd's exact text unless a
 * more specific one is given (only for the codes whose text etcd does not fix: unimplemented,
 * invalid_argument, internal, timeout with a cause).
 */
export class MetaError extends Error {
  readonly grpcStatus: GrpcStatusCode;

  constructor(
    readonly code: MetaErrorCode,
    message?: string,
  ) {
    super(message ?? CODES[code][1]);
    this.name = 'MetaError';
    this.grpcStatus = CODES[code][0];
  }
}

/** HTTP status of a gRPC status, as etcd 3.4's JSON gateway (grpc-gateway v1) maps it. */
export function httpStatusOfGrpc(code: GrpcStatusCode): number {
  switch (code) {
    case GrpcStatus.OK:
      return 200;
    case GrpcStatus.CANCELLED:
      return 408;
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.OUT_OF_RANGE:
      return 400;
    case GrpcStatus.DEADLINE_EXCEEDED:
      return 504;
    case GrpcStatus.NOT_FOUND:
      return 404;
    case GrpcStatus.ALREADY_EXISTS:
    case GrpcStatus.ABORTED:
      return 409;
    case GrpcStatus.PERMISSION_DENIED:
      return 403;
    case GrpcStatus.UNAUTHENTICATED:
      return 401;
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return 429;
    case GrpcStatus.FAILED_PRECONDITION:
      return 412;
    case GrpcStatus.UNIMPLEMENTED:
      return 501;
    case GrpcStatus.UNAVAILABLE:
      return 503;
    default:
      return 500;
  }
}
