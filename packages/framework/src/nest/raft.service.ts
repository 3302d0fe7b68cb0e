import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { NodeId } from '../core/types.js';
import { RaftkitError } from '../common/errors.js';
import type { AppliedEntry, CommandOptions, CommandOutcome, Consistency, GroupSchema, NodeStatus, QueryOutcome } from '../api/node-service.js';
import { parseServerFlags, type ServerFlags } from '../server/flags.js';
import { startRaftServer, type RaftServer } from '../server/raft-server.js';
import { RAFT_MODULE_OPTIONS } from './constants.js';
import type { RaftModuleOptions } from './raft-module-options.js';
import { RaftExplorer } from './raft.explorer.js';

/**
 * The node, injectable: starts with the application (every discovered `@StateMachine` class can
 * run in a group), stops with it. Commands go through Raft on this node, which must lead the
 * group; see RaftkitError codes for the failures.
 */
@Injectable()
export class RaftService implements OnApplicationBootstrap, OnApplicationShutdown {
  private server: RaftServer | undefined;

  constructor(
    @Inject(RAFT_MODULE_OPTIONS) private readonly options: RaftModuleOptions,
    private readonly explorer: RaftExplorer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const node = this.options.node;
    const flags: ServerFlags = node && 'id' in node ? node : parseServerFlags(node?.argv ?? process.argv.slice(2)).flags;
    this.server = await startRaftServer({
      name: 'raftkit',
      machines: this.explorer.machines(),
      groups: this.options.groups ?? [],
      flags,
      host: this.options.host,
      instantiate: (cls) => this.explorer.instantiate(cls),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }

  private get node() {
    if (!this.server) throw new RaftkitError('unavailable', 'the raft node is not started (the application has not bootstrapped)');
    return this.server.service;
  }

  /** The id of this node. */
  get nodeId(): NodeId {
    return this.node.nodeId;
  }

  /** Proposes a command; resolves with its result and log index once applied. */
  propose<R = unknown>(group: string, command: string, args: unknown, opts?: CommandOptions): Promise<CommandOutcome & { result: R }> {
    return this.node.command(group, command, args, opts) as Promise<CommandOutcome & { result: R }>;
  }

  query<R = unknown>(group: string, query: string, args: unknown, consistency: Consistency = 'linearizable'): Promise<QueryOutcome & { result: R }> {
    return this.node.query(group, query, args, consistency) as Promise<QueryOutcome & { result: R }>;
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

  createGroup(group: string, type: string, members: { id: NodeId; address: string }[]): Promise<void> {
    return this.node.createGroup(group, type, members);
  }

  addMember(group: string, id: NodeId, address: string, role: 'voter' | 'learner' = 'learner'): Promise<void> {
    return this.node.addMember(group, id, address, role);
  }

  removeMember(group: string, id: NodeId): Promise<void> {
    return this.node.removeMember(group, id);
  }

  promote(group: string, id: NodeId): Promise<void> {
    return this.node.promote(group, id);
  }

  demote(group: string, id: NodeId): Promise<void> {
    return this.node.demote(group, id);
  }

  transferLeader(group: string, to: NodeId): Promise<void> {
    return this.node.transferLeader(group, to);
  }

  snapshot(group: string): Promise<{ index: number }> {
    return this.node.snapshot(group);
  }
}
