// The package root: what an application needs. Layers are also importable by subpath
// (`@raftkit/framework/core`, `/host`, `/server`, `/storage`, `/transport`, `/sim`).
export * from './core/index.js';
export * from './host/index.js';
export * from './server/index.js';
export * from './storage/index.js';
export * from './transport/index.js';
export * from './api/index.js';
export * from './fsm/index.js';
export * from './rsm/index.js';
// The @Snapshot decorator wins the name; the core's snapshot type stays reachable as RaftSnapshot.
export { Snapshot } from './fsm/index.js';
export type { Snapshot as RaftSnapshot } from './core/types.js';
