// The interface lives with the layer that drives it (rsm/); fsm/ checks a class against it.
export type { OnDiskStateMachine } from '../rsm/on-disk-state-machine.js';

/** The methods `{ storage: 'disk' }` requires. */
export const ON_DISK_METHODS = ['open', 'prepareSnapshot', 'saveSnapshot', 'recoverFromSnapshot', 'close'] as const;
