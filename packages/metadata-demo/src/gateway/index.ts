// etcd's JSON gateway for raftkit-meta (see gateway-routes.ts).
export { metaGatewayRoutes, type MetaGatewayOptions } from './gateway-routes.js';
