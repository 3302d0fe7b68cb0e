// The cluster's one secret guards the rqlite routes as it guards raftkit's API. rqlite clients
// authenticate with HTTP Basic (rqlite-js, the rqlite shell): any user name with the token as
// password is accepted, as is raftkit's `Authorization: Bearer <token>`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** A check of a request's Authorization header; everything passes when there is no token. */
export function makeAuthCheck(token: string | undefined): (req: IncomingMessage) => boolean {
  if (token === undefined) return () => true;
  const expected = digest(token);
  const matches = (given: string) => timingSafeEqual(digest(given), expected);
  return (req) => {
    const header = req.headers.authorization;
    if (typeof header !== 'string') return false;
    const space = header.indexOf(' ');
    if (space < 0) return false;
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (scheme === 'bearer') return matches(value);
    if (scheme !== 'basic') return false;
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 && matches(decoded.slice(colon + 1));
  };
}
