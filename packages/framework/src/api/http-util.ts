import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { bearerTokenCheck } from '../common/bearer-token.js';
import { refuseOnSocket } from '../common/raw-http.js';
import { RaftkitError } from '../common/errors.js';
import { API_ERROR_STATUS, type ApiErrorCode } from './errors.js';
import { silentLogger, type Logger } from '../common/logger.js';
import { traceStage } from '../common/stage-trace.js';
import { jsonDepthOverflow, MAX_JSON_DEPTH } from './json-depth.js';

export const JSON_TYPE = 'application/json; charset=utf-8';

/** An error reply: status, JSON body and extra headers (Retry-After for 503s, Allow for 405s). */
export interface ErrorReply {
  status: number;
  body: { error: string; message: string; [k: string]: unknown };
  headers: Record<string, string>;
}

function isApiErrorCode(code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(API_ERROR_STATUS, code);
}

/**
 * Turns anything thrown into the reply the client sees. RaftkitError (and, defensively, any Error
 * whose `code` is one of the API codes) keeps its code and details; anything else is a 500 whose
 * real message is logged, not sent.
 */
export function errorReply(err: unknown, logger: Logger = silentLogger): ErrorReply {
  let code: ApiErrorCode;
  let message: string;
  let details: Record<string, unknown> = {};
  if (err instanceof RaftkitError) {
    code = err.code;
    message = err.message;
    details = err.details;
  } else if (err instanceof Error && isApiErrorCode((err as { code?: unknown }).code)) {
    code = (err as unknown as { code: ApiErrorCode }).code;
    message = err.message;
  } else {
    logger.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, 'api: internal error');
    code = 'internal';
    message = 'internal error';
  }
  const status = API_ERROR_STATUS[code];
  const headers: Record<string, string> = {};
  if (status === 503) headers['retry-after'] = String(retryAfterSeconds(details['retryAfter']));
  if (code === 'unauthorized') headers['www-authenticate'] = 'Bearer';
  return { status, body: { ...details, error: code, message }, headers };
}

function retryAfterSeconds(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.ceil(v) : 1;
}

/** Writes a JSON answer (with Content-Length) unless the response is already gone. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  traceStage('respond');
  let data: string;
  try {
    data = JSON.stringify(body ?? null);
  } catch {
    status = 500;
    data = JSON.stringify({ error: 'internal', message: 'the answer could not be encoded as JSON' });
  }
  res.writeHead(status, {
    'content-type': JSON_TYPE,
    'content-length': String(Buffer.byteLength(data)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(data);
}

export function sendError(res: ServerResponse, err: unknown, logger?: Logger, extraHeaders: Record<string, string> = {}): void {
  const r = errorReply(err, logger);
  sendJson(res, r.status, r.body, { ...r.headers, ...extraHeaders });
}

/** Refuses a WebSocket upgrade with the API's JSON error on the raw socket. */
export function refuseUpgrade(socket: Duplex, reply: ErrorReply): void {
  refuseOnSocket(socket, reply.status, JSON_TYPE, JSON.stringify(reply.body), reply.headers);
}

/** Splits a request target into its raw path and its query (absolute-form targets tolerated). */
export function splitTarget(url: string | undefined): { rawPath: string; query: URLSearchParams; pathAndQuery: string } {
  let target = url ?? '/';
  if (!target.startsWith('/')) {
    try {
      const u = new URL(target);
      target = u.pathname + u.search;
    } catch {
      target = '/';
    }
  }
  const q = target.indexOf('?');
  return {
    rawPath: q < 0 ? target : target.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : target.slice(q + 1)),
    pathAndQuery: target,
  };
}

/**
 * The URL-decoded segments of a path ("/v1/groups/a%2Fb" -> ["v1","groups","a/b"]). Decoding
 * after splitting keeps an encoded "/" inside its segment. Throws bad_request on a bad %-escape.
 */
