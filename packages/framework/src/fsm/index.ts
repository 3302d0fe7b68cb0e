import 'reflect-metadata';

export { StateMachine } from './state-machine.decorator.js';
export { Command } from './command.decorator.js';
export { Query } from './query.decorator.js';
export { Snapshot, Restore } from './snapshot.decorator.js';
export { Nullable } from './nullable.decorator.js';
export type { MemberDecorator, HandlerRecord, HandlerKind } from './handler-record.js';
export * from './constants.js';
export type { ArgKind, HandlerDefinition, StateMachineClass, StateMachineDefinition } from './definition.js';
export { StateMachineDefinitionError } from './definition-error.js';
export { describeStateMachine } from './describe-state-machine.js';
export { convertArgs } from './args-converter.js';
export { buildGroupSchema, describeArgsClass, describeHandlerArgs } from './schema-builder.js';
export { captureFields, restoreFields } from './default-snapshot.js';
export { DecoratedMachine } from './decorated-machine.js';
export { StateMachineRegistry, createStateMachineManager, type ManagerOptions, type FactoryOptions } from './state-machine-registry.js';
export type { CommandContext } from '../rsm/command-context.js';
export type { GroupSchema, OperationSchema, SchemaField } from './schema.js';
