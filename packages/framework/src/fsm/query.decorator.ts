import { QUERY_METADATA } from './constants.js';
import { recordHandler, type MemberDecorator } from './handler-record.js';

/**
 * Declares a method as a read-only query, named `name` or the method's name. It is called with
 * its args (validated as for commands) on the local state and may be async. It must not change
 * the state: queries run on one replica only.
 */
export function Query(name?: string): MemberDecorator {
  return (target, key, descriptor) => recordHandler('query', QUERY_METADATA, { name: name ?? key }, target, key, descriptor, name);
}
