// etcd's gRPC API for raftkit-meta (see grpc-server.ts).
export { startGrpcServer, type GrpcServerHandle, type GrpcServerOptions } from './grpc-server.js';
export { DEFAULT_LIMITS, type MetaApiLimits } from '../wire/limits.js';
