// The emulator's one error type. Its code says what kind of refusal it is; the page shows the
// message, which says what to do instead. A refused request changes nothing.

export type EmulatorErrorCode =
  /** The action does not fit the cluster as it is now (a node that does not exist, a message no longer on its way). */
  | 'bad_action'
  /** A session (file, URL) that does not parse. */
  | 'bad_session'
  /** A step outside the session's timeline. */
  | 'bad_step'
  /** A breakpoint whose condition does not parse. */
  | 'bad_breakpoint'
  /** The run ended at a broken invariant: go back in time to continue. */
  | 'halted'
  /** The session grew past what the page keeps in memory. */
  | 'too_long';

export class EmulatorError extends Error {
  constructor(
    readonly code: EmulatorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EmulatorError';
  }
}
