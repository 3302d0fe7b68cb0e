/** Why the replicated-state-machine layer refused something. */
export type RsmErrorCode =
  /** Bytes that are not a snapshot of this layer, or one of another type or version. */
  | 'bad_snapshot'
  /** A log entry whose payload is not an encoded command. */
  | 'bad_entry'
  /** The state could not be captured or serialised (a hook failed or returned a promise). */
  | 'snapshot_failed'
  /** A snapshot or restore was asked for while an asynchronous command was being applied. */
  | 'busy'
  /** A manager option breaks its rule. */
  | 'bad_option'
  /** An on-disk state machine could not open, or reported an impossible applied index. */
  | 'open_failed'
  /**
   * At start, an on-disk machine's own state is older than the snapshot the log starts from, and
   * that snapshot holds no state (the entries in between are gone): its files were lost or rolled
   * back.
   */
  | 'state_behind';

/** An error of the rsm layer with a stable code; the message says what to fix. */
export class RsmError extends Error {
  constructor(
    readonly code: RsmErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RsmError';
  }
}
