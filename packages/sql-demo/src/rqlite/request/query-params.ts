// rqlite's query-string rules (http/query_params.go, NewQueryParams), applied to every request
// before routing. Flags are on when present, whatever their value: rqlite tests HasKey, so
// `?transaction=false` still means a transaction, and clients such as rqlite-js send `pretty=true`.
import { parseGoDuration } from '../go/go-duration.js';
import { parseGoQueryString } from '../go/go-query-string.js';
import { RqliteRequestError } from '../request-error.js';

const DURATION_KEYS = ['timeout', 'freshness', 'db_timeout', 'linearizable_timeout'] as const;
const INTEGER_KEYS = ['retries', 'trailing_logs'] as const;
const GO_INT = /^[+-]?\d+$/;
const NANOS_PER_MS = 1_000_000;

export type DurationKey = (typeof DURATION_KEYS)[number];
export type IntegerKey = (typeof INTEGER_KEYS)[number];

/** A request's query parameters, checked as rqlite checks them. */
export class QueryParams {
  private constructor(private readonly params: Map<string, string>) {}

  /** Throws RqliteRequestError with rqlite's message for the first rule broken. */
  static parse(rawQuery: string): QueryParams {
    const params = parseGoQueryString(rawQuery.startsWith('?') ? rawQuery.slice(1) : rawQuery);
    if (params.has('freshness_strict') && !params.has('freshness')) throw badParameter('freshness_strict requires freshness');
    for (const key of DURATION_KEYS) {
      const value = params.get(key);
      if (value === undefined) continue;
      const nanos = parseGoDuration(value);
      if (nanos === undefined) throw badParameter(`${key} is not a valid duration`);
      // Go accepts "-1s"; a negative wait has no meaning here and would fire timers at once.
      if (nanos < 0n) throw badParameter(`${key} must not be negative`);
    }
    for (const key of INTEGER_KEYS) {
      const value = params.get(key);
      if (value !== undefined && !isGoInt(value)) throw badParameter(`${key} is not a valid integer`);
    }
    if (params.get('q') === '') throw badParameter('query parameter not set');
    return new QueryParams(params);
  }

  has(key: string): boolean {
    return this.params.has(key);
  }

  get(key: string): string | undefined {
    return this.params.get(key);
  }

  /** Milliseconds (fractions kept), or undefined when the key is absent. */
  durationMs(key: DurationKey): number | undefined {
    const value = this.params.get(key);
    if (value === undefined) return undefined;
    return Number(parseGoDuration(value)) / NANOS_PER_MS;
  }

  integer(key: IntegerKey): number | undefined {
    const value = this.params.get(key);
    return value === undefined ? undefined : Number.parseInt(value, 10);
  }
}

function isGoInt(value: string): boolean {
  if (!GO_INT.test(value)) return false;
  const n = BigInt(value);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

function badParameter(message: string): RqliteRequestError {
  return new RqliteRequestError('bad_query_parameter', message);
}
