import { ConfChangeTransition, ConfChangeType, type ConfChange } from '../core/confchange/types.js';
import { Role, type NodeId } from '../core/types.js';
import { RaftkitError } from '../common/errors.js';
import { PeerClient } from '../api/peer-client.js';
import type {
  CommandOptions,
  CommandOutcome,
  Consistency,
  GroupInfo,
  GroupMemberSpec,
  GroupSchema,
  MemberInfo,
  MemberRole,
  MembershipChangeItem,
  MembershipTransition,
  NodeStatus,
  NodeTiming,
  QueryOutcome,
  NodeService,
  WatchHandle,
  WatchSubscription,
} from '../api/node-service.js';
import type { StateMachineRegistry } from '../fsm/state-machine-registry.js';
import { HostError } from '../host/errors.js';
import type { NodeHost } from '../host/node-host.js';
import { DuplicateCommand, unwrapCommandResult } from '../rsm/command-result.js';
import type { StateMachineManager } from '../rsm/state-machine-manager.js';
import { isNodeId } from '../core/node-id.js';
import { feedWatch } from './watch-feed.js';

const CHANGE_OF_ROLE: Record<MemberRole, ConfChangeType> = { voter: ConfChangeType.AddVoter, learner: ConfChangeType.AddLearner, witness: ConfChangeType.AddWitness };

export interface NodeRaftServiceOptions {
  host: NodeHost;
  registry: StateMachineRegistry;
  /** The state machine manager of each group on this node (filled as groups are created or recovered). */
  managers: Map<string, StateMachineManager>;
  /** This node's own "host:port". */
  address: string;
  /** The shared secret, sent when this node calls another's API (group creation). */
  token?: string;
  /** How this node calls other nodes' APIs (default: plain HTTP with `token`). */
  peers?: PeerClient;
  requestTimeoutMs?: number;
  /** The host's raft timing, reported by status() (absent: not reported). */
  timing?: NodeTiming;
  /** A group's remote state machine, for status (remote/; undefined for other groups). */
  machineStatus?: (group: string) => object | undefined;
}

/**
 * The NodeService of one node: commands through Raft with exactly-once sessions, reads at the
 * requested consistency, membership and leadership over the NodeHost, the watch over each
 * group's manager. Errors are RaftApiErrors the HTTP layer maps to statuses.
 */
export class NodeRaftService implements NodeService {
  readonly nodeId: NodeId;
  private readonly host: NodeHost;
  private readonly timeoutMs: number;
  private readonly peers: PeerClient;

  constructor(private readonly opts: NodeRaftServiceOptions) {
    this.host = opts.host;
    this.nodeId = opts.host.id;
    this.timeoutMs = opts.requestTimeoutMs ?? 5_000;
    this.peers = opts.peers ?? new PeerClient(opts.token ? { token: opts.token } : {});
  }

  private manager(group: string): StateMachineManager {
    const m = this.opts.managers.get(group);
    if (!m || !this.host.hasGroup(group)) throw new RaftkitError('unknown_group', `no group "${group}" on node ${this.nodeId}`);
    return m;
  }

  private urlOf(id: NodeId): string | undefined {
    const address = id === this.nodeId ? this.opts.address : this.host.addresses.get(id);
    return address ? this.peers.baseUrl(address) : undefined;
  }

  leaderOf(group: string): { id: NodeId; url?: string } | undefined {
    if (!this.host.hasGroup(group)) return undefined;
    const id = this.host.leaderOf(group);
    if (id === 0) return undefined;
    const url = this.urlOf(id);
    return url ? { id, url } : { id };
  }

  private notLeader(group: string): RaftkitError {
    const leader = this.leaderOf(group);
    if (!leader) return new RaftkitError('unavailable', `group "${group}" has no known leader; retry shortly`);
    return new RaftkitError('not_leader', `node ${this.nodeId} does not lead group "${group}"; node ${leader.id} does`, { leader });
  }

  private requireLeader(group: string): void {
    // On every command: the cheap role lookup, not a full status.
    if (this.host.roleOf(group) === Role.Leader) return;
    // A quiet group stops ticking; a request that reaches a follower wakes it, so a leader that
    // died while the group was quiet is noticed within an election timeout.
    this.host.wakeGroup(group);
    throw this.notLeader(group);
  }

  /** Maps host errors to API errors; everything else passes through. */
  private translate(group: string, e: unknown): unknown {
    if (!(e instanceof HostError)) return e;
    switch (e.code) {
      case 'not_leader':
        return this.notLeader(group);
      case 'unknown_group':
        return new RaftkitError('unknown_group', e.message);
      case 'timeout':
        return new RaftkitError('timeout', e.message);
      case 'bad_request':
        return new RaftkitError('bad_request', e.message);
      case 'group_exists':
        return new RaftkitError('conflict', e.message);
      default:
        return new RaftkitError('unavailable', e.message);
    }
  }

