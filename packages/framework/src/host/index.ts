export { NodeHost, type NodeHostOptions, type GroupStatus, type CreateGroupOptions } from './node-host.js';
export { HostError, type HostErrorCode } from './errors.js';
export type { GroupStateMachine, StateMachineFactory } from './state-machine.js';
export type { ProposalResult } from './raft-group.js';
export { MemorySnapshotFiles, type SnapshotFiles } from './snapshot-files.js';
export { HostMetrics } from './metrics.js';
export { createLogger, silentLogger, LOG_LEVELS, type Logger, type LogLevel } from './logger.js';
export { AddressBook } from './address-book.js';
