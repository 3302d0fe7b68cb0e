export * from './errors.js';
export type { GroupWrite, LogStore, LogStoreOptions, RecoveredGroup, StorageWarning } from './log-store.js';
export { MemoryLogStore } from './memory-log-store.js';
export { SqliteLogStore, type SqliteLogStoreOptions, type SqliteLogStoreStats } from './sqlite-log-store.js';
export { SnapshotStore, SnapshotNotFoundError, encodeGroupName } from './snapshot-store.js';
export type { MaintenanceInfo, OpenInfo } from './wire.js';
export { pinSqliteFile, releaseSqlitePin, backupSqlitePin, replaceSqliteFile, syncSqliteWal, type PinnedSqliteFile } from './sqlite-machine-file.js';
