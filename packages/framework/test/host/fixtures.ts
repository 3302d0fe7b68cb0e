// In-process clusters of NodeHosts over the memory transport and memory log store.
import { waitFor } from '../support/wait.js';
import { MemoryLogStore } from '../../src/storage/memory-log-store.js';
import type { GroupWrite } from '../../src/storage/log-store.js';
import { MemoryHub, MemoryTransport, memoryAddress } from '../../src/transport/memory-transport.js';
import { NodeHost, type NodeHostOptions } from '../../src/host/node-host.js';
import { MemorySnapshotFiles } from '../../src/host/snapshot-files.js';
import type { GroupStateMachine } from '../../src/host/state-machine.js';
import type { Entry, NodeId } from '../../src/core/types.js';
import { Role } from '../../src/core/types.js';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Appends every command to a list; the result is the list's new length. */
export class ListMachine implements GroupStateMachine {
  items: string[] = [];
  apply(entries: readonly Entry[]): unknown[] {
    return entries.map((e) => {
      this.items.push(dec(e.data));
      return this.items.length;
    });
  }
  snapshot(): Uint8Array {
    return enc(JSON.stringify(this.items));
  }
  restore(data: Uint8Array): void {
    this.items = JSON.parse(dec(data)) as string[];
  }
}

/** Notes when each write is issued and when it is durable; writes take `delayMs`. */
export class SlowLogStore extends MemoryLogStore {
  readonly events: { at: number; kind: 'issued' | 'durable'; write: number; lastIndex: number }[] = [];
  private seq = 0;
  constructor(private readonly delayMs: number) {
    super();
  }
  override async write(batch: GroupWrite[]): Promise<void> {
    const write = ++this.seq;
    const lastIndex = Math.max(0, ...batch.flatMap((w) => w.entries.map((e) => e.index)));
    this.events.push({ at: performance.now(), kind: 'issued', write, lastIndex });
    const done = super.write(batch);
    done.catch(() => undefined); // awaited below, after the delay
    await new Promise((r) => setTimeout(r, this.delayMs));
    await done;
    this.events.push({ at: performance.now(), kind: 'durable', write, lastIndex });
  }
}

/** Keeps every write batch it was given (for tests that look at what a host writes). */
export class RecordingLogStore extends MemoryLogStore {
  readonly batches: GroupWrite[][] = [];
  override write(batch: GroupWrite[]): Promise<void> {
    this.batches.push(batch.map((w) => ({ ...w })));
    return super.write(batch);
  }
}

/** Writes issued while held are acknowledged only once released. */
export class GatedLogStore extends MemoryLogStore {
  private gate: Promise<void> | undefined;
  private opener: (() => void) | undefined;
  hold(): void {
    if (this.gate) return;
    this.gate = new Promise((r) => (this.opener = r));
  }
  release(): void {
    this.opener?.();
    this.gate = undefined;
    this.opener = undefined;
  }
  override async write(batch: GroupWrite[]): Promise<void> {
    const gate = this.gate;
    const done = super.write(batch);
    if (gate) {
      done.catch(() => undefined); // awaited below, once released
      await gate;
    }
    await done;
  }
}

export interface HostSlot {
  id: NodeId;
  host: NodeHost;
  store: MemoryLogStore;
  snapshots: MemorySnapshotFiles;
  machines: Map<string, ListMachine>;
}

export class HostCluster {
  readonly hub = new MemoryHub();
  readonly slots = new Map<NodeId, HostSlot>();

  constructor(
    readonly ids: NodeId[],
    private readonly extra: Partial<NodeHostOptions> = {},
    private readonly makeStore: (id: NodeId) => MemoryLogStore = () => new MemoryLogStore(),
  ) {}

  async startAll(): Promise<void> {
    for (const id of this.ids) await this.start(id);
  }

  /** Starts (or restarts, keeping its store and snapshot files) the host `id`. */
  async start(id: NodeId): Promise<HostSlot> {
    const old = this.slots.get(id);
    const store = old?.store ?? this.makeStore(id);
    const snapshots = old?.snapshots ?? new MemorySnapshotFiles();
    const machines = new Map<string, ListMachine>();
    const transport = new MemoryTransport(this.hub, { selfId: id });
    for (const peer of this.ids) if (peer !== id) transport.setPeer(peer, memoryAddress(peer));
    const host = new NodeHost({
      id,
      logStore: store,
      snapshots,
      transport,
      stateMachines: (group) => {
        const m = new ListMachine();
        machines.set(group, m);
        return m;
      },
      tickMs: 5,
      electionTick: 10,
      heartbeatTick: 1,
      requestTimeoutMs: 3000,
      ...this.extra,
    });
    await host.start();
    const slot = { id, host, store, snapshots, machines };
    this.slots.set(id, slot);
    return slot;
  }

  get(id: NodeId): HostSlot {
    return this.slots.get(id)!;
  }

  async createGroup(name: string, voters: NodeId[] = this.ids): Promise<void> {
    for (const id of voters) await this.get(id).host.createGroup(name, { type: 'list', voters });
  }

  leaderOf(group: string): HostSlot | undefined {
    for (const s of this.slots.values()) {
      try {
        if (s.host.groupStatus(group).role === Role.Leader) return s;
      } catch {
        // stopped host
      }
    }
    return undefined;
  }

  async waitLeader(group: string, timeoutMs = 5000): Promise<HostSlot> {
    await waitFor(() => this.leaderOf(group) !== undefined, timeoutMs, `a leader for ${group}`);
    return this.leaderOf(group)!;
  }

  async stopAll(): Promise<void> {
    for (const s of this.slots.values()) await s.host.stop();
  }
}

/**
 * Cuts one follower off, has the leader apply `writes` proposals (enough to compact its log past
 * them), and heals the partition: the follower can then only catch up by a snapshot.
 */
export async function lagOneFollowerBehindASnapshot(c: HostCluster, group: string, leader: HostSlot, writes: number): Promise<NodeId> {
  const lagging = c.ids.find((id) => id !== leader.id)!;
  const others = c.ids.filter((id) => id !== lagging);
  c.hub.isolate(lagging, others);
  for (let i = 0; i < writes; i++) await leader.host.propose(group, enc(`v${i}`));
  if (leader.host.groupStatus(group).firstIndex <= writes / 2) throw new Error('the leader did not compact its log');
  c.hub.isolate(lagging, others, false);
  return lagging;
}

/** A cluster whose members each get their own store from `make`, kept by id. */
export function clusterWithStores<S extends MemoryLogStore>(ids: NodeId[], make: () => S, extra: Partial<NodeHostOptions> = {}): { c: HostCluster; stores: Map<NodeId, S> } {
  const stores = new Map<NodeId, S>();
  const c = new HostCluster(ids, extra, (id) => {
    const s = make();
    stores.set(id, s);
    return s;
  });
  return { c, stores };
}

export { waitFor };
