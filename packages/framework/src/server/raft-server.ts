import { PeerClient } from '../api/peer-client.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createApiHandler, type ApiHandler } from '../api/http-api.js';
import type { StateMachineClass } from '../fsm/definition.js';
import { StateMachineRegistry } from '../fsm/state-machine-registry.js';
import { createLogger } from '../host/logger.js';
import type { Logger } from '../common/logger.js';
import type { StateMachineManager } from '../rsm/state-machine-manager.js';
import { FlagError, parseServerFlags, SHARED_FLAGS_HELP, type ServerFlags } from './flags.js';
import { joinCluster } from './join.js';
import { NodeRaftService } from './node-raft-service.js';
import { ServerStartError } from './server-error.js';
import { createLiveRoutes, type LiveRoutes } from './live-routes.js';
import { RemoteMachines } from '../remote/remote-machines.js';
import { startNodeServer, type NodeServer, type NodeServerOptions } from './start-node.js';
import { clusterSecret, type ClusterSecret } from '../common/bearer-token.js';
import type { TlsMaterial } from './tls-material.js';

export interface RaftServerOptions {
  /** The program's name, for --help and errors. */
  name: string;
  /** The decorated state machine classes this server can run. */
  machines: StateMachineClass[];
  /** Groups founded on a first start with --peers (each of a registered type). */
  groups: { name: string; type: string }[];
  flags: ServerFlags;
  /** Makes a state machine instance (default `new cls()`), e.g. from a DI container. */
  instantiate?: (cls: StateMachineClass, group: string) => object;
  host?: NodeServerOptions['host'];
  /** Entries kept for watch resume (default: enough to cover the retained log). */
  recentEntries?: number;
  /**
   * More HTTP routes on the node's port, next to raftkit's API (for example a compatible API of
   * another product). Made once the node runs; asked first for every request, it answers true
   * when it took the request. Requests it declines go to raftkit's API.
   */
  routes?: (node: ExtraRoutesContext) => ExtraRoutes;
}

/** --snapshot-bytes by default: a start reads the log behind the last snapshot, so bytes (not only entries) bound its time. */
const DEFAULT_SNAPSHOT_BYTES = 64 * 1024 * 1024;

/** What extra routes get to work with. */
export interface ExtraRoutesContext {
  service: NodeRaftService;
  /** The cluster's shared token, if any: the one this node sends when it calls another node. */
  token: string | undefined;
  /** What a request must prove (the token, or one accepted during a rotation): every route checks it. */
  secret: ClusterSecret;
  /**
   * How this node calls other nodes' APIs: their base URLs (https with --tls-cert), the CA their
   * certificates are checked against (--tls-ca, read at each call so a reload applies), the token.
   */
  peers: PeerClient;
  /** With --tls-cert: the node's API certificate and key as they are now (for a second listener, such as a gRPC port). */
  apiTls: (() => { cert: Buffer; key: Buffer }) | undefined;
  logger: Logger;
}

export interface ExtraRoutes {
  onRequest(req: IncomingMessage, res: ServerResponse): boolean;
  /** Ends what the routes hold open (called when the server stops, before the node). */
  close?(): Promise<void> | void;
}

export interface RaftServer {
  node: NodeServer;
  service: NodeRaftService;
  registry: StateMachineRegistry;
  api: ApiHandler;
  /** How this node calls nodes' APIs, its own included: https with its CA under TLS, the token. */
  peers: PeerClient;
  stop(): Promise<void>;
}

/**
 * Starts a complete raftkit node: the durable host, the HTTP API and watch on the same port as
 * the peers, the given state machines, and (with --join) membership in a running cluster.
 */
