// A small synchronous cluster of RawNodes for unit tests: every ready is processed at once
// (persist, send, apply, advance) and messages are delivered in FIFO order unless a test drops,
// holds or redirects them. Deterministic: a seeded random source per node.
import { MemoryStorage } from '../../src/core/memory-storage.js';
import { RawNode } from '../../src/core/raw-node.js';
import type { RaftConfig } from '../../src/core/config.js';
import { emptyConfState } from '../../src/core/conf-state.js';
import { EntryType, type MessageType, Role, type ConfState, type Entry, type Message, type NodeId, type ReadState, type Ready, type Status } from '../../src/core/types.js';
import { ConfChangeTransition, ConfChangeType, type ConfChange, type ConfChangeSingle } from '../../src/core/confchange/types.js';

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

// Membership change builders.
export const addVoter = (nodeId: NodeId): ConfChangeSingle => ({ type: ConfChangeType.AddVoter, nodeId });
export const addLearner = (nodeId: NodeId): ConfChangeSingle => ({ type: ConfChangeType.AddLearner, nodeId });
export const addWitness = (nodeId: NodeId): ConfChangeSingle => ({ type: ConfChangeType.AddWitness, nodeId });
export const removeNode = (nodeId: NodeId): ConfChangeSingle => ({ type: ConfChangeType.RemoveNode, nodeId });
export const autoChange = (...changes: ConfChangeSingle[]): ConfChange => ({ transition: ConfChangeTransition.Auto, changes });
export const jointImplicit = (...changes: ConfChangeSingle[]): ConfChange => ({ transition: ConfChangeTransition.JointImplicit, changes });
export const jointExplicit = (...changes: ConfChangeSingle[]): ConfChange => ({ transition: ConfChangeTransition.JointExplicit, changes });
export const leaveJoint = (): ConfChange => ({ transition: ConfChangeTransition.Auto, changes: [] });

export interface TestNode {
  id: NodeId;
  node: RawNode;
  storage: MemoryStorage;
  applied: Entry[];
  readStates: ReadState[];
  down: boolean;
  /** User data restored from the latest snapshot this node installed (or restarted from). */
  base: string[];
}

export type Filter = (m: Message) => boolean; // true: drop

export interface ClusterOptions {
  voters: NodeId[];
  learners?: NodeId[];
  witnesses?: NodeId[];
  config?: Partial<RaftConfig>;
  /** Per-node config overrides. */
  nodeConfig?: Record<number, Partial<RaftConfig>>;
  /**
   * Pre-filled logs: per node, the terms of entries 1..n (data `t<term>i<index>`). Entry 1 is the
   * founding snapshot (index 1, term 1), so every list starts with 1. The node's hard state term is
   * the highest term of its log (or `terms[id]` if given), with no vote and only the founding
   * snapshot committed.
   */
  logs?: Record<number, number[]>;
  terms?: Record<number, number>;
}

/** One Ready as a node produced it. */
export interface ReadyRecord {
  id: NodeId;
  rd: Ready;
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
  /** Called with every Ready before the harness handles it (assertions on the Ready contract). */
  onReady: ((n: TestNode, rd: Ready) => void) | undefined;
  /** When true, every Ready is kept in `readies`. */
  recordReadies = false;
  readies: ReadyRecord[] = [];
  private readonly baseConfig: Partial<RaftConfig>;
  private readonly nodeConfig: Record<number, Partial<RaftConfig>>;

  constructor(opts: ClusterOptions) {
    this.baseConfig = opts.config ?? {};
    this.nodeConfig = opts.nodeConfig ?? {};
    const cs: ConfState = { ...emptyConfState(), voters: [...opts.voters, ...(opts.witnesses ?? [])], learners: opts.learners ?? [], witnesses: opts.witnesses ?? [] };
    for (const id of [...cs.voters, ...cs.learners]) {
      const storage = MemoryStorage.bootstrap(cs);
      const terms = opts.logs?.[id];
      if (terms && terms.length > 0) {
        // Index 1 is the founding snapshot (term 1): pre-filled logs must start with it.
        if (terms[0] !== 1) throw new Error('a pre-filled log starts with the founding entry: index 1, term 1');
        storage.append(terms.slice(1).map((t, i) => ({ term: t, index: i + 2, type: EntryType.Normal, data: enc(`t${t}i${i + 2}`) })));
      }
      const term = opts.terms?.[id] ?? (terms && terms.length > 0 ? Math.max(...terms) : 0);
      if (term > 0) storage.setHardState({ term, vote: 0, commit: storage.firstIndex() - 1 });
      this.addNode(id, storage);
    }
  }

