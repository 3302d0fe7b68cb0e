/** API error codes and their HTTP statuses (shared/API.md section 2). */
export const API_ERROR_STATUS = {
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
  not_leader: 421,
  unavailable: 503,
  timeout: 503,
  internal: 500,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

/** An error with a stable code; the HTTP layer answers {"error": code, "message": ...} with its status. */
export class RaftApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    /** Extra fields for the body: e.g. {leader: {id, url}} or {firstIndex} or {field}. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'RaftApiError';
  }

  get status(): number {
    return API_ERROR_STATUS[this.code];
  }
}
