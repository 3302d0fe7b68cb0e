import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureContext, type ConnectionOptions, type SecureContext } from 'node:tls';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AddressBook } from '../host/address-book.js';
import { NodeHost, type NodeHostOptions } from '../host/node-host.js';
import { createLogger, type Logger } from '../host/logger.js';
import type { StateMachineFactory } from '../host/state-machine.js';
import { SqliteLogStore } from '../storage/sqlite-log-store.js';
import { encodeGroupName, SnapshotStore } from '../storage/snapshot-store.js';
import { join } from 'node:path';
import { WsTransport } from '../transport/ws-transport.js';
import { isWebSocketUpgrade, serveAsPlainRequest } from '../common/plain-upgrade.js';
import { answerParserErrorsAsJson } from './client-errors.js';
import { PEER_SERVERNAME, TlsMaterial } from './tls-material.js';
import { refuseLostLog } from './data-dir-check.js';
import { acquireDataDir, type DataDirLock } from './data-dir.js';
import { DebugTap, TappedTransport } from './debug-tap.js';
import { checkTiming, type ServerFlags } from './flags.js';
import { ServerStartError } from './server-error.js';
import { hostTicks, nodeTimingOf } from './timing.js';
import type { NodeTiming } from '../api/node-service.js';

export interface NodeServerOptions {
  flags: ServerFlags;
  stateMachines: StateMachineFactory;
  /** Groups this server founds on its first start, with the --peers voters. */
  groups?: { name: string; type: string }[];
  /** Host options; `flags.timing` (--heartbeat-ms/--election-ms), when given, replaces tickMs, heartbeatTick and electionTick. */
  host?: Partial<Omit<NodeHostOptions, 'id' | 'logStore' | 'snapshots' | 'transport' | 'stateMachines'>>;
  /** Handles HTTP requests other than the peer transport's (the API). */
  onRequest?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Handles WebSocket upgrades other than /raft (the watch). Return false to refuse. */
  onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  logger?: Logger;
}

export interface NodeServer {
  host: NodeHost;
  /** The node's server: an HTTPS server (node:https, which Node types apart) when TLS is on. */
  server: Server;
  /** The TLS files, when --tls-* or --peer-tls-* were given. */
  tls: TlsMaterial | undefined;
  /**
   * Reads the TLS files again and uses them for new connections (SIGHUP); open connections,
   * peer links included, stay up. Throws ServerStartError, keeping the old files, if any is bad.
   */
  reloadTls(): void;
  logger: Logger;
  /** The address the server listens on ("host:port"). */
  address: string;
  /** The raft timing the host runs with. */
  timing: NodeTiming;
  /** The debug tap, with --debug-tap. */
  tap: DebugTap | undefined;
  stop(): Promise<void>;
}

/**
 * Starts one raftkit node: takes the data dir, opens the log, listens on --listen for the API
 * and the peers, and founds the configured groups on a first start. Every failure is a
 * ServerStartError with a one-line message.
 */
