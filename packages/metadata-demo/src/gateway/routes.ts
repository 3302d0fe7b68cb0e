// The gateway's paths, as etcd 3.4's grpc-gateway binds them (rpc.proto's google.api.http
// options), each to the gRPC method it stands for. /v3beta/ and /v3alpha/ are accepted as
// aliases of /v3/ (etcd 3.4 still answers /v3beta/; /v3alpha/ is older).
import { serviceDefinition, type ServiceName } from '../wire/proto.js';

export type RouteKind = 'unary' | 'watch' | 'keepalive' | 'snapshot';

export interface Route {
  /** "Service.Method", the key of wire/unary-methods.ts. */
  method: string;
  kind: RouteKind;
}

const unary = (method: string): Route => ({ method, kind: 'unary' });

export const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  ['/kv/range', unary('KV.Range')],
  ['/kv/put', unary('KV.Put')],
  ['/kv/deleterange', unary('KV.DeleteRange')],
  ['/kv/txn', unary('KV.Txn')],
  ['/kv/compaction', unary('KV.Compact')],
  ['/watch', { method: 'Watch.Watch', kind: 'watch' }],
  ['/lease/grant', unary('Lease.LeaseGrant')],
  ['/lease/revoke', unary('Lease.LeaseRevoke')],
  ['/kv/lease/revoke', unary('Lease.LeaseRevoke')],
  ['/lease/keepalive', { method: 'Lease.LeaseKeepAlive', kind: 'keepalive' }],
  ['/lease/timetolive', unary('Lease.LeaseTimeToLive')],
  ['/kv/lease/timetolive', unary('Lease.LeaseTimeToLive')],
  ['/lease/leases', unary('Lease.LeaseLeases')],
  ['/kv/lease/leases', unary('Lease.LeaseLeases')],
  ['/cluster/member/add', unary('Cluster.MemberAdd')],
  ['/cluster/member/remove', unary('Cluster.MemberRemove')],
  ['/cluster/member/update', unary('Cluster.MemberUpdate')],
  ['/cluster/member/list', unary('Cluster.MemberList')],
  ['/cluster/member/promote', unary('Cluster.MemberPromote')],
  ['/maintenance/alarm', unary('Maintenance.Alarm')],
  ['/maintenance/status', unary('Maintenance.Status')],
  ['/maintenance/defragment', unary('Maintenance.Defragment')],
  // etcd binds Hash and HashKV to the same path; the first binding, Hash, answers it.
  ['/maintenance/hash', unary('Maintenance.Hash')],
  ['/maintenance/snapshot', { method: 'Maintenance.Snapshot', kind: 'snapshot' }],
  ['/maintenance/transfer-leadership', unary('Maintenance.MoveLeader')],
  ['/auth/enable', unary('Auth.AuthEnable')],
  ['/auth/disable', unary('Auth.AuthDisable')],
  ['/auth/authenticate', unary('Auth.Authenticate')],
  ['/auth/user/add', unary('Auth.UserAdd')],
  ['/auth/user/get', unary('Auth.UserGet')],
  ['/auth/user/list', unary('Auth.UserList')],
  ['/auth/user/delete', unary('Auth.UserDelete')],
  ['/auth/user/changepw', unary('Auth.UserChangePassword')],
  ['/auth/user/grant', unary('Auth.UserGrantRole')],
  ['/auth/user/revoke', unary('Auth.UserRevokeRole')],
  ['/auth/role/add', unary('Auth.RoleAdd')],
  ['/auth/role/get', unary('Auth.RoleGet')],
  ['/auth/role/list', unary('Auth.RoleList')],
  ['/auth/role/delete', unary('Auth.RoleDelete')],
  ['/auth/role/grant', unary('Auth.RoleGrantPermission')],
  ['/auth/role/revoke', unary('Auth.RoleRevokePermission')],
]);

const PREFIXES = ['/v3/', '/v3beta/', '/v3alpha/'];

/** The path below the API prefix ("/kv/range"), or undefined when the request is not for the gateway. */
export function gatewayPath(url: string | undefined): string | undefined {
  const target = url ?? '/';
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const prefix = PREFIXES.find((p) => path.startsWith(p));
  return prefix === undefined ? undefined : path.slice(prefix.length - 1);
}

export interface MethodTypes {
  request: string;
  response: string;
  serializeRequest(request: object): Buffer;
}

/** A method's message types (full names) and its request serializer. */
export function methodTypes(method: string): MethodTypes {
  const [service, name] = method.split('.') as [ServiceName, string];
  const def = serviceDefinition(service)[name];
  if (!def) throw new Error(`raftkit-meta: no gRPC method ${method}`);
  const typeName = (t: { type: object }) => `etcdserverpb.${(t.type as { name: string }).name}`;
  return { request: typeName(def.requestType), response: typeName(def.responseType), serializeRequest: (r) => def.requestSerialize(r) };
}
