// MetaClient: a TypeScript client of etcd's v3 gRPC API (raftkit-meta or etcd) that implements
// MetaBackend, with endpoint failover, deadlines, one Watch and one LeaseKeepAlive stream.
export { MetaClient, type MetaClientOptions } from './meta-client.js';
export { etcdErrorOf, metaErrorOfStatus, mayRetry, neverSent, type CallKind, type StatusLike } from './errors.js';
