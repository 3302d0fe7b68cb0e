/** Metadata keys written by the decorators (reflect-metadata) and read by describeStateMachine. */

/** On a class: `{ type }` from `@StateMachine(type)`. */
export const STATE_MACHINE_METADATA = 'raftkit:state-machine';
/** On a class (own metadata): the HandlerRecord list of its decorated members, in declaration order. */
export const HANDLERS_METADATA = 'raftkit:handlers';
/** On a method function: `{ name }` from `@Command(name?)`. */
export const COMMAND_METADATA = 'raftkit:command';
/** On a method function: `{ name }` from `@Query(name?)`. */
export const QUERY_METADATA = 'raftkit:query';
/** On a method function: `true` for `@Snapshot()`. */
export const SNAPSHOT_HOOK_METADATA = 'raftkit:snapshot';
/** On a method function: `true` for `@Restore()`. */
export const RESTORE_HOOK_METADATA = 'raftkit:restore';
/** The class-validator context key that `@Nullable()` sets, read by the schema builder. */
export const NULLABLE_CONTEXT = 'raftkit:nullable';
/** TypeScript's emitted parameter types (emitDecoratorMetadata). */
export const PARAM_TYPES_METADATA = 'design:paramtypes';
/** TypeScript's emitted property type (emitDecoratorMetadata). */
export const PROPERTY_TYPE_METADATA = 'design:type';
