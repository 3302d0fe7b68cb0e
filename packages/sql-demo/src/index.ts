// @raftkit/sql-demo: the SQL store served by the raftkit-sql bin. The state machine, its engine
// and the rqlite-compatible HTTP routes are exported for embedding and tests.
export { SqlDatabase, type SqlDatabaseOptions } from './machine/sql-database.machine.js';
export { ExecuteArgs, LoadArgs, ProbeArgs, QueryArgs, RequestArgs, StatementsArgs } from './machine/sql-request.js';
export type { SqlStatement, StatementElement } from './machine/sql-statement.js';
export type { SqlValue, TaggedBlob, TaggedInteger, TaggedReal } from './machine/sql-value.js';
export type { StatementResult, RowsResult, ExecResult, ErrorResult } from './engine/statement-result.js';
export type { DatabaseChecksum } from './engine/checksum.js';
export type { SchemaObject } from './engine/store-tables.js';
export type { EngineInfo, LoadResult, ProbeVerdict } from './engine/sql-engine.js';
export { sqlRoutes, type SqlRoutesOptions } from './http/sql-routes.js';
export type { SqlApiLimits } from './http/api-context.js';
// The client, shell and migrations have subpaths of their own (@raftkit/sql-demo/client, /shell,
// /migrations); the client is also here, as what most embedders want first.
export { SqlClient, SqlClientError, type SqlClientOptions, type SqlClientErrorCode } from './client/index.js';
