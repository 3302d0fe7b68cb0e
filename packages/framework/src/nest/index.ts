export { RaftModule } from './raft.module.js';
export { RaftService, type ProposeOptions } from './raft.service.js';
export { RaftExplorer } from './raft.explorer.js';
export { RaftExceptionFilter } from './raft-exception.filter.js';
export { RaftNestLogger } from './raft-nest-logger.js';
export { runNestRaftApp, type NestRaftAppOptions } from './run-nest-raft-app.js';
export { RAFT_APP_FLAGS, RAFT_MODULE_OPTIONS } from './constants.js';
export type { RaftModuleOptions, RaftModuleAsyncOptions } from './raft-module-options.js';