  async command(group: string, name: string, args: unknown, opts: CommandOptions = {}): Promise<CommandOutcome> {
    const manager = this.manager(group);
    this.requireLeader(group);
    const session = opts.clientId !== undefined ? { clientId: opts.clientId, sequence: opts.sequence } : opts.request ? { request: opts.request } : {};
    const bytes = manager.prepareCommand(name, args, session);
    let r;
    try {
      r = await this.host.propose(group, bytes, opts.timeoutMs ?? this.timeoutMs);
    } catch (e) {
      throw this.translateProposal(group, e);
    }
    // A retry of an applied (client id, sequence) or request key answers the first result and its index.
    if (r.result instanceof DuplicateCommand) return { result: unwrapCommandResult(r.result.result), index: r.result.index || r.index };
    return { result: unwrapCommandResult(r.result), index: r.index };
  }

  /**
   * A failed proposal. Refused before it reached the log (not the leader, a transfer running) or
   * overwritten by a new leader: it was not applied. Anything else (a deadline, the leadership or
   * the node lost while it was in flight) leaves its fate unknown: the answer says so, and it is
   * never re-sent by the server.
   */
  private translateProposal(group: string, e: unknown): unknown {
    if (!(e instanceof HostError)) return e;
    if (e.code === 'not_leader' || e.code === 'proposal_dropped' || e.code === 'bad_request') return this.translate(group, e);
    const code = e.code === 'timeout' ? 'timeout' : 'unavailable';
    return new RaftkitError(code, `${e.message} (the outcome is unknown: the command may or may not be applied)`, { outcome: 'unknown' });
  }

  async query(group: string, name: string, args: unknown, consistency: Consistency): Promise<QueryOutcome> {
    const manager = this.manager(group);
    // An unknown query or bad args are refused before the read index is asked for.
    const prepared = manager.prepareQuery(name, args);
    this.host.wakeGroup(group);
    if (consistency !== 'local') {
      // Lease reads need this node's own lease; ReadIndex works from any member but needs a leader.
      if (consistency === 'lease') this.requireLeader(group);
      else if (this.host.leaderOf(group) === 0) throw this.notLeader(group);
      try {
        await this.host.linearizableRead(group, this.timeoutMs, { lease: consistency === 'lease' });
      } catch (e) {
        throw this.translate(group, e);
      }
    }
    const result = await manager.query(name, args, prepared);
    return { result, index: manager.appliedIndex };
  }

  schema(group: string): GroupSchema {
    this.manager(group);
    return this.opts.registry.schema(group, this.host.groupType(group));
  }

  private groupInfo(group: string): GroupInfo {
    const st = this.host.groupStatus(group);
    const members: MemberInfo[] = [];
    const witnesses = new Set(st.members.witnesses);
    const learners = new Set(st.members.learners);
    // A voter being demoted in a joint configuration is a learner of the incoming one (its vote
    // in the outgoing one shows in jointOutgoing): listed once, as what it becomes.
    for (const id of st.members.voters) if (!learners.has(id)) members.push({ id, role: witnesses.has(id) ? 'witness' : 'voter', ...this.addressField(id) });
    for (const id of st.members.learners) members.push({ id, role: 'learner', ...this.addressField(id) });
    const info: GroupInfo = {
      group,
      type: st.type,
      role: st.role,
      term: st.term,
      leader: st.leader,
      commit: st.commit,
      applied: st.applied,
      firstIndex: st.firstIndex,
      lastIndex: st.lastIndex,
      members,
    };
    if (st.members.outgoing.length > 0) info.jointOutgoing = st.members.outgoing;
    info.history = st.history;
    const machine = this.opts.machineStatus?.(group);
    if (machine) info.machine = machine;
    const url = st.leader ? this.urlOf(st.leader) : undefined;
    if (url) info.leaderUrl = url;
    return info;
  }

  private addressField(id: NodeId): { address?: string } {
    const address = id === this.nodeId ? this.opts.address : this.host.addresses.get(id);
    return address ? { address } : {};
  }

  status(): NodeStatus {
    return {
      id: this.nodeId,
      address: this.opts.address,
      ...(this.opts.timing ? { timing: this.opts.timing } : {}),
      groups: this.host.status().groups.map((g) => this.groupInfo(g.group)),
    };
  }

