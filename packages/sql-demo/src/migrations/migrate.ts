// Versioned, idempotent schema migrations. Each pending migration is ONE transactional
// /db/execute request: first its record in the migrations table, then its statements. So it is
// applied whole or not at all, and when two runners race, the second one's record fails on the
// primary key before any of its statements ran, its transaction rolls back, and it re-reads the
// table and goes on: no migration is ever applied twice.
import { compareHistory } from './compare-history.js';
import { MigrationError } from './migration-error.js';
import { call, DEFAULT_TABLE, ensureMigrationTable, isRecordConflict, readAppliedMigrations, recordStatement } from './migration-table.js';
import type { AppliedMigration, MigrateResult, Migration, MigrationClient, MigrationOptions, MigrationRef } from './migration-types.js';
import { validateMigrations, validateTableName } from './validate-migrations.js';

export async function migrate(client: MigrationClient, migrations: readonly Migration[], options: MigrationOptions = {}): Promise<MigrateResult> {
  validateMigrations(migrations);
  const table = validateTableName(options.table ?? DEFAULT_TABLE);
  const level = options.level ?? 'strong';
  const now = options.now ?? (() => new Date());
  await ensureMigrationTable(client, table);
  let recorded = await readAppliedMigrations(client, table, level);
  checkHistory(recorded, migrations, options);

  const result: MigrateResult = { applied: [], skipped: [], currentVersion: 0 };
  for (const m of migrations) {
    const ref: MigrationRef = { version: m.version, name: m.name };
    if (recorded.some((r) => r.version === m.version)) {
      result.skipped.push(ref);
      continue;
    }
    const outcome = await apply(client, table, m, now());
    if (outcome === 'applied') {
      result.applied.push(ref);
      recorded = [...recorded, { ...ref, appliedAt: '' }];
      continue;
    }
    // Another runner recorded this version first: see what it applied, and check it is ours.
    recorded = await readAppliedMigrations(client, table, level);
    checkHistory(recorded, migrations, options);
    if (!recorded.some((r) => r.version === m.version)) {
      throw new MigrationError('failed', `migration ${m.version} (${m.name}): its record conflicted, yet version ${m.version} is not in ${table}`, { version: m.version });
    }
    result.skipped.push(ref);
  }
  result.currentVersion = Math.max(0, ...recorded.map((r) => r.version));
  return result;
}

/** One migration in one transaction; 'conflict' when its version was recorded meanwhile (nothing of it ran). */
async function apply(client: MigrationClient, table: string, m: Migration, at: Date): Promise<'applied' | 'conflict'> {
  const results = await call(() => client.execute([recordStatement(table, m, at), ...m.up], { transaction: true }), `migration ${m.version} (${m.name})`, m.version);
  const failedAt = results.findIndex((r) => r.kind === 'error');
  if (failedAt < 0 && results.length === m.up.length + 1) return 'applied';
  const failed = results[failedAt];
  const error = failed?.kind === 'error' ? failed.error : `the node answered ${results.length} results for ${m.up.length + 1} statements`;
  if (failedAt === 0 && isRecordConflict(error)) return 'conflict';
  const which = failedAt > 0 ? `statement ${failedAt}` : 'its record';
  throw new MigrationError('failed', `migration ${m.version} (${m.name}) failed at ${which}, nothing of it was applied: ${error}`, {
    version: m.version,
    ...(failedAt > 0 ? { statement: failedAt } : {}),
  });
}

/** Refuses a rewritten history, unknown versions and out-of-order ones (unless allowed). */
function checkHistory(recorded: readonly AppliedMigration[], migrations: readonly Migration[], options: MigrationOptions): void {
  const status = compareHistory(recorded, migrations);
  const renamed = status.mismatched[0];
  if (renamed) {
    throw new MigrationError(
      'history_mismatch',
      `version ${renamed.version} was applied as "${renamed.recordedName}" but is now called "${renamed.givenName}": an applied migration must not change; add a new version instead`,
      { version: renamed.version },
    );
  }
  const unknown = status.unknown[0];
  if (unknown && !options.allowUnknownApplied) {
    throw new MigrationError(
      'unknown_applied',
      `the database records version ${unknown.version} ("${unknown.name}", applied ${unknown.appliedAt}), which this list does not have: is a newer release running? (allowUnknownApplied goes on)`,
      { version: unknown.version },
    );
  }
  const highest = status.currentVersion;
  const late = status.pending.find((p) => p.version < highest);
  if (late && !options.allowOutOfOrder) {
    throw new MigrationError('out_of_order', `version ${late.version} (${late.name}) is pending but version ${highest} is applied already (allowOutOfOrder applies it anyway)`, {
      version: late.version,
    });
  }
}
