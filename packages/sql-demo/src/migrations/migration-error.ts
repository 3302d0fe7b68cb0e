// Why migrate() or migrationStatus() refused to go on. Nothing of a failed migration is applied:
// it runs in one transaction with its record in the migrations table.

export type MigrationErrorCode =
  /** The list itself is wrong: a version not a positive integer, repeated or out of order, a missing name, no statements. */
  | 'invalid_migrations'
  /** A recorded version has another name than the one given: the history was rewritten after it was applied. */
  | 'history_mismatch'
  /** The database records a version the list does not have (a newer release ran?); see `allowUnknownApplied`. */
  | 'unknown_applied'
  /** A pending version is lower than one already applied; see `allowOutOfOrder`. */
  | 'out_of_order'
  /** A migration's statements failed (SQLite's error, a statement the store refuses, or the node could not be reached). */
  | 'failed';

export class MigrationError extends Error {
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    readonly details: { version?: number; statement?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'MigrationError';
  }

  /** The migration concerned, when there is one. */
  get version(): number | undefined {
    return this.details.version;
  }
}
