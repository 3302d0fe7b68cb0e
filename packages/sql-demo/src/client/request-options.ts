// The options of execute, query and request, and the rqlite query flags they become.
import type { QueryParamValue } from './query-string.js';

/** rqlite's read consistency levels (see the package README). */
export type ConsistencyLevel = 'none' | 'weak' | 'linearizable' | 'strong' | 'auto';

/** A Go duration string ("500ms", "2s") or milliseconds. */
export type Duration = string | number;

interface CommonOptions {
  /** Ask the server for timings: results and the response then carry `time`. */
  timings?: boolean;
  /** Interrupt a statement that runs longer than this on the server (rqlite's db_timeout). */
  dbTimeout?: Duration;
  /** This call's client-side time limit in milliseconds (default: the client's). */
  timeoutMs?: number;
}

export interface ExecuteOptions extends CommonOptions {
  /** All statements in one transaction: the first error rolls back every one of them. */
  transaction?: boolean;
}

export interface QueryOptions extends CommonOptions {
  /** Default 'weak' (the leader's local state), as rqlite. */
  level?: ConsistencyLevel;
  /** Rows as objects keyed by column (`rows` on each result), besides `values`. */
  associative?: boolean;
  /** With level 'none': refuse data staler than this. */
  freshness?: Duration;
  /** With freshness: measure staleness from the leader's last append, not the last contact. */
  freshnessStrict?: boolean;
  /** A write's `raftIndex`: the node serving the read waits until it has applied that entry. */
  readAfter?: number | bigint;
}

export interface RequestOptions extends ExecuteOptions, QueryOptions {}

export function durationParam(d: Duration | undefined): string | undefined {
  if (d === undefined) return undefined;
  return typeof d === 'number' ? `${d}ms` : d;
}

export function commonFlags(o: CommonOptions): Record<string, QueryParamValue> {
  return { timings: o.timings === true, db_timeout: durationParam(o.dbTimeout), blob_array: true };
}

export function executeFlags(o: ExecuteOptions): Record<string, QueryParamValue> {
  // raft_index: the answer carries the write's log index, for read-after-write on any node.
  return { ...commonFlags(o), transaction: o.transaction === true, raft_index: true };
}

export function queryFlags(o: QueryOptions): Record<string, QueryParamValue> {
  return {
    ...commonFlags(o),
    level: o.level,
    associative: o.associative === true,
    freshness: durationParam(o.freshness),
    freshness_strict: o.freshnessStrict === true,
    // raftkit-sql reads a value as "wait until applied"; rqlite takes the key as a plain flag.
    raft_index: o.readAfter === undefined ? undefined : String(o.readAfter),
  };
}
