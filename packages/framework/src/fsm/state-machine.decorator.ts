import 'reflect-metadata';
import { STATE_MACHINE_METADATA } from './constants.js';

export interface StateMachineOptions {
  /**
   * 'memory' (the default): the state lives in the instance and is snapshotted as JSON.
   * 'disk': the class keeps its own durable state and implements OnDiskStateMachine (fsm/on-disk-state-machine.ts)
   * (open, prepareSnapshot, saveSnapshot, recoverFromSnapshot, close); snapshots are files.
   */
  storage?: 'memory' | 'disk';
}

/**
 * Declares a class as a replicated state machine of the given type (the name groups are
 * created with). Its `@Command` methods change the state and must be deterministic; its
 * `@Query` methods read it.
 */
export function StateMachine(type: string, options: StateMachineOptions = {}): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(STATE_MACHINE_METADATA, options.storage === undefined ? { type } : { type, storage: options.storage }, target);
  };
}
