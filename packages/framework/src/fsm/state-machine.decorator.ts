import 'reflect-metadata';
import { STATE_MACHINE_METADATA } from './constants.js';

/**
 * Declares a class as a replicated state machine of the given type (the name groups are
 * created with). Its `@Command` methods change the state and must be deterministic; its
 * `@Query` methods read it.
 */
export function StateMachine(type: string): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(STATE_MACHINE_METADATA, { type }, target);
  };
}
