/**
 * The types a user declares to describe a group's state machine, and the ones the client derives
 * from them. A declaration looks like:
 *
 * ```ts
 * interface KvApi {
 *   commands: {
 *     put: { args: { key: string; value: string }; result: { revision: number } };
 *   };
 *   queries: {
 *     get: { args: { key: string }; result: { value: string | null; revision: number } };
 *   };
 * }
 * const kv = client.group<KvApi>('kv');
 * const { result } = await kv.command('put', { key: 'a', value: '1' }); // result: { revision: number }
 * ```
 */

/** One command or query of a state machine: the shape of its arguments and of its result. */
export interface OperationSpec {
  args: unknown;
  result: unknown;
}

/**
 * The shape every group API declaration fits: `commands` and `queries` map operation names to
 * {@link OperationSpec}s. Either section may be left out.
 */
export interface GroupApi {
  commands?: object;
  queries?: object;
}

/** The API of a group nobody declared: any name, arguments of any shape, results `unknown`. */
export interface UntypedApi {
  commands: Record<string, OperationSpec>;
  queries: Record<string, OperationSpec>;
}

type Section<Api, S extends 'commands' | 'queries'> = Api extends { [P in S]: infer T } ? T : Record<never, never>;
type ArgsIn<Spec> = Spec extends { args: infer A } ? A : unknown;
type ResultIn<Spec> = Spec extends { result: infer R } ? R : unknown;

export type CommandName<Api> = keyof Section<Api, 'commands'> & string;
export type QueryName<Api> = keyof Section<Api, 'queries'> & string;
export type CommandArgs<Api, K extends CommandName<Api>> = ArgsIn<Section<Api, 'commands'>[K]>;
export type CommandResult<Api, K extends CommandName<Api>> = ResultIn<Section<Api, 'commands'>[K]>;
export type QueryArgs<Api, K extends QueryName<Api>> = ArgsIn<Section<Api, 'queries'>[K]>;
export type QueryResult<Api, K extends QueryName<Api>> = ResultIn<Section<Api, 'queries'>[K]>;

/** What a command or query answers: its result and a Raft log index. */
export interface OperationResponse<R> {
  result: R;
  /**
   * For a command, the log index of its entry (the index the watch shows for it); for a query,
   * the applied index it was served at.
   */
  index: number;
}

/** Read consistency of a query (docs/api.md section 2). */
export type Consistency = 'linearizable' | 'lease' | 'local';

/**
 * How a command that failed inside the state machine appears in the watch stream: the entry is
 * applied (it has an index) but its result is this instead of the command's own result.
 */
export interface CommandFailure {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** One applied command as the watch streams it; `command` narrows `args` and `result`. */
export type WatchEntry<Api = UntypedApi> = {
  [K in CommandName<Api>]: {
    /** Raft log index of the entry. Only command entries are streamed, so indexes may skip (leader no-ops, membership changes). */
    index: number;
    term: number;
    command: K;
    args: CommandArgs<Api, K>;
    result: CommandResult<Api, K> | CommandFailure;
  };
}[CommandName<Api>];

/** True when a watched entry's result is a state-machine failure rather than the command's result. */
export function isCommandFailure(result: unknown): result is CommandFailure {
  if (typeof result !== 'object' || result === null || !('error' in result)) return false;
  const e = (result as { error: unknown }).error;
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' && Object.keys(result).length === 1;
}
