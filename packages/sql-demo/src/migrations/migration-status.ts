// Where a database stands against a list of migrations, without changing anything.
import { compareHistory } from './compare-history.js';
import { DEFAULT_TABLE, readAppliedMigrations } from './migration-table.js';
import type { Migration, MigrationClient, MigrationOptions, MigrationStatus } from './migration-types.js';
import { validateMigrations, validateTableName } from './validate-migrations.js';

export async function migrationStatus(client: MigrationClient, migrations: readonly Migration[], options: MigrationOptions = {}): Promise<MigrationStatus> {
  validateMigrations(migrations);
  const table = validateTableName(options.table ?? DEFAULT_TABLE);
  return compareHistory(await readAppliedMigrations(client, table, options.level ?? 'strong'), migrations);
}
