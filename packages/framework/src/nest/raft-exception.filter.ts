import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { RaftkitError } from '../common/errors.js';
import { errorReply } from '../api/http-util.js';

/**
 * Answers a RaftkitError that escapes a Nest HTTP handler the way the node's own API answers it:
 * the status of its code (400 bad_request, 404 unknown_group, 421 not_leader, 503 unavailable
 * with Retry-After, ...) and the JSON body `{"error", "message", ...details}` of docs/api.md,
 * instead of Nest's generic 500. Registered by RaftModule.forRoot (option `exceptionFilter`).
 * Works with any HTTP adapter (it replies through Nest's adapter, not Express directly).
 */
@Catch(RaftkitError)
export class RaftExceptionFilter implements ExceptionFilter<RaftkitError> {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: RaftkitError, host: ArgumentsHost): void {
    // Outside HTTP (microservices, WebSockets) Nest's own handling applies.
    if (host.getType() !== 'http') throw error;
    const adapter = this.adapterHost.httpAdapter;
    const res: unknown = host.switchToHttp().getResponse();
    const reply = errorReply(error);
    for (const [name, value] of Object.entries(reply.headers)) adapter.setHeader(res, name, value);
    adapter.reply(res, reply.body, reply.status);
  }
}
