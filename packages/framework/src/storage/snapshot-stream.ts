// The interfaces of snapshot data read and written in pieces: SnapshotStore implements them,
// the host, the transport and on-disk state machines use them.

/**
 * A stored snapshot's data, read in pieces: a snapshot may be larger than memory (an on-disk
 * state machine's database), so it is never loaded whole on these paths.
 */
export interface SnapshotReader {
  readonly length: number;
  /**
   * `length` bytes from `offset` (fewer only at the end). Read in order from 0 to the end, the
   * reader checks the data's checksum as it goes and the read that reaches the end throws if
   * it fails.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Copies the data from `from` to the end into a new file, streamed; throws if the checksum fails. */
  copyTo(file: string, from: number): Promise<void>;
  close(): Promise<void>;
}

/** A snapshot arriving in pieces; nothing is visible under its name until commit(). */
export interface SnapshotSink {
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the snapshot durable under its (group, index, term); the length must be as announced. */
  commit(): Promise<void>;
  /** Drops what was written. */
  abort(): Promise<void>;
}
