// etcd's unary methods on the wire shape, shared by the gRPC server and the JSON gateway: decode
// (with etcd's checks), call the backend, encode. Methods this store does not implement answer
// UNIMPLEMENTED with a message that says what to do instead; the Auth service logs in with the
// cluster token (api/etcd-auth.ts) and has no users or roles.
import type { CallOptions, MetaBackend } from '../api/meta-backend.js';
import { MetaError } from '../api/meta-error.js';
import type { EtcdAuth } from '../api/etcd-auth.js';
import { decodeCompaction, decodeDeleteRange, decodePut, decodeRange, decodeTxn } from './decode-kv.js';
import { decodeAlarm, decodeLeaseGrant, decodeLeaseRevoke, decodeLeaseTimeToLive } from './decode-lease.js';
import * as enc from './encode.js';
import type { HeaderCache } from './header-cache.js';
import type { MetaApiLimits } from './limits.js';
import type {
  WireAlarmRequest,
  WireCompactionRequest,
  WireDeleteRangeRequest,
  WireLeaseGrantRequest,
  WireLeaseIdRequest,
  WireLeaseTimeToLiveRequest,
  WirePutRequest,
  WireRangeRequest,
  WireResponseHeader,
  WireTxnRequest,
} from './wire-types.js';

export interface MethodContext {
  backend: MetaBackend;
  limits: MetaApiLimits;
  headers: HeaderCache;
  options: CallOptions;
  /** The request's size as protobuf: what etcd's request size limit counts. */
  wireSize: number;
  /** Login and credentials (enabled when the node has a cluster token). */
  auth: EtcdAuth;
}

export interface UnaryMethod {
  /** Goes through the raft log (etcd refuses such a request over maxRequestBytes). */
  write: boolean;
  call(request: object, ctx: MethodContext): Promise<{ header?: WireResponseHeader | null }>;
}

function method<W extends object>(write: boolean, call: (w: W, ctx: MethodContext) => Promise<{ header?: WireResponseHeader | null }>): UnaryMethod {
  return { write, call: call as UnaryMethod['call'] };
}

function unimplemented(what: string): UnaryMethod {
  return method(false, () => Promise.reject(new MetaError('unimplemented', `etcdserver: not implemented: ${what}`)));
}

/** Snapshot (a server stream in gRPC) is refused with this. */
export const SNAPSHOT_UNIMPLEMENTED = "etcdserver: not implemented: Snapshot (back up raftkit-meta with raftkit's snapshots of its data directory)";

const MEMBERSHIP = 'membership changes go through raftkit (raftkit-meta --join, and its HTTP API)';
const USERS = 'users and roles (raftkit-meta has one credential, the cluster token: log in with any user name and the token as password)';

