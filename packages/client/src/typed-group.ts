import type { CommandArgs, CommandName, CommandResult, GroupApi, OperationResponse, QueryArgs, QueryName, QueryResult, WatchEntry } from './api-types.js';
import type { CallOptions, GroupClient, QueryOptions } from './group-client.js';
import { operationProxy } from './operation-proxy.js';
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

export function typedGroup<Api extends GroupApi>(group: GroupClient<Api>): TypedGroup<Api> {
  const g = group as unknown as GroupClient;
  return Object.freeze({
    name: group.name,
    commands: operationProxy((name, args, opts) => g.command(name, args, opts)) as TypedGroup<Api>['commands'],
    queries: operationProxy((name, args, opts) => g.query(name, args, opts)) as TypedGroup<Api>['queries'],
    watch: (opts?: WatchOptions) => group.watch(opts),
    group,
  });
}
