// Why an rqlite request was refused before anything ran. The messages are rqlite's own where rqlite
// has one (clients and scripts match on them); the reply is what rqlite sends for each case.
import { type HttpReply, plainTextErrorReply } from './http-reply.js';

export type RqliteRequestErrorCode =
  /** A query-string flag rqlite would refuse (bad duration, bad integer, empty q, bad escape...). */
  | 'bad_query_parameter'
  /** The body is not JSON, not an array of statements, or a parameter has no SQL meaning. */
  | 'bad_body'
  /** A flag or value rqlite accepts that this server does not implement (queued writes...). */
  | 'unsupported'
  /** The endpoint does not take this HTTP method. */
  | 'method_not_allowed';

export class RqliteRequestError extends Error {
  constructor(
    readonly code: RqliteRequestErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RqliteRequestError';
  }

  /** 405 has no body in rqlite; every other refusal is http.Error's 400 plain text. */
  get status(): 400 | 405 {
    return this.code === 'method_not_allowed' ? 405 : 400;
  }

  toReply(): HttpReply {
    if (this.code === 'method_not_allowed') return { status: 405, headers: {}, body: '' };
    return plainTextErrorReply(this.status, this.message);
  }
}
