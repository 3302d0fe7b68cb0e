import { COMMAND_METADATA } from './constants.js';
import { recordHandler, type MemberDecorator } from './handler-record.js';

/**
 * Declares a method as a command, named `name` or the method's name. It is called with its args
 * (an instance of its first parameter's class, converted with class-transformer and validated
 * with class-validator) and a CommandContext `{ index, term, timestamp }`; it may be async, and
 * its result (JSON) is answered to the proposer.
 *
 * Commands must be deterministic: they may not read clocks (use `ctx.timestamp`), randomness,
 * the network, files or any other I/O, and must not depend on anything but the state and args.
 * A thrown RaftkitError keeps its code in the error result; anything else gives 'command_failed'.
 * State changed before a throw stays changed (there is no rollback): check, then change.
 */
export function Command(name?: string): MemberDecorator {
  return (target, key, descriptor) => recordHandler('command', COMMAND_METADATA, { name: name ?? key }, target, key, descriptor, name);
}