  async createGroup(group: string, type: string, members: GroupMemberSpec[], opts: { localOnly?: boolean } = {}): Promise<void> {
    this.opts.registry.require(type);
    if (members.length === 0) throw new RaftkitError('bad_request', 'a group needs at least one member', { field: 'members' });
    const ids = new Set<NodeId>();
    for (const m of members) {
      if (!isNodeId(m.id)) throw new RaftkitError('bad_request', `member id must be a positive integer, got ${String(m.id)}`, { field: 'members' });
      if (ids.has(m.id)) throw new RaftkitError('bad_request', `member ${m.id} is listed twice`, { field: 'members' });
      ids.add(m.id);
    }
    if (!ids.has(this.nodeId)) throw new RaftkitError('bad_request', `node ${this.nodeId} is not among the members; send the request to a member`, { field: 'members' });
    const byRole = (role: MemberRole) =>
      members
        .filter((m) => (m.role ?? 'voter') === role)
        .map((m) => m.id)
        .sort((a, b) => a - b);
    const roles = { voters: byRole('voter'), learners: byRole('learner'), witnesses: byRole('witness') };
    if (roles.voters.length === 0)
      throw new RaftkitError('bad_request', 'a group needs at least one voter that holds data (witnesses and learners cannot lead)', { field: 'members' });
    for (const m of members) if (m.id !== this.nodeId) await this.host.setPeerAddress(m.id, m.address);
    if (this.host.hasGroup(group)) {
      if (this.host.groupType(group) !== type) throw new RaftkitError('conflict', `group "${group}" already exists here with type "${this.host.groupType(group)}"`);
    } else {
      try {
        await this.host.createGroup(group, { type, ...roles });
      } catch (e) {
        throw this.translate(group, e);
      }
    }
    if (opts.localOnly) return;
    const failed: string[] = [];
    await Promise.all(
      members
        .filter((m) => m.id !== this.nodeId)
        .map(async (m) => {
          try {
            const res = await this.peers.call(m.address, '/v1/groups', {
              method: 'POST',
              headers: { 'x-raft-local': '1' },
              body: { group, type, members },
              timeoutMs: this.timeoutMs,
            });
            if (res.status !== 201) failed.push(`node ${m.id}: ${res.status} ${res.text.slice(0, 200)}`);
          } catch (e) {
            failed.push(`node ${m.id}: ${(e as Error).message}`);
          }
        }),
    );
    if (failed.length > 0) {
      throw new RaftkitError('unavailable', `group "${group}" was created here but not on every member (${failed.join('; ')}); retry the same request`);
    }
  }

  private async proposeMembership(group: string, cc: ConfChange): Promise<void> {
    this.manager(group);
    this.requireLeader(group);
    try {
      await this.host.proposeConfChange(group, cc, this.timeoutMs);
    } catch (e) {
      if (e instanceof HostError && e.code === 'proposal_dropped') throw new RaftkitError('conflict', e.message);
      throw this.translate(group, e);
    }
  }

  private members(group: string): GroupInfo['members'] {
    return this.groupInfo(group).members;
  }

  /**
   * A membership change is judged on the leader's view of the members: a follower's may lag (it
   * would refuse a promote the leader just made possible), so a follower answers not_leader first.
   */
  private requireLeaderFor(group: string): void {
    this.manager(group);
    this.requireLeader(group);
  }

  async addMember(group: string, id: NodeId, address: string, role: MemberRole): Promise<void> {
    this.requireLeaderFor(group);
    if (this.members(group).some((m) => m.id === id)) throw new RaftkitError('conflict', `node ${id} is already a member of "${group}"`);
    await this.proposeMembership(group, { transition: ConfChangeTransition.Auto, changes: [{ type: CHANGE_OF_ROLE[role], nodeId: id }], context: JSON.stringify({ address }) });
  }

