// In-process clusters of NodeHosts running decorated state machines (adapted from
// test/host/fixtures.ts, whose hosts run a fixed ListMachine).
import { MemoryLogStore } from '../../src/storage/memory-log-store.js';
import { MemoryHub, MemoryTransport, memoryAddress } from '../../src/transport/memory-transport.js';
import { NodeHost, type NodeHostOptions } from '../../src/host/node-host.js';
import { MemorySnapshotFiles } from '../../src/host/snapshot-files.js';
import { Role, type NodeId } from '../../src/core/types.js';
import type { StateMachineRegistry } from '../../src/fsm/index.js';
import { DuplicateCommand, unwrapCommandResult, type ProposalSession, type StateMachineManager } from '../../src/rsm/index.js';
import { waitFor } from '../host/fixtures.js';

export interface RsmSlot {
  id: NodeId;
  host: NodeHost;
  managers: Map<string, StateMachineManager>;
}

export class RsmCluster {
  readonly hub = new MemoryHub();
  readonly slots = new Map<NodeId, RsmSlot>();

  constructor(
    readonly ids: NodeId[],
    private readonly registry: StateMachineRegistry,
    private readonly extra: Partial<NodeHostOptions> = {},
  ) {}

  async startAll(): Promise<void> {
    for (const id of this.ids) await this.start(id);
  }

  async start(id: NodeId): Promise<RsmSlot> {
    const managers = new Map<string, StateMachineManager>();
    const transport = new MemoryTransport(this.hub, { selfId: id });
    for (const peer of this.ids) if (peer !== id) transport.setPeer(peer, memoryAddress(peer));
    const host = new NodeHost({
      id,
      logStore: new MemoryLogStore(),
      snapshots: new MemorySnapshotFiles(),
      transport,
      stateMachines: this.registry.factory({ onCreate: (group, m) => managers.set(group, m) }),
      tickMs: 5,
      electionTick: 10,
      heartbeatTick: 1,
      requestTimeoutMs: 2000,
      ...this.extra,
    });
    await host.start();
    const slot = { id, host, managers };
    this.slots.set(id, slot);
    return slot;
  }

  get(id: NodeId): RsmSlot {
    return this.slots.get(id)!;
  }

  async createGroup(name: string, type: string): Promise<void> {
    for (const id of this.ids) await this.get(id).host.createGroup(name, { type, voters: this.ids });
  }

  leaderOf(group: string): RsmSlot | undefined {
    return [...this.slots.values()].find((s) => s.host.groupStatus(group).role === Role.Leader);
  }

  async waitLeader(group: string, timeoutMs = 5000): Promise<RsmSlot> {
    await waitFor(() => this.leaderOf(group) !== undefined, timeoutMs, `a leader for ${group}`);
    return this.leaderOf(group)!;
  }

  /** Proposes a command on `via` (default: the leader) the way the API does: check, encode, propose, unwrap. */
  async command(group: string, name: string, args: unknown, session: ProposalSession = {}, via?: RsmSlot): Promise<{ index: number; result: unknown }> {
    const slot = via ?? (await this.waitLeader(group));
    const data = slot.managers.get(group)!.prepareCommand(name, args, session);
    const r = await slot.host.propose(group, data);
    if (r.result instanceof DuplicateCommand) return { index: r.result.index, result: unwrapCommandResult(r.result.result) };
    return { index: r.index, result: unwrapCommandResult(r.result) };
  }

  /** Waits until every host applied as far as the leader, then answers each host's snapshot bytes. */
  async converged(group: string): Promise<string[]> {
    const leader = await this.waitLeader(group);
    const target = leader.managers.get(group)!.appliedIndex;
    await waitFor(() => [...this.slots.values()].every((s) => s.managers.get(group)!.appliedIndex === target), 5000, `every host to apply index ${target}`);
    return Promise.all([...this.slots.values()].map(async (s) => new TextDecoder().decode(await s.managers.get(group)!.snapshot())));
  }

  async stopAll(): Promise<void> {
    for (const s of this.slots.values()) await s.host.stop();
  }
}
