import type { LoggerService, LogLevel as NestLogLevel } from '@nestjs/common';
import type { Logger } from '../common/logger.js';
import { createLogger } from '../host/logger.js';
import type { LogLevel } from '../host/logger.js';

/**
 * Nest's logger interface over raftkit's structured logger, so the application's logs and the
 * node's are one stream of JSON lines on stderr (not Nest's coloured text between them):
 * `NestFactory.create(AppModule, { logger: new RaftNestLogger('info') })`. Nest's context
 * becomes the `context` field; an error's stack the `stack` field.
 */
export class RaftNestLogger implements LoggerService {
  private readonly logger: Logger;

  constructor(levelOrLogger: LogLevel | Logger = 'info', bindings: object = {}) {
    this.logger = typeof levelOrLogger === 'string' ? createLogger(levelOrLogger, bindings) : levelOrLogger;
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    // Nest passes (message, stack?, context?); a lone extra string is the context.
    const [stack, context] = rest.length >= 2 ? rest : [undefined, rest[0]];
    const fields: Record<string, unknown> = {};
    if (typeof context === 'string') fields['context'] = context;
    if (typeof stack === 'string') fields['stack'] = stack;
    if (message instanceof Error) {
      fields['stack'] ??= message.stack;
      this.logger.error(fields, message.message);
      return;
    }
    this.logger.error(fields, text(message));
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.error(message, ...rest);
  }

  /** Levels are raftkit's (--log-level); Nest's per-level switch is not used. */
  setLogLevels(_levels: NestLogLevel[]): void {}

  private write(level: 'info' | 'warn' | 'debug', message: unknown, rest: unknown[]): void {
    const context = rest.at(-1);
    const fields: Record<string, unknown> = typeof context === 'string' ? { context } : {};
    if (typeof message === 'object' && message !== null && !(message instanceof Error)) {
      this.logger[level]({ ...fields, data: message }, '');
      return;
    }
    this.logger[level](fields, text(message));
  }
}

function text(message: unknown): string {
  return message instanceof Error ? message.message : typeof message === 'string' ? message : String(message);
}
