import type { CommandArgs, CommandName, CommandResult, Consistency, GroupApi, OperationResponse, QueryArgs, QueryName, QueryResult, UntypedApi, WatchEntry } from './api-types.js';
import type { ClientCore } from './client-core.js';
import { SCHEMA_ANSWER, type GroupSchema } from './group-schema.js';
import { OPERATION_ANSWER } from './http-attempt.js';
import { type WatchStream, type WatchOptions } from './watch-stream.js';

export interface CallOptions {
  /** Deadline of this call, retries included (default: the client's `deadlineMs`). */
  deadlineMs?: number;
  /** Aborts the call; it rejects with code `aborted`. */
  signal?: AbortSignal;
}

export interface QueryOptions extends CallOptions {
  /**
   * `linearizable` (default, ReadIndex on the leader), `lease` (leader lease, no round trip) or
   * `local` (whatever node the client talks to; may be stale).
   */
  consistency?: Consistency;
}

const CONSISTENCIES: readonly string[] = ['linearizable', 'lease', 'local'];

function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name === '') throw new TypeError(`${what} must be a non-empty string, got ${JSON.stringify(name)}`);
  return name;
}

export function deadlineOf(opts: CallOptions, fallback: number): number {
  const d = opts.deadlineMs;
  if (d === undefined) return fallback;
  if (typeof d !== 'number' || !Number.isFinite(d) || d <= 0) throw new RangeError(`deadlineMs must be a positive number of milliseconds, got ${String(d)}`);
  return d;
}

/**
 * The commands, queries and watch of one group. `Api` (see {@link GroupApi}) types the names,
 * arguments and results; without it everything is `unknown`.
 */
export class GroupClient<Api extends GroupApi = UntypedApi> {
  private readonly base: string;

  /** @internal Use `RaftClient.group(name)`. */
  constructor(
    readonly name: string,
    private readonly core: ClientCore,
  ) {
    this.base = `/v1/groups/${encodeURIComponent(name)}`;
  }

  /**
   * Runs a command on the group's leader and resolves once it is applied. Retries (timeouts,
   * 503, dropped connections, leader changes) carry the same session, so the command is applied
   * at most once. Rejects with a RaftClientError.
   */
  async command<K extends CommandName<Api>>(name: K, args: CommandArgs<Api, K>, opts: CallOptions = {}): Promise<OperationResponse<CommandResult<Api, K>>> {
    checkName(name, 'the command name');
    const deadlineMs = deadlineOf(opts, this.core.options.deadlineMs);
    const lane = this.core.sessions.acquire();
    try {
      const out = await this.core.runner.run({
        kind: 'command',
        group: this.name,
        name,
        path: `${this.base}/commands/${encodeURIComponent(name)}`,
        method: 'POST',
        args,
        answer: OPERATION_ANSWER,
        leaderOnly: true,
        session: { clientId: lane.clientId, sequence: lane.nextSequence() },
        deadlineMs,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      return out as OperationResponse<CommandResult<Api, K>>;
    } finally {
      this.core.sessions.release(lane);
    }
  }

  /** Runs a query at the requested consistency (default `linearizable`). */
  async query<K extends QueryName<Api>>(name: K, args: QueryArgs<Api, K>, opts: QueryOptions = {}): Promise<OperationResponse<QueryResult<Api, K>>> {
    checkName(name, 'the query name');
    const consistency = opts.consistency ?? 'linearizable';
    if (!CONSISTENCIES.includes(consistency)) throw new TypeError(`consistency must be linearizable, lease or local, got ${JSON.stringify(consistency)}`);
    const out = await this.core.runner.run({
      kind: 'query',
      group: this.name,
      name,
      path: `${this.base}/queries/${encodeURIComponent(name)}?consistency=${consistency}`,
      method: 'POST',
      args,
      answer: OPERATION_ANSWER,
      leaderOnly: consistency !== 'local',
      deadlineMs: deadlineOf(opts, this.core.options.deadlineMs),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return out as OperationResponse<QueryResult<Api, K>>;
  }

  /**
   * The commands and queries the group's state machine declares, read from whichever node the
   * client reaches first (any member can answer; nothing goes to the leader).
   */
  async schema(opts: CallOptions = {}): Promise<GroupSchema> {
    return this.core.runner.run({
      kind: 'schema',
      group: this.name,
      name: 'schema',
      path: `${this.base}/schema`,
      method: 'GET',
      answer: SCHEMA_ANSWER,
      leaderOnly: false,
      deadlineMs: deadlineOf(opts, this.core.options.deadlineMs),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  /**
   * The group's applied entries from `opts.from` on, surviving node failures without gaps or
   * duplicates: `for await (const e of kv.watch({ from: 1 })) ...`. See {@link WatchStream}.
   */
  watch(opts: WatchOptions = {}): WatchStream<WatchEntry<Api>> {
    return this.core.openWatch<WatchEntry<Api>>(this.name, opts);
  }
}
