// The migrations table against the list: what is applied, pending, unknown or renamed.
import type { AppliedMigration, Migration, MigrationStatus } from './migration-types.js';

export function compareHistory(recorded: readonly AppliedMigration[], migrations: readonly Migration[]): MigrationStatus {
  const given = new Map(migrations.map((m) => [m.version, m]));
  const recordedVersions = new Map(recorded.map((r) => [r.version, r]));
  const status: MigrationStatus = {
    currentVersion: recorded.reduce((max, r) => Math.max(max, r.version), 0),
    applied: [],
    pending: [],
    unknown: [],
    mismatched: [],
  };
  for (const r of recorded) {
    const m = given.get(r.version);
    if (!m) status.unknown.push(r);
    else if (m.name !== r.name) status.mismatched.push({ version: r.version, recordedName: r.name, givenName: m.name });
    else status.applied.push(r);
  }
  for (const m of migrations) if (!recordedVersions.has(m.version)) status.pending.push({ version: m.version, name: m.name });
  return status;
}
