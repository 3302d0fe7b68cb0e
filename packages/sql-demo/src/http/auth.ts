// The cluster's secret guards the rqlite routes as it guards raftkit's API. rqlite clients
// authenticate with HTTP Basic (rqlite-js, the rqlite shell): any user name with the token as
// password is accepted, as is raftkit's `Authorization: Bearer <token>`; during a token rotation
// (--accept-token) the accepted tokens pass too.
import type { IncomingMessage } from 'node:http';
import { bearerOrBasicMatches, type ClusterSecret } from '@raftkit/framework/server';

/** A check of a request's Authorization header; everything passes when there is no token. */
export function makeAuthCheck(secret: ClusterSecret): (req: IncomingMessage) => boolean {
  return (req) => bearerOrBasicMatches(secret, req.headers.authorization);
}
