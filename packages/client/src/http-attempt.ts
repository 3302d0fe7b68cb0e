import { normalizeEndpoint } from './endpoints.js';
import { errorFromBody, RaftClientError } from './raft-client-error.js';

export interface AttemptRequest {
  /** Full URL (base + path + query). */
  url: string;
  headers: Record<string, string>;
  /** JSON text of the arguments. */
  body: string;
  /** This attempt's own deadline. */
  timeoutMs: number;
  /** The call's signal (caller abort, client close). */
  signal: AbortSignal;
}

/** The reading of one HTTP attempt, for the retry loop. */
export type AttemptOutcome =
  | { kind: 'ok'; status: number; value: { result: unknown; index: number }; forwardedTo: string | undefined }
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

/** Sends one request with global fetch and classifies the outcome; never throws. */
export async function httpAttempt(req: AttemptRequest): Promise<AttemptOutcome> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, req.timeoutMs);
  const onAbort = () => controller.abort();
  req.signal.addEventListener('abort', onAbort, { once: true });
  try {
    let res: Response;
    let text: string;
    try {
      res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body, signal: controller.signal });
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
      const value = body as { result?: unknown; index?: unknown } | undefined;
      if (typeof value !== 'object' || value === null || typeof value.index !== 'number') {
        return { kind: 'fail', status, error: new RaftClientError('bad_response', `${req.url} answered ${status} without {"result","index"}`, { status }) };
      }
      return { kind: 'ok', status, value: { result: value.result ?? null, index: value.index }, forwardedTo: res.headers.get('x-raft-forwarded-to') ?? undefined };
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
