// Versioned, idempotent schema migrations over SqlClient.
export { migrate } from './migrate.js';
export { migrationStatus } from './migration-status.js';
export { MigrationError, type MigrationErrorCode } from './migration-error.js';
export { DEFAULT_TABLE as DEFAULT_MIGRATIONS_TABLE } from './migration-table.js';
export type { Migration, MigrationRef, AppliedMigration, MigrationClient, MigrationOptions, MigrateResult, MigrationStatus } from './migration-types.js';
