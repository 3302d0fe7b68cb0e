// The package root: what an application needs to write a state machine, run it as a server and
// handle its errors. Everything else is importable by layer, each documented in the README:
// `@raftkit/framework/core` (the pure Raft core), `/host`, `/storage`, `/transport`, `/rsm`
// (sessions, request table, snapshot codec), `/fsm` (decorator internals, schema), `/api` (the
// HTTP handler), `/server` (flags, bootstrap), `/sim` (the simulator) and `/nest` (the NestJS
// module, kept out of the root so apps without Nest never load it).
export { StateMachine, Command, Query, Snapshot, Restore, Nullable, StateMachineDefinitionError } from './fsm/index.js';
export type {
  ArgsDeclaration,
  CommandContext,
  GroupSchema,
  HandlerOptions,
  OnDiskStateMachine,
  OperationSchema,
  SchemaField,
  StateMachineClass,
  StateMachineOptions,
} from './fsm/index.js';
export { RaftkitError, ERROR_CODES, isErrorCode, type ErrorCode } from './common/errors.js';
export { API_ERROR_STATUS, httpStatusOf, RaftApiError, type ApiErrorCode } from './api/errors.js';
export {
  runRaftServer,
  startRaftServer,
  parseServerFlags,
  FlagError,
  ServerStartError,
  SHARED_FLAGS_HELP,
  type RaftServer,
  type RaftServerOptions,
  type ServerFlags,
} from './server/index.js';
export { createLogger, LOG_LEVELS, type Logger, type LogLevel } from './host/logger.js';
export type {
  AppliedEntry,
  CommandOptions,
  CommandOutcome,
  Consistency,
  GroupInfo,
  MemberInfo,
  MemberRole,
  MembershipChangeItem,
  MembershipTransition,
  NodeStatus,
  QueryOutcome,
} from './api/node-service.js';
