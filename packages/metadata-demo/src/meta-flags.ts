// The flags raftkit-meta adds to the ones every raftkit server takes. They are taken out of the
// command line before the shared flags are parsed; a bad one is one line and exit 2.
import { DEFAULT_MAX_RANGE_BYTES } from './machine/meta.machine.js';
import { DEFAULT_QUOTA_BYTES } from './store/quota.js';
import { DEFAULT_MAX_TXN_OPS } from './store/request-rules.js';
import { DEFAULT_PROGRESS_NOTIFY_MS } from './watch/watch-hub.js';

/** etcd's --max-request-bytes default. */
export const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;
/** Without --grpc-listen: the --listen host, and its port plus this. */
export const GRPC_PORT_OFFSET = 1000;

export interface MetaFlags {
  /** "host:port" for etcd's gRPC API; undefined: the --listen host, port + 1000. */
  grpcListen: string | undefined;
  quotaBytes: number;
  maxTxnOps: number;
  maxRangeBytes: number;
  maxRequestBytes: number;
  progressNotifyMs: number;
  /** The member name (etcd's --name); undefined: "node-<id>". */
  name: string | undefined;
}

export const META_FLAGS_HELP = `  --grpc-listen HOST:PORT     etcd's gRPC API (default: the --listen host, port + ${GRPC_PORT_OFFSET}; port 0 picks a free one)
  --name NAME                 this member's name in MemberList (default node-<id>)
  --quota-bytes N             NOSPACE alarm past this many bytes of keys, values and history (default ${DEFAULT_QUOTA_BYTES}, etcd's 2 GiB)
  --max-txn-ops N             most compares or ops in one txn branch (default ${DEFAULT_MAX_TXN_OPS})
  --max-request-bytes N       largest write request (default ${DEFAULT_MAX_REQUEST_BYTES})
  --max-range-bytes N         most bytes of kvs one range answers, then more=true (default ${DEFAULT_MAX_RANGE_BYTES})
  --watch-progress-notify-ms N  interval of progress_notify watches' empty responses (default ${DEFAULT_PROGRESS_NOTIFY_MS}, etcd's 10 min)`;

export class MetaFlagError extends Error {}

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

function positive(flag: string, value: string | undefined, max = 2 ** 53 - 1): number {
  if (value === undefined || !/^[1-9]\d{0,15}$/.test(value) || Number(value) > max) {
    throw new MetaFlagError(`${flag} must be a positive integer${max < 2 ** 53 - 1 ? ` up to ${max}` : ''}, got ${JSON.stringify(value ?? '')}`);
  }
  return Number(value);
}

const OWN = ['--grpc-listen', '--name', '--quota-bytes', '--max-txn-ops', '--max-request-bytes', '--max-range-bytes', '--watch-progress-notify-ms'] as const;
type Own = (typeof OWN)[number];

/** Splits the command line into raftkit-meta's own flags and the rest (the shared server flags). */
export function parseMetaFlags(argv: readonly string[]): { flags: MetaFlags; rest: string[] } {
  const given = new Map<Own, string | undefined>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!(OWN as readonly string[]).includes(name)) {
      rest.push(arg);
      continue;
    }
    given.set(name as Own, eq > 0 ? arg.slice(eq + 1) : argv[++i]);
  }
  const num = (flag: Own, dflt: number, max?: number) => (given.has(flag) ? positive(flag, given.get(flag), max) : dflt);
  let grpcListen: string | undefined;
  if (given.has('--grpc-listen')) {
    const v = given.get('--grpc-listen') ?? '';
    const m = HOST_PORT.exec(v);
    if (!m || Number(m[2]) > 65535) throw new MetaFlagError(`--grpc-listen must be HOST:PORT, got ${JSON.stringify(v)}`);
    grpcListen = v;
  }
  let name: string | undefined;
  if (given.has('--name')) {
    name = given.get('--name') ?? '';
    if (name.length === 0 || name.length > 256) throw new MetaFlagError('--name must be 1-256 characters');
  }
  return {
    flags: {
      grpcListen,
      name,
      quotaBytes: num('--quota-bytes', DEFAULT_QUOTA_BYTES),
      maxTxnOps: num('--max-txn-ops', DEFAULT_MAX_TXN_OPS, 100_000),
      maxRequestBytes: num('--max-request-bytes', DEFAULT_MAX_REQUEST_BYTES, 64 * 1024 * 1024),
      maxRangeBytes: num('--max-range-bytes', DEFAULT_MAX_RANGE_BYTES),
      progressNotifyMs: num('--watch-progress-notify-ms', DEFAULT_PROGRESS_NOTIFY_MS, 24 * 3600 * 1000),
    },
    rest,
  };
}

/** The default gRPC address for a --listen address: its host, port + 1000. */
export function defaultGrpcListen(listen: string): string {
  const m = HOST_PORT.exec(listen);
  if (!m) throw new MetaFlagError(`cannot derive --grpc-listen from ${listen}; give --grpc-listen`);
  const port = Number(m[2]) + GRPC_PORT_OFFSET;
  if (port > 65535) throw new MetaFlagError(`--listen port + ${GRPC_PORT_OFFSET} is past 65535; give --grpc-listen`);
  return `${m[1]}:${port}`;
}
