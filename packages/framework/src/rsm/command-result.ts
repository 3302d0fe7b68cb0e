import { RaftkitError, isErrorCode, type ErrorCode } from '../common/errors.js';

/** The codes of error results: RaftkitError codes and the rsm layer's own. */
export type CommandErrorCode = ErrorCode | 'command_failed' | 'stale_sequence' | 'request_expired' | 'result_unavailable' | 'bad_entry';

export interface CommandErrorBody {
  code: string;
  message: string;
  /** The details of a RaftkitError thrown by the handler (for example {field}), when any. */
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

/** What a handler's thrown value becomes: a RaftkitError keeps its code, anything else is 'command_failed'. */
export function errorResultOf(e: unknown): CommandErrorResult {
  if (e instanceof RaftkitError) return new CommandErrorResult(e.code, e.message, plainDetails(e.details));
  const message = e instanceof Error ? e.message : String(e);
  return new CommandErrorResult('command_failed', message);
}

/** API codes for the result codes that are not API codes themselves (kept in details.reason). */
const RESULT_CODE_TO_API: Record<string, ErrorCode> = {
  stale_sequence: 'conflict',
  // Nobody waits for it (its origin gave up); whoever still asks learns it was not applied.
  request_expired: 'conflict',
  // The command was applied (before a restart of an on-disk machine); only its result is gone.
  result_unavailable: 'conflict',
  command_failed: 'internal',
  bad_entry: 'internal',
};

/**
 * For the proposer: the RaftkitError to answer for an error result. A RaftkitError code is
 * kept; 'stale_sequence', 'request_expired' and 'result_unavailable' become 'conflict' and 'command_failed' (a handler
 * threw something other than a RaftkitError) becomes 'internal', with the original code in
 * details.reason. Handlers that want the caller to see a code throw a RaftkitError with it.
 */
export function commandErrorToError(result: CommandErrorResult): RaftkitError {
  const { code, message, details } = result.error;
  if (isErrorCode(code)) return new RaftkitError(code, message, details ?? {});
  return new RaftkitError(RESULT_CODE_TO_API[code] ?? 'internal', message, { ...details, reason: code });
}

/** Returns the result of a successful command, or throws the RaftkitError of an error result. */
export function unwrapCommandResult(result: unknown): unknown {
  if (isCommandError(result)) throw commandErrorToError(result);
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
