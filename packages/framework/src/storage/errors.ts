/** A record on disk failed its checksum or the log has a hole: the node must not serve. */
export class CorruptLogError extends Error {
  readonly code = 'corrupt_log';
  constructor(
    readonly file: string,
    readonly group: string | undefined,
    readonly index: number | undefined,
    readonly detail: string,
  ) {
    super(
      `corrupt raft log in ${file}` +
        (group !== undefined ? ` (group "${group}"` + (index !== undefined ? `, index ${index})` : ')') : '') +
        `: ${detail}. The node refuses to start; restore the data dir from a replica or, if only the tail of the last write is torn, restart with --repair-torn-tail.`,
    );
    this.name = 'CorruptLogError';
  }
}

/**
 * A write or operation the store could not do. `invalid_write`: the batch broke a rule (gap,
 * overwrite of committed entries, bad field) and nothing was written; `storage_closed`: the store
 * is not open (or was closed); `storage_failed`: the disk or the storage worker failed, and the
 * store accepts no further writes (restart the node).
 */
export class StorageError extends Error {
  constructor(
    readonly code: 'storage_failed' | 'storage_closed' | 'invalid_write',
    message: string,
  ) {
    super(message);
    this.name = 'StorageError';
  }
}