export function decodeSegments(rawPath: string): string[] {
  const parts = rawPath.split('/').slice(1);
  return parts.map((p) => {
    if (!p.includes('%')) return p;
    try {
      return decodeURIComponent(p);
    } catch {
      throw new RaftkitError('bad_request', 'the path has a malformed %-escape', { field: 'path' });
    }
  });
}

/** The API's token check: the node's one `Authorization: Bearer` rule (common/bearer-token.ts). */
export function makeTokenCheck(token: string | undefined, alsoAccepted: readonly string[] = []): (req: IncomingMessage) => boolean {
  const check = bearerTokenCheck(token, alsoAccepted);
  return (req) => check(req.headers.authorization) === 'ok';
}

/**
 * Reads a request body up to `maxBytes`. A declared Content-Length over the limit is refused
 * before a byte is read; a streamed body stops being kept as soon as it crosses the limit (the
 * caller answers with Connection: close, so the connection ends right after the 413). Rejects with payload_too_large, request_timeout, or a plain Error when the
 * client goes away.
 */
export function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    return Promise.reject(tooLarge(maxBytes));
  }
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const timer = setTimeout(() => {
      cleanup();
      req.resume();
      reject(new RaftkitError('request_timeout', `the request body did not arrive within ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        cleanup();
        // Nothing more is kept; what is already in flight is discarded until the 413 (sent with
        // Connection: close) is flushed and the socket closes. Draining it meanwhile keeps the
        // kernel from answering the close with a reset that could swallow the 413.
        chunks.length = 0;
        req.resume();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    };
    const onGone = () => {
      cleanup();
      reject(new Error('client went away'));
    };
    const cleanup = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
}

function tooLarge(maxBytes: number): RaftkitError {
  return new RaftkitError('payload_too_large', `the request body is larger than ${maxBytes} bytes`, { limit: maxBytes });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a JSON body; an empty body is `empty`. Bad UTF-8, bad JSON or nesting deeper than
 * MAX_JSON_DEPTH is bad_request naming the body (depth is checked before parsing, for any depth).
 */
export function parseJsonBody(body: Buffer, empty: unknown): unknown {
  if (body.length === 0) return empty;
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new RaftkitError('bad_request', 'the request body is not valid UTF-8', { field: 'body' });
  }
  if (text.trim() === '') return empty;
  const tooDeep = jsonDepthOverflow(text);
  if (tooDeep >= 0) {
    throw new RaftkitError('bad_request', `the request body is nested deeper than ${MAX_JSON_DEPTH} levels (at character ${tooDeep})`, { field: 'body', maxDepth: MAX_JSON_DEPTH });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RaftkitError('bad_request', `the request body is not valid JSON: ${(e as Error).message}`, { field: 'body' });
  }
}

/** A positive safe integer (node ids), from JSON or a path segment. */
export function positiveInt(v: unknown, field: string): number {
  const n = typeof v === 'string' && /^[1-9][0-9]{0,15}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new RaftkitError('bad_request', `${field} must be a positive integer`, { field });
  }
  return n;
}

export function requireObject(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new RaftkitError('bad_request', 'the request body must be a JSON object', { field: 'body' });
  }
  return v as Record<string, unknown>;
}

export function requireString(v: unknown, field: string, max = 256, pattern?: RegExp): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (typeof v !== 'string' || v.length === 0 || v.length > max || /[\x00-\x1f\x7f]/.test(v)) {
    throw new RaftkitError('bad_request', `${field} must be a non-empty string of at most ${max} printable characters`, { field });
  }
  if (pattern && !pattern.test(v)) throw new RaftkitError('bad_request', `${field} is malformed (expected ${pattern.source})`, { field });
  return v;
}

/** Rejects with a 503 `timeout` (outcome unknown) when `p` has not settled within `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new RaftkitError(
          'timeout',
          `no answer within ${ms} ms: the outcome is unknown, a command may still commit (retry with the same X-Raft-Client-Id and X-Raft-Sequence to apply it once)`,
          {
            outcome: 'unknown',
          },
        ),
      );
    }, ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
