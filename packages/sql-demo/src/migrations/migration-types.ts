// What a migration is, what migrate() takes and what it answers.
import type { ConsistencyLevel, SqlClient, Statement } from '../client/index.js';

export interface Migration {
  /** A positive integer; the list must be in increasing order of version. */
  version: number;
  /** Recorded with the version: changing the name of an applied migration is refused as a rewritten history. */
  name: string;
  /** Its statements, run in one transaction together with its record. */
  up: readonly Statement[];
}

export interface MigrationRef {
  version: number;
  name: string;
}

/** A migration as recorded in the migrations table. */
export interface AppliedMigration extends MigrationRef {
  /** ISO 8601 time the runner recorded it at. */
  appliedAt: string;
}

/** What migrations need of a client: SqlClient, or anything with the same two calls. */
export type MigrationClient = Pick<SqlClient, 'execute' | 'query'>;

export interface MigrationOptions {
  /** The table that records applied versions (default `_migrations`). */
  table?: string;
  /** Consistency of the reads of that table (default strong: through the log, so every earlier write is seen). */
  level?: ConsistencyLevel;
  /** Go on when the table records versions the list does not have (an older release running after a newer one). */
  allowUnknownApplied?: boolean;
  /** Apply a pending version lower than the highest applied one (a branch merged late) instead of refusing. */
  allowOutOfOrder?: boolean;
  /** The clock of `applied_at` (tests). */
  now?: () => Date;
}

export interface MigrateResult {
  /** Applied by this call, in order. */
  applied: MigrationRef[];
  /** Found applied already: before this call, or by another runner during it. */
  skipped: MigrationRef[];
  /** The highest version now recorded (0 when none). */
  currentVersion: number;
}

export interface MigrationStatus {
  /** The highest version recorded (0 when none). */
  currentVersion: number;
  /** Recorded versions the list has (with the same name). */
  applied: AppliedMigration[];
  /** Versions of the list not recorded yet, in order. */
  pending: MigrationRef[];
  /** Recorded versions the list does not have. */
  unknown: AppliedMigration[];
  /** Recorded versions whose recorded name differs from the given one. */
  mismatched: { version: number; recordedName: string; givenName: string }[];
}
