import { RaftkitError, type ErrorCode } from '../common/errors.js';

/** The HTTP status of each error code (docs/api.md): the only place codes meet HTTP. */
export const API_ERROR_STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  not_found: 404,
  unknown_group: 404,
  unknown_command: 404,
  unknown_query: 404,
  method_not_allowed: 405,
  /** The request body did not arrive within the request timeout (added by the HTTP layer). */
  request_timeout: 408,
  conflict: 409,
  compacted: 410,
  payload_too_large: 413,
  /** An Expect header other than 100-continue (answered by the server, before any route). */
  expectation_failed: 417,
  not_leader: 421,
  /** The request head is larger than Node's parser takes (answered by the server, before any route). */
  headers_too_large: 431,
  unavailable: 503,
  timeout: 503,
  internal: 500,
};

export type ApiErrorCode = ErrorCode;

/** The HTTP status an error is answered with. */
export function httpStatusOf(e: RaftkitError): number {
  return API_ERROR_STATUS[e.code];
}

/** The error class under its earlier name (the same class as RaftkitError). */
export { RaftkitError as RaftApiError };
