// What a raftkit-meta node runs next to raftkit's API, made once the node runs (the `routes` of
// runRaftServer): the MetaNode (the backend), etcd's gRPC server on its own port, etcd's JSON
// gateway and the leader's forwarding route on the node's HTTP port, the lease expiry driver, and
// this member's published URLs.
import type { ExtraRoutes, ExtraRoutesContext } from '@raftkit/framework/server';
import type { Logger } from '@raftkit/framework';
import { EtcdAuth } from './api/etcd-auth.js';
import type { MetaBackend } from './api/meta-backend.js';
import type { MetaMachine } from './machine/meta.machine.js';
import { defaultGrpcListen, type MetaFlags } from './meta-flags.js';
import { MetaNode } from './node/meta-node.js';

/** The request limits both protocol layers check before calling the backend. */
export interface ApiLimits {
  maxRequestBytes?: number;
  maxTxnOps?: number;
}

/** src/grpc's startGrpcServer. */
export type GrpcStarter = (o: {
  backend: MetaBackend;
  listen: string;
  logger: Logger;
  limits?: ApiLimits;
  auth?: EtcdAuth;
  tls?: { cert: Buffer; key: Buffer };
}) => Promise<{ port: number; close(): Promise<void> }>;

/** src/gateway's metaGatewayRoutes. */
export type GatewayRoutes = (o: { backend: MetaBackend; limits?: ApiLimits }) => (node: ExtraRoutesContext) => ExtraRoutes;

export interface MetaServerOptions {
  flags: MetaFlags;
  group?: string;
  machine: () => MetaMachine | undefined;
  /** etcd's gRPC API (src/grpc); absent: no gRPC port. */
  startGrpc?: GrpcStarter;
  /** etcd's JSON gateway (src/gateway); absent: no /v3 routes. */
  gateway?: GatewayRoutes;
  /** A failure the node cannot serve without (the gRPC port taken): the bin exits. */
  onFatal?: (message: string) => void;
  /** Hands the node to the caller (tests). */
  onNode?: (node: MetaNode) => void;
}

/** RaftServerOptions.routes for raftkit-meta. */
export function metaRoutes(o: MetaServerOptions): (ctx: ExtraRoutesContext) => ExtraRoutes {
  return (ctx) => {
    const { flags } = o;
    const logger = ctx.logger.child({ layer: 'meta' });
    const node = new MetaNode({
      service: ctx.service,
      machine: o.machine,
      peers: ctx.peers,
      logger,
      quotaBytes: flags.quotaBytes,
      maxTxnOps: flags.maxTxnOps,
      progressNotifyMs: flags.progressNotifyMs,
      ...(o.group ? { group: o.group } : {}),
      ...(flags.name ? { name: flags.name } : {}),
    });
    node.start();
    o.onNode?.(node);
    const forward = node.forwardRoute(ctx.secret);
    const limits = { maxRequestBytes: flags.maxRequestBytes, maxTxnOps: flags.maxTxnOps };
    const gateway = o.gateway?.({ backend: node, limits })(ctx);
    const address = ctx.service.status().address;
    const httpUrl = ctx.peers.baseUrl(address);
    const host = address.slice(0, address.lastIndexOf(':'));
    let grpc: { port: number; close(): Promise<void> } | undefined;
    let grpcStarting: Promise<void> = Promise.resolve();
    if (o.startGrpc) {
      let listen: string;
      try {
        listen = flags.grpcListen ?? defaultGrpcListen(address);
      } catch (e) {
        o.onFatal?.((e as Error).message);
        listen = `${host}:0`;
      }
      grpcStarting = o.startGrpc({ backend: node, listen, logger, limits, auth: new EtcdAuth(ctx.secret), ...(ctx.apiTls ? { tls: ctx.apiTls() } : {}) }).then(
        (handle) => {
          grpc = handle;
          const grpcHost = listen.slice(0, listen.lastIndexOf(':'));
          // A wildcard address is no URL a client can use: publish the node's own host instead.
          const advertised = grpcHost === '0.0.0.0' || grpcHost === '[::]' ? host : grpcHost;
          node.publish({ peerUrls: [httpUrl], clientUrls: [`${ctx.apiTls ? 'https' : 'http'}://${advertised}:${handle.port}`], httpUrls: [httpUrl] });
        },
        (e: Error) => o.onFatal?.(`cannot serve etcd's gRPC API on ${listen}: ${e.message}`),
      );
    } else {
      node.publish({ peerUrls: [httpUrl], clientUrls: [httpUrl], httpUrls: [httpUrl] });
    }
    return {
      onRequest: (req, res) => forward(req, res) || (gateway?.onRequest(req, res) ?? false),
      async close() {
        await grpcStarting;
        await grpc?.close();
        await gateway?.close?.();
        await node.close();
      },
    };
  };
}
