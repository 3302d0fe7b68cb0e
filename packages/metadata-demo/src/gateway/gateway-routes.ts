// etcd's JSON gateway (the /v3/... HTTP API of etcd 3.4) on the raftkit node's own HTTP port,
// as RaftServerOptions.routes: every path under /v3/ (and /v3beta/, /v3alpha/) is answered here,
// as grpc-gateway would: unknown paths 404 and other methods than POST 405, in plain text.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExtraRoutes, ExtraRoutesContext } from '@raftkit/framework/server';
import type { MetaBackend } from '../api/meta-backend.js';
import { MetaError } from '../api/meta-error.js';
import { toMetaError } from '../grpc/status.js';
import { HeaderCache } from '../wire/header-cache.js';
import { resolveLimits, type MetaApiLimits } from '../wire/limits.js';
import { EtcdAuth } from '../api/etcd-auth.js';
import type { GatewayContext } from './gateway-context.js';
import { sendFailure, sendText } from './http-io.js';
import { gatewayPath, ROUTES } from './routes.js';
import { serveKeepAlive, serveSnapshot, serveWatch } from './stream-routes.js';
import { serveUnary } from './unary-route.js';

export interface MetaGatewayOptions {
  /**
   * The node's backend, or how to get it from the node once the server runs (called for each
   * request; undefined while the node is not ready, answered "etcdserver: no leader" 503).
   */
  backend: MetaBackend | ((node: ExtraRoutesContext) => MetaBackend | undefined);
  limits?: Partial<MetaApiLimits>;
}

/** RaftServerOptions.routes for the etcd JSON gateway. */
export function metaGatewayRoutes(o: MetaGatewayOptions): (node: ExtraRoutesContext) => ExtraRoutes {
  const limits = resolveLimits(o.limits);
  return (node) => {
    const logger = node.logger.child({ layer: 'etcd-gateway' });
    const auth = new EtcdAuth(node.secret);
    const headers = new HeaderCache();
    const streams = new Set<() => void>();
    const backendOf = typeof o.backend === 'function' ? o.backend : () => o.backend as MetaBackend;

    const serve = (req: IncomingMessage, res: ServerResponse, path: string): void => {
      const route = ROUTES.get(path);
      if (!route) return sendText(res, 404, 'Not Found');
      if (req.method !== 'POST') return sendText(res, 405, 'Method Not Allowed', { allow: 'POST' });
      // etcd's gateway takes an auth token (from /v3/auth/authenticate) as the Authorization
      // header; the cluster token as `Bearer <token>` passes too. Logging in needs neither.
      if (route.kind !== 'unary' || route.method !== 'Auth.Authenticate') {
        const header = req.headers.authorization;
        try {
          auth.check(undefined, typeof header === 'string' ? header : undefined);
        } catch (e) {
          res.setHeader('www-authenticate', 'Bearer');
          return sendFailure(res, e as MetaError);
        }
      }
      const backend = backendOf(node);
      if (!backend) return sendFailure(res, new MetaError('no_leader'));
      const ctx: GatewayContext = { backend, limits, headers, logger, streams, auth };
      if (route.kind === 'watch') return serveWatch(req, res, ctx);
      if (route.kind === 'keepalive') return serveKeepAlive(req, res, ctx);
      if (route.kind === 'snapshot') return serveSnapshot(req, res);
      serveUnary(route.method, req, res, ctx).catch((e: unknown) => {
        if (res.headersSent) return void res.destroy();
        sendFailure(res, toMetaError(e, logger, route.method));
      });
    };

    return {
      onRequest(req, res) {
        const path = gatewayPath(req.url);
        if (path === undefined) return false;
        try {
          serve(req, res, path);
        } catch (e) {
          if (res.headersSent) res.destroy();
          else sendFailure(res, toMetaError(e, logger, path));
        }
        return true;
      },
      close() {
        for (const stop of [...streams]) stop();
      },
    };
  };
}
