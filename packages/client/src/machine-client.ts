import { CallBudget } from './call-budget.js';
import { deadlineOf, type GroupClient } from './group-client.js';
import type { MachineCallOptions, MachineClass, MachineClient } from './machine-types.js';
import { OperationKinds } from './operation-kinds.js';
import { operationProxy } from './operation-proxy.js';
import { RaftClientError } from './raft-client-error.js';

/** Codes with which the server refuses a name: the kept schema no longer matches the cluster. */
const UNKNOWN_NAME_CODES: readonly string[] = ['unknown_command', 'unknown_query'];

/**
 * The runtime side of {@link MachineClient}: every method first learns from the group's schema
 * whether its name is a command or a query, then takes the group's ordinary command or query
 * path (sessions, retries and leader routing included), within the call's one deadline.
 */
export function machineClient<M extends MachineClass>(group: GroupClient, defaultDeadlineMs: number): MachineClient<M> {
  const kinds = new OperationKinds(group.name, () => group.schema());

  async function call(name: string, args: unknown, opts: MachineCallOptions = {}): Promise<unknown> {
    const budget = new CallBudget(`command or query ${JSON.stringify(name)} of group ${JSON.stringify(group.name)}`, deadlineOf(opts, defaultDeadlineMs), opts.signal);
    const kind = await kinds.kindOf(name, (read) => budget.wait(read, 'reading the group schema'));
    const rest = { ...opts, deadlineMs: budget.remainingMs() };
    try {
      if (kind === 'query') return await group.query(name, args, rest);
      if (opts.consistency !== undefined) throw new TypeError(`${JSON.stringify(name)} is a command of group ${JSON.stringify(group.name)}: consistency applies to queries only`);
      return await group.command(name, args, rest);
    } catch (e) {
      if (e instanceof RaftClientError && UNKNOWN_NAME_CODES.includes(e.code)) kinds.forget();
      throw e;
    }
  }

  return operationProxy((name, args, opts) => call(name, args, opts)) as MachineClient<M>;
}
