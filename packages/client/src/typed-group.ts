import type { CommandArgs, CommandName, CommandResult, GroupApi, OperationResponse, QueryArgs, QueryName, QueryResult, WatchEntry } from './api-types.js';
import type { CallOptions, GroupClient, QueryOptions } from './group-client.js';
import type { WatchOptions, WatchStream } from './watch-stream.js';

/**
 * A group as an object with one method per declared operation:
 * `kv.commands.put({ key, value })`, `kv.queries.get({ key }, { consistency: 'lease' })`.
 */
export interface TypedGroup<Api extends GroupApi> {
  readonly name: string;
  readonly commands: { readonly [K in CommandName<Api>]: (args: CommandArgs<Api, K>, opts?: CallOptions) => Promise<OperationResponse<CommandResult<Api, K>>> };
  readonly queries: { readonly [K in QueryName<Api>]: (args: QueryArgs<Api, K>, opts?: QueryOptions) => Promise<OperationResponse<QueryResult<Api, K>>> };
  watch(opts?: WatchOptions): WatchStream<WatchEntry<Api>>;
  /** The underlying group handle. */
  readonly group: GroupClient<Api>;
}

type Call = (name: string, args: unknown, opts?: object) => Promise<unknown>;

/**
 * Methods made on first use (there is no schema at runtime): any string property is an operation
 * of that name. `then` and symbols are not, so the object is not mistaken for a promise.
 */
function operations(call: Call): object {
  const made = new Map<string, (args: unknown, opts?: object) => Promise<unknown>>();
  return new Proxy(Object.create(null) as object, {
    get(_target, prop) {
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      let f = made.get(prop);
      if (!f) {
        f = (args: unknown, opts?: object) => call(prop, args, opts);
        made.set(prop, f);
      }
      return f;
    },
    set() {
      return false;
    },
  });
}

export function typedGroup<Api extends GroupApi>(group: GroupClient<Api>): TypedGroup<Api> {
  const g = group as unknown as GroupClient;
  return Object.freeze({
    name: group.name,
    commands: operations((name, args, opts) => g.command(name, args, opts)) as TypedGroup<Api>['commands'],
    queries: operations((name, args, opts) => g.query(name, args, opts)) as TypedGroup<Api>['queries'],
    watch: (opts?: WatchOptions) => group.watch(opts),
    group,
  });
}