  addNode(id: NodeId, storage: MemoryStorage, applied = 0): TestNode {
    const node = new RawNode(this.configFor(id, storage, applied));
    const tn: TestNode = { id, node, storage, applied: [], readStates: [], down: false, base: decodeSnapshotData(storage.snapshot().data) };
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
    this.onReady?.(n, rd);
    if (this.recordReadies) this.readies.push({ id: n.id, rd });
    if (rd.snapshot) {
      n.storage.applySnapshot(rd.snapshot);
      n.applied = []; // the test state machine restarts from the snapshot
      n.base = decodeSnapshotData(rd.snapshot.data);
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

  /**
   * User data applied on a node, in order (no-ops and conf changes left out), starting from the
   * data of the snapshot it last installed (empty before any snapshot).
   */
  data(id: NodeId): string[] {
    const n = this.get(id);
    return [...n.base, ...n.applied.filter((e) => e.type === EntryType.Normal && e.data.length > 0).map((e) => dec(e.data))];
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

  // ------------------------------------------------------------ helpers added for the unit suite

  /** Proposes a membership change on `id` and stabilizes. */
  proposeConfChange(id: NodeId, cc: ConfChange): number {
    const i = this.get(id).node.proposeConfChange(cc);
    this.stabilize();
    return i;
  }

  /** Requests a read on `id` with the given context and stabilizes. */
  readIndex(id: NodeId, ctx: string): void {
    this.get(id).node.readIndex(enc(ctx));
    this.stabilize();
  }

  /** Contexts of the read states `id` has received, as strings. */
  reads(id: NodeId): { index: number; ctx: string }[] {
    return this.get(id).readStates.map((r) => ({ index: r.index, ctx: dec(r.context) }));
  }

  status(id: NodeId): Status {
    return this.get(id).node.status();
  }

  committed(id: NodeId): number {
    return this.get(id).node.inspectLog().committed;
  }

  lastIndex(id: NodeId): number {
    return this.get(id).node.inspectLog().lastIndex;
  }

  /** Terms of the node's log from its first index to its last. */
  logTerms(id: NodeId): number[] {
    const l = this.get(id).node.inspectLog();
    const out: number[] = [];
    for (let i = l.firstIndex; i <= l.lastIndex; i++) out.push(l.term(i));
    return out;
  }

  /**
   * Takes a snapshot of node `id` at its applied index (data: the applied user data, as JSON)
   * and compacts its storage up to `compactTo` (default: the snapshot index).
   */
  snapshotAndCompact(id: NodeId, compactTo?: number): number {
    const n = this.get(id);
    const index = n.node.inspectLog().applied;
    const data = enc(JSON.stringify(this.data(id)));
    n.storage.createSnapshot(index, n.node.confState(), data);
    n.storage.compact(compactTo ?? index);
    return index;
  }

  /** Ticks the given live nodes (default: all) one tick at a time until pred holds; returns the ticks taken. */
  tickUntil(pred: () => boolean, maxTicks = 1000, ids?: NodeId[]): number {
    for (let t = 0; t < maxTicks; t++) {
      if (pred()) return t;
      for (const n of this.nodes.values()) if (!n.down && (!ids || ids.includes(n.id))) n.node.tick();
      this.stabilize();
    }
    if (pred()) return maxTicks;
    throw new Error(`condition not reached within ${maxTicks} ticks`);
  }
}

function decodeSnapshotData(data: Uint8Array): string[] {
  if (data.length === 0) return [];
  try {
    const v: unknown = JSON.parse(dec(data));
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}
