/**
 * Codes the client itself produces. Every other `code` of a {@link RaftClientError} is the
 * server's error code (`bad_request`, `unknown_command`, `unauthorized`, `compacted`, ...).
 */
export type ClientErrorCode =
  /** The call's deadline passed before any attempt succeeded; `cause` holds the last attempt's error. */
  | 'deadline_exceeded'
  /** The connection failed (refused, reset, closed early) or one attempt timed out. */
  | 'network'
  /** The caller's AbortSignal fired. */
  | 'aborted'
  /** The client (or the watch) was closed. */
  | 'closed'
  /** The server answered something that is not raftkit's JSON. */
  | 'bad_response'
  /** The runtime cannot do what was asked (a browser WebSocket cannot send the token). */
  | 'unsupported';

export interface RaftClientErrorInit {
  /** The HTTP status of the answer, when there was one (410 for a compacted watch close). */
  status?: number;
  /** The extra fields of the server's error body (`field`, `leader`, `firstIndex`, `reason`) and client facts (`attempts`). */
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Whether another attempt could succeed; the client uses it to decide what to retry. */
  retryable?: boolean;
}

/**
 * Every failure of the client: the server's `{"error": CODE, "message": ...}` answers keep their
 * code, status and extra fields; failures without an answer use a {@link ClientErrorCode}.
 *
 * ```ts
 * try { await kv.command('put', { key: '', value: 'x' }); }
 * catch (e) { if (e instanceof RaftClientError && e.code === 'bad_request') console.log(e.field); }
 * ```
 */
export class RaftClientError extends Error {
  override readonly name = 'RaftClientError';
  readonly code: ClientErrorCode | (string & {});
  readonly status: number | undefined;
  readonly details: Record<string, unknown>;
  readonly retryable: boolean;

  constructor(code: ClientErrorCode | (string & {}), message: string, init: RaftClientErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.status = init.status;
    this.details = init.details ?? {};
    this.retryable = init.retryable ?? false;
  }

  /** For `compacted`: the lowest index the server can still stream; resume a watch from there. */
  get firstIndex(): number | undefined {
    const v = this.details['firstIndex'];
    return typeof v === 'number' ? v : undefined;
  }

  /** For `bad_request`: the argument or header the server rejected. */
  get field(): string | undefined {
    const v = this.details['field'];
    return typeof v === 'string' ? v : undefined;
  }

  /** For a 400 about arguments: every bad field and why (`field` is the first of them). */
  get fields(): { field: string; message: string }[] {
    const v = this.details['fields'];
    if (!Array.isArray(v)) return [];
    return v.filter((f): f is { field: string; message: string } => typeof f === 'object' && f !== null && typeof f.field === 'string' && typeof f.message === 'string');
  }
}

/**
 * The error for a server's JSON error body (or for a body that is not one). `retryable` is set by
 * the caller, who knows the status rules.
 */
export function errorFromBody(status: number, body: unknown, retryable: boolean): RaftClientError {
  if (typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string') {
    const { error, message, ...details } = body as { error: string; message?: unknown; [k: string]: unknown };
    const text = typeof message === 'string' ? message : `the server answered ${status} ${error}`;
    return new RaftClientError(error, text, { status, details, retryable });
  }
  return new RaftClientError(retryable ? 'unavailable' : 'bad_response', `the server answered HTTP ${status} without a raftkit error body`, { status, retryable });
}
