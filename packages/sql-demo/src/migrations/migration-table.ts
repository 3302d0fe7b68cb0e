// The table that records applied migrations, one row per version:
//   _migrations(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)
// Its primary key is what makes concurrent runners safe: two runners that both insert version N
// cannot both succeed, and the loser's whole transaction (the migration with it) rolls back.
import { SqlClientError, type ConsistencyLevel, type Statement, type StatementResult } from '../client/index.js';
import { MigrationError } from './migration-error.js';
import type { AppliedMigration, Migration, MigrationClient } from './migration-types.js';

export const DEFAULT_TABLE = '_migrations';

export async function ensureMigrationTable(client: MigrationClient, table: string): Promise<void> {
  const sql = `CREATE TABLE IF NOT EXISTS "${table}" (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`;
  const result = await call(() => client.execute([sql]), `creating the table ${table}`);
  const failed = result.find((r) => r.kind === 'error');
  if (failed?.kind === 'error') throw new MigrationError('failed', `creating the table ${table}: ${failed.error}`);
}

/** The recorded migrations, by version; none when the table does not exist yet. */
export async function readAppliedMigrations(client: MigrationClient, table: string, level: ConsistencyLevel): Promise<AppliedMigration[]> {
  const results = await call(() => client.query([`SELECT version, name, applied_at FROM "${table}" ORDER BY version`], { level }), `reading ${table}`);
  const result = results[0];
  if (result?.kind === 'error') {
    if (/no such table/i.test(result.error)) return [];
    throw new MigrationError('failed', `reading ${table}: ${result.error}`);
  }
  if (result?.kind !== 'rows') return [];
  return result.values.map(([version, name, appliedAt]) => ({ version: Number(version), name: String(name), appliedAt: String(appliedAt) }));
}

/** The record of `m`, which goes first in its transaction: a version recorded meanwhile fails it before any of the migration runs. */
export function recordStatement(table: string, m: Migration, appliedAt: Date): Statement {
  return [`INSERT INTO "${table}" (version, name, applied_at) VALUES (?, ?, ?)`, m.version, m.name, appliedAt.toISOString()];
}

/** SQLite's words when the record's primary key is taken: another runner recorded this version first. */
export function isRecordConflict(error: string): boolean {
  return /UNIQUE constraint failed|PRIMARY KEY must be unique|constraint failed: .*version/i.test(error);
}

/** A client call whose failure (unreachable, refused...) becomes a MigrationError that says what was being done. */
export async function call(send: () => Promise<{ results: StatementResult[] }>, doing: string, version?: number): Promise<StatementResult[]> {
  try {
    return (await send()).results;
  } catch (e) {
    if (!(e instanceof SqlClientError)) throw e;
    throw new MigrationError('failed', `${doing}: ${e.message}`, { cause: e, ...(version === undefined ? {} : { version }) });
  }
}
