import { pino } from 'pino';

import type { Logger } from '../common/logger.js';

export { silentLogger, type Logger } from '../common/logger.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** JSON lines on stderr (stdout stays free for a program's own output). */
export function createLogger(level: LogLevel = 'info', bindings: object = {}): Logger {
  return pino({ level, base: bindings, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}
