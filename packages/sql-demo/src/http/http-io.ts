// Reading bodies and writing answers for the rqlite API, on plain node:http.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RaftkitError, readBody as readRaftkitBody } from '@raftkit/framework/api';
import type { HttpReply } from '../rqlite/index.js';
import { HttpFailure } from './http-failure.js';

/**
 * Reads a request body of at most `maxBytes` (raftkit's reader: a declared Content-Length over
 * the limit is refused before a byte is read; a streamed body stops being kept once it crosses
 * it). Rejects with HttpFailure 413 or 408, or a plain Error when the client went away.
 */
export async function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  try {
    return await readRaftkitBody(req, maxBytes, timeoutMs);
  } catch (e) {
    if (e instanceof RaftkitError && e.code === 'payload_too_large') throw new HttpFailure('payload_too_large', `the request body is larger than ${maxBytes} bytes`);
    if (e instanceof RaftkitError && e.code === 'request_timeout') throw new HttpFailure('request_timeout', `the request body did not arrive within ${timeoutMs} ms`);
    throw e;
  }
}

/** Writes a complete answer (with Content-Length) unless the response is already gone. */
export function sendReply(res: ServerResponse, reply: HttpReply, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  const body = Buffer.from(reply.body, 'utf8');
  res.writeHead(reply.status, { ...reply.headers, ...extraHeaders, 'Content-Length': String(body.length) });
  res.end(body);
}

/** The path and the raw query string of a request target. */
export function splitUrl(url: string | undefined): { path: string; rawQuery: string } {
  const target = url ?? '/';
  const q = target.indexOf('?');
  return q < 0 ? { path: target, rawQuery: '' } : { path: target.slice(0, q), rawQuery: target.slice(q + 1) };
}
