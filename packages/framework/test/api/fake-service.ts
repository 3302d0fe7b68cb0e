import { RaftkitError } from '../../src/common/errors.js';
import type {
  GroupInfo,
  MemberRole,
  MembershipChangeItem,
  MembershipTransition,
  AppliedEntry,
  CommandOptions,
  CommandOutcome,
  Consistency,
  GroupSchema,
  NodeStatus,
  QueryOutcome,
  NodeService,
  WatchHandle,
  WatchSubscription,
} from '../../src/api/node-service.js';

interface Watcher {
  next: number;
  sub: WatchSubscription;
  cancelled: boolean;
  paused: boolean;
}

interface FakeGroup {
  name: string;
  type: string;
  /** log[i] has index firstIndex + i. */
  log: AppliedEntry[];
  firstIndex: number;
  kv: Map<string, { value: string; revision: number }>;
  revision: number;
  sessions: Map<string, { sequence: number; outcome: CommandOutcome }>;
  watchers: Set<Watcher>;
  members: { id: number; role: MemberRole; address?: string }[];
}

export interface Call {
  op: string;
  group: string;
  name?: string;
  args?: unknown;
  opts?: CommandOptions;
  consistency?: Consistency;
  extra?: unknown;
}

/**
 * An in-memory NodeService: a KV state machine (`put`, `get`, plus `hang` that never answers and
 * `boom` that throws a plain Error), exactly-once sessions, a watchable log with compaction, and a
 * settable leader (a node that is not the leader throws not_leader with the leader's id and URL).
 */
export class FakeService implements NodeService {
  readonly groups = new Map<string, FakeGroup>();
  readonly calls: Call[] = [];
  /** The leader as this node sees it; undefined = unknown. Default: this node. */
  leader: { id: number; url?: string } | undefined;
  isReady = true;

  constructor(
    readonly nodeId: number,
    groups: string[] = ['kv'],
  ) {
    this.leader = { id: nodeId };
    for (const g of groups) this.addGroup(g, 'kv');
  }

  addGroup(name: string, type: string): FakeGroup {
    const g: FakeGroup = {
      name,
      type,
      log: [],
      firstIndex: 1,
      kv: new Map(),
      revision: 0,
      sessions: new Map(),
      watchers: new Set(),
      members: [{ id: this.nodeId, role: 'voter' }],
    };
    this.groups.set(name, g);
    return g;
  }

  private group(name: string): FakeGroup {
    const g = this.groups.get(name);
    if (!g) throw new RaftkitError('unknown_group', `no group named ${JSON.stringify(name)}`);
    return g;
  }

  private requireLeader(): void {
    if (this.leader?.id === this.nodeId) return;
    throw new RaftkitError('not_leader', 'this node is not the leader', this.leader ? { leader: { ...this.leader } } : {});
  }

  lastIndex(g: FakeGroup): number {
    return g.firstIndex + g.log.length - 1;
  }

  /** Appends an applied entry and feeds the watchers synchronously (as the host's apply stage would). */
  append(group: string, command: string, args: unknown, result: unknown): number {
    const g = this.group(group);
    const index = this.lastIndex(g) + 1;
    g.log.push({ index, term: 3, command, args, result });
    for (const w of g.watchers) this.pump(g, w);
    return index;
  }

  /** Drops entries below `firstIndex`. */
  compact(group: string, firstIndex: number): void {
    const g = this.group(group);
    g.log = g.log.slice(firstIndex - g.firstIndex);
    g.firstIndex = firstIndex;
  }

  watcherCount(group: string): number {
    return this.group(group).watchers.size;
  }

  private pump(g: FakeGroup, w: Watcher): void {
    while (!w.cancelled && !w.paused && w.next <= this.lastIndex(g)) {
      const e = g.log[w.next - g.firstIndex]!;
      w.next++;
      w.sub.onEntry(e);
    }
  }

  async command(group: string, name: string, args: unknown, opts: CommandOptions = {}): Promise<CommandOutcome> {
    this.calls.push({ op: 'command', group, name, args, opts });
    const g = this.group(group);
    this.requireLeader();
    if (opts.clientId !== undefined) {
      const s = g.sessions.get(opts.clientId);
      if (s && opts.sequence! <= s.sequence) return s.outcome;
    }
    let result: unknown;
    switch (name) {
      case 'put': {
        const a = args as { key?: unknown; value?: unknown };
        if (typeof a !== 'object' || a === null || typeof a.key !== 'string' || a.key === '')
          throw new RaftkitError('bad_request', 'key must be a non-empty string', { field: 'key' });
        if (typeof a.value !== 'string') throw new RaftkitError('bad_request', 'value must be a string', { field: 'value' });
        g.revision++;
        g.kv.set(a.key, { value: a.value, revision: g.revision });
        result = { revision: g.revision };
        break;
      }
      case 'noop':
        result = { ok: true };
        break;
      case 'hang':
        return new Promise<CommandOutcome>(() => {});
      case 'boom':
        throw new Error('secret internal detail');
      default:
        throw new RaftkitError('unknown_command', `group ${group} has no command ${JSON.stringify(name)}`);
    }
    const index = this.append(group, name, args, result);
    const outcome = { result, index };
    if (opts.clientId !== undefined) g.sessions.set(opts.clientId, { sequence: opts.sequence!, outcome });
    return outcome;
  }

