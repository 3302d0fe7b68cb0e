import { RaftkitError } from '../common/errors.js';
import type { GroupSchema } from './schema.js';
import type { StateMachineFactory } from '../host/state-machine.js';
import type { ReplicatedMachine } from '../rsm/replicated-machine.js';
import { StateMachineManager, type StateMachineManagerOptions } from '../rsm/state-machine-manager.js';
import { DecoratedMachine } from './decorated-machine.js';
import { StateMachineDefinitionError } from './definition-error.js';
import type { StateMachineClass, StateMachineDefinition } from './definition.js';
import { describeStateMachine } from './describe-state-machine.js';
import { buildGroupSchema } from './schema-builder.js';

export interface ManagerOptions extends StateMachineManagerOptions {
  /** Makes the instance for a group (default `new cls()`), for example from a DI container. */
  instantiate?: (cls: StateMachineClass, group: string) => object;
}

export interface FactoryOptions extends ManagerOptions {
  /** Told of every manager made for a group, on creation and when a group is recovered at start. */
  onCreate?: (group: string, manager: StateMachineManager) => void;
}

/**
 * A state machine type that is not a decorated class of this process: its machine and schema
 * come from elsewhere (remote/: a machine in another process, such as a Python one).
 */
export interface ExternalMachineType {
  readonly type: string;
  /** The machine of a new (or recovered) group of this type. */
  createMachine(group: string): ReplicatedMachine;
  /** The group's schema (RaftkitError 'unavailable' while it is not known). */
  schema(group: string): GroupSchema;
}

/** Wraps an instance of a decorated class in a StateMachineManager. */
export function createStateMachineManager(instance: object, options: StateMachineManagerOptions = {}): StateMachineManager {
  const definition = describeStateMachine(instance.constructor as StateMachineClass);
  return new StateMachineManager(new DecoratedMachine(definition, instance), options);
}

/** The state machine types this process can run, by type name. */
export class StateMachineRegistry {
  private readonly byType = new Map<string, StateMachineDefinition>();
  private readonly external = new Map<string, ExternalMachineType>();

  constructor(classes: Iterable<StateMachineClass> = []) {
    for (const cls of classes) this.register(cls);
  }

  /** Registers a decorated class (again: a no-op); throws StateMachineDefinitionError for misuse or a type taken by another class. */
  register(cls: StateMachineClass): StateMachineDefinition {
    const definition = describeStateMachine(cls);
    const existing = this.byType.get(definition.type);
    if (this.external.has(definition.type)) throw new StateMachineDefinitionError(`state machine type "${definition.type}" is already a remote type`);
    if (existing && existing.target !== cls) {
      throw new StateMachineDefinitionError(`state machine type "${definition.type}" is declared by both ${existing.target.name} and ${cls.name}; types must be unique`);
    }
    this.byType.set(definition.type, definition);
    return definition;
  }

  /** Registers a type whose machine is made elsewhere; throws if the type is taken. */
  registerExternal(t: ExternalMachineType): void {
    if (this.byType.has(t.type) || this.external.has(t.type)) throw new StateMachineDefinitionError(`state machine type "${t.type}" is registered twice`);
    this.external.set(t.type, t);
  }

  get(type: string): StateMachineDefinition | undefined {
    return this.byType.get(type);
  }

  /** The definition of a type, or RaftkitError 'bad_request' listing the known types. */
  require(type: string): StateMachineDefinition | ExternalMachineType {
    const d = this.byType.get(type) ?? this.external.get(type);
    if (!d) throw new RaftkitError('bad_request', `unknown state machine type "${type}" (known types: ${this.types().join(', ') || 'none'})`, { field: 'type' });
    return d;
  }

  types(): string[] {
    return [...this.byType.keys(), ...this.external.keys()].sort();
  }

  schema(group: string, type: string): GroupSchema {
    const d = this.require(type);
    return 'createMachine' in d ? d.schema(group) : buildGroupSchema(group, d);
  }

  /** A new manager around a new instance of the type's class. */
  createManager(type: string, group = type, options: ManagerOptions = {}): StateMachineManager {
    const definition = this.require(type);
    if ('createMachine' in definition) return new StateMachineManager(definition.createMachine(group), options);
    const instance = options.instantiate ? options.instantiate(definition.target, group) : new definition.target();
    return new StateMachineManager(new DecoratedMachine(definition, instance), options);
  }

  /** The NodeHost's `stateMachines` option: a manager per group, reported through `onCreate`. */
  factory(options: FactoryOptions = {}): StateMachineFactory {
    return (group, type) => {
      const manager = this.createManager(type, group, options);
      options.onCreate?.(group, manager);
      return manager;
    };
  }
}
