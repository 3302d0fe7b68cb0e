/**
 * What a command handler learns about the entry it applies. Commands must be deterministic:
 * every replica applies the same entries in the same order and must reach the same state, so a
 * handler may not read clocks, randomness, the network or any other I/O; what it needs of time
 * is `timestamp`.
 */
export interface CommandContext {
  /** The raft log index of the command's entry. */
  readonly index: number;
  /** The term of the entry. */
  readonly term: number;
  /**
   * Milliseconds since the epoch, assigned by the leader that proposed the entry and carried
   * inside it, so every replica sees the same value. It never decreases from one command to the
   * next (a new leader whose clock is behind sees the previous value repeated).
   */
  readonly timestamp: number;
}