  async query(group: string, name: string, args: unknown, consistency: Consistency): Promise<QueryOutcome> {
    this.calls.push({ op: 'query', group, name, args, consistency });
    const g = this.group(group);
    if (consistency !== 'local') this.requireLeader();
    if (name !== 'get') throw new RaftkitError('unknown_query', `group ${group} has no query ${JSON.stringify(name)}`);
    const key = (args as { key?: unknown }).key;
    if (typeof key !== 'string') throw new RaftkitError('bad_request', 'key must be a string', { field: 'key' });
    const v = g.kv.get(key);
    return { result: { value: v?.value ?? null, revision: v?.revision ?? 0 }, index: this.lastIndex(g) };
  }

  schema(group: string): GroupSchema {
    const g = this.group(group);
    return {
      group,
      type: g.type,
      commands: [{ name: 'put', kind: 'command', args: { key: { type: 'string', optional: false }, value: { type: 'string', optional: false } } }],
      queries: [{ name: 'get', kind: 'query', args: { key: { type: 'string', optional: false } } }],
    };
  }

  status(): NodeStatus {
    return {
      id: this.nodeId,
      address: '127.0.0.1:0',
      groups: [...this.groups.values()].map((g) => ({
        group: g.name,
        type: g.type,
        role: this.leader?.id === this.nodeId ? 'leader' : 'follower',
        term: 3,
        leader: this.leader?.id ?? 0,
        commit: this.lastIndex(g),
        applied: this.lastIndex(g),
        firstIndex: g.firstIndex,
        lastIndex: this.lastIndex(g),
        members: g.members,
      })),
    };
  }

  leaderOf(group: string): { id: number; url?: string } | undefined {
    this.group(group);
    return this.leader;
  }

  async createGroup(group: string, type: string, members: { id: number; address: string }[]): Promise<void> {
    this.calls.push({ op: 'createGroup', group, name: type, extra: members });
    if (this.groups.has(group)) throw new RaftkitError('conflict', `group ${group} exists`);
    this.addGroup(group, type);
  }

  async changeMembership(group: string, changes: MembershipChangeItem[], transition: MembershipTransition = 'auto'): Promise<GroupInfo> {
    this.calls.push({ op: 'changeMembership', group, extra: { changes, transition } });
    const g = this.group(group);
    this.requireLeader();
    for (const c of changes) {
      const i = g.members.findIndex((m) => m.id === c.id);
      if (c.role === 'removed') g.members.splice(i, 1);
      else if (i >= 0) g.members[i] = { ...g.members[i]!, role: c.role };
      else g.members.push({ id: c.id, address: c.address ?? '', role: c.role });
    }
    return this.status().groups.find((x) => x.group === group)!;
  }

  async addMember(group: string, id: number, address: string, role: MemberRole): Promise<void> {
    this.calls.push({ op: 'addMember', group, extra: { id, address, role } });
    const g = this.group(group);
    this.requireLeader();
    g.members.push({ id, address, role });
  }

  async removeMember(group: string, id: number): Promise<void> {
    this.calls.push({ op: 'removeMember', group, extra: { id } });
    const g = this.group(group);
    this.requireLeader();
    g.members = g.members.filter((m) => m.id !== id);
  }

  async promote(group: string, id: number): Promise<void> {
    this.calls.push({ op: 'promote', group, extra: { id } });
    this.group(group);
    this.requireLeader();
  }

  async demote(group: string, id: number): Promise<void> {
    this.calls.push({ op: 'demote', group, extra: { id } });
    this.group(group);
    this.requireLeader();
  }

  async transferLeader(group: string, to: number): Promise<void> {
    this.calls.push({ op: 'transferLeader', group, extra: { to } });
    this.group(group);
    this.requireLeader();
  }

  async snapshot(group: string): Promise<{ index: number }> {
    this.calls.push({ op: 'snapshot', group });
    const g = this.group(group);
    return { index: this.lastIndex(g) };
  }

  watch(group: string, from: number, sub: WatchSubscription): WatchHandle {
    const g = this.group(group);
    if (from < g.firstIndex) throw new RaftkitError('compacted', `index ${from} was compacted; the log starts at ${g.firstIndex}`, { firstIndex: g.firstIndex });
    const w: Watcher = { next: from, sub, cancelled: false, paused: false };
    g.watchers.add(w);
    // Catch-up runs outside the caller, as a real node's would.
    setImmediate(() => this.pump(g, w));
    return {
      cancel: () => {
        w.cancelled = true;
        g.watchers.delete(w);
      },
      pause: () => {
        w.paused = true;
      },
      resume: () => {
        if (!w.paused) return;
        w.paused = false;
        setImmediate(() => this.pump(g, w));
      },
    };
  }

  /** Ends every watcher of a group with a reason (as a node stopping would). */
  closeWatchers(group: string, code: string, message: string): void {
    const g = this.group(group);
    for (const w of [...g.watchers]) {
      w.cancelled = true;
      g.watchers.delete(w);
      w.sub.onClose(code, message);
    }
  }

  async metrics(): Promise<string> {
    return '# HELP fake_up A fake metric\n# TYPE fake_up gauge\nfake_up 1\n';
  }

  ready(): boolean {
    return this.isReady;
  }
}