export async function startRaftServer(opts: RaftServerOptions): Promise<RaftServer> {
  const { flags } = opts;
  const logger = createLogger(flags.logLevel, { node: flags.id });
  const registry = new StateMachineRegistry(opts.machines);
  // State machines served by other processes (Python): their types, and a group of each.
  const remote = flags.remoteMachines?.length
    ? new RemoteMachines({
        types: flags.remoteMachines,
        nodeId: flags.id,
        token: flags.token,
        ...(flags.acceptTokens ? { acceptTokens: flags.acceptTokens } : {}),
        timeoutMs: flags.machineTimeoutMs,
        logger: logger.child({ layer: 'remote' }),
      })
    : undefined;
  for (const t of remote?.types() ?? []) registry.registerExternal(t);
  const groups = [...opts.groups, ...(flags.remoteMachines ?? []).filter((r) => !opts.groups.some((g) => g.name === r.name)).map((r) => ({ name: r.name, type: r.name }))];
  for (const g of groups) registry.require(g.type);
  const managers = new Map<string, StateMachineManager>();
  const snapshotEntries = flags.snapshotEntries ?? opts.host?.snapshotEntries ?? 10_000;
  const retainEntries = opts.host?.retainEntries ?? Math.min(5_000, Math.ceil(snapshotEntries / 2));
  const snapshotBytes = flags.snapshotBytes ?? opts.host?.snapshotBytes ?? DEFAULT_SNAPSHOT_BYTES;
  const retainBytes = opts.host?.retainBytes ?? snapshotBytes;
  const host = { ...opts.host, snapshotEntries, retainEntries, snapshotBytes, retainBytes };
  const factoryOptions = {
    onCreate: (group: string, m: StateMachineManager) => managers.set(group, m),
    recentEntries: opts.recentEntries ?? snapshotEntries + retainEntries,
    snapshotHistory: retainEntries,
    ...(opts.instantiate ? { instantiate: opts.instantiate } : {}),
  };
  // The API needs the service, which needs the host: requests before it exists get a 503.
  let api: ApiHandler | undefined;
  let extra: ExtraRoutes | undefined;
  let live: LiveRoutes | undefined;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (live?.onRequest(req, res)) return;
    if (extra?.onRequest(req, res)) return;
    if (api) return api.onRequest(req, res);
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end(JSON.stringify({ error: 'unavailable', message: 'the node is starting' }));
  };
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => (remote?.onUpgrade(req, socket, head) ?? false) || (api?.onUpgrade(req, socket, head) ?? false);
  const node = await startNodeServer({
    flags,
    logger,
    stateMachines: registry.factory(factoryOptions),
    groups,
    host,
    onRequest,
    onUpgrade,
  });
  const tls = node.tls;
  const ca = () => tls?.apiClientCa();
  const peers = new PeerClient({ ...(flags.token ? { token: flags.token } : {}), ...(tls?.enabled ? { scheme: 'https' as const, ca } : {}) });
  remote?.useMetrics(node.host.metrics.registry);
  remote?.markStarted();
  const service = new NodeRaftService({
    host: node.host,
    registry,
    managers,
    address: node.address,
    peers,
    timing: node.timing,
    ...(remote ? { machineStatus: (group: string) => remote.status(group) } : {}),
  });
  api = createApiHandler({
    service,
    token: flags.token,
    ...(flags.acceptTokens ? { acceptTokens: flags.acceptTokens } : {}),
    ...(tls?.enabled ? { forwardCa: ca } : {}),
    logger: logger.child({ layer: 'api' }),
  });
  live = createLiveRoutes({ service, tap: node.tap, token: flags.token, ...(flags.acceptTokens ? { acceptTokens: flags.acceptTokens } : {}), peers });
  extra = opts.routes?.({
    service,
    token: flags.token,
    secret: clusterSecret(flags.token, flags.acceptTokens),
    peers,
    apiTls: tls?.enabled ? () => apiCertificate(tls) : undefined,
    logger: logger.child({ layer: 'routes' }),
  });
  const server: RaftServer = {
    node,
    service,
    registry,
    api,
    peers,
    async stop() {
      remote?.close();
      await extra?.close?.();
      await api!.close();
      await node.stop();
    },
  };
  if (flags.join) {
    try {
      await joinCluster({ service, host: node.host, through: flags.join, peers, selfAddress: node.address, logger });
    } catch (e) {
      await server.stop();
      throw new ServerStartError(`cannot join the cluster through ${flags.join}: ${(e as Error).message}`);
    }
  }
  return server;
}

/**
 * The whole main() of a server program: parses the shared flags (plus `extra`), starts the
 * node, stops it gracefully on SIGTERM/SIGINT. Bad flags and start failures print one line and
 * exit non-zero.
 */
export async function runRaftServer(options: Omit<RaftServerOptions, 'flags'> & { argv?: string[]; usage?: string }): Promise<void> {
  let server: RaftServer | undefined;
  try {
    const { flags } = parseServerFlags(options.argv ?? process.argv.slice(2));
    if (flags.help) {
      process.stdout.write(`usage: ${options.name} --id N --listen HOST:PORT (--peers ... | --join HOST:PORT) --data-dir DIR\n\n${SHARED_FLAGS_HELP}\n${options.usage ?? ''}`);
      return;
    }
    if (flags.peers.size === 0 && !flags.join) {
      const started = await hasDataDir(flags.dataDir);
      if (!started) throw new FlagError('a new node needs --peers (to found a cluster) or --join (to join one)');
    }
    server = await startRaftServer({ ...options, flags });
  } catch (e) {
    const known = e instanceof FlagError || e instanceof ServerStartError;
    process.stderr.write(`${options.name}: ${known ? (e as Error).message : ((e as Error).stack ?? String(e))}\n`);
    process.exit(2);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server!.node.logger.info({ signal }, 'stopping');
    server!.stop().then(
      () => process.exit(0),
      (e: Error) => {
        process.stderr.write(`${options.name}: stop failed: ${e.message}\n`);
        process.exit(1);
      },
    );
  };
  // SIGHUP: read the TLS files again; new connections use them, open ones (peer links) stay up.
  process.on('SIGHUP', () => {
    try {
      server!.node.reloadTls();
    } catch (e) {
      server!.node.logger.error({ err: (e as Error).message }, 'TLS reload failed; the previous certificates stay in use');
    }
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function hasDataDir(dir: string): Promise<boolean> {
  const { access } = await import('node:fs/promises');
  try {
    await access(`${dir}/raft.db`);
    return true;
  } catch {
    return false;
  }
}

function apiCertificate(tls: TlsMaterial): { cert: Buffer; key: Buffer } {
  const o = tls.serverOptions();
  return { cert: Buffer.from(o.cert as string | Buffer), key: Buffer.from(o.key as string | Buffer) };
}
