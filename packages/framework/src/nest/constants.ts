/** Injection tokens of the Raft module. */
export const RAFT_MODULE_OPTIONS = Symbol('raftkit:module-options');
