// Why an rqlite-API request failed before it produced results, with the status rqlite answers.
// The answer is Go's http.Error: the message as plain text (401 and 405 have no body, as in rqlite).
import { RaftkitError } from '@raftkit/framework';
import { plainTextErrorReply, type HttpReply } from '../rqlite/index.js';

export type HttpFailureCode =
  'bad_request' | 'unauthorized' | 'method_not_allowed' | 'request_timeout' | 'payload_too_large' | 'leader_not_found' | 'unavailable' | 'timeout' | 'internal';

const STATUS: Record<HttpFailureCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  method_not_allowed: 405,
  request_timeout: 408,
  payload_too_large: 413,
  leader_not_found: 503,
  unavailable: 503,
  timeout: 503,
  internal: 500,
};

/** rqlite's text for a request that needs a leader when none is known (proxy.ErrLeaderNotFound). */
export const LEADER_NOT_FOUND = 'leader not found';

export class HttpFailure extends Error {
  constructor(
    readonly code: HttpFailureCode,
    message: string,
  ) {
    super(message);
    this.name = 'HttpFailure';
  }

  get status(): number {
    return STATUS[this.code];
  }

  toReply(): HttpReply {
    if (this.code === 'unauthorized' || this.code === 'method_not_allowed') return { status: this.status, headers: {}, body: '' };
    const reply = plainTextErrorReply(this.status, this.message);
    if (this.status === 503) reply.headers['Retry-After'] = '1';
    if (this.code === 'payload_too_large' || this.code === 'request_timeout') reply.headers['Connection'] = 'close';
    return reply;
  }
}

/** An error of the node service (a RaftkitError) as the failure this API answers. */
export function failureOf(e: unknown): HttpFailure {
  if (e instanceof HttpFailure) return e;
  if (e instanceof RaftkitError) {
    switch (e.code) {
      case 'bad_request':
        return new HttpFailure('bad_request', e.message);
      case 'timeout':
        return new HttpFailure('timeout', e.message);
      case 'unavailable':
      case 'not_leader':
      case 'unknown_group':
        return new HttpFailure('unavailable', e.message);
      case 'payload_too_large':
        return new HttpFailure('payload_too_large', e.message);
      default:
        return new HttpFailure('internal', e.message);
    }
  }
  return new HttpFailure('internal', e instanceof Error ? e.message : String(e));
}
