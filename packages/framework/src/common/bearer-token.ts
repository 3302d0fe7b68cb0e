// The shared-secret check of every HTTP entry point on a node's one port (the API and the peer
// transport's upgrade), so both accept the same header forms and compare the same way.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type TokenVerdict = 'ok' | 'missing' | 'wrong';

/**
 * The cluster's shared secret as every entry point checks it: the token, plus the tokens
 * accepted during a rotation (--accept-token). Each accepted token is compared, after hashing
 * both sides to one length, so neither the time taken nor a prefix tells which one matched.
 */
export interface ClusterSecret {
  /** Whether a token is configured; without one every request passes. */
  readonly required: boolean;
  /** Whether `given` is the token or an accepted one (true for anything when none is required). */
  matches(given: string): boolean;
  /** Checks an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 7235). */
  bearer(authorization: string | string[] | undefined): TokenVerdict;
  /**
   * A keyed digest of `message` under each accepted token, the current one first: what a
   * credential derived from the secret (an etcd auth token) is checked against, so it stays
   * valid across a rotation for as long as the token it came from is accepted.
   */
  derive(message: string): Buffer[];
}

export function clusterSecret(token: string | undefined, alsoAccepted: readonly string[] = []): ClusterSecret {
  const required = token !== undefined && token !== '';
  const secrets = required ? [token, ...alsoAccepted] : [];
  const expected = secrets.map(sha256);
  const matches = (given: string): boolean => {
    if (!required) return true;
    const g = sha256(given);
    let ok = false;
    for (const e of expected) ok = timingSafeEqual(g, e) || ok;
    return ok;
  };
  return {
    required,
    matches,
    bearer(authorization) {
      if (!required) return 'ok';
      const m = typeof authorization === 'string' ? /^Bearer[ \t]+(.+)$/i.exec(authorization) : null;
      // Compare something either way, so a missing header costs what a wrong one does.
      const ok = matches(m ? m[1]!.trim() : '');
      if (!m) return 'missing';
      return ok ? 'ok' : 'wrong';
    },
    derive: (message) => secrets.map((s) => createHmac('sha256', s).update(message, 'utf8').digest()),
  };
}

/**
 * Bearer, or HTTP Basic with any user name and the token as password (what browsers and rqlite's
 * clients send), against the token and the accepted ones.
 */
export function bearerOrBasicMatches(secret: ClusterSecret, authorization: string | string[] | undefined): boolean {
  if (!secret.required) return true;
  if (secret.bearer(authorization) === 'ok') return true;
  const m = typeof authorization === 'string' ? /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(authorization) : null;
  const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  return secret.matches(colon < 0 ? '' : decoded.slice(colon + 1)) && colon >= 0;
}

/** `Authorization: Bearer` against the token and the accepted ones (see ClusterSecret.bearer). */
export function bearerTokenCheck(token: string | undefined, alsoAccepted: readonly string[] = []): (authorization: string | string[] | undefined) => TokenVerdict {
  const secret = clusterSecret(token, alsoAccepted);
  return (authorization) => secret.bearer(authorization);
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
