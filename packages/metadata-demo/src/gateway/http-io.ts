// Answers of the JSON gateway, shaped as etcd 3.4's grpc-gateway writes them.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { GrpcStatus, httpStatusOfGrpc, type GrpcStatusCode } from '../api/meta-error.js';

/** A failure as the gateway reports it: a gRPC status and its message. */
export interface GatewayFailure {
  grpcStatus: GrpcStatusCode;
  message: string;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** A unary call's failure: `{"error": msg, "message": msg, "code": status}` with the mapped HTTP status. */
export function sendFailure(res: ServerResponse, f: GatewayFailure): void {
  sendJson(res, httpStatusOfGrpc(f.grpcStatus), { error: f.message, message: f.message, code: f.grpcStatus });
}

/** grpc-gateway's plain-text answers for unknown paths and wrong methods. */
export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const body = `${text}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'content-length': String(body.length), ...headers });
  res.end(body);
}

/** One message of a streamed answer: `{"result": ...}` and a newline. */
export function resultLine(message: object): string {
  return `${JSON.stringify({ result: message })}\n`;
}

/** A streamed answer's failure after its 200 went out, as grpc-gateway v1 writes it. */
export function errorLine(f: GatewayFailure): string {
  const http = httpStatusOfGrpc(f.grpcStatus);
  return `${JSON.stringify({ error: { grpc_code: f.grpcStatus, http_code: http, message: f.message, http_status: STATUS_CODES[http] ?? '' } })}\n`;
}

export const invalidJson = (message: string): GatewayFailure => ({ grpcStatus: GrpcStatus.INVALID_ARGUMENT, message });

/**
 * Reads a whole body of at most `maxBytes`. Resolves undefined (after answering the client) when
 * it is larger; rejects when the client goes away.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<Buffer | undefined> {
  const tooLarge = () => {
    // Drained, not kept, while the answer goes out; the connection closes after it.
    if (!res.headersSent) res.setHeader('connection', 'close');
    sendFailure(res, { grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED, message: `the request body is larger than ${maxBytes} bytes` });
    req.resume();
  };
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    tooLarge();
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total <= maxBytes) return void chunks.push(chunk);
      cleanup();
      tooLarge();
      resolve(undefined);
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
