// rqlite's HTTP protocol as pure functions: requests in, typed commands out; executor results
// in, rqlite's exact answers out. No I/O here: the node's HTTP server and the SQL state machine
// sit on either side.
export { parseLosslessJson, JsonParseError, type JsonValue, type LosslessParseOptions } from './json/lossless-json-parse.js';
export { stringifyLosslessJson, JsonStringifyError, type JsonWritable, type LosslessStringifyOptions } from './json/lossless-json-stringify.js';
export { parseGoDuration, formatGoDuration } from './go/go-duration.js';
export { type HttpReply, JSON_CONTENT_TYPE, TEXT_CONTENT_TYPE, plainTextErrorReply } from './http-reply.js';
export { RqliteRequestError, type RqliteRequestErrorCode } from './request-error.js';
export type { RqliteStatement, SqlParameterValue } from './request/statement.js';
export { parseDbRequest, type DbEndpoint, type DbHttpRequest, type DbRequest, type ConsistencyLevel } from './request/db-request.js';
export {
  parseBackupRequest,
  parseNodesRequest,
  parseReadyzRequest,
  parseStatusRequest,
  type BackupFormat,
  type BackupRequest,
  type NodesRequest,
  type ReadyzRequest,
  type StatusRequest,
} from './request/cluster-requests.js';
export type { SqlCell, RowsOutcome, ExecOutcome, ErrorOutcome, StatementOutcome, DbOutcome } from './response/statement-outcome.js';
export { formatDbResponse, formatDbResponseBody, type DbResponseOptions } from './response/db-response.js';
export { formatNodesResponse, type ClusterMember } from './response/nodes-response.js';
export { formatReadyzResponse, type ReadyzState } from './response/readyz-response.js';
export { formatStatusResponse, statusJson, selectStatusKey, type NodeStatus, type RaftState } from './response/status-response.js';
