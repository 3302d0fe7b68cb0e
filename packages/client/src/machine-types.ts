import type { OperationResponse } from './api-types.js';
import type { QueryOptions } from './group-client.js';

/**
 * The types of `client.machine<typeof YourStateMachine>(group)`: a client derived from the state
 * machine class itself, so no name, argument or result is written twice.
 *
 * Decorators are invisible to the type system, so the type cannot tell `@Command` from `@Query`
 * (nor from a plain public method): every function-valued public instance member becomes an
 * operation, and the group's schema decides at run time how each name is sent. Only the class's
 * type is read, structurally, so the client needs nothing from the framework.
 */

// `any` parameters: every function must be assignable, whatever its parameter types.
type AnyFunction = (...args: any) => unknown;

/** Any class, abstract or not: pass `typeof YourStateMachine`, not the instance type. */
export type MachineClass = abstract new (...args: any) => object;

/**
 * The options of an operation called through a machine client. The type cannot know which names
 * are queries, so it allows `consistency` everywhere; a command given one rejects with a TypeError.
 */
export type MachineCallOptions = QueryOptions;

type AnswerOf<F extends AnyFunction> = Promise<OperationResponse<Awaited<ReturnType<F>>>>;

/**
 * One method of the state machine as the client calls it: its first parameter is the arguments
 * (left out for a method without parameters), and the answer is the method's awaited result with
 * the Raft index it was applied or read at.
 */
export type MachineOperation<F extends AnyFunction> =
  Parameters<F> extends []
    ? (args?: undefined, opts?: MachineCallOptions) => AnswerOf<F>
    : Parameters<F> extends [unknown, ...unknown[]]
      ? (args: Parameters<F>[0], opts?: MachineCallOptions) => AnswerOf<F>
      : (args?: Parameters<F>[0], opts?: MachineCallOptions) => AnswerOf<F>;

/**
 * The names of `T`'s function-valued public members. `then` is left out: the client is not a
 * promise, and typing it as one would make `await client.machine(...)` hang.
 */
export type OperationNames<T> = Exclude<{ [K in keyof T]-?: K extends string ? (T[K] extends AnyFunction ? K : never) : never }[keyof T], 'then'>;

/**
 * A group whose state machine is the class `M`, with one method per operation:
 *
 * ```ts
 * const inv = client.machine<typeof Inventory>('inventory');
 * const { result, index } = await inv.addItem({ sku: 'a', qty: 3 });
 * const stock = await inv.stock({ sku: 'a' }, { consistency: 'lease' });
 * ```
 */
export type MachineClient<M extends MachineClass> = {
  readonly [K in OperationNames<InstanceType<M>>]: MachineOperation<Extract<InstanceType<M>[K], AnyFunction>>;
};
