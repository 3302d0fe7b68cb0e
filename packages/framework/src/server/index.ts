export { parseServerFlags, parsePeers, parseHostPort, FlagError, SHARED_FLAGS_HELP, type ServerFlags, type HostPort } from './flags.js';
export { startNodeServer, type NodeServer, type NodeServerOptions } from './start-node.js';
export { ServerStartError } from './server-error.js';
export { clusterSecret, bearerOrBasicMatches, type ClusterSecret, type TokenVerdict } from '../common/bearer-token.js';
export { startRaftServer, runRaftServer, type ExtraRoutes, type ExtraRoutesContext, type RaftServer, type RaftServerOptions } from './raft-server.js';
export { NodeRaftService, type NodeRaftServiceOptions } from './node-raft-service.js';
export { joinCluster, type JoinOptions } from './join.js';
