// etcd's authentication, as far as a cluster guarded by one shared secret needs it. With a cluster
// token (--token), authentication is enabled: etcd's clients log in as etcd's do (etcdctl
// --user NAME:PASSWORD, etcd3's `auth: { username, password }`, the gateway's
// /v3/auth/authenticate) with any user name and the token as password, get an auth token, and send
// it with every call (gRPC metadata `token`, or the gateway's Authorization header). Callers that
// hold the secret may also send it directly (`authorization: Bearer <token>`).
//
// An auth token is `<user>.<HMAC-SHA256(cluster token, user)>`, so every node checks it without
// shared state and it stays valid across restarts and leader changes; it stops working when the
// token it came from stops being accepted (a rotation with --accept-token revokes the old ones).
// There are no users, roles or permissions: whoever holds the secret may do everything, as on the
// HTTP API.
import type { ClusterSecret } from '@raftkit/framework/server';
import { timingSafeEqual } from 'node:crypto';
import { MetaError } from './meta-error.js';

/** Longest user name taken (etcd has no limit; this keeps a hostile login from costing much). */
const MAX_USER_BYTES = 256;

export class EtcdAuth {
  constructor(private readonly secret: ClusterSecret) {}

  /** Whether calls need credentials (the node has a cluster token). */
  get enabled(): boolean {
    return this.secret.required;
  }

  /** Auth.Authenticate: an auth token for `name` when `password` is the cluster token. */
  authenticate(name: string, password: string): string {
    if (!this.enabled) throw new MetaError('auth_not_enabled');
    if (name === '') throw new MetaError('user_empty');
    const ok = this.secret.matches(password);
    if (!ok || Buffer.byteLength(name) > MAX_USER_BYTES) throw new MetaError('auth_failed');
    return `${name}.${this.secret.derive(userMessage(name))[0]!.toString('base64url')}`;
  }

  /**
   * Checks a call's credentials: an auth token (`token` metadata, or the gateway's Authorization
   * header as etcd's gateway takes it) or the secret as a bearer token. Throws etcd's errors.
   */
  check(authToken: string | undefined, authorization: string | undefined): void {
    if (!this.enabled) return;
    if (authorization !== undefined && this.secret.bearer(authorization) === 'ok') return;
    const token = authToken ?? authorization;
    if (token === undefined || token === '') throw new MetaError('user_empty');
    if (!this.validToken(token)) throw new MetaError('invalid_auth_token');
  }

  private validToken(token: string): boolean {
    const dot = token.lastIndexOf('.');
    if (dot <= 0 || dot > MAX_USER_BYTES * 4) return false;
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    let ok = false;
    for (const expected of this.secret.derive(userMessage(token.slice(0, dot)))) {
      ok = (given.length === expected.length && timingSafeEqual(given, expected)) || ok;
    }
    return ok;
  }
}

function userMessage(name: string): string {
  return `raftkit-meta etcd auth token\0${name}`;
}
