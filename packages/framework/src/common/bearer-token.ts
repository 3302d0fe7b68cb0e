// The shared-secret check of every HTTP entry point on a node's one port (the API and the peer
// transport's upgrade), so both accept the same header forms and compare the same way.
import { createHash, timingSafeEqual } from 'node:crypto';

export type TokenVerdict = 'ok' | 'missing' | 'wrong';

/**
 * Checks `Authorization: Bearer <token>` (scheme case-insensitive, as RFC 7235 has it) in
 * constant time: both sides are hashed to the same length first, so neither the token's length
 * nor its prefix leaks. Without a token configured every request passes.
 */
export function bearerTokenCheck(token: string | undefined, alsoAccepted: readonly string[] = []): (authorization: string | string[] | undefined) => TokenVerdict {
  if (token === undefined || token === '') return () => 'ok';
  // During a rotation (--accept-token) more tokens pass; each is compared, so the time taken
  // does not tell which one matched.
  const expected = [token, ...alsoAccepted].map(sha256);
  return (authorization) => {
    const m = typeof authorization === 'string' ? /^Bearer[ \t]+(.+)$/i.exec(authorization) : null;
    // Hash something either way, so a missing header costs what a wrong one does.
    const given = sha256(m ? m[1]!.trim() : '');
    if (!m) return 'missing';
    let ok = false;
    for (const e of expected) ok = timingSafeEqual(given, e) || ok;
    return ok ? 'ok' : 'wrong';
  };
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
