// A small synchronous cluster of RawNodes for unit tests: every ready is processed at once
// (persist, send, apply, advance) and messages are delivered in FIFO order unless a test drops,
// holds or redirects them. Deterministic: a seeded random source per node.
import { MemoryStorage } from '../../src/core/memory-storage.js';
import { RawNode } from '../../src/core/raw-node.js';
import type { RaftConfig } from '../../src/core/config.js';
import { emptyConfState } from '../../src/core/conf-state.js';
import { EntryType, MessageType, Role, type ConfState, type Entry, type Message, type NodeId, type ReadState } from '../../src/core/types.js';

export function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export interface TestNode {
  id: NodeId;
  node: RawNode;
  storage: MemoryStorage;
  applied: Entry[];
  readStates: ReadState[];
  down: boolean;
}

export type Filter = (m: Message) => boolean; // true: drop

export interface ClusterOptions {
  voters: NodeId[];
  learners?: NodeId[];
  witnesses?: NodeId[];
  config?: Partial<RaftConfig>;
  /** Per-node config overrides. */
  nodeConfig?: Record<number, Partial<RaftConfig>>;
}

export class Cluster {
  readonly nodes = new Map<NodeId, TestNode>();
  /** Every message that was sent (after filters), for assertions. */
  sent: Message[] = [];
  private queue: Message[] = [];
  filters: Filter[] = [];
  /** Messages held back by `hold`; released by `release`. */
  held: Message[] = [];
  holdFilter: Filter | undefined;
  private readonly baseConfig: Partial<RaftConfig>;
  private readonly nodeConfig: Record<number, Partial<RaftConfig>>;

  constructor(opts: ClusterOptions) {
    this.baseConfig = opts.config ?? {};
    this.nodeConfig = opts.nodeConfig ?? {};
    const cs: ConfState = { ...emptyConfState(), voters: [...opts.voters, ...(opts.witnesses ?? [])], learners: opts.learners ?? [], witnesses: opts.witnesses ?? [] };
    for (const id of [...cs.voters, ...cs.learners]) this.addNode(id, MemoryStorage.bootstrap(cs));
  }

  addNode(id: NodeId, storage: MemoryStorage, applied = 0): TestNode {
    const node = new RawNode(this.configFor(id, storage, applied));
    const tn: TestNode = { id, node, storage, applied: [], readStates: [], down: false };
    this.nodes.set(id, tn);
    return tn;
  }

  /** A node with an empty configuration that learns everything from the leader (join). */
  addJoiningNode(id: NodeId): TestNode {
    return this.addNode(id, MemoryStorage.bootstrap(emptyConfState()));
  }

  configFor(id: NodeId, storage: MemoryStorage, applied: number): RaftConfig {
    return { id, electionTick: 10, heartbeatTick: 1, storage, applied, random: seeded(id * 7919), ...this.baseConfig, ...(this.nodeConfig[id] ?? {}) };
  }

  get(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Processes every ready and delivers every message until the cluster is quiet. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let progressed = false;
      for (const n of this.nodes.values()) {
        if (n.down) continue;
        while (n.node.hasReady()) {
          this.handleReady(n);
          progressed = true;
        }
      }
      if (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        for (const m of batch) this.deliver(m);
        progressed = true;
      }
      if (!progressed) return;
    }
    throw new Error('cluster did not stabilize');
  }

  private handleReady(n: TestNode): void {
    const rd = n.node.ready();
    if (rd.snapshot) {
      n.storage.applySnapshot(rd.snapshot);
      n.applied = []; // the test state machine restarts from the snapshot
    }
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    for (const m of rd.messages) this.route(m);
    for (const e of rd.committedEntries) n.applied.push(e);
    n.readStates.push(...rd.readStates);
    n.node.advance(rd);
  }

  private route(m: Message): void {
    if (this.filters.some((f) => f(m))) return;
    if (this.holdFilter?.(m)) {
      this.held.push(m);
      return;
    }
    this.sent.push(m);
    this.queue.push(m);
  }

  private deliver(m: Message): void {
    const to = this.nodes.get(m.to);
    if (!to || to.down) return;
    to.node.step(m);
  }

  release(): void {
    const h = this.held;
    this.held = [];
    for (const m of h) {
      this.sent.push(m);
      this.queue.push(m);
    }
  }

  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) {
      this.get(id).node.tick();
      this.stabilize();
    }
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const t of this.nodes.values()) if (!t.down) t.node.tick();
      this.stabilize();
    }
  }

  campaign(id: NodeId): void {
    this.get(id).node.campaign();
    this.stabilize();
  }

  /** Drops every message to or from `id`. */
  isolate(id: NodeId): void {
    this.filters.push((m) => m.from === id || m.to === id);
  }

  cut(a: NodeId, b: NodeId): void {
    this.filters.push((m) => (m.from === a && m.to === b) || (m.from === b && m.to === a));
  }

  heal(): void {
    this.filters = [];
  }

  leader(): TestNode | undefined {
    const leaders = [...this.nodes.values()].filter((n) => !n.down && n.node.role === Role.Leader);
    let best: TestNode | undefined;
    for (const l of leaders) if (!best || l.node.term > best.node.term) best = l;
    return best;
  }

  propose(id: NodeId, data: string): number {
    const i = this.get(id).node.propose(enc(data));
    this.stabilize();
    return i;
  }

  /** User data applied on a node, in order (no-ops and conf changes left out). */
  data(id: NodeId): string[] {
    return this.get(id)
      .applied.filter((e) => e.type === EntryType.Normal && e.data.length > 0)
      .map((e) => dec(e.data));
  }

  /** Crashes a node: it keeps only its storage. */
  crash(id: NodeId): void {
    this.get(id).down = true;
  }

  /** Restarts a crashed node from its storage (the test state machine restarts from the snapshot). */
  restart(id: NodeId): TestNode {
    const old = this.get(id);
    const applied = old.storage.snapshot().metadata.index;
    const tn = this.addNode(id, old.storage, applied);
    return tn;
  }

  countSent(type: MessageType, filter: (m: Message) => boolean = () => true): number {
    return this.sent.filter((m) => m.type === type && filter(m)).length;
  }

  clearSent(): void {
    this.sent = [];
  }
}
