import 'reflect-metadata';
import { HANDLERS_METADATA, PARAM_TYPES_METADATA, STATE_MACHINE_METADATA } from './constants.js';
import { ON_DISK_METHODS } from './on-disk-state-machine.js';
import { StateMachineDefinitionError } from './definition-error.js';
import type { HandlerDefinition, StateMachineClass, StateMachineDefinition } from './definition.js';
import type { HandlerKind, HandlerRecord } from './handler-record.js';
import { resolveHandlerArgs } from './resolve-handler-args.js';

/** Names of types, commands and queries: they appear in URL paths. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

const DECORATOR = { command: '@Command', query: '@Query', snapshot: '@Snapshot', restore: '@Restore' } as const satisfies Record<HandlerKind, string>;

const cache = new WeakMap<Function, StateMachineDefinition>();

function memberName(cls: Function, key: string | symbol): string {
  return `${cls.name}.${String(key)}`;
}

/** The descriptor of `key` on the class's prototype chain. */
function findDescriptor(proto: object | null, key: string | symbol): PropertyDescriptor | undefined {
  for (let p = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    const d = Object.getOwnPropertyDescriptor(p, key);
    if (d) return d;
  }
  return undefined;
}

/** The handler records of a class and its ancestors, base first; a subclass's record of the same kind and key wins. */
function collectRecords(cls: Function): HandlerRecord[] {
  const chain: Function[] = [];
  for (let c: unknown = cls; typeof c === 'function' && c !== Function.prototype; c = Object.getPrototypeOf(c)) chain.unshift(c);
  const out: HandlerRecord[] = [];
  for (const c of chain) {
    for (const r of (Reflect.getOwnMetadata(HANDLERS_METADATA, c) as HandlerRecord[] | undefined) ?? []) {
      const i = out.findIndex((o) => o.kind === r.kind && o.key === r.key);
      if (i >= 0) out.splice(i, 1);
      out.push(r);
    }
  }
  return out;
}

/**
 * Reads a `@StateMachine` class's metadata into its definition (cached per class). Throws
 * StateMachineDefinitionError for misuse: no `@StateMachine`, a decorator on a field, accessor
 * or static member, duplicate or malformed names, a method that is both command and query,
 * more than one snapshot or restore hook, a `@Snapshot` without `@Restore`, a handler whose
 * argument type is neither reflected (emitDecoratorMetadata, a class or primitive parameter)
 * nor declared (`{ args }`).
 */
