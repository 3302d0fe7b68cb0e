export { RaftClient } from './raft-client.js';
export type { RaftClientOptions, BackoffOptions } from './client-options.js';
export type { ClientTlsOptions } from './tls-fetch.js';
export { GroupClient, type CallOptions, type QueryOptions } from './group-client.js';
export type { TypedGroup } from './typed-group.js';
export type { MachineCallOptions, MachineClass, MachineClient, MachineOperation, OperationNames } from './machine-types.js';
export type { GroupSchema, OperationSchema, SchemaField } from './group-schema.js';
export { WatchStream, type WatchOptions } from './watch-stream.js';
export { RaftClientError, type ClientErrorCode, type RaftClientErrorInit } from './raft-client-error.js';
export type { ClientEvent, AttemptEvent, WatchEvent } from './client-events.js';
export {
  isCommandFailure,
  type CommandArgs,
  type CommandFailure,
  type CommandName,
  type CommandResult,
  type Consistency,
  type GroupApi,
  type OperationResponse,
  type OperationSpec,
  type QueryArgs,
  type QueryName,
  type QueryResult,
  type UntypedApi,
  type WatchEntry,
} from './api-types.js';