export async function startNodeServer(opts: NodeServerOptions): Promise<NodeServer> {
  const { flags } = opts;
  // Flags built in code skip parseServerFlags: the same rules, before anything is opened.
  if (flags.timing) checkTiming(flags.timing);
  const ticks = hostTicks(flags.timing, opts.host);
  const logger = opts.logger ?? createLogger(flags.logLevel, { node: flags.id });
  const lock: DataDirLock = await acquireDataDir(flags.dataDir);
  try {
    refuseLostLog(flags.dataDir);
  } catch (e) {
    await lock.release();
    throw e;
  }
  let tls: TlsMaterial | undefined;
  try {
    tls = flags.tls || flags.peerTls ? new TlsMaterial(flags.id, flags.tls, flags.peerTls) : undefined;
  } catch (e) {
    await lock.release();
    throw e;
  }
  // With a separate API certificate, peers dial with SNI PEER_SERVERNAME and get the member one.
  let peerContext: SecureContext | undefined;
  const peerSni = () => {
    const o = tls?.peerContextOptions();
    peerContext ??= o ? createSecureContext(o) : undefined;
    return peerContext;
  };
  const server: Server = tls
    ? (createHttpsServer(
        {
          ...tls.serverOptions(),
          SNICallback: (name: string, cb: (err: Error | null, ctx?: SecureContext) => void) => cb(null, name === PEER_SERVERNAME ? peerSni() : undefined),
        },
        opts.onRequest ?? notFound,
      ) as unknown as Server)
    : createServer(opts.onRequest ?? notFound);
  answerParserErrorsAsJson(server);
  const snapshots = new SnapshotStore(flags.dataDir);
  const transport = new WsTransport({
    selfId: flags.id,
    server,
    token: flags.peerToken ?? flags.token,
    ...(flags.acceptTokens ? { acceptTokens: flags.acceptTokens } : {}),
    ...(tls?.peerTls
      ? { tls: { dialOptions: (to: number) => tls.dialOptions(to), certificateProblem: (req: IncomingMessage, claimed: number) => tls.peerCertificateProblem(req, claimed) } }
      : tls?.enabled
        ? // The port speaks TLS but members have no certificates of their own: peers dial wss:// and
          // check the API certificate against --tls-ca (else the system CAs) and its host name; who
          // a peer is stays proven by the token's per-member proof, as on a plaintext link.
          { tls: { dialOptions: () => apiDialOptions(tls.apiClientCa()), certificateProblem: () => undefined } }
        : {}),
    path: '/raft',
    logger: logger.child({ layer: 'transport' }),
    // Snapshots from the leader go to disk as they arrive: memory stays a few chunks, whatever their size.
    snapshotSink: snapshots,
  });
  for (const [id, address] of flags.peers) if (id !== flags.id) transport.setPeer(id, address);
  // Every socket, upgraded or not: a failed start must end them all, or close() waits forever.
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const closeServer = async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  };
  // Any upgrade that no layer claims is closed at once rather than left hanging.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!isWebSocketUpgrade(req)) {
      serveAsPlainRequest(server, req, socket, head);
      return;
    }
    if (req.url?.split('?')[0] === '/raft') {
      // The transport takes peers once the log is open; until then they are told to come back.
      if (!transport.accepting) socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (opts.onUpgrade?.(req, socket, head)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  try {
    await listen(server, flags.listen.host, flags.listen.port);
  } catch (e) {
    await lock.release();
    throw e;
  }
  const storageWarnings = logger.child({ layer: 'storage' });
  const logStore = new SqliteLogStore(flags.dataDir, {
    repairTornTail: flags.repairTornTail,
    onWarning: (w) => storageWarnings.warn(w, 'storage warning'),
  });
  const addresses = AddressBook.inDataDir(flags.dataDir);
  try {
    await addresses.load();
    for (const [id, address] of flags.peers) await addresses.set(id, address);
  } catch (e) {
    await closeServer();
    await lock.release();
    throw new ServerStartError(`cannot start node ${flags.id}: ${(e as Error).message}`);
  }
  const tap = flags.debugTap ? new DebugTap() : undefined;
  const host = new NodeHost({
    ...opts.host,
    ...ticks,
    addresses,
    id: flags.id,
    logStore,
    snapshots,
    transport: tap ? new TappedTransport(transport, tap) : transport,
    stateMachines: opts.stateMachines,
    machineDir: (group) => join(flags.dataDir, 'machines', encodeGroupName(group)),
    logger,
  });
  host.metrics.watchLogStore(() => logStore.stats());
  try {
    await host.start();
  } catch (e) {
    await closeServer();
    await lock.release();
    throw new ServerStartError(`cannot start node ${flags.id} from ${flags.dataDir}: ${(e as Error).message}`);
  }
  if (flags.peers.size > 0) {
    for (const g of opts.groups ?? []) {
      if (!host.hasGroup(g.name)) await host.createGroup(g.name, { type: g.type, voters: [...flags.peers.keys()].sort((a, b) => a - b) });
    }
  }
  const address = `${flags.listen.host}:${(server.address() as { port: number }).port}`;
  const timing = nodeTimingOf(ticks);
  logger.info({ listen: address, dataDir: flags.dataDir, timing }, 'node listening');
  let stopped = false;
  return {
    host,
    server,
    tls,
    reloadTls() {
      if (!tls) return;
      tls.reload();
      peerContext = undefined;
      (server as unknown as { setSecureContext(o: object): void }).setSecureContext(tls.serverOptions());
      logger.info({}, 'TLS certificates reloaded');
    },
    logger,
    address,
    timing,
    tap,
    async stop() {
      if (stopped) return;
      stopped = true;
      await host.stop();
      await closeServer();
      await lock.release();
    },
  };
}

function notFound(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: 'not_found', message: 'no such route' }));
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (e.code === 'EADDRINUSE') reject(new ServerStartError(`port ${port} on ${host} is already in use`));
      else if (e.code === 'EACCES') reject(new ServerStartError(`no permission to listen on ${host}:${port}`));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') reject(new ServerStartError(`cannot listen on ${host}: no such local address`));
      else reject(new ServerStartError(`cannot listen on ${host}:${port}: ${e.message}`));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function apiDialOptions(ca: Buffer | undefined): ConnectionOptions {
  return ca ? { ca } : {};
}
