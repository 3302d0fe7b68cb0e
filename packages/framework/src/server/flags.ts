import { parseArgs } from 'node:util';
import { LOG_LEVELS, type LogLevel } from '../host/logger.js';
import { DEFAULT_TAP_CAPACITY } from './debug-tap.js';
import { parseNodeId } from '../core/node-id.js';
import type { TlsFiles } from './tls-material.js';

/** A bad command line: the message is one line that names the flag and the rule. */
export class FlagError extends Error {
  readonly code = 'bad_flag';
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

export interface HostPort {
  host: string;
  port: number;
}

/** The raft timing every node of a cluster must share: a leader's heartbeat interval and the election timeout. */
export interface RaftTiming {
  heartbeatMs: number;
  /** A follower campaigns after a silence randomised in [electionMs, 2 x electionMs). */
  electionMs: number;
}

export const DEFAULT_TIMING: RaftTiming = { heartbeatMs: 100, electionMs: 1000 };
const HEARTBEAT_MS = { min: 10, max: 10_000 };
const ELECTION_MS = { min: 50, max: 60_000 };
/** The fewest heartbeats per election timeout: a follower must be able to miss some before it campaigns. */
export const MIN_HEARTBEATS_PER_ELECTION = 5;

export interface ServerFlags {
  id: number;
  listen: HostPort;
  /** Founding voters: id -> "host:port" (includes this node). Empty when joining. */
  peers: Map<number, string>;
  /** Address of a running member to join through, instead of peers. */
  join: string | undefined;
  dataDir: string;
  token: string | undefined;
  /**
   * Tokens accepted besides `token` during a rotation without downtime (API clients and peer
   * proofs); this node sends `token`. See docs/api.md, "Rotating the token".
   */
  acceptTokens?: string[];
  /**
   * --peer-token: the secret peer identities are derived from, when it must differ from the API
   * token (API clients that hold `token` then cannot prove a member's id). Default: `token`.
   */
  peerToken?: string;
  /** --tls-cert/--tls-key/--tls-ca: the API (HTTPS and WSS watch) and the node's calls to other nodes' APIs. */
  tls?: TlsFiles;
  /** --peer-tls-cert/--peer-tls-key/--peer-tls-ca: mutual TLS on peer links, member certificates naming raftkit://CLUSTER/node/ID. */
  peerTls?: TlsFiles;
  logLevel: LogLevel;
  /** Truncate a torn tail of the last log transaction at start-up. */
  repairTornTail: boolean;
  /** Record peer messages for GET /v1/debug/messages and the live page (--debug-tap). */
  debugTap?: boolean;
  /** Snapshot and compact each group after this many applied entries (default: the host's). */
  snapshotEntries?: number;
  /** Also snapshot once this many bytes of entries were applied since the last snapshot (0: only by count). */
  snapshotBytes?: number;
  /** Present when --heartbeat-ms or --election-ms was given (the other at its default); overrides the host's tick options. */
  timing?: RaftTiming;
  /** State machine types served by other processes (`--remote-machine NAME@VERSION`); each founds a group NAME. */
  remoteMachines?: { name: string; version: number }[];
  /** How long a remote machine may take to answer one request before it is marked failed. */
  machineTimeoutMs?: number;
  help: boolean;
}

export const SHARED_FLAGS_HELP = `  --id N                      node id, a positive integer unique in the cluster
  --listen HOST:PORT          the node's one port: HTTP API, watch and peer transport
  --peers 1=H:P,2=H:P,...     the initial voters (every founding node gets the same list)
  --join HOST:PORT            instead of --peers: join a running cluster through any member
  --data-dir DIR              durable state; restarting with the same dir resumes the node
  --token SECRET              shared secret for peers and API clients (or env RAFTKIT_TOKEN)
  --peer-token SECRET         secret that member identities are derived from, kept from API clients
                              (or env RAFTKIT_PEER_TOKEN; default: --token)
  --accept-token SECRET[,...] also accept these tokens (rotation: old and new during a window;
                              or env RAFTKIT_ACCEPT_TOKEN); this node still sends --token
  --tls-cert FILE             serve the API as HTTPS (and the watch as WSS) with this PEM certificate
  --tls-key FILE              its private key (PEM)
  --tls-ca FILE               CA bundle this node trusts when it calls other nodes' APIs (forwarding, join)
  --peer-tls-cert FILE        mutual TLS on peer links: this member's certificate, which must name
                              URI:raftkit://CLUSTER/node/ID with this node's --id
  --peer-tls-key FILE         its private key (PEM)
  --peer-tls-ca FILE          the CA that signs every member certificate of the cluster
                              (certificates are read again on SIGHUP; connections stay up)
  --log-level LEVEL           ${LOG_LEVELS.join('|')} (default info); JSON logs on stderr
  --repair-torn-tail          drop a torn tail of the last log write instead of refusing to start
  --debug-tap                 record the last ${DEFAULT_TAP_CAPACITY} peer messages for /v1/debug/messages and /ui (off by default)
  --snapshot-entries N        snapshot and compact a group every N applied entries (default 10000)
  --snapshot-bytes N          also once N bytes of entries were applied since the last one, and keep at
                              most N bytes of log behind a snapshot (default 67108864; 0: by count only)
  --heartbeat-ms N            leader heartbeat interval, ${HEARTBEAT_MS.min}-${HEARTBEAT_MS.max} (default ${DEFAULT_TIMING.heartbeatMs})
  --election-ms N             election timeout, randomised in [N, 2N), ${ELECTION_MS.min}-${ELECTION_MS.max} (default ${DEFAULT_TIMING.electionMs});
                              at least ${MIN_HEARTBEATS_PER_ELECTION} x --heartbeat-ms; give every node the same two values
  --remote-machine NAME[@V]   a state machine type served by another process (a Python machine,
                              version V, default 1) over WebSocket; founds the group NAME. Repeatable
  --machine-timeout-ms N      a remote machine that does not answer within N ms is marked failed (default 5000)
  --help                      this text`;

export function parseHostPort(value: string, flag: string): HostPort {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  if (!m) throw new FlagError(`${flag} must be HOST:PORT, got "${value}"`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new FlagError(`${flag} port must be 1-65535, got ${m[2]}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

function parseId(value: string, flag: string): number {
  const id = parseNodeId(value);
  if (id === undefined) throw new FlagError(`${flag} must be a positive integer, got "${value}"`);
  return id;
}

export function parsePeers(value: string): Map<number, string> {
  const peers = new Map<number, string>();
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new FlagError(`--peers entries must be ID=HOST:PORT, got "${part}"`);
    const id = parseId(part.slice(0, eq), '--peers id');
    const addr = part.slice(eq + 1);
    parseHostPort(addr, `--peers address of ${id}`);
    if (peers.has(id)) throw new FlagError(`--peers lists node ${id} twice`);
    peers.set(id, addr);
  }
  return peers;
}

/**
 * Parses the flags every raftkit server shares. `extra` declares an app's own flags, returned
 * untouched in `rest`.
 */
export function parseServerFlags(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  extra: Record<string, { type: 'string' | 'boolean' }> = {},
): { flags: ServerFlags; rest: Record<string, string | boolean | undefined> } {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        id: { type: 'string' },
        listen: { type: 'string' },
        peers: { type: 'string' },
        join: { type: 'string' },
        'data-dir': { type: 'string' },
        token: { type: 'string' },
        'accept-token': { type: 'string' },
        'peer-token': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-ca': { type: 'string' },
        'peer-tls-cert': { type: 'string' },
        'peer-tls-key': { type: 'string' },
        'peer-tls-ca': { type: 'string' },
        'log-level': { type: 'string' },
        'repair-torn-tail': { type: 'boolean' },
        'debug-tap': { type: 'boolean' },
        'snapshot-entries': { type: 'string' },
        'snapshot-bytes': { type: 'string' },
        'heartbeat-ms': { type: 'string' },
        'election-ms': { type: 'string' },
        'remote-machine': { type: 'string', multiple: true },
        'machine-timeout-ms': { type: 'string' },
        help: { type: 'boolean' },
        ...extra,
      },
    }) as { values: Record<string, string | boolean | string[] | undefined> });
  } catch (e) {
    throw new FlagError((e as Error).message.split('\n')[0]!);
  }
  const rest: Record<string, string | boolean | undefined> = {};
  for (const k of Object.keys(extra)) rest[k] = values[k] as string | boolean | undefined;
  if (values.help) {
    return { flags: { help: true } as ServerFlags, rest };
  }
  const str = (k: string) => values[k] as string | undefined;
  if (!str('id')) throw new FlagError('--id is required');
  if (!str('listen')) throw new FlagError('--listen is required');
  if (!str('data-dir')) throw new FlagError('--data-dir is required');
  const id = parseId(str('id')!, '--id');
  const listen = parseHostPort(str('listen')!, '--listen');
  if (str('peers') && str('join')) throw new FlagError('give either --peers or --join, not both');
  const peers = str('peers') ? parsePeers(str('peers')!) : new Map<number, string>();
  if (str('peers') && !peers.has(id)) throw new FlagError(`--peers must include this node (--id ${id})`);
  const join = str('join');
  if (join !== undefined) parseHostPort(join, '--join');
  const logLevel = (str('log-level') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new FlagError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const token = str('token') ?? env.RAFTKIT_TOKEN;
  if (token !== undefined && token.length === 0) throw new FlagError('--token must not be empty');
  const accepted = str('accept-token') ?? env.RAFTKIT_ACCEPT_TOKEN;
  const acceptTokens = accepted === undefined ? [] : accepted.split(',');
  if (acceptTokens.some((t) => !/^[\x21-\x7e]{1,4096}$/.test(t))) throw new FlagError('--accept-token must be a comma-separated list of non-empty printable tokens');
  if (acceptTokens.length > 0 && !token) throw new FlagError('--accept-token needs --token (the token this node sends)');
  const peerToken = str('peer-token') ?? env.RAFTKIT_PEER_TOKEN;
  if (peerToken !== undefined && !/^[\x21-\x7e]{1,4096}$/.test(peerToken)) throw new FlagError('--peer-token must be 1 to 4096 printable characters without spaces');
  if (peerToken !== undefined && !token) throw new FlagError('--peer-token needs --token (API clients need one too)');
  const tls = tlsFiles(str('tls-cert'), str('tls-key'), str('tls-ca'), '--tls');
  const peerTls = tlsFiles(str('peer-tls-cert'), str('peer-tls-key'), str('peer-tls-ca'), '--peer-tls');
  if (peerTls && !peerTls.ca) throw new FlagError('--peer-tls-ca is required with --peer-tls-cert (the CA that signs every member certificate)');
  const flags: ServerFlags = {
    id,
    listen,
    peers,
    join,
    dataDir: str('data-dir')!,
    token: token || undefined,
    ...(acceptTokens.length > 0 ? { acceptTokens } : {}),
    ...(peerToken !== undefined ? { peerToken } : {}),
    ...(tls ? { tls } : {}),
    ...(peerTls ? { peerTls } : {}),
    logLevel,
    repairTornTail: values['repair-torn-tail'] === true,
    help: false,
  };
  if (values['debug-tap'] === true) flags.debugTap = true;
  const snap = str('snapshot-entries');
  if (snap !== undefined) {
    if (!/^\d+$/.test(snap) || Number(snap) < 1 || Number(snap) > 100_000_000) throw new FlagError(`--snapshot-entries must be an integer from 1 to 100000000, got "${snap}"`);
    flags.snapshotEntries = Number(snap);
  }
  const snapBytes = str('snapshot-bytes');
  if (snapBytes !== undefined) {
    if (!/^\d+$/.test(snapBytes) || Number(snapBytes) > 2 ** 40) throw new FlagError(`--snapshot-bytes must be an integer from 0 to 1099511627776, got "${snapBytes}"`);
    flags.snapshotBytes = Number(snapBytes);
  }
  const heartbeat = str('heartbeat-ms');
  const election = str('election-ms');
  if (heartbeat !== undefined || election !== undefined) {
    flags.timing = {
      heartbeatMs: heartbeat === undefined ? DEFAULT_TIMING.heartbeatMs : milliseconds(heartbeat, '--heartbeat-ms', HEARTBEAT_MS),
      electionMs: election === undefined ? DEFAULT_TIMING.electionMs : milliseconds(election, '--election-ms', ELECTION_MS),
    };
    checkTiming(flags.timing, { heartbeat: heartbeat === undefined, election: election === undefined });
  }
  // The one repeatable flag: parseArgs gives it as a list.
  const remote = values['remote-machine'] as string[] | undefined;
  if (remote !== undefined) flags.remoteMachines = parseRemoteMachines(remote);
  const machineTimeout = str('machine-timeout-ms');
  if (machineTimeout !== undefined) flags.machineTimeoutMs = milliseconds(machineTimeout, '--machine-timeout-ms', { min: 100, max: 600_000 });
  return { flags, rest };
}

/** `NAME` or `NAME@VERSION`: the type (and the group it founds) and the version its machines must declare. */
function parseRemoteMachines(values: string[]): { name: string; version: number }[] {
  const seen = new Set<string>();
  return values.map((v) => {
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]{0,127})(?:@(\d{1,9}))?$/.exec(v);
    if (!m || (m[2] !== undefined && Number(m[2]) < 1)) {
      throw new FlagError(`--remote-machine must be NAME or NAME@VERSION (a group name, a version >= 1), got "${v}"`);
    }
    if (seen.has(m[1]!)) throw new FlagError(`--remote-machine names "${m[1]}" twice`);
    seen.add(m[1]!);
    return { name: m[1]!, version: m[2] === undefined ? 1 : Number(m[2]) };
  });
}

function tlsFiles(cert: string | undefined, key: string | undefined, ca: string | undefined, prefix: string): TlsFiles | undefined {
  if (cert === undefined && key === undefined) {
    if (ca !== undefined) throw new FlagError(`${prefix}-ca needs ${prefix}-cert and ${prefix}-key`);
    return undefined;
  }
  if (cert === undefined || key === undefined) throw new FlagError(`${prefix}-cert and ${prefix}-key go together`);
  return { cert, key, ...(ca !== undefined ? { ca } : {}) };
}

function milliseconds(value: string, flag: string, range: { min: number; max: number }): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < range.min || n > range.max) throw new FlagError(`${flag} must be an integer from ${range.min} to ${range.max} (milliseconds), got "${value}"`);
  return n;
}

/**
 * The rules of a timing, for flags parsed here and for ServerFlags built in code. `defaulted`
 * says which value the command line left out, so the message does not blame a flag nobody gave.
 */
export function checkTiming(t: RaftTiming, defaulted: { heartbeat?: boolean; election?: boolean } = {}): void {
  const inRange = (n: number, r: { min: number; max: number }) => Number.isInteger(n) && n >= r.min && n <= r.max;
  if (!inRange(t.heartbeatMs, HEARTBEAT_MS))
    throw new FlagError(`--heartbeat-ms must be an integer from ${HEARTBEAT_MS.min} to ${HEARTBEAT_MS.max} (milliseconds), got ${t.heartbeatMs}`);
  if (!inRange(t.electionMs, ELECTION_MS))
    throw new FlagError(`--election-ms must be an integer from ${ELECTION_MS.min} to ${ELECTION_MS.max} (milliseconds), got ${t.electionMs}`);
  if (t.electionMs < MIN_HEARTBEATS_PER_ELECTION * t.heartbeatMs) {
    const shown = (n: number, isDefault?: boolean) => (isDefault ? `${n}, the default` : String(n));
    throw new FlagError(
      `--election-ms (${shown(t.electionMs, defaulted.election)}) must be at least ${MIN_HEARTBEATS_PER_ELECTION} x --heartbeat-ms (${shown(t.heartbeatMs, defaulted.heartbeat)}): ` +
        'a follower must hear several heartbeats per election timeout, or it campaigns against a live leader',
    );
  }
}
