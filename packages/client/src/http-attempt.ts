import { normalizeEndpoint } from './endpoints.js';
import { errorFromBody, RaftClientError } from './raft-client-error.js';
import type { FetchLike, FetchLikeResponse } from './tls-fetch.js';

/** What a 2xx answer must contain, and how to read it; anything else is a `bad_response`. */
export interface AnswerReader<T> {
  /** The expected shape, for the error message, e.g. `{"result","index"}`. */
  shape: string;
  /** The answer's value, or undefined when the body does not have the expected shape. */
  read(body: unknown): T | undefined;
}

/** The answer of a command or query: `{"result": R, "index": N}` (a missing result reads as null). */
export const OPERATION_ANSWER: AnswerReader<{ result: unknown; index: number }> = {
  shape: '{"result","index"}',
  read(body) {
    const value = body as { result?: unknown; index?: unknown } | undefined;
    if (typeof value !== 'object' || value === null || typeof value.index !== 'number') return undefined;
    return { result: value.result ?? null, index: value.index };
  },
};

export interface AttemptRequest<T> {
  /** Full URL (base + path + query). */
  url: string;
  headers: Record<string, string>;
  /** JSON text of the arguments, sent with POST; without a body the request is a GET. */
  body: string | undefined;
  answer: AnswerReader<T>;
  /** This attempt's own deadline. */
  timeoutMs: number;
  /** The call's signal (caller abort, client close). */
  signal: AbortSignal;
  /** How to send it: the client's Sender (tls-fetch.ts). */
  fetch: FetchLike;
}

/** The reading of one HTTP attempt, for the retry loop. */
export type AttemptOutcome<T> =
  | { kind: 'ok'; status: number; value: T; forwardedTo: string | undefined }
  /** 421: the node does not lead; `leaderUrl` is its hint, when it gave a usable one. */
  | { kind: 'redirect'; status: number; leaderUrl: string | undefined; error: RaftClientError }
  /** Worth another attempt; `down`: the node failed at the connection level (or timed out: `timedOut`). */
  | { kind: 'retry'; status: number | undefined; error: RaftClientError; down: boolean; timedOut?: boolean }
  | { kind: 'fail'; status: number | undefined; error: RaftClientError };

/** Statuses worth retrying: the body never arrived (408), rate limit, gateway trouble, no quorum or timed out (503). */
const RETRY_STATUS = new Set([408, 429, 502, 503, 504]);

function networkMessage(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  const detail = err.cause?.code ?? err.cause?.message;
  return detail ? `${err.message ?? 'fetch failed'} (${detail})` : (err.message ?? String(e));
}

function leaderUrlOf(body: unknown): string | undefined {
  const url = (body as { leader?: { url?: unknown } } | null)?.leader?.url;
  if (typeof url !== 'string' || url === '') return undefined;
  try {
    return normalizeEndpoint(url);
  } catch {
    return undefined;
  }
}

/** Sends one request and classifies the outcome; never throws. */
export async function httpAttempt<T>(req: AttemptRequest<T>): Promise<AttemptOutcome<T>> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, req.timeoutMs);
  const onAbort = () => controller.abort();
  req.signal.addEventListener('abort', onAbort, { once: true });
  try {
    let res: FetchLikeResponse;
    let text: string;
    try {
      res = await req.fetch(req.url, { method: req.body === undefined ? 'GET' : 'POST', headers: req.headers, body: req.body, signal: controller.signal });
      text = await res.text();
    } catch (e) {
      if (req.signal.aborted && !timedOut) {
        return { kind: 'fail', status: undefined, error: new RaftClientError('aborted', 'the call was aborted', { cause: e }) };
      }
      const message = timedOut ? `no answer from ${req.url} within ${Math.round(req.timeoutMs)} ms` : `${req.url}: ${networkMessage(e)}`;
      return { kind: 'retry', status: undefined, down: true, timedOut, error: new RaftClientError('network', message, { cause: e, retryable: true }) };
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    const status = res.status;
    if (status >= 200 && status < 300) {
      const value = req.answer.read(body);
      if (value === undefined) {
        return { kind: 'fail', status, error: new RaftClientError('bad_response', `${req.url} answered ${status} without ${req.answer.shape}`, { status }) };
      }
      return { kind: 'ok', status, value, forwardedTo: res.headers.get('x-raft-forwarded-to') ?? undefined };
    }
    if (status === 421) {
      return { kind: 'redirect', status, leaderUrl: leaderUrlOf(body), error: errorFromBody(status, body, true) };
    }
    const retry = RETRY_STATUS.has(status);
    const error = errorFromBody(status, body, retry);
    return retry ? { kind: 'retry', status, error, down: false, timedOut: false } : { kind: 'fail', status, error };
  } finally {
    clearTimeout(timer);
    req.signal.removeEventListener('abort', onAbort);
  }
}
