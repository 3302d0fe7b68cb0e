import type { GroupApi, UntypedApi } from './api-types.js';
import { ClientCore } from './client-core.js';
import { resolveOptions, type RaftClientOptions } from './client-options.js';
import { GroupClient } from './group-client.js';
import { machineClient } from './machine-client.js';
import type { MachineClass, MachineClient } from './machine-types.js';
import { typedGroup, type TypedGroup } from './typed-group.js';

/**
 * A client of a raftkit cluster. It routes commands and leader reads straight to each group's
 * leader (learned from 421 answers), fails over to other endpoints, retries within a deadline
 * with exponential backoff, and makes retried commands exactly-once through client sessions.
 *
 * ```ts
 * const client = new RaftClient({ endpoints: ['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003'] });
 * const kv = client.group<KvApi>('kv');
 * const { result, index } = await kv.command('put', { key: 'a', value: '1' });
 * const { result: got } = await kv.query('get', { key: 'a' }, { consistency: 'lease' });
 * for await (const entry of kv.watch({ from: index })) console.log(entry.index, entry.command);
 * client.close();
 * ```
 */
export class RaftClient {
  private readonly core: ClientCore;
  private readonly groups = new Map<string, GroupClient<GroupApi>>();
  /** Per group, so its schema is read once per client whatever the number of `machine()` calls. */
  private readonly machines = new Map<string, object>();

  constructor(options: RaftClientOptions) {
    this.core = new ClientCore(resolveOptions(options));
  }

  /** The exactly-once session id (random unless given); concurrent commands use `<id>~<n>` lanes. */
  get clientId(): string {
    return this.core.options.clientId;
  }

  /** The normalised endpoints, in the order they are tried. */
  get endpoints(): readonly string[] {
    return this.core.options.endpoints;
  }

  /** A handle on one group; `Api` types its operations (see GroupApi). Handles are cheap and shared. */
  group<Api extends GroupApi = UntypedApi>(name: string): GroupClient<Api> {
    if (typeof name !== 'string' || name === '') throw new TypeError(`a group name must be a non-empty string, got ${JSON.stringify(name)}`);
    let g = this.groups.get(name);
    if (!g) {
      g = new GroupClient<GroupApi>(name, this.core);
      this.groups.set(name, g);
    }
    return g as unknown as GroupClient<Api>;
  }

  /** A group as an object with a method per operation: `client.typed<KvApi>('kv').commands.put({...})`. */
  typed<Api extends GroupApi>(name: string): TypedGroup<Api> {
    return typedGroup(this.group<Api>(name));
  }

  /**
   * A group as an object with one method per operation of your state machine class, typed from
   * the class itself: `client.machine<typeof Inventory>('inventory').addItem({ sku: 'a', qty: 3 })`.
   * Whether a name is a command or a query comes from the group's schema, read on the first call
   * and kept (read again when a name is missing from it). See {@link MachineClient}.
   */
  machine<M extends MachineClass>(group: string): MachineClient<M> {
    let m = this.machines.get(group);
    if (!m) {
      m = machineClient(this.group(group), this.core.options.deadlineMs);
      this.machines.set(group, m);
    }
    return m as MachineClient<M>;
  }

  /** The leader URL this client currently sends the group's leader-only requests to, if it knows one. */
  leaderOf(group: string): string | undefined {
    return this.core.router.leaderOf(group);
  }

  /** Fails pending and later calls with code `closed` and closes every watch. Idempotent. */
  close(): void {
    this.core.close();
  }
}