  async removeMember(group: string, id: NodeId): Promise<void> {
    this.requireLeaderFor(group);
    if (!this.members(group).some((m) => m.id === id)) throw new RaftkitError('not_found', `node ${id} is not a member of "${group}"`);
    await this.proposeMembership(group, { transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.RemoveNode, nodeId: id }] });
  }

  async promote(group: string, id: NodeId): Promise<void> {
    this.requireLeaderFor(group);
    const m = this.members(group).find((x) => x.id === id);
    if (!m) throw new RaftkitError('not_found', `node ${id} is not a member of "${group}"`);
    if (m.role !== 'learner') throw new RaftkitError('conflict', `node ${id} is already a ${m.role} of "${group}"`);
    await this.proposeMembership(group, { transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.AddVoter, nodeId: id }] });
  }

  async demote(group: string, id: NodeId): Promise<void> {
    this.requireLeaderFor(group);
    const m = this.members(group).find((x) => x.id === id);
    if (!m) throw new RaftkitError('not_found', `node ${id} is not a member of "${group}"`);
    if (m.role !== 'voter') throw new RaftkitError('conflict', `node ${id} is a ${m.role} of "${group}", not a voter`);
    await this.proposeMembership(group, { transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.AddLearner, nodeId: id }] });
  }

  async changeMembership(group: string, changes: MembershipChangeItem[], transition: MembershipTransition = 'auto'): Promise<GroupInfo> {
    this.requireLeaderFor(group);
    const before = this.groupInfo(group);
    const current = new Map(before.members.map((m) => [m.id, m]));
    const joint = before.jointOutgoing !== undefined;
    if (changes.length === 0) {
      if (!joint) throw new RaftkitError('conflict', `group "${group}" is not in a joint configuration: there is nothing to leave`);
      await this.proposeMembership(group, { transition: ConfChangeTransition.Auto, changes: [] });
      return this.groupInfo(group);
    }
    if (joint) throw new RaftkitError('conflict', `group "${group}" is in a joint configuration; leave it first (a change with no items)`);
    const addresses: Record<string, string> = {};
    const seen = new Set<NodeId>();
    const singles = changes.map((c, i) => {
      if (seen.has(c.id)) throw new RaftkitError('bad_request', `node ${c.id} is named twice`, { field: `changes[${i}].id` });
      seen.add(c.id);
      const member = current.get(c.id);
      if (c.role === 'removed') {
        if (!member) throw new RaftkitError('not_found', `node ${c.id} is not a member of "${group}"`, { field: `changes[${i}].id` });
        return { type: ConfChangeType.RemoveNode, nodeId: c.id };
      }
      if (member?.role === c.role) throw new RaftkitError('conflict', `node ${c.id} is already a ${c.role} of "${group}"`, { field: `changes[${i}].role` });
      if (!member) {
        if (c.address === undefined) throw new RaftkitError('bad_request', `node ${c.id} is new to "${group}": its address is required`, { field: `changes[${i}].address` });
        addresses[String(c.id)] = c.address;
      }
      return { type: CHANGE_OF_ROLE[c.role], nodeId: c.id };
    });
    const mode = { auto: ConfChangeTransition.Auto, joint: ConfChangeTransition.JointImplicit, explicit: ConfChangeTransition.JointExplicit }[transition];
    const cc: ConfChange = { transition: mode, changes: singles };
    if (Object.keys(addresses).length > 0) cc.context = JSON.stringify({ addresses });
    await this.proposeMembership(group, cc);
    if (transition !== 'explicit') {
      // A joint configuration entered automatically is left by the leader right away: answer
      // once the group is out of it, so the caller's next change is not refused.
      const deadline = Date.now() + this.timeoutMs;
      while (this.host.groupStatus(group).members.outgoing.length > 0) {
        if (Date.now() > deadline) throw new RaftkitError('timeout', `group "${group}" entered the joint configuration but has not left it yet; check its status`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    return this.groupInfo(group);
  }

  async transferLeader(group: string, to: NodeId): Promise<void> {
    this.manager(group);
    if (this.host.leaderOf(group) === to) return;
    this.requireLeader(group);
    const target = this.members(group).find((m) => m.id === to);
    if (!target || target.role !== 'voter') throw new RaftkitError('bad_request', `node ${to} is not a voter of "${group}"`, { field: 'to' });
    try {
      this.host.transferLeader(group, to);
    } catch (e) {
      throw this.translate(group, e);
    }
    const deadline = Date.now() + this.timeoutMs;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      if (this.host.leaderOf(group) === to) return;
    }
    throw new RaftkitError('timeout', `leadership of "${group}" did not move to node ${to} in time`);
  }

  async snapshot(group: string): Promise<{ index: number }> {
    this.manager(group);
    try {
      return { index: await this.host.snapshotNow(group) };
    } catch (e) {
      throw this.translate(group, e);
    }
  }

  watch(group: string, from: number, sub: WatchSubscription): WatchHandle {
    return feedWatch(group, this.manager(group), from, sub);
  }

  appliedIndex(group: string): number {
    return this.manager(group).appliedIndex;
  }

  whenApplied(group: string, index: number, timeoutMs: number): Promise<boolean> {
    return this.manager(group).whenApplied(index, timeoutMs);
  }

  metrics(): Promise<string> {
    return this.host.metrics.registry.metrics();
  }

  ready(): boolean {
    return this.host.status().groups.some((g) => g.leader !== 0);
  }
}
