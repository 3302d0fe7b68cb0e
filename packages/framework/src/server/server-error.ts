/** A node cannot start (bad data dir, port in use, corrupt log): one line, then a non-zero exit. */
export class ServerStartError extends Error {
  readonly code = 'start_failed';
  constructor(message: string) {
    super(message);
    this.name = 'ServerStartError';
  }
}
