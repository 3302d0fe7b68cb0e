/** Injection tokens of the Raft module. */
export const RAFT_MODULE_OPTIONS = Symbol('raftkit:module-options');
/** The app's own command-line flags as runNestRaftApp parsed them (`Record<string, string | boolean | undefined>`). */
export const RAFT_APP_FLAGS = Symbol('raftkit:app-flags');
