import { COMMAND_METADATA } from './constants.js';
import { handlerOptions, type HandlerOptions } from './handler-options.js';
import { recordHandler, type MemberDecorator } from './handler-record.js';

/**
 * Declares a method as a command, named `name` or the method's name. It is called with its args
 * and a CommandContext `{ index, term, timestamp }`; it may be async, and its result (JSON) is
 * answered to the proposer.
 *
 * The args are typed by the method's first parameter, read from TypeScript's decorator metadata
 * (compile with `experimentalDecorators` and `emitDecoratorMetadata`): a class is converted with
 * class-transformer and validated with class-validator (unknown properties refused, no type
 * coercion); `string`, `number`, `boolean` and arrays have their JSON type checked; no parameter
 * means no args. A parameter whose type is not reflected (no metadata, or an interface, type
 * alias, `any`, `unknown` or union, all emitted as `Object`) makes describeStateMachine throw at
 * startup: type it with a class, or declare it with `{ args: SomeArgs }` — or `{ args: 'any' }` to
 * take the JSON unvalidated. Bad args are refused with 'bad_request' (details.fields lists every
 * bad field) before anything is proposed.
 *
 * Commands must be deterministic: they may not read clocks (use `ctx.timestamp`), randomness,
 * the network, files or any other I/O, and must not depend on anything but the state and args.
 * A thrown RaftkitError keeps its code in the error result; anything else gives 'command_failed'.
 * Either way the command has taken its log index. State changed before a throw stays changed
 * (there is no rollback): check, then change.
 *
 * @example `@Command()`, `@Command('rename')`, `@Command({ args: SetArgs })`, `@Command('set', { args: 'any' })`
 */
export function Command(name?: string, options?: Omit<HandlerOptions, 'name'>): MemberDecorator;
export function Command(options: HandlerOptions): MemberDecorator;
export function Command(nameOrOptions?: string | HandlerOptions, more?: Omit<HandlerOptions, 'name'>): MemberDecorator {
  const options = handlerOptions(nameOrOptions, more);
  return (target, key, descriptor) => recordHandler('command', COMMAND_METADATA, { name: options.name ?? key }, target, key, descriptor, options);
}