export function describeStateMachine<T extends object>(cls: StateMachineClass<T>): StateMachineDefinition<T> {
  if (typeof cls !== 'function') {
    throw new StateMachineDefinitionError(`describeStateMachine expects a class decorated with @StateMachine, got ${cls === null ? 'null' : typeof cls}`);
  }
  const cached = cache.get(cls);
  if (cached) return cached as StateMachineDefinition<T>;
  const meta = Reflect.getOwnMetadata(STATE_MACHINE_METADATA, cls) as { type?: unknown; storage?: unknown } | undefined;
  if (!meta) {
    throw new StateMachineDefinitionError(`class ${cls.name || '(anonymous)'} is not a state machine: add @StateMachine('type-name') to it`);
  }
  const type = meta.type;
  if (typeof type !== 'string' || !NAME.test(type)) {
    throw new StateMachineDefinitionError(
      `@StateMachine(${JSON.stringify(type)}) on class ${cls.name}: the type must be 1-128 letters, digits, '_', '.' or '-', starting with a letter, digit or '_'`,
    );
  }

  const commands = new Map<string, HandlerDefinition>();
  const queries = new Map<string, HandlerDefinition>();
  const hooks: { snapshot?: string | symbol; restore?: string | symbol } = {};
  const kindOfKey = new Map<string | symbol, HandlerKind>();

  for (const r of collectRecords(cls)) {
    const where = memberName(cls, r.key);
    const decorator = DECORATOR[r.kind];
    if (r.isStatic) throw new StateMachineDefinitionError(`${decorator} is on the static member ${where}; put it on an instance method`);
    const descriptor = findDescriptor(cls.prototype as object, r.key);
    if (!descriptor || typeof descriptor.value !== 'function') {
      const what = descriptor && (descriptor.get || descriptor.set) ? 'an accessor' : 'a field';
      throw new StateMachineDefinitionError(`${decorator} is on ${where}, which is ${what}, not a method; put it on a method`);
    }
    const previous = kindOfKey.get(r.key);
    if (previous && previous !== r.kind) {
      throw new StateMachineDefinitionError(`${where} has both ${DECORATOR[previous]} and ${decorator}; a method has one role`);
    }
    kindOfKey.set(r.key, r.kind);

    if (r.kind === 'snapshot' || r.kind === 'restore') {
      const existing = hooks[r.kind];
      if (existing !== undefined) {
        throw new StateMachineDefinitionError(`${decorator} is on both ${memberName(cls, existing)} and ${where}; a state machine has one`);
      }
      hooks[r.kind] = r.key;
      continue;
    }

    const name = r.name ?? (typeof r.key === 'string' ? r.key : undefined);
    if (name === undefined) throw new StateMachineDefinitionError(`${decorator}() on the symbol-named method ${where} needs a name: ${decorator}('name')`);
    if (!NAME.test(name)) {
      throw new StateMachineDefinitionError(
        `${decorator} name ${JSON.stringify(name)} on ${where} must be 1-128 letters, digits, '_', '.' or '-', starting with a letter, digit or '_'`,
      );
    }
    const table = r.kind === 'command' ? commands : queries;
    const clash = table.get(name);
    if (clash) {
      throw new StateMachineDefinitionError(
        `${r.kind} "${name}" is declared twice in state machine "${type}": by ${memberName(cls, clash.method)} and ${where}; give one another name`,
      );
    }
    const args = resolveHandlerArgs({
      where,
      decorator: DECORATOR[r.kind],
      name: r.name,
      declared: r.args,
      paramTypes: Reflect.getMetadata(PARAM_TYPES_METADATA, cls.prototype as object, r.key) as unknown[] | undefined,
      arity: (descriptor.value as Function).length,
    });
    table.set(name, { kind: r.kind, name, method: r.key, ...args });
  }

  if (hooks.snapshot !== undefined && hooks.restore === undefined) {
    throw new StateMachineDefinitionError(`${memberName(cls, hooks.snapshot)} has @Snapshot but class ${cls.name} has no @Restore method to read it back; add one`);
  }

  const storage = meta.storage ?? 'memory';
  if (storage !== 'memory' && storage !== 'disk') {
    throw new StateMachineDefinitionError(`@StateMachine('${type}', { storage: ${JSON.stringify(storage)} }) on class ${cls.name}: storage must be 'memory' or 'disk'`);
  }
  if (storage === 'disk') checkOnDisk(cls, type, hooks);

  const definition: StateMachineDefinition<T> = { type, target: cls, commands, queries, hooks, storage };
  cache.set(cls, definition);
  return definition;
}

/** A `{ storage: 'disk' }` class implements OnDiskStateMachine and has no JSON snapshot hooks. */
function checkOnDisk(cls: StateMachineClass, type: string, hooks: { snapshot?: string | symbol; restore?: string | symbol }): void {
  const missing = ON_DISK_METHODS.filter((m) => typeof findDescriptor(cls.prototype as object, m)?.value !== 'function');
  if (missing.length > 0) {
    throw new StateMachineDefinitionError(
      `@StateMachine('${type}', { storage: 'disk' }) on class ${cls.name}: it must implement OnDiskStateMachine; missing ${missing.map((m) => `${m}()`).join(', ')}`,
    );
  }
  const hook = hooks.snapshot ?? hooks.restore;
  if (hook !== undefined) {
    throw new StateMachineDefinitionError(
      `${memberName(cls, hook)}: a { storage: 'disk' } state machine snapshots its files (saveSnapshot / recoverFromSnapshot); remove @Snapshot and @Restore`,
    );
  }
}
