// The cluster's token guards the gateway as it guards raftkit's own API: with a token set, every
// request needs `Authorization: Bearer <token>` (compared in constant time).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function bearerCheck(token: string | undefined): (req: IncomingMessage) => boolean {
  if (token === undefined) return () => true;
  const expected = digest(token);
  return (req) => {
    const header = req.headers.authorization;
    if (typeof header !== 'string') return false;
    const m = /^bearer\s+(.+)$/i.exec(header.trim());
    return m !== null && timingSafeEqual(digest(m[1]!.trim()), expected);
  };
}
