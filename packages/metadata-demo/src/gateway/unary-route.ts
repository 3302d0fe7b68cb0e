// One unary gateway call: the JSON body is read whole and mapped to the method's request, which
// goes through the same method as over gRPC (wire/unary-methods.ts), size limits included; the
// response is written as grpc-gateway writes it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GrpcStatus } from '../api/meta-error.js';
import { toMetaError } from '../grpc/status.js';
import { invokeUnary } from '../wire/unary-methods.js';
import { maxJsonBytes, maxMessageBytes, type GatewayContext } from './gateway-context.js';
import { invalidJson, readBody, sendFailure, sendJson } from './http-io.js';
import { JsonRequestError, marshalMessage, parseMessage } from './jsonpb.js';
import { methodTypes } from './routes.js';

function parseBody(body: Buffer): unknown {
  const text = body.toString('utf8').trim();
  // An empty body is an empty request, as with etcd.
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new JsonRequestError(`invalid JSON: ${(e as Error).message}`);
  }
}

export async function serveUnary(method: string, req: IncomingMessage, res: ServerResponse, ctx: GatewayContext): Promise<void> {
  const types = methodTypes(method);
  // Undefined: too large, already answered; a rejection: the client went away, nobody to answer.
  const body = await readBody(req, res, maxJsonBytes(ctx.limits)).catch(() => undefined);
  if (!body) return;
  let request: object;
  try {
    request = parseMessage(types.request, parseBody(body));
  } catch (e) {
    if (e instanceof JsonRequestError) return sendFailure(res, invalidJson(e.message));
    throw e;
  }
  const size = types.serializeRequest(request).length;
  const max = maxMessageBytes(ctx.limits);
  // What etcd's gRPC server answers for a message over its receive limit.
  if (size > max) return sendFailure(res, { grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED, message: `grpc: received message larger than max (${size} vs. ${max})` });

  const abort = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) abort.abort();
  };
  res.on('close', onClose);
  try {
    const response = await invokeUnary(method, request, {
      backend: ctx.backend,
      limits: ctx.limits,
      headers: ctx.headers,
      options: { signal: abort.signal },
      wireSize: size,
      auth: ctx.auth,
    });
    sendJson(res, 200, marshalMessage(types.response, response));
  } catch (e) {
    sendFailure(res, toMetaError(e, ctx.logger, method));
  } finally {
    res.off('close', onClose);
  }
}
