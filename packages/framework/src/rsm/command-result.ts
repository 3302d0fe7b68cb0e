import { API_ERROR_STATUS, RaftApiError, type ApiErrorCode } from '../api/errors.js';

/** The error codes of results that are not RaftApiError codes. */
export type CommandErrorCode = ApiErrorCode | 'command_failed' | 'stale_sequence' | 'request_expired' | 'bad_entry';

export interface CommandErrorBody {
  code: string;
  message: string;
  /** The details of a RaftApiError thrown by the handler (for example {field}), when any. */
  details?: Record<string, unknown>;
}

/**
 * The deterministic result of a command that failed: `{ error: { code, message } }` as JSON
 * (what the watch stream shows). In this process it is an instance of this class, so a proposer
 * can tell it from a handler's own result with `isCommandError`.
 */
export class CommandErrorResult {
  readonly error: CommandErrorBody;

  constructor(code: string, message: string, details?: Record<string, unknown>) {
    this.error = details && Object.keys(details).length > 0 ? { code, message, details } : { code, message };
  }
}

export function isCommandError(result: unknown): result is CommandErrorResult {
  return result instanceof CommandErrorResult;
}

/** The details as a JSON copy (they travel and are stored in sessions); dropped if not JSON. */
function plainDetails(details: Record<string, unknown>): Record<string, unknown> | undefined {
  try {
    return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** What a handler's thrown value becomes: a RaftApiError keeps its code, anything else is 'command_failed'. */
export function errorResultOf(e: unknown): CommandErrorResult {
  if (e instanceof RaftApiError) return new CommandErrorResult(e.code, e.message, plainDetails(e.details));
  const message = e instanceof Error ? e.message : String(e);
  return new CommandErrorResult('command_failed', message);
}

/** API codes for the result codes that are not API codes themselves (kept in details.reason). */
const RESULT_CODE_TO_API: Record<string, ApiErrorCode> = {
  stale_sequence: 'conflict',
  // Nobody waits for it (its origin gave up); whoever still asks learns it was not applied.
  request_expired: 'conflict',
  command_failed: 'internal',
  bad_entry: 'internal',
};

/**
 * For the proposer: the RaftApiError to answer for an error result. A code the API knows is
 * kept; 'stale_sequence' becomes 'conflict' (409) and 'command_failed' (a handler threw
 * something other than a RaftApiError) becomes 'internal' (500), with the original code in
 * details.reason. Handlers that want a 4xx throw a RaftApiError with that code.
 */
export function commandErrorToApiError(result: CommandErrorResult): RaftApiError {
  const { code, message, details } = result.error;
  if (Object.hasOwn(API_ERROR_STATUS, code)) return new RaftApiError(code as ApiErrorCode, message, details ?? {});
  return new RaftApiError(RESULT_CODE_TO_API[code] ?? 'internal', message, { ...details, reason: code });
}

/** Returns the result of a successful command, or throws the RaftApiError of an error result. */
export function unwrapCommandResult(result: unknown): unknown {
  if (isCommandError(result)) throw commandErrorToApiError(result);
  return result;
}

/**
 * The answer to a command whose (client id, sequence) was already applied: the first result and
 * the index of the entry that applied it. The retry's own entry changed nothing.
 */
export class DuplicateCommand {
  constructor(
    readonly index: number,
    readonly result: unknown,
  ) {}
}
