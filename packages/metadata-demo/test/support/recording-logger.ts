// A Logger for tests: drops everything but keeps what was logged at warn and error.
import type { Logger } from '@raftkit/framework';

export interface RecordingLogger extends Logger {
  readonly errors: { obj: object; msg: string }[];
}

export function recordingLogger(): RecordingLogger {
  const errors: { obj: object; msg: string }[] = [];
  const logger: RecordingLogger = {
    errors,
    debug() {},
    info() {},
    warn(obj, msg) {
      errors.push({ obj, msg });
    },
    error(obj, msg) {
      errors.push({ obj, msg });
    },
    child: () => logger,
  };
  return logger;
}
