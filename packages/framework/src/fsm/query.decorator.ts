import { QUERY_METADATA } from './constants.js';
import { handlerOptions, type HandlerOptions } from './handler-options.js';
import { recordHandler, type MemberDecorator } from './handler-record.js';

/**
 * Declares a method as a read-only query, named `name` or the method's name. It is called with
 * its args on the local state and may be async. It must not change the state: queries run on
 * one replica only.
 *
 * The args are typed and validated as for `@Command` (see there): by the first parameter's
 * reflected type, or by `{ args: SomeArgs }` / `{ args: 'any' }` when that type cannot be
 * reflected, which describeStateMachine otherwise refuses at startup.
 *
 * @example `@Query()`, `@Query('byKey')`, `@Query({ args: KeyArgs })`, `@Query('scan', { args: 'any' })`
 */
export function Query(name?: string, options?: Omit<HandlerOptions, 'name'>): MemberDecorator;
export function Query(options: HandlerOptions): MemberDecorator;
export function Query(nameOrOptions?: string | HandlerOptions, more?: Omit<HandlerOptions, 'name'>): MemberDecorator {
  const options = handlerOptions(nameOrOptions, more);
  return (target, key, descriptor) => recordHandler('query', QUERY_METADATA, { name: options.name ?? key }, target, key, descriptor, options);
}
