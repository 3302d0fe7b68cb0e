// Reading bodies and writing answers for the rqlite API, on plain node:http.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpReply } from '../rqlite/index.js';
import { HttpFailure } from './http-failure.js';

/**
 * Reads a request body of at most `maxBytes`. A declared Content-Length over the limit is refused
 * before a byte is read; a streamed body stops being kept once it crosses the limit (the answer
 * closes the connection). Rejects with HttpFailure 413 or 408.
 */
export function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(tooLarge(maxBytes));
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const timer = setTimeout(() => {
      cleanup();
      req.resume();
      reject(new HttpFailure('request_timeout', `the request body did not arrive within ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        cleanup();
        chunks.length = 0;
        // Drained, not kept, until the 413 is out and the connection closes.
        req.resume();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, total));
    };
    const onGone = () => {
      cleanup();
      reject(new Error('the client went away'));
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

function tooLarge(maxBytes: number): HttpFailure {
  return new HttpFailure('payload_too_large', `the request body is larger than ${maxBytes} bytes`);
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
