import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { NodeId } from '../core/types.js';
import { RaftkitError } from '../common/errors.js';
import type {
  AppliedEntry,
  CommandOutcome,
  Consistency,
  GroupInfo,
  GroupMemberSpec,
  GroupSchema,
  MemberRole,
  MembershipChangeItem,
  MembershipTransition,
  NodeStatus,
  QueryOutcome,
} from '../api/node-service.js';
import { startRaftServer, type RaftServer } from '../server/raft-server.js';
import { RAFT_MODULE_OPTIONS } from './constants.js';
import { nodeFlagsOf } from './node-flags.js';
import { OwnApiClient } from './own-api-client.js';
import type { RaftModuleOptions } from './raft-module-options.js';
import { RaftExplorer } from './raft.explorer.js';

/** Exactly-once: a client id and a sequence that increases per client id (docs/api.md §2.6). */
export interface ProposeOptions {
  clientId?: string;
  sequence?: number;
}

/** How long the loopback call may take: the API answers its own 503 timeout (10 s) before it. */
const FORWARD_TIMEOUT_MS = 15_000;

const seg = encodeURIComponent;

/**
 * The node, injectable: starts with the application (every discovered `@StateMachine` class can
 * run in a group), stops with it. Works on any node: an operation that needs the leader
 * (commands, lease queries, membership changes, leader transfer) runs here when this node leads
 * the group and is otherwise forwarded to the leader exactly as the node's HTTP API forwards a
 * client's request (at most once, or exactly once with a client id and sequence). Failures are
 * RaftkitErrors with a code; RaftExceptionFilter answers them with the API's status and body.
 */
@Injectable()
export class RaftService implements OnApplicationBootstrap, OnApplicationShutdown {
  private server: RaftServer | undefined;
  private ownApi: OwnApiClient | undefined;

  constructor(
    @Inject(RAFT_MODULE_OPTIONS) private readonly options: RaftModuleOptions,
    private readonly explorer: RaftExplorer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const flags = nodeFlagsOf(this.options.node);
    this.server = await startRaftServer({
      name: 'raftkit',
      machines: this.explorer.machines(),
      groups: this.options.groups ?? [],
      flags,
      host: this.options.host,
      instantiate: (cls) => this.explorer.instantiate(cls),
    });
    this.ownApi = new OwnApiClient(this.server.node.address, this.server.peers, FORWARD_TIMEOUT_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
    this.ownApi = undefined;
  }

  private get node() {
    if (!this.server) throw new RaftkitError('unavailable', 'the raft node is not started (the application has not bootstrapped)');
    return this.server.service;
  }

  /** The id of this node. */
  get nodeId(): NodeId {
    return this.node.nodeId;
  }

  /** The address the node's own HTTP API, watch and peer transport listen on ("host:port"). */
  get address(): string {
    if (!this.server) throw new RaftkitError('unavailable', 'the raft node is not started (the application has not bootstrapped)');
    return this.server.node.address;
  }

  /**
   * Runs `here` when this node leads the group; when it does not (not_leader, which a node
   * answers before proposing anything), sends the same operation through the node's API.
   */
  private async onLeader<T>(here: () => Promise<T>, path: string, body: unknown, headers?: Record<string, string>, method: 'POST' | 'DELETE' = 'POST'): Promise<T> {
    try {
      return await here();
    } catch (e) {
      if (!(e instanceof RaftkitError) || e.code !== 'not_leader' || !this.ownApi) throw e;
    }
    return (await this.ownApi.send(method, path, body, headers)) as T;
  }

  /** Proposes a command on any node; resolves with its result and log index once applied. */
  propose<R = unknown>(group: string, command: string, args: unknown, opts: ProposeOptions = {}): Promise<CommandOutcome & { result: R }> {
    const session = opts.clientId !== undefined ? { 'x-raft-client-id': opts.clientId, 'x-raft-sequence': String(opts.sequence) } : undefined;
    const local = opts.clientId !== undefined ? { clientId: opts.clientId, sequence: opts.sequence! } : {};
    return this.onLeader(
      () => this.node.command(group, command, args, local) as Promise<CommandOutcome & { result: R }>,
      `/v1/groups/${seg(group)}/commands/${seg(command)}`,
      args,
      session,
    );
  }

  /** Runs a query at a consistency (linearizable by default) on any node. */
  query<R = unknown>(group: string, query: string, args: unknown, consistency: Consistency = 'linearizable'): Promise<QueryOutcome & { result: R }> {
    return this.onLeader(
      () => this.node.query(group, query, args, consistency) as Promise<QueryOutcome & { result: R }>,
      `/v1/groups/${seg(group)}/queries/${seg(query)}?consistency=${consistency}`,
      args,
    );
  }

  /** Applied entries from `from` on, as they are applied; ends (throws) if the stream is cut. */
  async *watch(group: string, from = 1): AsyncGenerator<AppliedEntry> {
    const queue: AppliedEntry[] = [];
    let wake: (() => void) | undefined;
    let closed: { code: string; message: string } | undefined;
    const handle = this.node.watch(group, from, {
      onEntry: (e) => {
        queue.push(e);
        wake?.();
      },
      onClose: (code, message) => {
        closed = { code, message };
        wake?.();
      },
    });
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (closed) throw new RaftkitError(closed.code === 'compacted' ? 'compacted' : 'unavailable', closed.message);
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      handle.cancel();
    }
  }

  status(): NodeStatus {
    return this.node.status();
  }

  schema(group: string): GroupSchema {
    return this.node.schema(group);
  }

  /** Creates a group on every member (voters, learners and witnesses by `role`, default voter). */
  createGroup(group: string, type: string, members: GroupMemberSpec[]): Promise<void> {
    return this.node.createGroup(group, type, members);
  }

  /** Adds a member (a learner unless `role` says voter or witness). */
  async addMember(group: string, id: NodeId, address: string, role: MemberRole = 'learner'): Promise<void> {
    await this.onLeader(() => this.node.addMember(group, id, address, role), `/v1/groups/${seg(group)}/members`, { id, address, role });
  }

  /**
   * Several membership changes as one (joint consensus when more than one voter changes); see
   * MembershipTransition. Resolves with the group's members once applied.
   */
  changeMembership(group: string, changes: MembershipChangeItem[], transition?: MembershipTransition): Promise<GroupInfo> {
    return this.onLeader(
      () => this.node.changeMembership(group, changes, transition),
      `/v1/groups/${seg(group)}/membership`,
      transition === undefined ? { changes } : { changes, transition },
    );
  }

  async removeMember(group: string, id: NodeId): Promise<void> {
    await this.onLeader(() => this.node.removeMember(group, id), `/v1/groups/${seg(group)}/members/${id}`, null, undefined, 'DELETE');
  }

  async promote(group: string, id: NodeId): Promise<void> {
    await this.onLeader(() => this.node.promote(group, id), `/v1/groups/${seg(group)}/members/${id}/promote`, null);
  }

  async demote(group: string, id: NodeId): Promise<void> {
    await this.onLeader(() => this.node.demote(group, id), `/v1/groups/${seg(group)}/members/${id}/demote`, null);
  }

  async transferLeader(group: string, to: NodeId): Promise<void> {
    await this.onLeader(() => this.node.transferLeader(group, to), `/v1/groups/${seg(group)}/leader/transfer`, { to });
  }

  /** Snapshots this node's copy of the group now (no leader needed); resolves with its index. */
  snapshot(group: string): Promise<{ index: number }> {
    return this.node.snapshot(group);
  }
}
