import { RaftkitError } from '../common/errors.js';
import type { CommandContext } from '../rsm/command-context.js';
import type { PreparedArgs, ReplicatedMachine } from '../rsm/replicated-machine.js';
import { RsmError } from '../rsm/rsm-error.js';
import { convertArgs } from './args-converter.js';
import { captureFields, restoreFields } from './default-snapshot.js';
import type { HandlerDefinition, StateMachineDefinition } from './definition.js';
import type { OnDiskStateMachine } from './on-disk-state-machine.js';

type Method = (...args: unknown[]) => unknown;

function names(handlers: ReadonlyMap<string, HandlerDefinition>): string {
  return handlers.size === 0 ? 'none' : [...handlers.keys()].sort().join(', ');
}

/** An instance of a decorated class, adapted to what the StateMachineManager runs. */
export class DecoratedMachine<T extends object = object> implements ReplicatedMachine {
  constructor(
    readonly definition: StateMachineDefinition<T>,
    readonly instance: T,
  ) {
    if (!(instance instanceof definition.target)) {
      throw new TypeError(`the instance for state machine "${definition.type}" must be a ${definition.target.name}`);
    }
  }

  get type(): string {
    return this.definition.type;
  }

  /** The instance itself when it keeps its own durable state. */
  get disk(): OnDiskStateMachine | undefined {
    return this.definition.storage === 'disk' ? (this.instance as unknown as OnDiskStateMachine) : undefined;
  }

  private command(name: string): HandlerDefinition {
    const h = this.definition.commands.get(name);
    if (!h) throw new RaftkitError('unknown_command', `state machine "${this.type}" has no command "${name}" (commands: ${names(this.definition.commands)})`);
    return h;
  }

  private query(name: string): HandlerDefinition {
    const h = this.definition.queries.get(name);
    if (!h) throw new RaftkitError('unknown_query', `state machine "${this.type}" has no query "${name}" (queries: ${names(this.definition.queries)})`);
    return h;
  }

  private method(key: string | symbol): Method {
    return (this.instance as Record<string | symbol, Method>)[key]!;
  }

  checkCommand(name: string, args: unknown): PreparedArgs | void {
    const h = this.command(name);
    const value = convertArgs(h, args);
    // Untyped args are the entry's own objects (copied for each run below): nothing to keep.
    if (h.argKind === 'any' || h.argKind === 'array') return undefined;
    return { value };
  }

  executeCommand(name: string, args: unknown, ctx: CommandContext, prepared?: PreparedArgs): unknown {
    const h = this.command(name);
    if (prepared && h.argKind !== 'any' && h.argKind !== 'array') return this.method(h.method).call(this.instance, prepared.value, ctx);
    // Untyped args reach the handler as they are; a copy keeps the watch's view of them intact.
    const input = h.argKind === 'any' || h.argKind === 'array' ? structuredClone(args) : args;
    return this.method(h.method).call(this.instance, convertArgs(h, input), ctx);
  }

  checkQuery(name: string, args: unknown): PreparedArgs {
    return { value: convertArgs(this.query(name), args) };
  }

  executeQuery(name: string, args: unknown, prepared?: PreparedArgs): unknown {
    const h = this.query(name);
    return this.method(h.method).call(this.instance, prepared ? prepared.value : convertArgs(h, args));
  }

  captureState(): unknown {
    const hook = this.definition.hooks.snapshot;
    if (hook === undefined) return captureFields(this.instance);
    const state = this.method(hook).call(this.instance);
    if (typeof (state as { then?: unknown } | null)?.then === 'function') {
      throw new RsmError('snapshot_failed', `@Snapshot ${this.definition.target.name}.${String(hook)} returned a promise; it must capture the state synchronously`);
    }
    return state;
  }

  restoreState(state: unknown): void | PromiseLike<void> {
    const hook = this.definition.hooks.restore;
    if (hook === undefined) return restoreFields(this.instance, state);
    return this.method(hook).call(this.instance, state) as void | PromiseLike<void>;
  }
}
