// The flags raftkit-sql adds to the ones every raftkit server takes. They are taken out of the
// command line before the shared flags are parsed.
import { DEFAULT_LIMITS, type SqlApiLimits } from './http/api-context.js';
import { DEFAULT_MAX_RESULT_BYTES } from './engine/result-budget.js';

export interface SqlFlags {
  limits: SqlApiLimits;
  /** The most a query's answer may hold. */
  maxResultBytes: number;
}

export const SQL_FLAGS_HELP = `  --max-request-bytes N       largest body of /db/execute, /db/query, /db/request (default ${DEFAULT_LIMITS.maxRequestBytes})
  --max-load-bytes N          largest body of /db/load (default ${DEFAULT_LIMITS.maxLoadBytes}; one log entry, at most 48 MiB of statements)
  --max-result-bytes N        largest answer a query builds before it is refused with a hint to page (default ${DEFAULT_MAX_RESULT_BYTES})`;

export class SqlFlagError extends Error {}

const BYTE_FLAGS = { '--max-request-bytes': 'maxRequestBytes', '--max-load-bytes': 'maxLoadBytes', '--max-result-bytes': 'maxResultBytes' } as const;
type ByteFlag = keyof typeof BYTE_FLAGS;

function bytesOf(flag: string, value: string | undefined): number {
  if (value === undefined || !/^[1-9]\d{0,11}$/.test(value)) throw new SqlFlagError(`${flag} must be a positive number of bytes, got ${JSON.stringify(value ?? '')}`);
  return Number(value);
}

/** Splits the command line into raftkit-sql's own flags and the rest (the shared server flags). */
export function parseSqlFlags(argv: readonly string[]): { flags: SqlFlags; rest: string[] } {
  const values: Record<string, number> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!(name in BYTE_FLAGS)) {
      rest.push(arg);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    values[BYTE_FLAGS[name as ByteFlag]] = bytesOf(name, value);
  }
  const limits = { ...DEFAULT_LIMITS };
  if (values['maxRequestBytes'] !== undefined) limits.maxRequestBytes = values['maxRequestBytes'];
  if (values['maxLoadBytes'] !== undefined) limits.maxLoadBytes = values['maxLoadBytes'];
  return { flags: { limits, maxResultBytes: values['maxResultBytes'] ?? DEFAULT_MAX_RESULT_BYTES }, rest };
}
