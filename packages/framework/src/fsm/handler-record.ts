import 'reflect-metadata';
import { HANDLERS_METADATA } from './constants.js';
import type { ArgsDeclaration, HandlerOptions } from './handler-options.js';

export type HandlerKind = 'command' | 'query' | 'snapshot' | 'restore';

/** What a member decorator records on its class; describeStateMachine checks it. */
export interface HandlerRecord {
  kind: HandlerKind;
  /** The explicit name given to `@Command(name)` / `@Query(name)`. */
  name?: string;
  /** The argument type given to `@Command({ args })` / `@Query({ args })`. */
  args?: ArgsDeclaration;
  key: string | symbol;
  /** True when the decorator sat on a static member. */
  isStatic: boolean;
}

/** A decorator usable on members; misuse on a field or accessor is reported by describeStateMachine. */
export type MemberDecorator = (target: object, key: string | symbol, descriptor?: PropertyDescriptor) => void;

/**
 * Records a decorated member: in the class's own handler list, and as `methodKey` metadata on the
 * method function itself (so a NestJS-style explorer can find it with MetadataScanner).
 */
export function recordHandler(
  kind: HandlerKind,
  methodKey: string,
  methodValue: unknown,
  target: object,
  key: string | symbol,
  descriptor: PropertyDescriptor | undefined,
  options: HandlerOptions = {},
): void {
  const isStatic = typeof target === 'function';
  const owner = (isStatic ? target : target.constructor) as object;
  const list = (Reflect.getOwnMetadata(HANDLERS_METADATA, owner) as HandlerRecord[] | undefined) ?? [];
  const record: HandlerRecord = { kind, key, isStatic };
  if (options.name !== undefined) record.name = options.name;
  if (options.args !== undefined) record.args = options.args;
  Reflect.defineMetadata(HANDLERS_METADATA, [...list, record], owner);
  if (typeof descriptor?.value === 'function') Reflect.defineMetadata(methodKey, methodValue, descriptor.value as object);
}
