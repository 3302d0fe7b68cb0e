export { RaftModule } from './raft.module.js';
export { RaftService } from './raft.service.js';
export { RaftExplorer } from './raft.explorer.js';
export { RAFT_MODULE_OPTIONS } from './constants.js';
export type { RaftModuleOptions, RaftModuleAsyncOptions } from './raft-module-options.js';
