// The one error type SqlClient throws. `code` says what went wrong in a way a program can act on
// (retry on 'unreachable' or 'unavailable', fix the request on 'bad_request'); `status` and `body`
// keep the server's answer for the rest.

export type SqlClientErrorCode =
  /** No URL answered: connection refused, reset, DNS failure, or a timeout. */
  | 'unreachable'
  /** The client's time limit ran out before an answer came. */
  | 'timeout'
  /** 401/403: the token is missing or wrong. */
  | 'unauthorized'
  /** 400/405/413 and other 4xx: the request itself is wrong (bad SQL is not this: it is a result with an error). */
  | 'bad_request'
  /** 503: no leader, not ready, or the node cannot serve the read yet. */
  | 'unavailable'
  /** Any other non-2xx answer. */
  | 'http_error'
  /** A 2xx answer that is not what the API promises (not JSON, no results). */
  | 'bad_response'
  /** The server answered the request as a whole with an error (its results are empty). */
  | 'request_failed'
  /** Arguments the client refuses before sending anything (a NaN parameter, no URLs). */
  | 'invalid_argument'
  /** Too many redirects between nodes. */
  | 'redirect_loop';

export class SqlClientError extends Error {
  constructor(
    readonly code: SqlClientErrorCode,
    message: string,
    /** The HTTP status, when a server answered. */
    readonly status?: number,
    /** The answer's body text, when a server answered. */
    readonly body?: string,
  ) {
    super(message);
    this.name = 'SqlClientError';
  }
}

export function codeOfStatus(status: number): SqlClientErrorCode {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 503) return 'unavailable';
  if (status >= 400 && status < 500) return 'bad_request';
  return 'http_error';
}
