// The typed errors of raftkit's services, with a stable code and no transport in them: state
// machines, the rsm and fsm layers and the node service throw these; only api/ maps a code to
// an HTTP status (api/errors.ts), so another front end (gRPC, an in-process caller) can map
// them its own way.

export const ERROR_CODES = [
  'bad_request',
  'unauthorized',
  'not_found',
  'unknown_group',
  'unknown_command',
  'unknown_query',
  'method_not_allowed',
  'request_timeout',
  'conflict',
  'compacted',
  'payload_too_large',
  'expectation_failed',
  'headers_too_large',
  'not_leader',
  'unavailable',
  'timeout',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const CODES: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && CODES.has(v);
}

/**
 * An error with a stable code and a message that says what to fix. A state machine's handler
 * throws one to refuse a command deterministically (for example `new RaftkitError('bad_request',
 * 'qty must be positive', { field: 'qty' })`); the proposer is answered with its code.
 */
export class RaftkitError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra fields for the answer: e.g. {leader: {id, url}} or {firstIndex} or {field}. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'RaftkitError';
  }
}
