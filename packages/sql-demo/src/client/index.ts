// The TypeScript client of the SQL store: rqlite's HTTP API with typed results.
export { SqlClient, type SqlClientOptions, type BackupFormat } from './sql-client.js';
export { SqlClientError, type SqlClientErrorCode } from './client-error.js';
export type { Statement, SqlParam, NamedParams } from './statements.js';
export type { SqlValue, StatementResult, RowsResult, ExecResult, ErrorResult, SqlResponse, IntegerMode } from './results.js';
export type { ConsistencyLevel, Duration, ExecuteOptions, QueryOptions, RequestOptions } from './request-options.js';
export type { NodeInfo } from './cluster-nodes.js';
export type { FetchLike } from './fetch-like.js';
export { normalizeNodeUrl, hostOf } from './node-urls.js';
