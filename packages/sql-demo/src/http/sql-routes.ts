// The rqlite-compatible HTTP API of raftkit-sql, on the node's own port next to raftkit's API
// (RaftServerOptions.routes): /db/execute, /db/query, /db/request, /db/backup, /db/load,
// /status, /nodes and /readyz. Any other path is left to raftkit's API.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExtraRoutes, ExtraRoutesContext } from '@raftkit/framework/server';
import { RqliteRequestError, type DbEndpoint } from '../rqlite/index.js';
import type { SqlDatabase } from '../machine/sql-database.machine.js';
import { DEFAULT_LIMITS, type SqlApiContext, type SqlApiLimits } from './api-context.js';
import { makeAuthCheck } from './auth.js';
import { BackupLoadEndpoints } from './backup-load-endpoints.js';
import { ClusterEndpoints } from './cluster-endpoints.js';
import { DbEndpoints } from './db-endpoints.js';
import { HttpFailure } from './http-failure.js';
import { sendReply, splitUrl } from './http-io.js';
import { LeaderRouting } from './leader-routing.js';

export interface SqlRoutesOptions {
  /** The group that holds the database (default "sql"). */
  group?: string;
  /** This node's machine instance of the group, once it runs (from RaftServerOptions.instantiate). */
  machine: () => SqlDatabase | undefined;
  limits?: Partial<SqlApiLimits>;
  /** Reported by /status and /nodes. */
  version: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** RaftServerOptions.routes for the SQL store. */
export function sqlRoutes(o: SqlRoutesOptions): (node: ExtraRoutesContext) => ExtraRoutes {
  return (node) => {
    const group = o.group ?? 'sql';
    const routing = new LeaderRouting({ service: node.service, group, token: node.token, ca: () => node.peers.ca(), logger: node.logger });
    const ctx: SqlApiContext = {
      service: node.service,
      group,
      routing,
      logger: node.logger,
      machine: o.machine,
      limits: { ...DEFAULT_LIMITS, ...o.limits },
      version: o.version,
      startTime: new Date(),
      authEnabled: node.token !== undefined,
    };
    const authorized = makeAuthCheck(node.secret);
    const db = new DbEndpoints(ctx);
    const cluster = new ClusterEndpoints(ctx, node.peers);
    const files = new BackupLoadEndpoints(ctx);
    const dbRoute =
      (endpoint: DbEndpoint): Handler =>
      (req, res) =>
        db.handle(endpoint, req, res);
    const routes = new Map<string, Handler>([
      ['/db/execute', dbRoute('execute')],
      ['/db/query', dbRoute('query')],
      ['/db/request', dbRoute('request')],
      ['/db/backup', (req, res) => files.backup(req, res)],
      ['/db/load', (req, res) => files.load(req, res)],
      ['/status', (req, res) => cluster.status(req, res)],
      ['/nodes', (req, res) => cluster.nodes(req, res)],
      ['/readyz', (req, res) => cluster.readyz(req, res)],
    ]);
    if (o.machine()?.interruptible === false) {
      node.logger.warn({}, 'the interrupt extension is not built: db_timeout will not stop statements on this node (run npm run build with a C compiler)');
    }

    const fail = (res: ServerResponse, e: unknown) => {
      if (res.headersSent || res.destroyed) {
        if (!res.writableEnded) res.destroy();
        return;
      }
      if (e instanceof HttpFailure || e instanceof RqliteRequestError) return sendReply(res, e.toReply());
      node.logger.error({ err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e) }, 'sql api: internal error');
      sendReply(res, new HttpFailure('internal', 'internal error').toReply());
    };

    return {
      onRequest(req, res) {
        const handler = routes.get(splitUrl(req.url).path);
        if (!handler) return false;
        if (!authorized(req)) {
          sendReply(res, new HttpFailure('unauthorized', 'unauthorized').toReply(), { 'WWW-Authenticate': 'Basic realm="raftkit-sql"' });
          return true;
        }
        handler(req, res).catch((e: unknown) => fail(res, e));
        return true;
      },
      close() {
        routing.close();
      },
    };
  };
}