/** Every unary method of the services this package serves, by "Service.Method". */
export const UNARY_METHODS: Readonly<Record<string, UnaryMethod>> = {
  'KV.Range': method<WireRangeRequest>(false, async (w, { backend, options }) => enc.encodeRange(await backend.range(decodeRange(w), options))),
  'KV.Put': method<WirePutRequest>(true, async (w, { backend, options }) => enc.encodePut(await backend.put(decodePut(w), options))),
  'KV.DeleteRange': method<WireDeleteRangeRequest>(true, async (w, { backend, options }) => enc.encodeDeleteRange(await backend.deleteRange(decodeDeleteRange(w), options))),
  'KV.Txn': method<WireTxnRequest>(true, async (w, { backend, options, limits }) => enc.encodeTxn(await backend.txn(decodeTxn(w, limits.maxTxnOps), options))),
  'KV.Compact': method<WireCompactionRequest>(true, async (w, { backend, options }) => enc.encodeCompaction(await backend.compact(decodeCompaction(w), options))),

  'Lease.LeaseGrant': method<WireLeaseGrantRequest>(true, async (w, { backend, options }) => enc.encodeLeaseGrant(await backend.leaseGrant(decodeLeaseGrant(w), options))),
  'Lease.LeaseRevoke': method<WireLeaseIdRequest>(true, async (w, { backend, options }) => enc.encodeLeaseRevoke(await backend.leaseRevoke(decodeLeaseRevoke(w), options))),
  'Lease.LeaseTimeToLive': method<WireLeaseTimeToLiveRequest>(false, async (w, { backend, options }) =>
    enc.encodeLeaseTimeToLive(await backend.leaseTimeToLive(decodeLeaseTimeToLive(w), options)),
  ),
  'Lease.LeaseLeases': method(false, async (_w, { backend, options }) => enc.encodeLeaseLeases(await backend.leaseLeases(options))),

  'Cluster.MemberList': method(false, async (_w, { backend, options }) => enc.encodeMemberList(await backend.memberList(options))),
  'Cluster.MemberAdd': unimplemented(MEMBERSHIP),
  'Cluster.MemberRemove': unimplemented(MEMBERSHIP),
  'Cluster.MemberUpdate': unimplemented(MEMBERSHIP),
  'Cluster.MemberPromote': unimplemented(MEMBERSHIP),

  'Maintenance.Status': method(false, async (_w, { backend, options }) => enc.encodeStatus(await backend.status(options))),
  'Maintenance.Alarm': method<WireAlarmRequest>(true, async (w, { backend, options }) => enc.encodeAlarm(await backend.alarm(decodeAlarm(w), options))),
  'Maintenance.Defragment': unimplemented('Defragment (the store reclaims space itself)'),
  'Maintenance.Hash': unimplemented('Hash'),
  'Maintenance.HashKV': unimplemented('HashKV'),
  'Maintenance.MoveLeader': unimplemented('MoveLeader (leadership moves through raftkit)'),

  // Without a cluster token, as etcd with authentication disabled: Authenticate refused,
  // AuthDisable a no-op. With one, Authenticate takes the token as password (api/etcd-auth.ts).
  // There are no users or roles either way.
  'Auth.Authenticate': method<{ name?: unknown; password?: unknown }>(false, async (w, { headers, auth }) => {
    const token = auth.authenticate(typeof w.name === 'string' ? w.name : '', typeof w.password === 'string' ? w.password : '');
    return { header: headers.get(), token };
  }),
  'Auth.AuthStatus': method(false, async (_w, { headers, auth }) => ({ header: headers.get(), enabled: auth.enabled, authRevision: '0' })),
  'Auth.AuthDisable': method(false, async (_w, { headers, auth }) => {
    if (auth.enabled)
      throw new MetaError('unimplemented', 'etcdserver: not implemented: AuthDisable (authentication is the cluster token: restart the nodes without --token to turn it off)');
    return { header: headers.get() };
  }),
  'Auth.UserList': method(false, async (_w, { headers }) => ({ header: headers.get(), users: [] })),
  'Auth.RoleList': method(false, async (_w, { headers }) => ({ header: headers.get(), roles: [] })),
  'Auth.AuthEnable': unimplemented(USERS),
  'Auth.UserAdd': unimplemented(USERS),
  'Auth.UserGet': unimplemented(USERS),
  'Auth.UserDelete': unimplemented(USERS),
  'Auth.UserChangePassword': unimplemented(USERS),
  'Auth.UserGrantRole': unimplemented(USERS),
  'Auth.UserRevokeRole': unimplemented(USERS),
  'Auth.RoleAdd': unimplemented(USERS),
  'Auth.RoleGet': unimplemented(USERS),
  'Auth.RoleDelete': unimplemented(USERS),
  'Auth.RoleGrantPermission': unimplemented(USERS),
  'Auth.RoleRevokePermission': unimplemented(USERS),
};

/** Runs one unary method: etcd's size limit for writes, then the method; notes the answer's header. */
export async function invokeUnary(name: string, request: object, ctx: MethodContext): Promise<object> {
  const m = UNARY_METHODS[name];
  if (!m) throw new MetaError('unimplemented', `etcdserver: not implemented: ${name}`);
  if (m.write && ctx.wireSize > ctx.limits.maxRequestBytes) throw new MetaError('request_too_large');
  const response = await m.call(request, ctx);
  ctx.headers.note(response.header);
  return response;
}
