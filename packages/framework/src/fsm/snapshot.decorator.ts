import { RESTORE_HOOK_METADATA, SNAPSHOT_HOOK_METADATA } from './constants.js';
import { recordHandler, type MemberDecorator } from './handler-record.js';

/**
 * Optional: a method returning the state as a JSON-serialisable value. It is called
 * synchronously at the applied index and must return a value that later commands do not change
 * (a copy, or an immutable structure); serialising it happens afterwards, asynchronously.
 * Without it the snapshot is the instance's enumerable fields via class-transformer's
 * instanceToPlain. A class with `@Snapshot` needs a `@Restore` too.
 */
export function Snapshot(): MemberDecorator {
  return (target, key, descriptor) => recordHandler('snapshot', SNAPSHOT_HOOK_METADATA, true, target, key, descriptor);
}

/**
 * Optional: a method that replaces the state with a value its `@Snapshot` produced (after a
 * JSON round trip); may be async. Without it the fields are restored with plainToInstance.
 */
export function Restore(): MemberDecorator {
  return (target, key, descriptor) => recordHandler('restore', RESTORE_HOOK_METADATA, true, target, key, descriptor);
}
