// @raftkit/metadata-demo: raftkit-meta, an etcd-v3-compatible metadata center on raftkit (see
// README.md). The contract with the protocol layers (api/), the store's state machine, the
// node that serves MetaBackend, and the pieces main.ts assembles, for embedding and tests.
export type * from './api/etcd-types.js';
export type { CallOptions, MetaBackend, WatchHandle, WatchSink } from './api/meta-backend.js';
export { GrpcStatus, MetaError, httpStatusOfGrpc, isMetaErrorCode, type GrpcStatusCode, type MetaErrorCode } from './api/meta-error.js';
export { bytes, compare, deleteRequest, prefixEnd, prefixRange, putRequest, rangeRequest, txnRequest, watchRequest } from './api/request-builders.js';
export { MetaMachine, DEFAULT_MAX_RANGE_BYTES, type MetaMachineOptions, type RevisionInfo } from './machine/meta.machine.js';
export { MetaNode, ETCD_VERSION, type MetaNodeOptions } from './node/meta-node.js';
export { metaRoutes, type GatewayRoutes, type GrpcStarter, type MetaServerOptions } from './meta-server.js';
export { parseMetaFlags, META_FLAGS_HELP, MetaFlagError, type MetaFlags } from './meta-flags.js';
export { LeaseExpiryDriver, type ExpiryDriverOptions } from './leases/expiry-driver.js';
export { minLeaseTtl, remainingSeconds } from './leases/lease-rules.js';
export { WatchHub, DEFAULT_PROGRESS_NOTIFY_MS, type WatchHubOptions } from './watch/watch-hub.js';
export type * from './codec/wire-types.js';
export { MetaClient, type MetaClientOptions } from './client/index.js';
export {
  Session,
  Mutex,
  LockedError,
  SessionExpiredError,
  tokenString,
  Election,
  NotLeaderError,
  ServiceRegistry,
  watchConfig,
  followRange,
  waitDelete,
  waitDeletes,
} from './recipes/index.js';
export type { SessionOptions, ServiceInstances, ConfigView, RangeFollower, FollowOptions } from './recipes/index.js';
