export { StateMachineManager, DEFAULT_RECENT_ENTRIES, DEFAULT_SESSION_TTL_MS } from './state-machine-manager.js';
export type { StateMachineManagerOptions, CapturedSnapshot, ProposalSession, AppliedListener, RestoredListener } from './state-machine-manager.js';
export type { ReplicatedMachine, PreparedArgs } from './replicated-machine.js';
export type { CommandContext } from './command-context.js';
export { encodeCommand, decodeCommand, MAX_NAME_LENGTH, type CommandPayload } from './command-codec.js';
export {
  CommandErrorResult,
  DuplicateCommand,
  isCommandError,
  errorResultOf,
  commandErrorToError,
  unwrapCommandResult,
  type CommandErrorBody,
  type CommandErrorCode,
} from './command-result.js';
export { SessionTable, type Session, type SessionTuple } from './session-table.js';
export {
  RequestTable,
  RequestKeyAllocator,
  formatRequestKey,
  parseRequestKey,
  requestKeyProblem,
  MAX_RECORDS_PER_ORIGIN,
  type RequestKey,
  type RequestVerdict,
  type RequestWindowTuple,
} from './request-table.js';
export { AppliedRing } from './applied-ring.js';
export { parseSnapshot, serializeSnapshot, SNAPSHOT_VERSION, type SnapshotEnvelope } from './snapshot-codec.js';
export { serializeJson } from './json-serializer.js';
export { RsmError, type RsmErrorCode } from './rsm-error.js';
export type { AppliedEntry } from './applied-entry.js';
