// Coordination recipes over etcd's primitives (leases, transactions, watches), on any MetaBackend:
// a node of this store in-process, or a client of a remote one. The mutex and the election use
// etcd's concurrency-package key layout, so they interoperate with etcdctl lock / elect.
export { Session, type SessionOptions } from './session.js';
export { Mutex, LockedError, SessionExpiredError, tokenString } from './mutex.js';
export { Election, NotLeaderError } from './election.js';
export { ServiceRegistry, type ServiceInstances } from './registry.js';
export { watchConfig, type ConfigView } from './config-watch.js';
export { followRange, type RangeFollower, type FollowOptions } from './follow-range.js';
export { waitDelete, waitDeletes } from './wait-deletes.js';
