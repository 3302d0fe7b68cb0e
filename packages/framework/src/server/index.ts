export { parseServerFlags, parsePeers, parseHostPort, FlagError, SHARED_FLAGS_HELP, type ServerFlags, type HostPort } from './flags.js';
export { startNodeServer, type NodeServer, type NodeServerOptions } from './start-node.js';
export { ServerStartError } from './server-error.js';
