// The checks a list of migrations must pass before anything is sent.
import { MigrationError } from './migration-error.js';
import type { Migration } from './migration-types.js';

export function validateMigrations(migrations: readonly Migration[]): void {
  if (!Array.isArray(migrations)) throw invalid('migrations must be an array of { version, name, up }');
  let previous: Migration | undefined;
  migrations.forEach((m, i) => {
    const where = `migration ${i + 1}`;
    if (typeof m !== 'object' || m === null) throw invalid(`${where} is not an object { version, name, up }`);
    if (!Number.isSafeInteger(m.version) || m.version < 1) throw invalid(`${where}: version must be a positive integer, got ${String(m.version)}`);
    if (typeof m.name !== 'string' || m.name.trim() === '') throw invalid(`migration ${m.version}: name must be a non-empty string`);
    if (!Array.isArray(m.up) || m.up.length === 0) throw invalid(`migration ${m.version} (${m.name}): up must be a non-empty array of statements`);
    (m.up as readonly unknown[]).forEach((s: unknown, j: number) => {
      const sql: unknown = typeof s === 'string' ? s : Array.isArray(s) ? (s as unknown[])[0] : undefined;
      if (typeof sql !== 'string' || sql.trim() === '') throw invalid(`migration ${m.version} (${m.name}), statement ${j + 1}: expected SQL text or [sql, ...params]`);
    });
    if (previous && m.version === previous.version) throw invalid(`version ${m.version} appears twice (${previous.name}, ${m.name})`);
    if (previous && m.version < previous.version) throw invalid(`versions must increase: ${m.version} (${m.name}) comes after ${previous.version} (${previous.name})`);
    previous = m;
  });
}

/** A table name that needs no quoting tricks and is not one SQLite or the store keeps for itself. */
export function validateTableName(table: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw invalid(`table ${JSON.stringify(table)}: use letters, digits and _ only`);
  if (/^(sqlite_|_raftkit_)/i.test(table)) throw invalid(`table ${JSON.stringify(table)}: names starting with sqlite_ or _raftkit_ are reserved`);
  return table;
}

function invalid(message: string): MigrationError {
  return new MigrationError('invalid_migrations', message);
}
